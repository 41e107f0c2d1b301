-- The rule modes through the real core: a level rule and a cross rule on
-- the close price, their alerts where a hand computation puts them, once
-- per candle for a level, once per crossing for a cross (re-armed by
-- crossing back).
describe("rule modes", function()
  local tg, t0, sym
  local function save(p)
    p.user_id = p.user_id or p.chat_id
    p.name = p.name or "p"
    p.pairs = "manual"
    p.symbols = { sym }
    p.intervals = { "5m" }
    return spec.call(function() return alerts.save(p) end)
  end
  -- an update of the test's pair's 5m candle number k (0: t0) whose close
  -- is `close` (each test has its own pair)
  local n = 0
  local function price(k, close, closed)
    n = n + 1
    local open_time = t0 + k * 300000
    spec.candle{ symbol = sym, interval = "5m", open_time = open_time, open = 100,
                 close = close, closed = closed, event_time = open_time + n,
                 quote_volume = 1234567, price_decimals = 2 }
    spec.advance(1)   -- (alerts in one instant would be merged into one message)
  end

  before_each(function()
    assert(spec.use_scripts({
      ["rules/move.lua"] = assert(io.open("scripts/rules/move.lua")):read("a"),
      ["rules/price.lua"] = [[
        alerts.rule{ name = "price", label = "Price level", unit = "USDT", mode = "level",
                     threshold = { min = 0, max = 1000000, default = 100, decimals = 2,
                                   prompt = "At which price?" },
                     value = function(c) return c.close end }
      ]],
      ["rules/pricex.lua"] = [[
        alerts.rule{ name = "pricex", label = "Price cross", unit = "USDT", mode = "cross",
                     directions = { "up", "down" },
                     threshold = { min = 0, max = 1000000, default = 100, decimals = 2,
                                   prompt = "Which price?" },
                     value = function(c) return c.close end }
      ]],
    }))
    tg = spec.telegram()
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT" }
    n = n + 1000
    t0 = (spec.now() // 300000 + 1) * 300000 + 3600000 * (n // 1000)   -- fresh candles each test
    spec.advance((t0 - spec.now()) / 1000)
  end)

  it("a level fires once per candle while the value is at or beyond it", function()
    sym = "BTCUSDT"
    assert(save{ chat_id = 31, rule = "price", threshold = 105, direction = "up" })
    assert(save{ chat_id = 32, rule = "price", threshold = 95, direction = "down" })
    price(0, 103)            -- under 105, over 95: nothing
    assert.equals(0, #tg.texts(31) + #tg.texts(32))
    price(0, 106)            -- at or above 105: chat 31
    price(0, 107)            -- the same candle: not again
    assert.equals(1, #tg.texts(31))
    price(1, 104)            -- the next candle, under
    price(1, 105)            -- exactly at 105: fires again, a new candle
    assert.equals(2, #tg.texts(31))
    price(2, 95)             -- at or below 95: chat 32
    price(3, 94)             -- and on the next candle too
    assert.equals(2, #tg.texts(32))
    assert.equals(2, #tg.texts(31))
  end)

  it("a cross fires on crossing only, and again only after crossing back", function()
    sym = "ETHUSDT"
    assert(save{ chat_id = 41, rule = "pricex", threshold = 105, direction = "up" })
    assert(save{ chat_id = 42, rule = "pricex", threshold = 100, direction = "down" })
    price(0, 106)            -- the first value: no previous one, no crossing
    assert.equals(0, #tg.texts(41))
    price(1, 104)            -- down through 105: chat 41 wants up only
    price(2, 105.5)          -- 104 -> 105.5 crosses 105 upward
    assert.equals(1, #tg.texts(41))
    price(3, 108)            -- staying above: no crossing
    price(4, 107)
    assert.equals(1, #tg.texts(41))
    assert.equals(0, #tg.texts(42))   -- never under 100 yet
    price(5, 99)             -- 107 -> 99: down through 100 (chat 42) and 105 (re-arms 41)
    assert.equals(1, #tg.texts(42))
    price(6, 106)            -- back up through 105: chat 41 again
    assert.equals(2, #tg.texts(41))
    price(7, 98)             -- 106 -> 98: through 100 again, after crossing back up
    assert.equals(2, #tg.texts(42))
  end)

  it("a close-trigger cross compares consecutive closes", function()
    sym = "SOLUSDT"
    assert(save{ chat_id = 51, rule = "pricex", threshold = 105, direction = "up", trigger = "close" })
    price(0, 104, true)      -- the first close
    price(1, 107)            -- forming above: not a close
    assert.equals(0, #tg.texts(51))
    price(1, 106, true)      -- closes 104 -> 106
    assert.equals(1, #tg.texts(51))
    price(2, 107, true)      -- 106 -> 107: no crossing
    assert.equals(1, #tg.texts(51))
  end)

  it("computes a rule only where a preset of it watches, and a cross starts afresh there", function()
    sym = "ADAUSDT"   -- (no preset of the tests before watches it)
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT" }
    local function evaluated() return spec.health().components.alerts.evaluated end
    local id = assert(save{ chat_id = 61, rule = "pricex", threshold = 105, direction = "up" })
    price(0, 104)
    local before = evaluated()
    spec.call(function() return alerts.delete(id) end)
    price(0, 110)            -- no preset of either rule: neither is computed
    assert.equals(before, evaluated())
    assert(save{ chat_id = 62, rule = "pricex", threshold = 105, direction = "up" })
    price(0, 111)            -- the value went above 105 unwatched: 104 is stale, no crossing
    assert.equals(before + 1, evaluated())
    assert.equals(0, #tg.texts(62))
    price(1, 100)
    price(1, 106)            -- a crossing seen whole
    assert.equals(1, #tg.texts(62))
  end)
end)
