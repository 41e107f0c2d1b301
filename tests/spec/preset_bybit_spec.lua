-- /preset with Bybit's pairs (bybit:BTCUSDT): a list naming them, in any
-- case, beside Binance's; a venue that is none or a misplaced colon
-- refused with what to write; and the preset firing on a Bybit candle,
-- the alert naming bybit:BTCUSDT (not Binance's BTCUSDT, which stays quiet).
describe("/preset with Bybit pairs", function()
  local tg
  local chat = 0
  local function last(c) local t = tg.texts(c) return t[#t] end
  local function say(c, text) tg.message{ chat = c, text = text } spec.advance(2) return last(c) end
  local function press(c, data) tg.press{ chat = c, data = data, message_id = 1 } spec.advance(2) return last(c) end
  local function read(name) return assert(io.open(name)):read("a") end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/start.lua"] = read("scripts/commands/start.lua"),
      ["commands/preset.lua"] = read("scripts/commands/preset.lua"),
      ["rules/move.lua"] = read("scripts/rules/move.lua"),
      ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
      ["lib/alertfmt.lua"] = read("scripts/lib/alertfmt.lua"),
    }))
    tg = spec.telegram()
    for _, s in ipairs({ "BTCUSDT", "bybit:BTCUSDT", "bybit:ETHUSDT" }) do
      spec.candle{ symbol = s, interval = "1m", open_time = 0, open = 1, closed = true }
    end
    chat = chat + 1
  end)

  it("takes bybit:PAIR in a list, refuses what names no venue, and fires on Bybit's candle", function()
    local c = 700 + chat
    say(c, "/preset new")
    say(c, "Bybit majors")
    press(c, "preset:pairs:list")
    assert.matches("There is no exchange \"kraken\" here: use bybit: or spot:", say(c, "kraken:btc"), 1, true)
    assert.matches("Write a pair on another exchange as bybit:BTCUSDT", say(c, "btc:"), 1, true)
    assert.matches("Not traded here: bybit:SOLUSDT", say(c, "bybit:sol"), 1, true)
    assert.matches("Which timeframes%?", say(c, "Bybit:btc, BYBIT:ETHUSDT bybit:btcusdt"))
    press(c, "preset:tf:1m")
    press(c, "preset:tf:done")
    say(c, "1")
    press(c, "preset:dir:both")
    local summary = press(c, "preset:trig:close")
    assert.matches("Pairs: bybit:BTCUSDT, bybit:ETHUSDT", summary, 1, true)
    assert.matches("Saved", press(c, "preset:save"))
    local p = spec.run(function(u) return alerts.presets(u) end, c).results[1][1]
    assert.same({ "bybit:BTCUSDT", "bybit:ETHUSDT" }, p.symbols)

    local t0 = (spec.now() // 60000 + 1) * 60000
    spec.advance((t0 - spec.now()) / 1000)
    -- Binance's BTCUSDT moves: not this preset's pair
    spec.candle{ symbol = "BTCUSDT", interval = "1m", open_time = t0, open = 100, close = 105, closed = true, event_time = t0 + 1 }
    spec.advance(2)
    assert.is_nil(last(c):find("BTCUSDT</b> 1m", 1, true))
    spec.candle{ symbol = "bybit:BTCUSDT", interval = "1m", open_time = t0, open = 100, close = 102, closed = true, event_time = t0 + 2 }
    spec.advance(2)
    assert.matches("<b>bybit:BTCUSDT</b> 1m <b>+2.00%</b>", last(c), 1, true)
    assert.matches('<a href="https://www.bybit.com/trade/usdt/BTCUSDT">chart</a>', last(c), 1, true)
  end)
end)
