-- MACD cross: the MACD line (EMA 12 - EMA 26 of the closes) against its
-- signal line (EMA 9 of the MACD line), as their gap in percent of the
-- price.  Up fires when MACD crosses above its signal line, down below;
-- once per crossing.  The periods are the preset's to choose.
alerts.rule{
  name = "macd_cross",
  label = "MACD − signal",
  unit = "%",
  mode = "cross",
  directions = { "up", "down" },
  threshold = { min = -5, max = 5, default = 0, decimals = 3,
                prompt = "Send 0 to be told when MACD crosses its signal line (up: above it, down: below), or a gap in percent of the price." },
  params = {
    { name = "fast", label = "MACD's fast period", min = 2, max = 200, default = 12 },
    { name = "slow", label = "MACD's slow period", min = 3, max = 400, default = 26 },
    { name = "signal", label = "MACD's signal period", min = 2, max = 200, default = 9 },
  },
  check = function(p)
    if p.fast >= p.slow then return "MACD's fast period must be below its slow one, e.g. 12 and 26." end
  end,
  needs = function(p) return { macd = { p.fast, p.slow, p.signal } } end,
  on = { "forming", "close" },
  value = function(candle, history, state, ind, p)
    local line, signal = ind.macd(p.fast, p.slow, p.signal)
    local close = candle.close
    if not line or close <= 0 then return nil end
    return (line - signal) / close * 100
  end,
}
