-- /why through the real core: the price and move of the forming candle,
-- RSI(14) after the last close and if the candle closed now, each rule
-- against its default level and each of the user's presets there with its
-- distance to firing, all checked against hand computations; a series not
-- warm yet, a pair with no candle forming, and the replies to bad input.
local HOUR = 3600000
local rsi_by_hand = dofile("tests/spec/hand.lua").rsi

local function has(text, part)
  assert.is_truthy(text:find(part, 1, true), "missing: " .. part .. "\nin:\n" .. text)
end
local function lacks(text, part)
  assert.is_falsy(text:find(part, 1, true), "unexpected: " .. part .. "\nin:\n" .. text)
end

describe("/why", function()
  local tg, t0, closes
  local chat = 700
  local function read(name) return assert(io.open(name)):read("a") end
  local function ask(text)
    tg.message{ chat = chat, text = text }
    spec.advance(1)
    local t = tg.texts(chat)
    return t[#t]
  end
  local function row(k, close, closed)
    local open = closes[k - 1] or close
    return { open_time = t0 + (k - 1) * HOUR, open = open, close = close,
             high = math.max(open, close) + 0.5, low = math.min(open, close) - 0.5,
             volume = 100, quote_volume = 5e7, closed = closed, price_decimals = 2 }
  end
  -- n closed hours of sym, warming the book as the REST history does
  local function history(sym, n)
    local rows = {}
    for k = 1, n do
      closes[k] = 100 + 3 * math.sin(k / 4) + (k % 7) * 0.1
      rows[k] = row(k, closes[k], true)
    end
    spec.history{ symbol = sym, interval = "1h", rows = rows }
  end
  -- the forming candle k of sym at `close` (opened at the last close)
  local function forming(sym, k, close)
    closes[k] = close
    local r = row(k, close, false)
    r.symbol, r.interval, r.event_time = sym, "1h", t0 + (k - 1) * HOUR + 5
    spec.candle(r)
    spec.advance(1)
  end
  local function save(p)
    p.user_id, p.chat_id = p.user_id or chat, p.chat_id or chat
    p.name = p.name or "r"
    p.pairs = p.pairs or "manual"
    p.intervals = p.intervals or { "1h" }
    p.trigger = p.trigger or "forming"
    assert(spec.call(function() return alerts.save(p) end))
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/why.lua"] = read("scripts/commands/why.lua"),
      ["commands/start.lua"] = read("scripts/commands/start.lua"),
      ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
      ["lib/pair_args.lua"] = read("scripts/lib/pair_args.lua"),
      ["lib/alertfmt.lua"] = read("scripts/lib/alertfmt.lua"),
      ["rules/move.lua"] = read("scripts/rules/move.lua"),
      ["rules/rsi.lua"] = read("scripts/rules/rsi.lua"),
    }))
    tg = spec.telegram()
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT", "XRPUSDT" }
    closes = {}
    t0 = (spec.now() // HOUR) * HOUR - 300 * HOUR   -- 300 closed hours end now
    chat = chat + 1
  end)

  it("names the price, the move, RSI now and if it closed now, and how far each preset is",
     function()
    history("BTCUSDT", 300)
    forming("BTCUSDT", 301, closes[300] + 2)
    save{ name = "Hot <b>", symbols = { "BTCUSDT" }, rule = "rsi", threshold = 70, direction = "up" }
    save{ name = "Cold", symbols = { "BTCUSDT" }, rule = "rsi", threshold = 80, direction = "down",
          trigger = "close", min_volume = 5e6, active = false }
    save{ name = "Big", pairs = "top", top_n = 2, threshold = 2.5, direction = "both" }
    save{ name = "Elsewhere", symbols = { "ETHUSDT" }, rule = "rsi", threshold = 70, direction = "up" }
    save{ name = "Other tf", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1,
          direction = "up" }
    save{ user_id = chat + 1000, name = "Not mine", symbols = { "BTCUSDT" }, threshold = 1,
          direction = "up" }

    local closed, now = rsi_by_hand(closes, 300), rsi_by_hand(closes, 301)
    assert.is_true(now < 70 and now > closed, "the test's prices should leave RSI under 70")
    local open, close = closes[300], closes[301]
    local move = (close - open) / open * 100
    assert.is_true(move < 2.5)

    local text = ask("/why BTCUSDT 1h")
    has(text, string.format("<b>BTCUSDT 1h</b> %.2f · +%.2f%% since the %s open", close, move,
                            os.date("!%H:%M UTC", (t0 + 300 * HOUR) // 1000)))
    has(text, string.format("RSI(14): %.2f → %.2f", closed, now))
    -- the rules at their default level: RSI crosses above 70, the move up or down 2.5 %
    has(text, string.format("RSI(14) %.2f · default crosses above 70: not now, %.2f to go", now, 70 - now))
    has(text, string.format("Candle move +%.2f%% · default up or down 2.50%%: not now, %.2f%% to go",
                            move, 2.5 - move))
    -- the user's presets on BTCUSDT 1h, in their rule's unit; names escaped
    has(text, string.format("<b>Hot &lt;b&gt;</b> (crosses above 70, as it happens): RSI(14) %.2f — %.2f from your 70",
                            now, 70 - now))
    has(text, string.format("<b>⏸ Cold</b> (crosses below 80, at the close, 24 h volume ≥ 5M): RSI(14) %.2f — already beyond your 80", now))
    has(text, string.format("<b>Big</b> (up or down 2.50%%, as it happens): Candle move +%.2f%% — %.2f%% from your 2.50%%",
                            move, 2.5 - move))
    lacks(text, "Elsewhere")
    lacks(text, "Other tf")
    lacks(text, "Not mine")
    -- one message; lowercase, a bare base and the default timeframe read the same
    assert.equals(1, #tg.texts(chat))
    assert.equals(text, ask("/why btc"))
    assert.equals(text, ask("/why 1H BTCUSDT"))
  end)

  it("says a rule is beyond its level, and a preset already beyond its own", function()
    history("ADAUSDT", 300)
    forming("ADAUSDT", 301, closes[300] + 12)
    save{ name = "Hot", symbols = { "ADAUSDT" }, rule = "rsi", threshold = 70, direction = "up" }
    save{ name = "Big", symbols = { "ADAUSDT" }, threshold = 5, direction = "up" }
    local now = rsi_by_hand(closes, 301)
    local move = (closes[301] - closes[300]) / closes[300] * 100
    assert.is_true(now > 70 and move > 5)
    local text = ask("/why ADAUSDT")
    has(text, string.format("RSI(14) %.2f · default crosses above 70: beyond it now; it fires as the value passes the level", now))
    has(text, string.format("Candle move +%.2f%% · default up or down 2.50%%: would fire now", move))
    has(text, string.format("<b>Hot</b> (crosses above 70, as it happens): RSI(14) %.2f — already beyond your 70", now))
    has(text, string.format("<b>Big</b> (up 5.00%%, as it happens): Candle move +%.2f%% — already beyond your 5.00%%", move))
  end)

  it("says warming up while RSI has no value, and still gives the move", function()
    history("ETHUSDT", 100)   -- RSI(14) needs 202 candles to converge
    forming("ETHUSDT", 101, closes[100] - 1)
    save{ name = "Hot", symbols = { "ETHUSDT" }, rule = "rsi", threshold = 70, direction = "up" }
    local move = (closes[101] - closes[100]) / closes[100] * 100
    local text = ask("/why ETHUSDT 1h")
    has(text, string.format("<b>ETHUSDT 1h</b> %.2f · %.2f%% since", closes[101], move))
    has(text, "RSI(14): warming up")
    has(text, "RSI(14) · default crosses above 70: no value yet (warming up)")
    has(text, string.format("Candle move %.2f%% · default up or down 2.50%%: not now, %.2f%% to go",
                            move, 2.5 + move))
    has(text, "<b>Hot</b> (crosses above 70, as it happens): no value yet (warming up)")
  end)

  it("with no candle forming, speaks of the last close and says so", function()
    history("SOLUSDT", 300)
    save{ name = "Hot", symbols = { "SOLUSDT" }, rule = "rsi", threshold = 70, direction = "up" }
    local text = ask("/why SOLUSDT 1h")
    local move = (closes[300] - closes[299]) / closes[299] * 100
    local rsi = rsi_by_hand(closes, 300)
    assert.is_true(rsi < 70)
    has(text, string.format("<b>SOLUSDT 1h</b> %.2f, the close of the %s candle (%s%.2f%%); no candle is forming now",
                            closes[300], os.date("!%H:%M UTC", (t0 + 299 * HOUR) // 1000),
                            move >= 0 and "+" or "", move))
    has(text, string.format("RSI(14): %.2f\n", rsi))
    has(text, "<b>Rules</b> (each one's value at the last close, against its default level)")
    has(text, string.format("RSI(14) %.2f · default crosses above 70: not now, %.2f to go", rsi, 70 - rsi))
    has(text, string.format("<b>Hot</b> (crosses above 70, as it happens): RSI(14) %.2f — %.2f from your 70",
                            rsi, 70 - rsi))
  end)

  it("says when the user has no preset there", function()
    history("SOLUSDT", 30)
    has(ask("/why SOLUSDT 1h"), "You have no preset on this pair and timeframe")
  end)

  it("answers bad input with what is valid", function()
    history("BTCUSDT", 20)
    local watched = table.concat(spec.call(function() return alerts.limits().intervals end), ", ")
    has(ask("/why"), "<code>/why BTCUSDT 1h</code> (1h when left out). Timeframes watched: " .. watched .. ".")
    has(ask("/why BTCUSDT 1h extra"), "Send a pair and, if you like, a timeframe")
    assert.equals("I don't watch FOO. Try e.g. <code>/why BTCUSDT 1h</code>.", ask("/why FOO"))
    has(ask("/why <i>x</i>"), "I don't watch &lt;i&gt;x&lt;/i&gt;.")
    has(ask("/why " .. string.rep("A", 40)), "I don't watch " .. string.rep("A", 24) .. "….")
    assert.is_falsy(watched:find("6h", 1, true))
    assert.equals("I don't watch 6h candles. Timeframes watched: " .. watched .. ".", ask("/why BTCUSDT 6h"))
    assert.equals("7x is not a timeframe. Timeframes watched: " .. watched ..
                  ", e.g. <code>/why BTCUSDT 1m</code>.", ask("/why btcusdt 7x"))
    has(ask("/why ETHUSDT 5m"), "No 5m candle of ETHUSDT yet")
  end)

  it("is in /help", function()
    has(ask("/help"), "/why - What a pair's indicators and your presets stand at")
  end)

  it("names every indicator the live rules read, each in its own words", function()
    assert(spec.use_scripts({
      ["commands/why.lua"] = read("scripts/commands/why.lua"),
      ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
      ["lib/pair_args.lua"] = read("scripts/lib/pair_args.lua"),
      ["rules/many.lua"] = [[
        alerts.rule{ name = "many", mode = "level", threshold = { min = 0, max = 100 },
                     needs = { "ema(9)", "macd(12,26,9)", "bb(20,2)", "vol_ratio(20)" },
                     value = function(c, h, s, ind) return ind.ema(9) end }
      ]],
    }))
    history("XRPUSDT", 300)
    forming("XRPUSDT", 301, closes[300] + 1)
    -- EMA(9) by hand: after 300 candles any seed has faded far below a cent
    local ema, a = closes[1], 2 / 10
    for k = 2, 300 do ema = a * closes[k] + (1 - a) * ema end
    local text = ask("/why XRPUSDT 1h")
    has(text, string.format("EMA(9): %.2f → %.2f", ema, a * closes[301] + (1 - a) * ema))
    has(text, "MACD(12,26,9): line ")
    has(text, ", signal ")
    has(text, ", histogram ")
    has(text, "BB(20,2): middle ")
    has(text, "Vol ratio(20): ratio 1.00×, average 100 → ratio 1.00×, average 100")
    has(text, string.format("many %.3f · default either side 50: would fire now", a * closes[301] + (1 - a) * ema))
  end)

  -- (last: the symbols a spec adds stay listed for the tests after it)
  it("reads a bare base only when one pair has it", function()
    spec.ranking{ "BTCUSDT", "BTCUSDC" }
    assert.equals("BTC could be BTCUSDT or BTCUSDC. Send the whole pair, e.g. <code>/why BTCUSDT 1h</code>.",
                  ask("/why btc"))
  end)
end)
