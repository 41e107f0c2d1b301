-- A cross rule: the close price itself.  An "up" preset with threshold
-- 65000 fires when a candle closes at or above 65000 after the previous
-- close was below it, and not again until the price has closed below and
-- crosses once more; "down" the other way round.
alerts.rule{
  name = "price_cross",
  label = "Price crosses a level",
  unit = "USDT",
  mode = "cross",
  directions = { "up", "down" },
  threshold = { min = 0, max = 10000000, default = 100, decimals = 8,
                prompt = "At which price? Send a number, e.g. 65000." },
  on = { "close" },
  value = function(candle)
    return candle.close
  end,
}
