-- Bollinger break: where the close stands against the Bollinger bands (20
-- candles, 2 standard deviations), in band widths from the middle: +1 is
-- the upper band, -1 the lower one.  Up fires when the close reaches the
-- preset's multiple above the middle (1: on or above the upper band), down
-- as far below; once per candle.  On the forming candle, the bands as if it
-- closed now.
alerts.rule{
  name = "bb_break",
  label = "Bollinger break",
  unit = "× band",
  mode = "move",
  threshold = { min = 0.5, max = 5, default = 1, decimals = 2,
                prompt = "How far outside the Bollinger bands (20, 2)? 1 means on or beyond a band, 1.5 half a band width further. Send a number from 0.5 to 5." },
  needs = { bb = { 20, 2 } },
  on = { "forming", "close" },
  value = function(candle, history, state, ind)
    local middle, upper = ind.bb(20, 2)
    if not middle or upper <= middle then return nil end   -- flat prices: no bands
    return (candle.close - middle) / (upper - middle)
  end,
}
