-- /start, /help and /cancel: the commands every chat needs.
-- (The core re-activates a chat that had blocked the bot when it sends
-- /start, before this handler runs.)

bot.command("start", "Start: register and see what the bot does", function(ctx)
  local key = tostring(ctx.user.id)
  local known = store.get("users", key)
  if not known then
    store.set("users", key, { chat = ctx.chat.id, username = ctx.user.username,
                              first_name = ctx.user.first_name, since = os.time() })
  end
  ctx:finish()
  if alerts.paused(ctx.chat.id) and not ctx:is_group_admin() then   -- (true in private chats)
    return ctx:reply("This group's alerts are paused; only its administrators can resume them.")
  end
  local held = alerts.resume(ctx.chat.id)   -- after /stop or /snooze: the digest follows
  if held then
    return ctx:reply(held > 0 and bot.fmt("Alerts resumed; a digest of the %d that fired meanwhile follows.", held)
                              or "Alerts resumed.")
  end
  local name = ctx.user.first_name or ctx.user.username or "there"
  local more = ""
  for _, c in ipairs(bot.commands()) do   -- (each when its section turns it on)
    if c.name == "gas" then
      more = more .. "\n/gas shows Ethereum's gas price and alerts you when it crosses your level."
    elseif c.name == "rate" then
      more = more .. "\n/rate works out an exchange: RUB or USDT to other currencies, with a margin."
    end
  end
  ctx:reply(bot.fmt("%s, %s! I watch crypto markets and tell you the moment a pair " ..
                    "moves the way you care about.%s\n\nSend /help to see the commands.",
                    known and "Welcome back" or "Hello", name, more))
end)

bot.command("help", "List the commands", function(ctx)
  local lines = { "<b>Commands</b>" }
  for _, c in ipairs(bot.commands()) do
    lines[#lines + 1] = bot.fmt("/%s - %s", c.name, c.description)
  end
  if bot.is_admin(ctx.user.id) then
    lines[#lines + 1] = "\n<b>For operators</b>\n/reload - reload the scripts\n" ..
      "/admin stats · /admin reload · /admin broadcast &lt;text&gt;"
  end
  ctx:reply(table.concat(lines, "\n"))
end)

bot.command("cancel", "Leave the current conversation", function(ctx)
  local had = ctx.state.step ~= nil
  ctx:finish()
  ctx:reply(had and "Cancelled. Nothing was changed." or "There is nothing to cancel.")
end)
