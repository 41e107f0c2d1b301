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
end)

bot.command("stop", "Pause all alerts until /start", function(ctx)
  alerts.pause(ctx.chat.id)
  ctx:reply("Alerts paused. What fires meanwhile is kept for one digest; send /start to resume.")
end)
