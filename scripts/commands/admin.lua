-- /admin: the operators' commands (config admins only; not in the menu).
--   /admin stats              users, presets, alerts, queue, health, memory
--   /admin reload             reload every script
--   /admin broadcast <text>   a message to every chat with a preset, after a
--                             confirmation; sent through the scheduler
local HELP = "/admin stats · /admin reload · /admin broadcast &lt;text&gt;"

local function stats_text()
  local s = host.stats()
  local function n(v) return string.format("%d", v) end
  return bot.fmt("<b>candlewatch</b> · up %s\n" ..
    "users with presets: %s · presets: %s · subscriptions: %s\n" ..
    "alerts today: %s (since start: %s)\n" ..
    "queue: %s (oldest %s s)\n" ..
    "market data: %s · Telegram: %s\n" ..
    "memory: %s MB (Lua %s KB)",
    string.format("%.1f h", s.uptime_s / 3600), n(s.users), n(s.presets), n(s.subscriptions),
    n(s.alerts_today), n(s.alerts_since_start), n(s.queue), string.format("%.0f", s.queue_oldest_s),
    s.feed, s.telegram, string.format("%.0f", s.memory_mb), string.format("%.0f", s.lua_kb))
end

bot.command("admin", "Operator commands", function(ctx)
  local sub, rest = (ctx.args or ""):match("^%s*(%S*)%s*(.-)%s*$")
  if sub == "stats" then
    return ctx:reply(stats_text())
  elseif sub == "reload" then
    host.reload()
    return ctx:reply("Reloading the scripts. A broken edit keeps the current ones serving; " ..
                     "/health shows the outcome.")
  elseif sub == "broadcast" then
    if rest == "" then
      return ctx:reply("Write the message after the command: /admin broadcast &lt;text&gt;")
    end
    local chats = #alerts.chats()
    ctx:go("admin.broadcast", { text = rest })
    return ctx:reply(bot.fmt("Send this to %d chats?\n\n%s", chats, rest),
      { keyboard = bot.keyboard{ { { "Send", "admin:send" }, { "Cancel", "admin:cancel" } } } })
  end
  return ctx:reply(HELP)
end, { admin = true })

-- text while a broadcast waits for its confirmation
bot.step("admin.broadcast", function(ctx)
  ctx:reply("Press Send or Cancel above (or /cancel).")
end)

bot.callback("admin", function(ctx, rest)
  if not ctx.chat then return ctx:answer("Use /admin in the chat with the bot.") end   -- (an inline message)
  if not bot.is_admin(ctx.user.id) then
    return ctx:answer("Only the bot's operators can do this.", { alert = true })
  end
  local text = (ctx.state.data or {}).text
  ctx:finish()
  if rest ~= "send" or not text then
    return ctx:edit("Cancelled. Nothing was sent.")
  end
  local queued, skipped = 0, 0
  for _, chat in ipairs(alerts.chats()) do
    if bot.send(chat, text) then queued = queued + 1 else skipped = skipped + 1 end
  end
  return ctx:edit(bot.fmt("Queued for %d chats%s.", queued,
    skipped > 0 and string.format(" (%d skipped: they blocked the bot)", skipped) or ""))
end)
