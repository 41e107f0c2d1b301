-- The older bot's RSI signal, on 6 h candles: RSI(14) at or below 29 is a
-- "long setup" when the 6 h trend is up (EMA 50 rising), at or above 71 a
-- "short setup" when it is down (EMA 50 falling); exits are usually taken
-- near 65 (long) and 35 (short).  Only symbols with enough history count:
-- until EMA 50 has converged (about 400 candles: 100 days) there is no
-- value.  Down (with level 29) is the long setup, up (with 71) the short
-- one; once per crossing into the zone.
local function setup(a)
  return a.direction == "down" and "long setup" or "short setup"
end

alerts.rule{
  name = "rsi_signal",
  label = "RSI signal",
  unit = "",
  mode = "cross",
  directions = { "up", "down" },
  threshold = { min = 1, max = 99, default = 29, decimals = 0,
                prompt = "Send 29 with direction down for long setups (RSI(14) at or below 29 in a rising 6h trend), or 71 with direction up for short setups (at or above 71 in a falling one)." },
  check = function(_, preset)
    for _, iv in ipairs(preset.intervals) do
      if iv ~= "6h" then return "The RSI signal runs on 6h candles: choose the 6h timeframe only." end
    end
  end,
  needs = { rsi = 14, ema = 50 },
  on = { "close" },
  value = function(candle, history, state, ind)
    if candle.interval ~= "6h" then return nil end
    local rsi, ema, ema_before = ind.rsi(14), ind.ema(50), ind.ema(50, 1)
    if not rsi or not ema or not ema_before then return nil end   -- not enough history
    -- a side the trend does not confirm reads as neutral, so that entering
    -- the zone with the trend is a crossing
    if rsi <= 50 and ema <= ema_before then return 50 end
    if rsi > 50 and ema >= ema_before then return 50 end
    return rsi
  end,
  format = function(a)
    local c = a.candle
    return bot.fmt("%s <b>%s</b> 6h RSI signal: %s — RSI(14) %.1f %s %s, 6h trend %s\n%s · vol %s USDT · %s",
                   a.direction == "down" and "🟢" or "🔴", a.symbol, setup(a), a.value,
                   a.direction == "down" and "≤" or "≥", string.format("%g", a.level),
                   a.direction == "down" and "up" or "down",
                   string.format("%." .. math.min(c.price_decimals or 8, 12) .. "f", c.close),
                   require("alertfmt").volume(c.quote_volume), table.concat(a.presets, ", ")),
           "⏱ <b>6h candles</b>"
  end,
}
