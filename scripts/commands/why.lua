-- /why SYMBOL [TF]: what the bot sees on a pair and timeframe right now,
-- from memory (no HTTP): the price and the candle's move, the indicators
-- the live rules read, each rule's value against its default level, and
-- how far each of the user's presets there is from firing.
local A = require("pair_args")
local P = require("presets")


-- Indicators as people name them; `dp` the decimals of a value (nil: the
-- pair's price decimals), `parts` the names of a multi-value one.
local IND = {
  rsi = { label = "RSI", dp = 2 },
  sma = { label = "SMA" },
  ema = { label = "EMA" },
  macd = { label = "MACD", parts = { "line", "signal", "histogram" } },
  bb = { label = "BB", parts = { "middle", "upper", "lower" } },
  atr = { label = "ATR" },
  stoch = { label = "Stoch", dp = 2, parts = { "%K", "%D" } },
  vol_avg = { label = "Vol avg", volume = true },
  vol_ratio = { label = "Vol ratio", dp = 2, parts = { "ratio", "average" } },
  roc = { label = "ROC", dp = 2, unit = "%" },
}

local function usage(watched)
  return bot.fmt("Send a pair and, if you like, a timeframe: <code>/why BTCUSDT 1h</code> " ..
                 "(1h when left out). Timeframes watched: %s.", A.list_text(watched))
end

local function price(v, dp) return string.format("%." .. math.min(dp or 8, 12) .. "f", v) end

local function volume(v)
  if v >= 1e9 then return string.format("%.2fB", v / 1e9) end
  if v >= 1e6 then return string.format("%.2fM", v / 1e6) end
  if v >= 1e3 then return string.format("%.1fK", v / 1e3) end
  return string.format("%.0f", v)
end

-- One indicator's values: "61.02", "line 12.3, signal 10.1, histogram 2.2"
local function ind_values(kind, values, dp)
  local k = IND[kind] or {}
  local out = {}
  for i, v in ipairs(values) do
    local s
    if k.volume or (kind == "vol_ratio" and i == 2) then s = volume(v)
    else s = price(v, k.dp or dp) .. (k.unit or "") end
    if kind == "vol_ratio" and i == 1 then s = s .. "×" end
    out[#out + 1] = k.parts and (k.parts[i] .. " " .. s) or s
  end
  return table.concat(out, ", ")
end

-- "rsi(14)" -> "RSI(14)"
local function ind_name(ind)
  local k = IND[ind.kind]
  return k and (ind.name:gsub("^[%w_]+", k.label, 1)) or ind.name
end

-- The lines, and whether one of the indicators has no value yet.
local function indicator_lines(symbol, interval, dp, forming)
  local list = alerts.indicators(symbol, interval)
  if #list == 0 then return {}, false end
  local warming = false
  local lines = { forming and "<b>Indicators</b> (after the last close → if this candle closed now)"
                           or "<b>Indicators</b> (after the last close)" }
  for _, ind in ipairs(list) do
    local text
    warming = warming or not ind.values or (forming and not ind.forming)
    if not ind.values and not ind.forming then
      text = "warming up"
    else
      text = ind.values and ind_values(ind.kind, ind.values, dp) or "warming up"
      if ind.forming then text = text .. " → " .. ind_values(ind.kind, ind.forming, dp) end
    end
    lines[#lines + 1] = bot.fmt("%s: %s", ind_name(ind), text)
  end
  return lines, warming
end

-- A rule's value in its unit: "+0.84%", "64.24" (one decimal more than its thresholds)
local function value_text(v, rule, signed)
  local s
  if P.classic(rule) then
    s = string.format("%.2f%%", v)
  else
    s = string.format("%." .. math.min(rule.threshold.decimals + 1, 8) .. "f", v)
    local unit = rule.unit or ""
    if unit ~= "" then
      s = s .. ((utf8.len(unit) == 1 and not unit:find("%w")) and unit or " " .. unit)
    end
  end
  if signed and v >= 0 then s = "+" .. s end
  return s
end

-- Whether a value v meets threshold t in direction d now (for a cross: is
-- beyond the level), and how far it has to go when it does not.
local function gap(rule, d, v, t)
  if rule.mode == "move" then
    if d == "up" then return v >= t, t - v end
    if d == "down" then return v <= -t, v + t end
    return math.abs(v) >= t, t - math.abs(v)
  end
  if d == "up" then return v >= t, t - v end
  if d == "down" then return v <= t, v - t end
  if rule.mode == "level" then return true, 0 end   -- at or above, or at or below: always one
  return false, math.abs(v - t)                     -- a cross either way: from whichever side
end

-- "crosses above 70", "up or down 2.50%"
local function condition(rule, d, t)
  local words = (P.DIRECTIONS[rule.mode] or P.DIRECTIONS.move)[d] or d
  return words:lower() .. " " .. P.amount(t, rule)
end

-- The rule's value now (at the last close when no candle is forming), or
-- nil and why not: its indicators warming up, or the rule failing (the
-- operators' log has its error; the user gets no internals).
local function evaluate(rule, symbol, interval, warming)
  local ok, v, err = pcall(alerts.evaluate, rule.name, symbol, interval)
  if ok and v then return v end
  if not ok or err then return nil, "no value: the rule failed" end
  return nil, warming and "no value yet (warming up)" or "no value now"
end

-- "RSI(14) 64.24 · default crosses above 70: not now, 5.76 to go"
local function rule_lines(rules, now, forming)
  local lines = { forming and "<b>Rules</b> (each one's value on this candle now, against its default level)"
                           or "<b>Rules</b> (each one's value at the last close, against its default level)" }
  for _, rule in ipairs(rules) do
    local dirs = {}
    for _, d in ipairs(rule.directions) do dirs[d] = true end
    local d = dirs.both and "both" or rule.directions[1]
    local t = rule.threshold.default
    local v = now[rule.name].value
    local shown_v, verdict = "", now[rule.name].why
    if v then
      shown_v = " " .. value_text(v, rule, rule.mode == "move")
      local met, left = gap(rule, d, v, t)
      if met then   -- (a cross fires as the value passes the level, not while it stays beyond)
        verdict = rule.mode == "cross" and "beyond it now; it fires as the value passes the level"
                  or "would fire now"
      else
        verdict = "not now, " .. value_text(left, rule) .. " to go"
      end
    end
    lines[#lines + 1] = bot.fmt("%s%s · default %s: %s", rule.label, shown_v, condition(rule, d, t), verdict)
  end
  return lines
end

-- Whether preset p watches symbol on interval (tops: candles.top lists by n).
local function watches(p, symbol, interval, tops)
  local on = false
  for _, iv in ipairs(p.intervals or {}) do on = on or iv == interval end
  if not on then return false end
  local list = p.symbols or {}
  if p.pairs == "top" then   -- (each venue's own top N)
    local key = (p.venue or "binance") .. ":" .. p.top_n
    tops[key] = tops[key] or candles.top(p.top_n, p.venue)
    list = tops[key]
  end
  for _, s in ipairs(list) do
    if s == symbol then return true end
  end
  return false
end

-- "Mine (crosses above 70, as it happens): RSI(14) 64.24 — 5.76 from your 70"
local function preset_line(p, now, by_name)
  local rule = by_name[p.rule or "move"]
  local name = (p.active == false and "⏸ " or "") .. p.name
  if not rule then
    return bot.fmt('<b>%s</b>: rule "%s", which is gone', name, p.rule or "?")
  end
  local cond = condition(rule, p.direction, p.threshold) ..
               (p.trigger == "close" and ", at the close" or ", as it happens") ..
               ((p.min_volume or 0) > 0 and ", 24 h volume ≥ " .. P.volume_text(p.min_volume) or "")
  local v = now[rule.name] and now[rule.name].value
  if not v then
    return bot.fmt("<b>%s</b> (%s): %s", name, cond, now[rule.name] and now[rule.name].why or "no value now")
  end
  local met, left = gap(rule, p.direction, v, p.threshold)
  local level = P.amount(p.threshold, rule)
  local far = met and "already beyond your " .. level
              or value_text(left, rule) .. " from your " .. level
  return bot.fmt("<b>%s</b> (%s): %s %s — %s", name, cond, rule.label,
                 value_text(v, rule, rule.mode == "move"), far)
end

local function preset_lines(user, symbol, interval, now, rules)
  local lines, tops, by_name = { "<b>Your presets here</b>" }, {}, {}
  for _, r in ipairs(rules) do by_name[r.name] = r end
  for _, p in ipairs(alerts.presets(user)) do
    if watches(p, symbol, interval, tops) then lines[#lines + 1] = preset_line(p, now, by_name) end
  end
  if #lines == 1 then return { "You have no preset on this pair and timeframe (/preset makes one)." } end
  return lines
end

-- The price line: the forming candle's, or the last close when none is forming.
local function price_line(symbol, interval, forming, last)
  if forming then
    local move = forming.open > 0 and (forming.close - forming.open) / forming.open * 100 or 0
    return bot.fmt("<b>%s %s</b> %s · %s%.2f%% since the %s open", symbol, interval,
                   price(forming.close, forming.price_decimals), move >= 0 and "+" or "", move,
                   os.date("!%H:%M UTC", forming.open_time // 1000))
  end
  if last then
    local move = last.open > 0 and (last.close - last.open) / last.open * 100 or 0
    return bot.fmt("<b>%s %s</b> %s, the close of the %s candle (%s%.2f%%); no candle is forming now",
                   symbol, interval, price(last.close, last.price_decimals),
                   os.date("!%H:%M UTC", last.open_time // 1000), move >= 0 and "+" or "", move)
  end
end

-- Telegram takes 4096 characters; what does not fit is cut with a note.
local function join(lines)
  local out, len = {}, 0
  for i, l in ipairs(lines) do
    local n = utf8.len(l) or #l
    if len + n > 3900 then
      out[#out + 1] = bot.fmt("… and %d lines more", #lines - i + 1)
      break
    end
    out[#out + 1] = l
    len = len + n + 1
  end
  return table.concat(out, "\n")
end

bot.command("why", "What a pair's indicators and your presets stand at, e.g. /why BTCUSDT 1h", function(ctx)
  local watched = alerts.limits().intervals
  local args = A.split(ctx.args)   -- ("/why 4h eth": the timeframe first reads as well)
  if not args then return ctx:reply(usage(watched)) end
  local symbol, interval = A.parse(args, "why", { near = false })
  if not symbol then return ctx:reply(interval) end
  local forming = candles.forming(symbol, interval)
  local last = candles.last(symbol, interval)[1]
  local head = price_line(symbol, interval, forming, last)
  if not head then
    return ctx:reply(bot.fmt("No %s candle of %s yet: the feed has not brought one. Try again in a moment.",
                             interval, symbol))
  end
  local dp = (forming or last).price_decimals
  local inds, warming = indicator_lines(symbol, interval, dp, forming)
  local rules = alerts.rules()
  local now = {}
  for _, rule in ipairs(rules) do
    local v, why_not = evaluate(rule, symbol, interval, warming)
    now[rule.name] = { value = v, why = why_not }
  end
  local lines = { head, "" }
  for _, l in ipairs(inds) do lines[#lines + 1] = l end
  if #inds > 0 then lines[#lines + 1] = "" end
  for _, l in ipairs(rule_lines(rules, now, forming)) do lines[#lines + 1] = l end
  lines[#lines + 1] = ""
  for _, l in ipairs(preset_lines(ctx.user.id, symbol, interval, now, rules)) do lines[#lines + 1] = l end
  ctx:reply(join(lines))
end)
