-- Indicators by hand, for the specs: plain Lua from the indicators'
-- definitions (the ones docs/scripting.md and core/indicator/indicator.h
-- state), written apart from core/indicator, over a list of closes (or of
-- candles {o, h, l, c, v} for ATR).  `local hand = dofile("tests/spec/hand.lua")`.
local hand = {}

function hand.mean(xs, from, to)
  local s = 0
  for i = from, to do s = s + xs[i] end
  return s / (to - from + 1)
end

-- EMA(n) of xs[first..k], seeded with the mean of its first n values
-- (first: 1 by default); nil before that
function hand.ema(xs, k, n, first)
  first = first or 1
  if k - first + 1 < n then return nil end
  local v = hand.mean(xs, first, first + n - 1)
  local a = 2 / (n + 1)
  for i = first + n, k do v = a * xs[i] + (1 - a) * v end
  return v
end

-- Wilder's RSI(n) over closes[1..k] (nil before n + 1 closes): seeded with
-- the mean of the first n gains and losses; 100 with no loss, 50 flat
function hand.rsi(closes, k, n)
  n = n or 14
  if k < n + 1 then return nil end
  local gain, loss = 0, 0
  for i = 2, n + 1 do
    local d = closes[i] - closes[i - 1]
    if d > 0 then gain = gain + d else loss = loss - d end
  end
  gain, loss = gain / n, loss / n
  for i = n + 2, k do
    local d = closes[i] - closes[i - 1]
    gain = (gain * (n - 1) + math.max(d, 0)) / n
    loss = (loss * (n - 1) + math.max(-d, 0)) / n
  end
  if loss == 0 then return gain == 0 and 50 or 100 end
  return 100 - 100 / (1 + gain / loss)
end

-- MACD(12, 26, 9) after closes[k]: the line and its signal
function hand.macd(closes, k)
  local line = {}
  for i = 26, k do line[i] = hand.ema(closes, i, 12) - hand.ema(closes, i, 26) end
  return line[k], hand.ema(line, k, 9, 26)
end

-- Wilder's ATR(n) after bar k: the first true range is high - low
function hand.atr(bars, k, n)
  n = n or 14
  local tr = {}
  for i = 1, k do
    local b, p = bars[i], bars[i - 1]
    tr[i] = p and math.max(b.h - b.l, math.abs(b.h - p.c), math.abs(b.l - p.c)) or b.h - b.l
  end
  local v = hand.mean(tr, 1, n)
  for i = n + 1, k do v = (v * (n - 1) + tr[i]) / n end
  return v
end

return hand
