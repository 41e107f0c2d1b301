-- Indicators in rules, through the real core: the history warms RSI(14),
-- the rsi rule fires where a hand computation of Wilder's RSI crosses the
-- level (on a close, and on the forming candle "if it closed now"), re-arms
-- after crossing back; no value before warm-up; an undeclared indicator is
-- an error naming it; alerts.indicators and alerts.evaluate read the same.
local FIVE = 300000
local hand = dofile("tests/spec/hand.lua")
local rsi_by_hand = hand.rsi

describe("indicator rules", function()
  local tg, t0
  local closes
  local function row(k, close, closed)
    local open = closes[k - 1] or close
    return { open_time = t0 + (k - 1) * FIVE, open = open, close = close,
             high = math.max(open, close) + 0.5, low = math.min(open, close) - 0.5,
             volume = 100, quote_volume = 5e7, closed = closed, price_decimals = 2,
             event_time = t0 + (k - 1) * FIVE + 1 }
  end
  -- candle k (1-based) of the series, closed at `close`, as the stream has it
  local function close_at(sym, k, close)
    closes[k] = close
    local r = row(k, close, true)
    r.symbol, r.interval = sym, "5m"
    spec.candle(r)
    spec.advance(1)
  end
  local function history(sym, n)
    local rows = {}
    for k = 1, n do
      closes[k] = 100 + 3 * math.sin(k / 4) + (k % 7) * 0.1
      rows[k] = row(k, closes[k], true)
    end
    spec.history{ symbol = sym, interval = "5m", rows = rows }
  end
  local function save(p)
    p.user_id = p.user_id or p.chat_id
    p.name = p.name or "r"
    p.pairs = "manual"
    p.intervals = { "5m" }
    p.rule = p.rule or "rsi"
    return spec.call(function() return alerts.save(p) end)
  end

  before_each(function()
    assert(spec.use_scripts({
      ["lib/alertfmt.lua"] = assert(io.open("scripts/lib/alertfmt.lua")):read("a"),
      ["rules/move.lua"] = assert(io.open("scripts/rules/move.lua")):read("a"),
      ["rules/rsi.lua"] = assert(io.open("scripts/rules/rsi.lua")):read("a"),
      ["rules/sneaky.lua"] = [[
        alerts.rule{ name = "sneaky", mode = "level", threshold = { min = 0, max = 100 },
                     needs = { rsi = 14 },
                     value = function(c, h, s, ind) return ind.ema(50) end }
      ]],
    }))
    tg = spec.telegram()
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT" }
    closes = {}
    t0 = (spec.now() // FIVE) * FIVE - 300 * FIVE   -- 300 closed candles end now
  end)

  it("fires when RSI(14) crosses the level on a close, where the hand computation does",
     function()
    history("BTCUSDT", 300)
    assert(save{ chat_id = 51, symbols = { "BTCUSDT" }, threshold = 70, direction = "up",
                 trigger = "close" })
    local k, fired_at = 300, nil
    -- rising closes until RSI crosses 70 by hand; the alert must come then
    while k < 340 and not fired_at do
      k = k + 1
      close_at("BTCUSDT", k, closes[k - 1] + 0.6)
      local before, now = rsi_by_hand(closes, k - 1), rsi_by_hand(closes, k)
      if before < 70 and now >= 70 then fired_at = k end
      assert.equals(fired_at and 1 or 0, #tg.texts(51))
    end
    assert.is_truthy(fired_at, "the test's prices never crossed 70")
    local text = tg.texts(51)[1]
    assert.is_truthy(text:find("RSI(14) crossed above <b>70</b>", 1, true), text)
    assert.is_truthy(text:find(string.format("%.2f", rsi_by_hand(closes, fired_at)), 1, true),
                     text)
    -- staying above: no new alert; back under and over again: a second one
    close_at("BTCUSDT", k + 1, closes[k] + 0.5)
    assert.equals(1, #tg.texts(51))
    local j = k + 1
    while rsi_by_hand(closes, j) >= 70 do j = j + 1; close_at("BTCUSDT", j, closes[j - 1] - 1) end
    assert.equals(1, #tg.texts(51))
    while rsi_by_hand(closes, j) < 70 do j = j + 1; close_at("BTCUSDT", j, closes[j - 1] + 1.5) end
    assert.equals(2, #tg.texts(51))
  end)

  it("on the forming candle, fires on RSI if it closed now", function()
    history("ETHUSDT", 300)
    assert(save{ chat_id = 52, symbols = { "ETHUSDT" }, threshold = 30, direction = "down",
                 trigger = "forming" })
    -- the forming candle 301 falls step by step: the alert comes at the first
    -- price whose if-closed-now RSI is at or below 30
    local price, fired_price = closes[300], nil
    for step = 1, 60 do
      price = price - 0.25
      local r = row(301, price, false)
      r.symbol, r.interval, r.event_time = "ETHUSDT", "5m", t0 + 300 * FIVE + step
      spec.candle(r)
      spec.advance(1)
      closes[301] = price
      local now = rsi_by_hand(closes, 301)
      if not fired_price and now <= 30 then fired_price = price end
      assert.equals(fired_price and 1 or 0, #tg.texts(52), "step " .. step)
    end
    assert.is_truthy(fired_price, "the test's prices never crossed 30")
    assert.is_truthy(tg.texts(52)[1]:find("crossed below <b>30</b>", 1, true))
  end)

  it("gives no value before warm-up, and the same value to /why's reads", function()
    history("SOLUSDT", 100)   -- RSI(14) needs 202 candles to converge
    local list = spec.call(function() return alerts.indicators("SOLUSDT", "5m") end)
    assert.equals("rsi(14)", list[1].name)
    assert.is_nil(list[1].values)
    assert.is_nil(spec.call(function() return alerts.evaluate("rsi", "SOLUSDT", "5m") end))
    history("SOLUSDT", 260)
    list = spec.call(function() return alerts.indicators("SOLUSDT", "5m") end)
    assert.is_true(math.abs(list[1].values[1] - rsi_by_hand(closes, 260)) < 1e-9)
    local r = row(261, closes[260] + 2, false)
    r.symbol, r.interval = "SOLUSDT", "5m"
    spec.candle(r)
    spec.advance(1)
    closes[261] = closes[260] + 2
    list = spec.call(function() return alerts.indicators("SOLUSDT", "5m") end)
    assert.is_true(math.abs(list[1].forming[1] - rsi_by_hand(closes, 261)) < 1e-9)
    local v = spec.call(function() return alerts.evaluate("rsi", "SOLUSDT", "5m") end)
    assert.is_true(math.abs(v - rsi_by_hand(closes, 261)) < 1e-9)
  end)

  it("refuses to read an indicator the rule did not declare, naming it", function()
    history("XRPUSDT", 30)
    spec.candle{ symbol = "XRPUSDT", interval = "5m", open_time = t0 + 30 * FIVE, open = 1,
                 close = 1 }
    local v, err = spec.call(function() return alerts.evaluate("sneaky", "XRPUSDT", "5m") end)
    assert.is_nil(v)
    assert.is_truthy(err:find("ema(50) is not in this rule's needs", 1, true), err)
  end)

  it("refuses a rule whose needs are not indicators, saying which", function()
    local cases = {
      { "needs = { rsi = 1.5 }", "whole number" },
      { "needs = { foo = 3 }", "unknown indicator \"foo\"" },
      { "needs = { \"macd(26,12,9)\" }", "fast period 26 must be below the slow period 12" },
      { "needs = 14", "needs must be a table" },
    }
    for _, c in ipairs(cases) do
      local ok, err = spec.use_scripts({ ["rules/bad.lua"] =
        "alerts.rule{ name = 'bad', " .. c[1] .. ", value = function() return 1 end }" })
      assert.is_falsy(ok)
      assert.is_truthy(tostring(err):find(c[2], 1, true), tostring(err))
    end
  end)
end)
