-- The candle's range: how far apart its high and low are, in percent of
-- its open (docs/scripting.md).  A preset with rule = "range" compares it
-- with its threshold.
alerts.rule{
  name = "range",
  on = { "close" },
  value = function(candle)
    local open = candle.open   -- each field read is a call into the core
    if open <= 0 then return nil end
    return (candle.high - candle.low) / open * 100
  end,
}
