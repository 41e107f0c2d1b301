-- The candle move: how far the candle has gone from its open, in percent.
-- Presets compare it with their threshold (up, down or both), on every
-- update of the forming candle or only when it closes.
alerts.rule{
  name = "move",
  label = "Candle move",
  unit = "%",
  mode = "move",
  threshold = { min = 0.1, max = 100, default = 2.5, decimals = 2,
                prompt = "Alert when a candle moves by how many percent? Send a number from 0.1 to 100, e.g. 2.5." },
  on = { "forming", "close" },
  value = function(candle)
    local open = candle.open           -- each field read is a call into the core: read once
    if not open or open <= 0 then return nil end   -- no move without an open
    return (candle.close - open) / open * 100
  end,
}
