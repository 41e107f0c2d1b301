-- The candle move measured in ATRs: (close - open) over the Average True
-- Range (14, Wilder) of the candles before it, so "2" means twice the
-- pair's usual range, whatever its volatility.  Up, down or both; once per
-- candle.
alerts.rule{
  name = "atr_move",
  label = "Move in ATRs",
  unit = "ATR",
  mode = "move",
  threshold = { min = 0.5, max = 20, default = 2, decimals = 1,
                prompt = "Alert when a candle moves by how many ATRs (its usual range)? Send a number from 0.5 to 20, e.g. 2." },
  needs = { atr = 14 },
  on = { "forming", "close" },
  value = function(candle, history, state, ind)
    local atr = ind.atr(14, 1)   -- the candles before this one
    if not atr or atr <= 0 then return nil end
    return (candle.close - candle.open) / atr
  end,
}
