-- The two example rules of docs/scripting.md (tests/spec/examples/rules/), through the real host.
describe("the example rules", function()
  local tg
  before_each(function()
    local function read(f) return assert(io.open("tests/spec/examples/rules/" .. f)):read("a") end
    assert(spec.use_scripts({
      ["rules/above_average.lua"] = read("above_average.lua"),
      ["rules/price_cross.lua"] = read("price_cross.lua"),
      ["lib/alertfmt.lua"] = assert(io.open("scripts/lib/alertfmt.lua")):read("a"),
    }))
    tg = spec.telegram()
  end)
  -- a preset of chat `chat` on 1m candles of `symbol`
  local function watch(chat, symbol, rule, threshold)
    spec.ranking{ symbol }
    assert(spec.call(function()
      return alerts.save{ user_id = chat, name = "p", rule = rule, pairs = "manual", symbols = { symbol },
                          intervals = { "1m" }, threshold = threshold, direction = "up", trigger = "close" }
    end))
  end
  -- 1m candles closing at these prices, one a minute; the alerts they sent
  local function closes(chat, symbol, prices)
    local before = #tg.texts(chat)
    for _, price in ipairs(prices) do
      spec.advance(60)
      spec.candle{ symbol = symbol, interval = "1m", open_time = spec.now() // 60000 * 60000 - 60000,
                   open = price, close = price, closed = true }
    end
    spec.advance(2)
    return #tg.texts(chat) - before
  end

  it("above_average: a close 2 % or more above the average of the 20 before it", function()
    watch(3, "ETHUSDT", "above_average", 2)
    local flat = {}
    for i = 1, 19 do flat[i] = 100 end
    flat[20] = 103                                   -- +3 %, but only 19 candles before it
    assert.equals(0, closes(3, "ETHUSDT", flat))
    assert.equals(0, closes(3, "ETHUSDT", { 102 }))  -- average 100.15: +1.85 %
    assert.equals(1, closes(3, "ETHUSDT", { 104.5 })) -- average 100.25: +4.24 %
    assert.equals(1, closes(3, "ETHUSDT", { 105 }))  -- a level fires on every candle at it
    assert.equals(0, closes(3, "ETHUSDT", { 101 }))  -- under it
  end)

  it("price_cross: once per crossing up, again after crossing back", function()
    watch(4, "SOLUSDT", "price_cross", 150)
    assert.equals(0, closes(4, "SOLUSDT", { 155 }))       -- no close before it: no crossing
    assert.equals(0, closes(4, "SOLUSDT", { 149, 140 }))  -- below
    assert.equals(1, closes(4, "SOLUSDT", { 150 }))       -- from below to at the level
    assert.equals(0, closes(4, "SOLUSDT", { 152, 160 }))  -- stays above
    assert.equals(0, closes(4, "SOLUSDT", { 149.99 }))    -- back below (down: not this preset)
    assert.equals(1, closes(4, "SOLUSDT", { 151 }))       -- crosses up again
  end)
end)
