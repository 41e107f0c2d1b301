-- A level rule: how far the candle closes above (or below) the average
-- close of the 20 candles before it, in percent.  "up" presets fire when it
-- is at least their threshold (2: 2 % or more above the average), "down"
-- presets when it is at most theirs (-2: 2 % or more below), once a candle.
alerts.rule{
  name = "above_average",
  label = "Close vs 20-candle average",
  unit = "%",
  mode = "level",
  directions = { "up", "down" },
  threshold = { min = -50, max = 50, default = 2, decimals = 2,
                prompt = "Alert when a candle closes how many percent from its 20-candle average? "
                      .. "Send a number from -50 to 50, e.g. 2 (above) or -2 (below)." },
  history = 20,
  on = { "close" },
  value = function(candle, history)
    if #history < 20 then return nil end   -- not enough candles yet (a new pair, start-up)
    local sum = 0
    for i = 1, 20 do sum = sum + history[i].close end   -- history[1]: the candle before
    local average = sum / 20
    return (candle.close - average) / average * 100
  end,
}
