-- The shipped indicator rules through the real core (scripts/rules/*.lua,
-- as shipped), each firing exactly where a hand computation of its
-- indicator says: volume_spike, bb_break, atr_move, macd_cross, macd_zero,
-- rsi_signal.  (rsi: indicators_spec; ema_cross: params_spec.)
local function read(name) return assert(io.open(name)):read("a") end

-- ---- the indicators by hand (tests/spec/hand.lua), over candles {o, h, l, c, v} ----
local hand = dofile("tests/spec/hand.lua")
local mean, ema, atr = hand.mean, hand.ema, hand.atr

local function closes_of(bars)
  local out = {}
  for i, b in ipairs(bars) do out[i] = b.c end
  return out
end
local function macd(bars, k) return hand.macd(closes_of(bars), k) end
local function rsi(bars, k) return hand.rsi(closes_of(bars), k) end

-- ---- feeding the core ----

local tg, t0, step, sym
local updates = 0   -- (each update newer than the last: the store ignores a repeat)
local function candle(k, b, closed)
  updates = updates + 1
  spec.candle{ symbol = sym, interval = step.name, open_time = t0 + (k - 1) * step.ms, open = b.o,
               high = b.h, low = b.l, close = b.c, volume = b.v, quote_volume = 5e7,
               closed = closed, price_decimals = 2, event_time = t0 + (k - 1) * step.ms + updates }
  spec.advance(1)
end
local function history(bars, n)
  local rows = {}
  for k = 1, n do
    local b = bars[k]
    rows[k] = { open_time = t0 + (k - 1) * step.ms, open = b.o, high = b.h, low = b.l, close = b.c,
                volume = b.v, quote_volume = 5e7, price_decimals = 2 }
  end
  spec.history{ symbol = sym, interval = step.name, rows = rows }
end
local function save(chat, p)
  p.user_id, p.chat_id, p.name, p.pairs, p.symbols = chat, chat, "x", "manual", { sym }
  p.intervals = { step.name }
  local id, err = spec.call(function() return alerts.save(p) end)
  assert(id, err)
end
local function bar(o, c, v, spread)
  spread = spread or 1
  return { o = o, c = c, h = math.max(o, c) + spread, l = math.min(o, c) - spread, v = v or 100 }
end

local function setup(iv, ms, s)
  local files = { ["lib/alertfmt.lua"] = read("scripts/lib/alertfmt.lua") }
  for _, f in ipairs{ "move", "volume_spike", "bb_break", "atr_move", "macd_cross", "macd_zero",
                      "rsi_signal" } do
    files["rules/" .. f .. ".lua"] = read("scripts/rules/" .. f .. ".lua")
  end
  assert(spec.use_scripts(files))
  tg = spec.telegram()
  spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOTUSDT" }
  step, sym = { name = iv, ms = ms }, s
  t0 = (spec.now() // ms) * ms - 500 * ms   -- the history ends 500 candles ago at most
end

describe("shipped rules", function()
  it("volume_spike: the forming candle's volume reaches k x its 20-candle average", function()
    setup("5m", 300000, "BTCUSDT")
    t0 = (spec.now() // step.ms) * step.ms - 30 * step.ms
    local bars = {}
    for k = 1, 30 do bars[k] = bar(100, 100 + k % 3, 80 + (k % 5) * 10) end
    history(bars, 30)
    save(81, { rule = "volume_spike", threshold = 3, direction = "up", trigger = "forming" })
    local vols = {}
    for k = 11, 30 do vols[#vols + 1] = bars[k].v end
    local avg, fired_at = mean(vols, 1, 20), nil
    for v = 100, 500, 20 do
      candle(31, bar(100, 101, v), false)
      if not fired_at and v / avg >= 3 then fired_at = v end
      assert.equals(fired_at and 1 or 0, #tg.texts(81), "volume " .. v)
    end
    assert.is_truthy(fired_at)
    assert.is_truthy(tg.texts(81)[1]:find("Volume spike at or above <b>3×</b>", 1, true),
                     tg.texts(81)[1])
  end)

  it("bb_break: the close reaches the upper band (the bands as if it closed now)", function()
    setup("5m", 300000, "ETHUSDT")
    t0 = (spec.now() // step.ms) * step.ms - 40 * step.ms
    local bars = {}
    for k = 1, 40 do bars[k] = bar(100, 100 + math.sin(k) * 2) end
    history(bars, 40)
    save(82, { rule = "bb_break", threshold = 1, direction = "up", trigger = "forming" })
    local fired_at
    for c = 100, 110, 0.25 do
      candle(41, bar(100, c), false)
      local cl = closes_of(bars)
      cl[41] = c
      local m = mean(cl, 22, 41)
      local var = 0
      for i = 22, 41 do var = var + (cl[i] - m) ^ 2 end
      local upper = m + 2 * math.sqrt(var / 20)
      if not fired_at and (c - m) / (upper - m) >= 1 then fired_at = c end
      assert.equals(fired_at and 1 or 0, #tg.texts(82), "close " .. c)
    end
    assert.is_truthy(fired_at)
  end)

  it("atr_move: the candle moves k x the ATR(14) of the candles before it", function()
    setup("15m", 900000, "SOLUSDT")
    t0 = (spec.now() // step.ms) * step.ms - 260 * step.ms
    local bars = {}
    for k = 1, 260 do bars[k] = bar(100 + k % 4, 100 + (k + 1) % 4, 100, 0.5 + k % 3) end
    history(bars, 260)
    save(83, { rule = "atr_move", threshold = 2, direction = "down", trigger = "forming" })
    local a, fired_at = atr(bars, 260), nil
    for c = 100, 85, -0.5 do
      candle(261, bar(100, c), false)
      if not fired_at and (c - 100) / a <= -2 then fired_at = c end
      assert.equals(fired_at and 1 or 0, #tg.texts(83), "close " .. c)
    end
    assert.is_truthy(fired_at)
  end)

  it("macd_cross and macd_zero: MACD crosses its signal line, and zero, on the closes", function()
    setup("1h", 3600000, "XRPUSDT")
    t0 = (spec.now() // step.ms) * step.ms - 280 * step.ms   -- candle 281 forms now
    local bars = {}
    for k = 1, 340 do   -- falling, then rising from candle 290
      local c = k <= 290 and 300 - k * 0.5 + math.sin(k / 3) or 155 + (k - 290) * 1.5
      bars[k] = bar(k > 1 and bars[k - 1].c or c, c)
    end
    history(bars, 280)
    save(84, { rule = "macd_cross", threshold = 0, direction = "up", trigger = "close" })
    save(85, { rule = "macd_zero", threshold = 0, direction = "up", trigger = "close" })
    local want84, want85 = 0, 0
    for k = 281, 340 do
      candle(k, bars[k], true)
      local l0, s0 = macd(bars, k - 1)
      local l1, s1 = macd(bars, k)
      if (l0 - s0) / bars[k - 1].c < 0 and (l1 - s1) / bars[k].c >= 0 then want84 = want84 + 1 end
      if l0 / bars[k - 1].c < 0 and l1 / bars[k].c >= 0 then want85 = want85 + 1 end
      assert.equals(want84, #tg.texts(84), "macd_cross at " .. k)
      assert.equals(want85, #tg.texts(85), "macd_zero at " .. k)
    end
    assert.equals(1, want84)
    assert.equals(1, want85)
  end)

  it("rsi_signal: a long setup when 6h RSI dips to 29 in a rising 6h trend", function()
    setup("6h", 21600000, "ADAUSDT")
    spec.intervals{ "1h", "6h" }
    t0 = (spec.now() // step.ms) * step.ms - 430 * step.ms   -- candle 431 forms now
    local bars = {}
    -- a steep climb (EMA 50 far below the price), a flat stretch (RSI's
    -- average gain fades), then steady losses: RSI falls under 29 while
    -- EMA 50 still rises, for a few candles
    local c = {}
    for k = 1, 460 do
      c[k] = k <= 400 and 50 + 2 * k + 0.5 * math.sin(k) or k < 440 and c[400] + 0.2 * (k % 2)
             or c[439] - 1.5 * (k - 439)
      bars[k] = bar(c[k - 1] or c[k], c[k])
    end
    history(bars, 430)
    save(86, { rule = "rsi_signal", threshold = 29, direction = "down", trigger = "close" })
    local cl, want = closes_of(bars), 0
    local function value(k)
      local r, e1, e0 = rsi(bars, k), ema(cl, k, 50), ema(cl, k - 1, 50)
      if r <= 50 and e1 <= e0 then return 50 end
      if r > 50 and e1 >= e0 then return 50 end
      return r
    end
    for k = 431, 460 do
      candle(k, bars[k], true)
      if value(k - 1) > 29 and value(k) <= 29 then want = want + 1 end
      assert.equals(want, #tg.texts(86), "candle " .. k)
    end
    assert.equals(1, want)
    assert.is_truthy(tg.texts(86)[1]:find("long setup", 1, true), tg.texts(86)[1])
    -- another timeframe is refused with the rule's sentence
    local id, err = spec.call(function()
      return alerts.save{ user_id = 87, name = "y", rule = "rsi_signal", pairs = "top", top_n = 10,
                          intervals = { "1h" }, threshold = 29, direction = "down", trigger = "close" }
    end)
    assert.is_nil(id)
    assert.equals("The RSI signal runs on 6h candles: choose the 6h timeframe only.", err)
  end)
end)
