-- MACD crosses zero: the MACD line (EMA 12 - EMA 26) in percent of the
-- price, against 0 (the fast EMA crossing the slow one) or another level.
alerts.rule{
  name = "macd_zero",
  label = "MACD line",
  unit = "%",
  mode = "cross",
  directions = { "up", "down" },
  threshold = { min = -10, max = 10, default = 0, decimals = 3,
                prompt = "Send 0 to be told when the MACD line crosses zero (up: above, down: below), or a level in percent of the price." },
  needs = { macd = { 12, 26, 9 } },
  on = { "forming", "close" },
  value = function(candle, history, state, ind)
    local line = ind.macd(12, 26, 9)
    local close = candle.close
    if not line or close <= 0 then return nil end
    return line / close * 100
  end,
}
