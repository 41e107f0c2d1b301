-- /chart through the real core: the picture (a PNG of 800x500 from the
-- chart module) with its caption checked against the candles, one upload
-- for two chats asking the same (file_id), the user's theme, the replies
-- to bad input, and the per-chat limit on drawing.
local HOUR = 3600000

local function has(text, part)
  assert.is_truthy(text:find(part, 1, true), "missing: " .. part .. "\nin:\n" .. text)
end

-- width and height from a PNG's IHDR
local function png_size(s)
  assert.equal("\x89PNG\r\n\x1a\n", s:sub(1, 8))
  assert.equal("IHDR", s:sub(13, 16))
  local w, h = string.unpack(">I4I4", s, 17)
  return w, h
end

describe("/chart", function()
  local tg, t0
  local chat = 900
  local function read(name) return assert(io.open(name)):read("a") end
  local function ask(c, text)
    local before = #tg.sent(c)
    tg.message{ chat = c, text = text }
    spec.advance(1)
    local sent = tg.sent(c)
    assert.equal(before + 1, #sent, "one answer to " .. text)
    return sent[#sent]
  end
  local function history(sym, n, base)
    local rows = {}
    for k = 1, n do
      local open = base + math.sin(k / 5) * 2
      rows[k] = { open_time = t0 + (k - 1) * HOUR, open = open, close = open + math.cos(k / 3),
                  high = open + 3, low = open - 3, volume = 100 + k, quote_volume = 5e7,
                  closed = true, price_decimals = 2 }
    end
    spec.history{ symbol = sym, interval = "1h", rows = rows }
    return rows
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/chart.lua"] = read("scripts/commands/chart.lua"),
      ["lib/pair_args.lua"] = read("scripts/lib/pair_args.lua"),
    }))
    tg = spec.telegram()
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT", "XRPUSDT", "DOTUSDT", "LTCUSDT" }
    t0 = (spec.now() // HOUR) * HOUR - 150 * HOUR
    chat = chat + 10
    spec.advance(60)   -- (past every chat's drawing limit)
  end)

  it("answers with an 800x500 PNG and a caption from the candles", function()
    local rows = history("BTCUSDT", 150, 100)
    local m = ask(chat, "/chart BTCUSDT 1h")
    assert.equal("sendPhoto", m.method)
    assert.is_true(m.uploaded)
    assert.same({ 800, 500 }, { png_size(m.photo) })
    local first, last = rows[150 - 119], rows[150]
    has(m.text, string.format("<b>BTCUSDT 1h</b> · %.2f · %s%.2f%% over 120 candles, to the %s UTC close",
      last.close, last.close >= first.open and "+" or "", (last.close - first.open) / first.open * 100,
      os.date("!%H:%M", (last.open_time + HOUR) // 1000)))
    assert.equal("HTML", m.params.parse_mode)
  end)

  it("draws a picture once: another chat asking the same gets its file_id", function()
    history("ETHUSDT", 150, 2000)
    local a = ask(chat, "/chart eth")
    local b = ask(chat + 1, "/chart ETHUSDT 1h")
    assert.is_true(a.uploaded)
    assert.is_false(b.uploaded)
    assert.equal(a.file_id, b.file_id)
    assert.equal(a.text, b.text)
  end)

  it("keeps the user's theme, and a light picture is a picture of its own", function()
    history("SOLUSDT", 150, 20)
    local dark = ask(chat, "/chart SOLUSDT")
    has(ask(chat, "/chart theme light").text, "Your charts are light from now on.")
    has(ask(chat, "/chart theme").text, "Your charts are light.")
    spec.advance(11)
    local light = ask(chat, "/chart SOLUSDT")
    assert.is_true(light.uploaded)
    assert.not_equal(dark.photo, light.photo)
    has(ask(chat, "/chart theme blue").text, "Your charts are light.")
    ask(chat, "/chart theme dark")
    assert.is_false(ask(chat, "/chart SOLUSDT").uploaded)   -- (dark's file_id again)
  end)

  it("says what is wrong with bad input, with an example", function()
    history("BTCUSDT", 150, 100)
    has(ask(chat, "/chart").text, "<code>/chart BTCUSDT 4h</code>")
    has(ask(chat, "/chart BTCUSTD").text, "I don't watch BTCUSTD. Did you mean BTCUSDT?")
    has(ask(chat, "/chart WIFUSDT").text, "I don't watch WIFUSDT. Try e.g. <code>/chart BTCUSDT 1h</code>.")
    has(ask(chat, "/chart BTCUSDT 7x").text, "7x is not a timeframe.")
    has(ask(chat, "/chart BTCUSDT 1w <b>").text, "/chart BTCUSDT")   -- three words: the usage
    has(ask(chat, "/chart XRPUSDT").text, "No closed 1h candle of XRPUSDT yet")
  end)

  it("draws at most one new picture every 10 s for a chat", function()
    history("ADAUSDT", 150, 1)
    history("DOTUSDT", 150, 5)
    assert.equal("sendPhoto", ask(chat, "/chart ADAUSDT").method)
    local m = ask(chat, "/chart DOTUSDT")
    assert.equal("sendMessage", m.method)
    has(m.text, "One new chart every 10 seconds, please: try again in")
    assert.equal("sendPhoto", ask(chat, "/chart ADAUSDT").method)   -- (drawn already: no limit)
    spec.advance(10)
    assert.equal("sendPhoto", ask(chat, "/chart DOTUSDT").method)
  end)
end)
