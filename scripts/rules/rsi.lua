-- RSI crosses a level: Wilder's RSI(14) of the closes, as the core keeps it
-- (warmed from the history; no value until it has converged).  "Up" fires
-- when RSI crosses above the level (70: overbought), "down" when it crosses
-- below (30: oversold); once per crossing, again only after crossing back.
-- On the forming candle the value is RSI if the candle closed now.
alerts.rule{
  name = "rsi",
  label = "RSI(14)",
  unit = "",
  mode = "cross",
  directions = { "up", "down" },
  threshold = { min = 1, max = 99, default = 70, decimals = 1,
                prompt = "At which RSI level? Send a number from 1 to 99: up alerts when RSI(14) crosses above it (70 is the usual overbought line), down when it crosses below (30: oversold)." },
  needs = { rsi = 14 },
  on = { "forming", "close" },
  value = function(candle, history, state, ind)
    return ind.rsi(14)
  end,
}
