-- The command and the rule written from scratch in docs/scripting.md,
-- checked through the real host.
local function read(path)
  return assert(io.open("tests/spec/examples/" .. path)):read("a")
end

describe("the docs' examples", function()
  local tg

  before_each(function()
    assert(spec.use_scripts({
      ["commands/last.lua"] = read("commands/last.lua"),
      ["rules/range.lua"] = read("rules/range.lua"),
      ["lib/alertfmt.lua"] = assert(io.open("scripts/lib/alertfmt.lua")):read("a"),
    }))
    tg = spec.telegram()
  end)

  it("/last answers with the last closed candle", function()
    local t0 = spec.now() // 60000 * 60000
    spec.candle{ symbol = "ETHUSDT", interval = "1m", open_time = t0, open = 2000,
                 high = 2050, low = 1990, close = 2040, closed = true, price_decimals = 2 }
    tg.message{ chat = 1, text = "/last ethusdt" }
    tg.message{ chat = 1, text = "/last SOLUSDT 5m" }
    tg.message{ chat = 1, text = "/last" }
    spec.advance(2)
    assert.same({ "<b>ETHUSDT</b> 1m closed at 2040.00 (+2.00%)",
                  "No closed 5m candle of SOLUSDT yet.",
                  "Which pair? For example: /last BTCUSDT 5m" }, tg.texts(1))
  end)

  it("the range rule alerts a preset when a candle closes wide enough", function()
    spec.ranking{ "BTCUSDT" }   -- the pairs the exchange lists
    local t = spec.run(function()
      return alerts.save{ user_id = 2, name = "Wide", rule = "range", pairs = "manual",
                          symbols = { "BTCUSDT" }, intervals = { "1m" }, threshold = 3,
                          trigger = "close" }
    end)
    assert.is_true(t.ok, t.err)
    assert(t.results[1], t.results[2])
    local function close(high, low)   -- the minute that just ended
      spec.advance(60)
      spec.candle{ symbol = "BTCUSDT", interval = "1m", open_time = spec.now() // 60000 * 60000 - 60000,
                   open = 100, high = high, low = low, close = 100, closed = true }
    end
    close(102, 99.5)   -- 2.5 %: below the threshold
    close(104, 99)     -- 5 %: alerts
    spec.advance(2)
    local texts = tg.texts(2)
    assert.equals(1, #texts)
    assert.matches("BTCUSDT", texts[1], 1, true)
    assert.matches("Wide", texts[1], 1, true)
  end)
end)
