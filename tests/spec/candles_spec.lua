-- The read-only candles API over the market's real candle store.
describe("candles", function()
  local t0 = 1767225600000   -- 2026-01-01 00:00 UTC

  before_each(function() assert(spec.use_scripts({ ["x.lua"] = "" })) end)

  it("returns closed candles newest first, and the forming one", function()
    for i = 0, 4 do
      assert.equals("closed", spec.candle{ symbol = "BTCUSDT", interval = "1m", open_time = t0 + i * 60000,
                                           open = 100 + i, close = 101 + i, volume = 5, quote_volume = 500, closed = true })
    end
    assert.equals("forming", spec.candle{ symbol = "BTCUSDT", interval = "1m", open_time = t0 + 5 * 60000,
                                           open = 105, close = 107 })
    local last = spec.call(function() return candles.last("BTCUSDT", "1m", 3) end)
    assert.equals(3, #last)
    assert.equals(t0 + 4 * 60000, last[1].open_time)
    assert.equals(104, last[1].open)
    assert.equals(105, last[1].close)
    assert.equals(t0 + 2 * 60000, last[3].open_time)
    assert.is_true(last[1].closed)
    assert.equals("1m", last[1].interval)
    local forming = spec.call(function() return candles.forming("BTCUSDT", "1m") end)
    assert.equals(107, forming.close)
    assert.is_false(forming.closed)
    assert.equals(1, #spec.call(function() return candles.last("BTCUSDT", "1m") end))
  end)

  it("emits a close once, however often it arrives", function()
    local c = { symbol = "ETHUSDT", interval = "5m", open_time = t0, open = 10, close = 11, closed = true }
    assert.equals("closed", spec.candle(c))
    assert.equals("ignored", spec.candle(c))
    c.backfilled = true
    assert.equals("ignored", spec.candle(c))
  end)

  it("answers empty for what it does not hold, and raises on misuse", function()
    assert.same({}, spec.call(function() return candles.last("NOPEUSDT", "1m", 5) end))
    assert.is_nil(spec.call(function() return candles.forming("NOPEUSDT", "1h") end))
    local t = spec.run(function() return candles.last("BTCUSDT", "7m") end)
    assert.matches("expected candles.last%(symbol, interval %[, n%]%): unknown interval '7m'", t.err)
  end)

  it("lists the ranking", function()
    spec.ranking({ "ETHUSDT", "BTCUSDT", "SOLUSDT" })
    assert.same({ "ETHUSDT", "BTCUSDT" }, spec.call(function() return candles.top(2) end))
    local all = spec.call(function() return candles.symbols() end)
    table.sort(all)
    assert.same({ "BTCUSDT", "ETHUSDT", "SOLUSDT" }, all)
  end)
end)
