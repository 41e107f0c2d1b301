-- How an alert reads in Telegram (HTML), in the words and unit of its
-- rule.  One block per alert; a chat's waiting alerts are merged into one
-- message, grouped by timeframe (the second value returned is the group's
-- heading), bigger moves first.
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

-- 71.43 -> "71.43", 70 -> "70": at most `decimals` places, never an exponent.
local function num(v, decimals)
  local s = string.format("%." .. math.max(0, math.min(decimals, 8)) .. "f", v)
  if s:find("%.") then s = s:gsub("0+$", ""):gsub("%.$", "") end
  return s == "-0" and "0" or s
end

-- A number with the rule's unit: "70", "3.2×", "30 gwei".
local function amount(v, unit, decimals)
  local s = num(v, decimals)
  if not unit or unit == "" then return s end
  if utf8.len(unit) == 1 and not unit:find("%w") then return s .. unit end
  return s .. " " .. unit
end

local WORDS = { level = { up = "at or above", down = "at or below" },
                cross = { up = "crossed above", down = "crossed below" } }

-- The first line in the rule's words: "🟣 ETHUSDT 1h RSI(14) crossed above
-- 70 → 71.4", "... at or above 70 → 71.4", "🟢 BTCUSDT 5m Volume +3.2×".
local function rule_line(a, closed)
  local d = a.decimals or 2   -- the threshold's decimals (the value gets one more)
  local words = WORDS[a.mode]
  if not words then   -- another move: signed, in its unit
    local up = a.value >= 0
    return bot.fmt("%s <b>%s</b> %s %s <b>%s%s</b>%s", up and "🟢" or "🔴", a.symbol, a.interval,
                   a.label or a.rule or "", up and "+" or "", amount(a.value, a.unit, d + 1), closed)
  end
  -- (which side the value is on says it best; exactly on the level, the match's direction)
  local dir = a.value > a.level and "up" or a.value < a.level and "down" or a.direction
  return bot.fmt("🟣 <b>%s</b> %s %s %s <b>%s</b> → %s%s", a.symbol, a.interval, a.label or a.rule or "",
                 words[dir] or words.up, amount(a.level, a.unit, d), amount(a.value, a.unit, d + 1), closed)
end

-- Binance spot's quote assets, longest first (its trade page wants
-- BASE_QUOTE, and a pair's name does not say where the base ends).
local SPOT_QUOTES = { "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "DAI", "BTC", "ETH", "BNB",
                      "EUR", "TRY", "BRL", "JPY", "MXN", "PLN", "RON", "ARS", "ZAR", "UAH",
                      "IDR", "COP", "CZK", "XRP", "SOL", "DOGE", "TRX" }

-- "ETHBTC" -> "ETH", "BTC"; nil when no known quote ends the name.
local function split_pair(name)
  for _, q in ipairs(SPOT_QUOTES) do
    if #name > #q and name:sub(-#q) == q then return name:sub(1, -#q - 1), q end
  end
end

local function spot_pair(name)
  local base, quote = split_pair(name)
  return base and (base .. "_" .. quote) or name
end

-- The asset a pair's quote volume is counted in: its quote ("BTC" for
-- spot:ETHBTC), USDT when its name does not say.
function alertfmt.quote_asset(symbol)
  local _, quote = split_pair(symbol:match(":(.+)$") or symbol)
  return quote or "USDT"
end

-- The page of a pair on its own exchange, by its venue: Binance futures'
-- for BTCUSDT, Binance spot's trade page for spot:BTCUSDT, Bybit's USDT
-- perpetual one for bybit:BTCUSDT.  Every link to an exchange is made here.
function alertfmt.chart_url(symbol)
  local venue, name = symbol:match("^(%a+):(.+)$")
  venue, name = venue and venue:lower() or "binance", name or symbol
  if venue == "bybit" then return "https://www.bybit.com/trade/usdt/" .. name end
  if venue == "spot" then return "https://www.binance.com/en/trade/" .. spot_pair(name) .. "?type=spot" end
  return "https://www.binance.com/en/futures/" .. name
end

-- One alert.  Today's percent move reads as it always has; other rules in
-- their own words and unit (alert.label, unit, mode, level, value).
function alertfmt.format(a)
  local c = a.candle
  local closed = c.closed and " (closed)" or ""
  local head
  if (a.mode or "move") == "move" and (a.unit or "%") == "%" then
    local up = a.move >= 0
    head = bot.fmt("%s <b>%s</b> %s <b>%s%.2f%%</b>%s", up and "🟢" or "🔴", a.symbol, a.interval,
                   up and "+" or "", a.move, closed)
  else
    head = rule_line(a, closed)
  end
  return head .. bot.fmt('\n%s → %s · vol %s %s\n%s · <a href="%s">chart</a>',
    price(c.open, c.price_decimals), price(c.close, c.price_decimals), alertfmt.volume(c.quote_volume),
    alertfmt.quote_asset(a.symbol),
    table.concat(a.presets, ", "), alertfmt.chart_url(a.symbol)),
    "⏱ <b>" .. a.interval .. " candles</b>"
end

return alertfmt
