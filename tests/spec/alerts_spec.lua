-- Candle alerts through the real core: presets, the rule, the index, once
-- per candle per chat, formatting, top-N following the ranking.
describe("alerts", function()
  local tg, t0
  local function save(p)
    p.user_id = p.user_id or p.chat_id or 1
    return spec.call(function() return alerts.save(p) end)
  end
  -- a candle of BTCUSDT 5m (or as given) that moved `move` percent from 100
  local n = 0
  local function candle(move, opts)
    opts = opts or {}
    n = n + 1
    local c = { symbol = opts.symbol or "BTCUSDT", interval = opts.interval or "5m",
                open_time = opts.open_time or t0, open = opts.open or 100,
                close = (opts.open or 100) * (1 + move / 100), closed = opts.closed,
                event_time = (opts.open_time or t0) + n, quote_volume = 1234567,
                price_decimals = 2, backfilled = opts.backfilled }
    local r = spec.candle(c)
    spec.advance(0)
    return r
  end

  before_each(function()
    assert(spec.use_scripts({
      ["rules/move.lua"] = assert(io.open("scripts/rules/move.lua")):read("a"),
      ["lib/alertfmt.lua"] = assert(io.open("scripts/lib/alertfmt.lua")):read("a"),
    }))
    tg = spec.telegram()
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT" }
    t0 = (spec.now() // 300000 + 1) * 300000 + 3600000 * n   -- a fresh 5m candle each test
    spec.advance((t0 - spec.now()) / 1000)
  end)

  it("fires once when a forming candle crosses the threshold, with the details", function()
    local id = assert(save{ chat_id = 10, name = "Big <moves>", pairs = "manual", symbols = { "btcusdt" },
                            intervals = { "5m" }, threshold = 3, direction = "both" })
    candle(2.99)
    candle(3.5)
    candle(4.8)   -- the same candle moving further: no second alert
    spec.advance(2)
    local t = tg.texts(10)
    assert.equals(1, #t)
    assert.matches("<b>BTCUSDT</b> 5m <b>+3.50%</b>", t[1], 1, true)
    assert.matches("100.00 → 103.50", t[1], 1, true)
    assert.matches("Big &lt;moves&gt;", t[1], 1, true)
    assert.matches('href="https://www.binance.com/en/futures/BTCUSDT"', t[1], 1, true)
    assert.matches("1.23M", t[1], 1, true)
    assert.equals(1, spec.call(function() return alerts.stats(id) end).today)
  end)

  it("links each venue's pair to its own page on the exchange", function()
    spec.ranking{ "spot:BTCUSDT", "spot:ETHBTC", "bybit:BTCUSDT" }
    for i, s in ipairs({ "spot:BTCUSDT", "spot:ETHBTC", "bybit:BTCUSDT", "BTCUSDT" }) do
      save{ chat_id = 40 + i, name = "v", pairs = "manual", symbols = { s }, intervals = { "5m" }, threshold = 1 }
      candle(2, { symbol = s })
    end
    spec.advance(2)
    assert.matches('href="https://www.binance.com/en/trade/BTC_USDT?type=spot"', tg.texts(41)[1], 1, true)
    assert.matches('href="https://www.binance.com/en/trade/ETH_BTC?type=spot"', tg.texts(42)[1], 1, true)
    assert.matches(" vol [%d.]+%a? BTC\n", tg.texts(42)[1])   -- (its volume in its quote asset)
    assert.matches(" vol [%d.]+%a? USDT\n", tg.texts(41)[1])
    assert.matches('href="https://www.bybit.com/trade/usdt/BTCUSDT"', tg.texts(43)[1], 1, true)
    assert.matches('href="https://www.binance.com/en/futures/BTCUSDT"', tg.texts(44)[1], 1, true)
  end)

  it("fires exactly at the threshold, and again on the next candle", function()
    save{ chat_id = 11, name = "at", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 2 }
    candle(2)
    spec.advance(1)   -- (in the same instant, the two would be merged into one message)
    candle(2.5, { open_time = t0 + 300000 })
    spec.advance(3)
    assert.equals(2, #tg.texts(11))
  end)

  it("never alerts a candle older than the last one alerted (regression: a restart's warm start re-sent them)", function()
    save{ chat_id = 19, name = "o", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1, trigger = "close" }
    candle(2, { open_time = t0 + 300000, closed = true })
    candle(3, { open_time = t0, closed = true, backfilled = true })   -- older, within the late window
    spec.advance(3)
    assert.equals(1, #tg.texts(19))
  end)

  it("holds alerts while snoozed and sends one digest when the pause ends", function()
    save{ chat_id = 21, name = "s", pairs = "manual", symbols = { "BTCUSDT", "ETHUSDT" }, intervals = { "5m" }, threshold = 1 }
    spec.call(function() alerts.pause(21, 3600) end)
    candle(2)
    candle(-3, { symbol = "ETHUSDT" })
    candle(4, { open_time = t0 + 300000 })
    spec.advance(60)
    assert.equals(0, #tg.texts(21))
    assert.is_number(spec.call(function() return alerts.paused(21) end))
    spec.advance(3600)
    local t = tg.texts(21)
    assert.equals(1, #t)
    assert.matches("While your alerts were paused, 3 fired:", t[1], 1, true)
    assert.matches("BTCUSDT 5m +2.00%", t[1], 1, true)
    assert.matches("ETHUSDT 5m -3.00%", t[1], 1, true)
    assert.is_nil(spec.call(function() return alerts.paused(21) end))
    local t1 = (spec.now() // 300000 + 1) * 300000
    spec.advance((t1 - spec.now()) / 1000)
    candle(5, { open_time = t1 })
    spec.advance(2)
    assert.equals(2, #tg.texts(21))   -- and alerts flow again
  end)

  it("merges a chat's waiting alerts grouped by timeframe, bigger moves first", function()
    save{ chat_id = 31, name = "mix", pairs = "manual", symbols = { "BTCUSDT", "ETHUSDT" },
          intervals = { "5m", "15m" }, threshold = 1 }
    local t15 = spec.now() // 900000 * 900000
    local function at(sym, iv, open_time, move)
      spec.candle{ symbol = sym, interval = iv, open_time = open_time, open = 100,
                   close = 100 + move, event_time = spec.now(), quote_volume = 1000 }
    end
    at("BTCUSDT", "15m", t15, 1.5)   -- all four in one turn: one message
    at("BTCUSDT", "5m", t0, 2)
    at("ETHUSDT", "15m", t15, -3)
    at("ETHUSDT", "5m", t0, 4)
    spec.advance(2)
    local t = tg.texts(31)
    assert.equals(1, #t)
    local order = {}
    for line in t[1]:gsub("<[^>]+>", ""):gmatch("[^\n]+") do
      local head = line:match("^⏱ (%S+) candles$")
      local sym, iv, mv = line:match("(%u+USDT) (%w+) ([+-][%d.]+%%)")
      if head then order[#order + 1] = head end
      if sym then order[#order + 1] = sym .. " " .. iv .. " " .. mv end
    end
    assert.same({ "5m", "ETHUSDT 5m +4.00%", "BTCUSDT 5m +2.00%",
                  "15m", "ETHUSDT 15m -3.00%", "BTCUSDT 15m +1.50%" }, order)
  end)

  it("prunes a week-old alert log while running, not only at start-up", function()
    local id = save{ chat_id = 41, name = "old", pairs = "manual", symbols = { "SOLUSDT" },
                     intervals = { "5m" }, threshold = 1 }
    candle(2, { symbol = "SOLUSDT" })
    spec.advance(2)
    assert.equals(1, #tg.texts(41))
    local before = spec.health().components.alerts.log_rows_pruned
    assert.equals(1, spec.call(function() return alerts.stats(id).week end))
    spec.advance(9 * 86400)
    assert.is_true(spec.health().components.alerts.log_rows_pruned > before)
    spec.call(function() alerts.delete(id) end)
  end)

  it("hands value() every field of the candle", function()
    spec.write("rules/fields.lua", [[
      local names = { "symbol", "interval", "open_time", "close_time", "event_time", "open",
                      "high", "low", "close", "volume", "quote_volume", "trades", "closed",
                      "backfilled", "price_decimals", "nonsense", 1 }
      alerts.rule{ name = "fields", on = { "forming" }, value = function(c)
        local parts = {}
        for i, k in ipairs(names) do parts[i] = tostring(k) .. "=" .. tostring(c[k]) end
        log.warn("fields %s", table.concat(parts, " "))
      end }
    ]])
    assert(spec.reload())
    -- (a rule's value is computed only where a preset of it watches)
    assert(save{ chat_id = 12, name = "f", rule = "fields", pairs = "manual",
                 symbols = { "ETHUSDT" }, intervals = { "15m" }, threshold = 5 })
    spec.candle{ symbol = "ETHUSDT", interval = "15m", open_time = t0, open = 10, high = 12,
                 low = 9, close = 11, volume = 5, quote_volume = 55, trades = 7,
                 event_time = t0 + 1, price_decimals = 3 }
    spec.advance(0)
    local seen
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("fields ", 1, true) then seen = l.msg end
    end
    spec.remove("rules/fields.lua")
    assert(spec.reload())
    assert.equals(("fields symbol=ETHUSDT interval=15m open_time=%d close_time=%d "
      .. "event_time=%d open=10.0 high=12.0 low=9.0 close=11.0 volume=5.0 quote_volume=55.0 "
      .. "trades=7 closed=false backfilled=false price_decimals=3 nonsense=nil 1=nil")
      :format(t0, t0 + 900000 - 1, t0 + 1), seen)
  end)

  it("hands value() a candle valid only during the call", function()
    spec.write("rules/keep.lua", [[
      local kept
      alerts.rule{ name = "keep", on = { "forming" }, value = function(c) kept = c return nil end }
      timer.every(1, function()   -- after the call: reading it raises
        if kept then
          local ok, err = pcall(function() return kept.close end)
          log.warn("kept candle: %s", ok and "readable" or err)
          kept = nil
        end
      end)
    ]])
    assert(spec.reload())
    assert(save{ chat_id = 13, name = "k", rule = "keep", pairs = "manual",
                 symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 5 })
    candle(0.5)
    spec.advance(2)
    local seen
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("kept candle", 1, true) then seen = l.msg end
    end
    assert.matches("this candle was passed to a rule's value() and is gone", seen, 1, true)
    spec.remove("rules/keep.lua")
    assert(spec.reload())
  end)

  it("sends a crossing that reaches thousands of chats in slices, each chat once", function()
    spec.call(function()
      for chat = 100001, 102500 do
        alerts.save{ user_id = chat, name = "w", pairs = "manual", symbols = { "SOLUSDT" },
                     intervals = { "5m" }, threshold = 1 }
      end
    end)
    local before = spec.telegram_stats().queued
    candle(3, { symbol = "SOLUSDT" })
    candle(3.5, { symbol = "SOLUSDT" })   -- arrives while the first is still going out
    spec.advance(1)
    assert.equals(2500, spec.telegram_stats().queued - before)
    spec.advance(120)   -- 2,500 messages at 30 a second
    assert.equals(1, #tg.texts(100001))
    assert.equals(1, #tg.texts(102500))
    assert.matches("+3.00%", tg.texts(102500)[1], 1, true)
    spec.call(function()   -- gone again: the tests after this one watch SOLUSDT too
      for chat = 100001, 102500 do
        for _, p in ipairs(alerts.presets(chat)) do alerts.delete(p.id) end
      end
    end)
  end)

  it("respects the direction", function()
    save{ chat_id = 12, name = "up only", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1, direction = "up" }
    save{ chat_id = 13, name = "down only", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1, direction = "down" }
    candle(-1.5)
    spec.advance(2)
    assert.equals(0, #tg.texts(12))
    assert.equals(1, #tg.texts(13))
    assert.matches("<b>-1.50%</b>", tg.texts(13)[1], 1, true)
  end)

  it("waits for the close when the trigger is close", function()
    save{ chat_id = 14, name = "closes", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1, trigger = "close" }
    candle(1.5)
    spec.advance(2)
    assert.equals(0, #tg.texts(14))
    candle(1.2, { closed = true })
    spec.advance(2)
    assert.equals(1, #tg.texts(14))
    assert.matches("(closed)", tg.texts(14)[1], 1, true)
  end)

  it("names every matching preset of a chat in one alert", function()
    save{ chat_id = 15, name = "A", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1 }
    save{ chat_id = 15, name = "B", pairs = "top", top_n = 2, intervals = { "5m", "1h" }, threshold = 2 }
    candle(2.5)
    spec.advance(2)
    local t = tg.texts(15)
    assert.equals(1, #t)
    assert.matches("A, B", t[1], 1, true)
  end)

  it("ignores a candle without an open price, and old news", function()
    save{ chat_id = 16, name = "z", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1 }
    candle(5, { open = 0 })
    candle(5, { open_time = t0 - 3600000, closed = true, backfilled = true })
    spec.advance(2)
    assert.equals(0, #tg.texts(16))
  end)

  it("follows the ranking for top-N presets", function()
    save{ chat_id = 17, name = "top2", pairs = "top", top_n = 2, intervals = { "5m" }, threshold = 1 }
    candle(3, { symbol = "SOLUSDT" })
    spec.advance(2)
    assert.equals(0, #tg.texts(17))
    spec.ranking{ "SOLUSDT", "BTCUSDT", "ETHUSDT" }
    candle(3, { symbol = "SOLUSDT", open_time = t0 + 300000 })
    spec.advance(2)
    assert.equals(1, #tg.texts(17))
  end)

  it("validates presets with answers a user can act on", function()
    local function err(p) local ok, e = save(p) assert.is_nil(ok) return e end
    assert.matches("Unknown pairs: FOOUSDT, BARUSDT", err{ name = "x", pairs = "manual", symbols = { "BTCUSDT", "fooUSDT", "BARUSDT" }, intervals = { "5m" }, threshold = 1 })
    assert.matches("0.1 to 100", err{ name = "x", intervals = { "5m" }, threshold = 0.05 })
    assert.matches("0.1 to 100", err{ name = "x", intervals = { "5m" }, threshold = 101 })
    assert.matches("1 to 64 characters", err{ name = string.rep("n", 65), intervals = { "5m" }, threshold = 1 })
    assert.matches("timeframes", err{ name = "x", intervals = { "7m" }, threshold = 1 })
    assert.matches("timeframes", err{ name = "x", intervals = {}, threshold = 1 })
    local id = save{ name = "ok", intervals = { "5m" }, threshold = 1.234 }
    assert.equals(1.23, spec.call(function() return alerts.get(id) end).threshold)
    for i = 1, 9 do save{ user_id = 77, name = "p" .. i, intervals = { "5m" }, threshold = 1 } end
    save{ user_id = 77, name = "p10", intervals = { "5m" }, threshold = 1 }
    assert.matches("the most there can be", err{ user_id = 77, name = "p11", intervals = { "5m" }, threshold = 1 })
  end)

  it("stops alerting for a deleted or inactive preset", function()
    local id = save{ chat_id = 18, name = "d", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1 }
    local p = spec.call(function() return alerts.get(id) end)
    p.active = false
    assert(save(p))
    candle(3)
    spec.advance(2)
    assert.equals(0, #tg.texts(18))
    p.active = true
    assert(save(p))
    assert.equals(1, spec.call(function() return alerts.subscriptions(18) end))   -- 1 pair x 1 timeframe
    assert(spec.call(function() return alerts.delete(id) end))
    assert.is_nil(spec.call(function() return alerts.get(id) end))
    assert.equals(0, spec.call(function() return alerts.subscriptions(18) end))
    candle(3, { open_time = t0 + 300000 })
    spec.advance(2)
    assert.equals(0, #tg.texts(18))
  end)

  it("sends one message for one move seen on three timeframes, their frames a few ms apart", function()
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT" }
    save{ chat_id = 32, name = "tf", pairs = "manual", symbols = { "ADAUSDT" },
          intervals = { "15m", "1h", "4h" }, threshold = 1 }   -- (other tests' presets: 5m)
    spec.advance(10)   -- nothing else waiting to be sent
    assert.equals(0, spec.telegram_stats().depth)
    local function at(iv, len)
      spec.candle{ symbol = "ADAUSDT", interval = iv, open_time = spec.now() // len * len,
                   open = 100, close = 105, event_time = spec.now(), quote_volume = 1000 }
    end
    at("15m", 900000)
    spec.advance(0.004)   -- each timeframe's frame in a loop turn of its own
    at("1h", 3600000)
    spec.advance(0.004)
    at("4h", 14400000)
    spec.advance(5)
    local t = tg.texts(32)
    assert.equals(1, #t)
    for _, iv in ipairs{ "15m", "1h", "4h" } do
      assert.matches("ADAUSDT</b> " .. iv .. " ", t[1], 1, true)
    end
  end)
end)
