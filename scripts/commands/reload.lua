-- /reload: operators (config admins) reload every script without a restart.
bot.command("reload", "Reload the scripts", function(ctx)
  host.reload()
  ctx:reply("Reloading the scripts. A broken edit keeps the current ones serving; " ..
            "/health shows the outcome.")
end, { admin = true })
