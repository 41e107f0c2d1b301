-- /stop and /snooze: hold alerts, then get one digest instead of a flood.
-- (/start resumes; see start.lua.)

-- "15m", "2h", "1h30m", "90" (minutes) -> seconds; nil when not a duration
local function duration(text)
  text = (text or ""):lower():gsub("%s", "")
  if text:match("^%d+$") then return tonumber(text) * 60 end
  local total, rest = 0, text
  for n, unit in text:gmatch("(%d+)([hm])") do
    total = total + tonumber(n) * (unit == "h" and 3600 or 60)
  end
  rest = text:gsub("%d+[hm]", "")
  if total == 0 or rest ~= "" then return nil end
  return total
end

bot.command("snooze", "Pause alerts for a while, e.g. /snooze 2h", function(ctx)
  local s = duration(ctx.args)
  if not s or s < 15 * 60 or s > 24 * 3600 then
    return ctx:reply("Snooze for 15m to 24h, for example <code>/snooze 2h</code> or <code>/snooze 45m</code>.")
  end
  alerts.pause(ctx.chat.id, s)
  ctx:reply(bot.fmt("Alerts paused until %s. What fires meanwhile comes as one digest then; /start resumes now.",
                    os.date("!%H:%M UTC", os.time() + s)))
end, { group_admin = true })

bot.command("stop", "Pause all alerts until /start", function(ctx)
  alerts.pause(ctx.chat.id)
  ctx:reply("Alerts paused. What fires meanwhile is kept for one digest; send /start to resume.")
end, { group_admin = true })

-- "23:00-07:00", "23-7" -> minutes; "UTC+2", "+5:30", "-3" -> minutes east of UTC
local function hhmm(s)
  local h, m = s:match("^(%d%d?):?(%d%d)$")
  if not h then h, m = s:match("^(%d%d?)$"), "0" end
  h, m = tonumber(h), tonumber(m)
  if not h or h > 23 or m > 59 then return nil end
  return h * 60 + m
end

-- (nil, why: a zone that reads as one but does not exist)
local function zone(s)
  local sign, h, m = s:upper():gsub("^UTC", ""):match("^([+-])(%d%d?):?(%d?%d?)$")
  if not sign then return nil end
  m = tonumber(m) or 0
  if m > 59 then return nil, "the minutes of a time zone are 00 to 59, like UTC+5:30" end
  local v = tonumber(h) * 60 + m
  v = sign == "-" and -v or v
  if v < -12 * 60 or v > 14 * 60 then return nil, "time zones go from UTC-12:00 to UTC+14:00" end
  return v
end

local function clock(min) return string.format("%02d:%02d", min // 60, min % 60) end
local function zone_text(tz)
  return string.format("UTC%s%d%s", tz < 0 and "-" or "+", math.abs(tz) // 60,
                       math.abs(tz) % 60 > 0 and string.format(":%02d", math.abs(tz) % 60) or "")
end

bot.command("quiet", "Daily quiet hours, e.g. /quiet 23:00-07:00 UTC+2", function(ctx)
  local chat = ctx.chat.id
  local args = (ctx.args or ""):gsub("^%s+", ""):gsub("%s+$", "")
  local current = alerts.quiet(chat)
  if args == "" then
    if current then
      return ctx:reply(bot.fmt("Quiet hours: %s-%s %s. <code>/quiet off</code> ends them.",
                               clock(current.from), clock(current.to), zone_text(current.tz)))
    end
    return ctx:reply("No quiet hours. Set them like <code>/quiet 23:00-07:00 UTC+2</code> (your time zone is remembered).")
  end
  if args:lower() == "off" then
    alerts.set_quiet(chat, 0, 0, current and current.tz or 0)
    return ctx:reply("Quiet hours are off.")
  end
  local span, tzs = args:match("^(%S+)%s+(%S+)$")   -- (disjoint: linear in a long word)
  if not span then span, tzs = args:match("^(%S+)$"), "" end
  local a, b = (span or ""):match("^([%d:]+)%-([%d:]+)$")
  local from, to = a and hhmm(a), b and hhmm(b)
  local tz, why = zone(tzs)
  if why then return ctx:reply(bot.fmt("Not set: %s.", why)) end
  if tzs == "" then tz = current and current.tz or 0 end
  if not from or not to or from == to or not tz then
    return ctx:reply("Send the hours like <code>/quiet 23:00-07:00 UTC+2</code>, or <code>/quiet off</code>.")
  end
  local ok, err = alerts.set_quiet(chat, from, to, tz)
  if not ok then return ctx:reply(bot.fmt("Not set: %s.", err)) end
  ctx:reply(bot.fmt("Quiet hours: %s-%s %s, every day. Alerts meanwhile come as one digest when they end.",
                    clock(from), clock(to), zone_text(tz)))
end, { group_admin = true })
