-- Volume spike: the candle's volume against the average of the 20 candles
-- before it (a ratio: 3 means three times the usual volume).  Fires once per
-- candle when the ratio reaches the preset's k; on the forming candle as soon
-- as its volume so far gets there.
alerts.rule{
  name = "volume_spike",
  label = "Volume spike",
  unit = "×",
  mode = "level",
  directions = { "up" },
  threshold = { min = 1.5, max = 100, default = 3, decimals = 1,
                prompt = "Alert when a candle's volume reaches how many times its 20-candle average? Send a number from 1.5 to 100, e.g. 3." },
  needs = { vol_ratio = 20 },
  on = { "forming", "close" },
  value = function(candle, history, state, ind)
    return ind.vol_ratio(20)   -- (its second value, the average itself, is not needed)
  end,
}
