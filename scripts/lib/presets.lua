-- Presets as users read them: one-line and detailed descriptions, and the
-- parsing of what users type in the /preset flow.
local presets = {}

local dir_words = { both = "up or down", up = "up", down = "down" }

function presets.pairs_text(p)
  if p.pairs == "top" then return "top " .. p.top_n .. " by volume" end
  local s = p.symbols or {}
  if #s <= 4 then return table.concat(s, ", ") end
  return table.concat({ s[1], s[2], s[3] }, ", ") .. " and " .. (#s - 3) .. " more"
end

-- "Majors: top 100 by volume, 5m 15m, ±2.50% as it happens" (HTML, escaped)
function presets.line(p)
  return bot.fmt("%s%s: %s, %s, %s %.2f%% %s", p.active == false and "⏸ " or "", p.name,
    presets.pairs_text(p), table.concat(p.intervals or {}, " "), dir_words[p.direction] or "?",
    p.threshold or 0, p.trigger == "close" and "at the close" or "as it happens")
end

function presets.details(p, stats)
  local lines = {
    bot.fmt("<b>%s</b>%s", p.name, p.active == false and " (paused)" or ""),
    bot.fmt("Pairs: %s", presets.pairs_text(p)),
    bot.fmt("Timeframes: %s", table.concat(p.intervals or {}, ", ")),
    bot.fmt("Alert when a candle moves %s by %.2f%% or more, %s", dir_words[p.direction] or "?",
            p.threshold or 0, p.trigger == "close" and "once it has closed" or "as soon as it crosses"),
  }
  if p.min_volume and p.min_volume > 0 then
    lines[#lines + 1] = bot.fmt("Only pairs with a 24 h volume of %s USDT or more", p.min_volume)
  end
  if stats then
    lines[#lines + 1] = bot.fmt("Alerts: %d today, %d in 7 days%s", stats.today, stats.week,
      stats.last and (", last " .. os.date("!%Y-%m-%d %H:%M UTC", stats.last // 1000)) or "")
  end
  return table.concat(lines, "\n")
end

-- "2.5", "2,5 %", "+3" -> 2.5, 2.5, 3; nil, why for anything else: plain
-- decimals only (tonumber would take 0x10, 1e3, inf)
function presets.parse_threshold(text)
  local s = text:gsub("%s", ""):gsub(",", "."):gsub("%%$", ""):gsub("^%+", "")
  local _, points = s:gsub("%.", "")
  local v = not s:find("[^%d.]") and points <= 1 and tonumber(s)
  if not v then return nil, "Send the percent as a plain number, like 2.5 (digits and one decimal point)." end
  if v < 0.1 or v > 100 then return nil, "The threshold is from 0.1 to 100 percent." end
  return math.floor(v * 100 + 0.5) / 100
end

-- "btcusdt, ETH SOLUSDT" -> {"BTCUSDT", "ETHUSDT", "SOLUSDT"} (a bare base
-- gets USDT); nil, why when empty or too many
function presets.parse_symbols(text, max)
  local out, seen = {}, {}
  for word in text:upper():gmatch("[%w_]+") do
    if not word:match("USDT$") and not word:match("USD_") then word = word .. "USDT" end
    if not seen[word] then
      seen[word] = true
      out[#out + 1] = word
    end
  end
  if #out == 0 then return nil, "Send pair names, like BTCUSDT ETHUSDT." end
  if #out > max then return nil, "A list has at most " .. max .. " pairs; you sent " .. #out .. "." end
  return out
end

return presets
