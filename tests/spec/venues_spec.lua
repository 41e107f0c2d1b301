-- Venues through the real core: symbols qualified by venue ("spot:BTCUSDT")
-- in the Lua API, each venue's own ranking for candles.top and for a top N
-- preset, alerts naming the qualified pair, /why on it, and /preset asking
-- for the exchange only when more than one is on.
local HOUR = 3600000
local function read(name) return assert(io.open(name)):read("a") end

describe("venues", function()
  local tg
  local chat = 900
  local function last(c) local t = tg.texts(c) return t[#t] end
  local function say(c, text) tg.message{ chat = c, text = text } spec.advance(2) return last(c) end
  local function press(c, data) tg.press{ chat = c, data = data, message_id = 1 } spec.advance(2) return last(c) end
  local function buttons(c)
    local out = {}
    local sent = tg.sent(c)
    for _, row in ipairs(sent[#sent].params.reply_markup.inline_keyboard) do
      for _, b in ipairs(row) do out[#out + 1] = b.text end
    end
    return out
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/start.lua"] = read("scripts/commands/start.lua"),
      ["commands/preset.lua"] = read("scripts/commands/preset.lua"),
      ["commands/why.lua"] = read("scripts/commands/why.lua"),
      ["commands/status.lua"] = read("scripts/commands/status.lua"),
      ["lib/pair_args.lua"] = read("scripts/lib/pair_args.lua"),
      ["rules/move.lua"] = read("scripts/rules/move.lua"),
      ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
      ["lib/alertfmt.lua"] = read("scripts/lib/alertfmt.lua"),
    }))
    tg = spec.telegram()
    -- one ranking list of any venues: each venue keeps its own order
    spec.ranking{ "ETHUSDT", "spot:BTCUSDT", "BTCUSDT", "spot:ETHUSDT", "bybit:SOLUSDT" }
    chat = chat + 1
  end)

  it("reads each venue's own top N, by its qualified names", function()
    local top = spec.call(function()
      return { candles.top(2), candles.top(2, "spot"), candles.top(5, "Bybit"), candles.venues() }
    end)
    assert.same({ "ETHUSDT", "BTCUSDT" }, top[1])
    assert.same({ "spot:BTCUSDT", "spot:ETHUSDT" }, top[2])
    assert.same({ "bybit:SOLUSDT" }, top[3])
    local ok, err = pcall(spec.call, function() return candles.top(1, "kraken") end)
    assert.is_false(ok)
    assert.matches("unknown venue 'kraken'", tostring(err))
    spec.venues{ "binance", "spot" }
    assert.same({ "binance", "spot" }, spec.call(function() return candles.venues() end))
  end)

  it("fires a spot top N preset on spot's ranking only, naming spot:BTCUSDT", function()
    local t0 = (spec.now() // HOUR) * HOUR
    assert(spec.call(function(c)
      return alerts.save{ user_id = c, chat_id = c, name = "Spot top", pairs = "top", top_n = 1,
                          venue = "spot", intervals = { "1h" }, threshold = 1, trigger = "forming" }
    end, chat))
    local p = spec.call(function(c) return alerts.presets(c) end, chat)[1]
    assert.equals("spot", p.venue)
    -- BTCUSDT is Binance futures' second, spot:BTCUSDT spot's first, ETHUSDT futures' first
    for _, sym in ipairs({ "ETHUSDT", "BTCUSDT", "spot:ETHUSDT", "spot:BTCUSDT" }) do
      spec.candle{ symbol = sym, interval = "1h", open_time = t0, open = 100, close = 105,
                   high = 106, low = 99, volume = 1, quote_volume = 1e6, event_time = t0 + 1000 }
    end
    spec.advance(2)
    local texts = table.concat(tg.texts(chat), "\n")
    assert.matches("spot:BTCUSDT", texts)
    assert.is_falsy(texts:find("ETHUSDT", 1, true), "futures' first and spot's second are not spot's top 1")
    assert.is_falsy(texts:find("[^:]BTCUSDT"), "nor is futures' BTCUSDT")
    -- the pair arguments' parser (/chart's) reads qualified names too
    local got = spec.call(function()
      local A = require("pair_args")
      return { A.symbol_of("Spot:btc", "chart"), (A.symbol_of("bybit:btc", "chart")) }
    end)
    assert.equals("spot:BTCUSDT", got[1])
    assert.is_nil(got[2])
    -- /why on the qualified pair, typed in any case
    local why = say(chat, "/why Spot:btc 1h")
    assert.matches("spot:BTCUSDT 1h", why)
    assert.matches("Spot top", why)
  end)

  it("asks for the exchange only when more than one is on, and reads a list as its pairs", function()
    spec.venues{ "binance" }
    say(chat, "/preset new")
    assert.matches("Which pairs%?", say(chat, "P"))
    say(chat, "/cancel")
    spec.venues{ "binance", "spot" }
    say(chat, "/preset new")
    assert.matches("Which exchange%?", say(chat, "P"))
    local b = buttons(chat)
    assert.same({ "Binance futures", "Binance spot" }, { b[1], b[2] })
    assert.matches("Which pairs%?", press(chat, "preset:venue:spot"))
    press(chat, "preset:pairs:list")
    -- spot:DOGEUSDT is not listed on spot: named with its venue
    assert.matches("Not traded here: spot:DOGEUSDT", say(chat, "btc doge"))
    assert.matches("Which timeframes%?", say(chat, "btc, eth"))
  end)

  it("/status counts each exchange's pairs when more than one is on", function()
    spec.venues{ "binance" }
    assert.matches("Market data: 5 pairs streaming%.", say(chat, "/status"))
    spec.venues{ "binance", "spot", "bybit" }
    assert.matches("Market data: Binance futures 2 pairs, Binance spot 2 pairs, Bybit futures 1 pair%.",
                   say(chat, "/status"))
  end)
end)
