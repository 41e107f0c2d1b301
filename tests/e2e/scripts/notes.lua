-- For the fault tests: /note X appends X to the user's notes and says
-- "saved X" (a handler's writes are committed when it returns, before its
-- reply goes); /notes lists them; /mypresets lists the user's presets by
-- name.  Copied in by lib.bash's use_notes.
bot.command("note", "keeps a note", function(ctx)
  local notes = store.get("notes", tostring(ctx.user.id)) or {}
  notes[#notes + 1] = ctx.args
  store.set("notes", tostring(ctx.user.id), notes)
  ctx:reply("saved " .. ctx.args)
end)
bot.command("notes", "lists the notes", function(ctx)
  local notes = store.get("notes", tostring(ctx.user.id)) or {}
  ctx:reply("notes: " .. table.concat(notes, " "))
end)
bot.command("mypresets", "lists the names of the user's presets", function(ctx)
  local names = {}
  for _, p in ipairs(alerts.presets(ctx.user.id)) do names[#names + 1] = p.name end
  ctx:reply("presets: " .. table.concat(names, " "))
end)
