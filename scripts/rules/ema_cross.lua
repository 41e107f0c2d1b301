-- EMA cross: the fast EMA against the slow one, as the gap between them in
-- percent of the slow one.  Up fires when the fast EMA crosses above the
-- slow one (9/21 by default; 50/200 on daily candles is the "golden
-- cross"), down when it crosses below ("death cross"); once per crossing.
-- A level other than 0 alerts when the gap crosses that many percent.
local alertfmt = require("alertfmt")

alerts.rule{
  name = "ema_cross",
  label = "EMA cross",
  unit = "%",
  mode = "cross",
  directions = { "up", "down" },
  threshold = { min = -20, max = 20, default = 0, decimals = 2,
                prompt = "At which gap between the EMAs, in percent? Send 0 for the cross itself (up: the fast EMA crosses above the slow one; down: below), or e.g. 1 for the fast one 1% above." },
  params = {
    { name = "fast", label = "The fast EMA's period", min = 2, max = 500, default = 9,
      prompt = "The fast EMA's period, in candles? Send a whole number from 2 to 500, e.g. 9 (or 50 for a golden cross)." },
    { name = "slow", label = "The slow EMA's period", min = 3, max = 1000, default = 21,
      prompt = "The slow EMA's period? A whole number from 3 to 1000, above the fast one, e.g. 21 (or 200)." },
  },
  check = function(p)
    if p.fast >= p.slow then
      return "The fast EMA's period must be below the slow one's, e.g. 9 and 21."
    end
  end,
  needs = function(p)
    return { string.format("ema(%d)", p.fast), string.format("ema(%d)", p.slow) }
  end,
  on = { "forming", "close" },
  value = function(candle, history, state, ind, p)
    local fast, slow = ind.ema(p.fast), ind.ema(p.slow)
    if not fast or not slow or slow <= 0 then return nil end
    return (fast - slow) / slow * 100
  end,
  -- "🟡 BTCUSDT 4h EMA 9 crossed above EMA 21 at 64210.5" (at the level 0;
  -- another level reads as any cross rule's)
  format = function(a)
    local text, heading = alertfmt.format(a)
    local p = a.params
    if not p or a.level ~= 0 then return text, heading end
    local c = a.candle
    local first = bot.fmt("🟡 <b>%s</b> %s EMA %d crossed %s EMA %d at %s%s", a.symbol, a.interval,
                          p.fast, a.value >= 0 and "above" or "below", p.slow,
                          string.format("%." .. math.min(c.price_decimals or 8, 12) .. "f", c.close),
                          c.closed and " (closed)" or "")
    return first .. (text:match("\n.*$") or ""), heading
  end,
}
