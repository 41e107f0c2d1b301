-- How an alert reads in Telegram (HTML).  One block per alert; a chat's
-- waiting alerts are merged into one message, grouped by timeframe (the
-- second value returned is the group's heading), bigger moves first.
local alertfmt = {}

-- A price with the exchange's own number of decimals.
local function price(v, decimals)
  return string.format("%." .. math.min(decimals or 8, 12) .. "f", v)
end

-- 1234567 -> "1.23M": quote volume at a glance.
function alertfmt.volume(v)
  if v >= 1e9 then return string.format("%.2fB", v / 1e9) end
  if v >= 1e6 then return string.format("%.2fM", v / 1e6) end
  if v >= 1e3 then return string.format("%.1fK", v / 1e3) end
  return string.format("%.0f", v)
end

function alertfmt.format(a)
  local c = a.candle
  local up = a.move >= 0
  return bot.fmt('%s <b>%s</b> %s <b>%s%.2f%%</b>%s\n%s → %s · vol %s USDT\n%s · <a href="%s">chart</a>',
    up and "🟢" or "🔴", a.symbol, a.interval, up and "+" or "", a.move, c.closed and " (closed)" or "",
    price(c.open, c.price_decimals), price(c.close, c.price_decimals), alertfmt.volume(c.quote_volume),
    table.concat(a.presets, ", "), "https://www.binance.com/en/futures/" .. a.symbol),
    "⏱ <b>" .. a.interval .. " candles</b>"
end

return alertfmt
