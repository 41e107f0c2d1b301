-- The candle move: how far the candle has gone from its open, in percent.
-- Presets compare it with their threshold (up, down or both), on every
-- update of the forming candle or only when it closes.
alerts.rule{
  name = "move",
  on = { "forming", "close" },
  value = function(candle)
    if not candle.open or candle.open <= 0 then return nil end   -- no move without an open
    return (candle.close - candle.open) / candle.open * 100
  end,
}
