-- /preset: create, list, show, edit, pause and delete alert presets.
-- A new preset is asked for step by step: name -> pairs -> timeframes ->
-- threshold -> direction -> trigger -> confirm.  Every step checks what
-- was typed, says what is wrong, and has a way back; /cancel leaves.  The
-- draft lives in the chat's state, so a restart or reload mid-way loses
-- nothing.
local P = require("presets")

local ORDER = { "name", "pairs", "timeframes", "threshold", "direction", "trigger", "confirm" }
local TEXT_STEPS = { name = true, topn = true, symbols = true, threshold = true }

local function data(ctx) return ctx.state.data or {} end

local function back_row(step)
  return { { "« Back", "preset:back:" .. step }, { "Cancel", "preset:cancel" } }
end

-- Shows the message: an edit after a button press, a new message after text.
local function show(ctx, text, keyboard)
  local opts = keyboard and { keyboard = bot.keyboard(keyboard) } or nil
  if ctx.data then return ctx:edit(text, opts) end
  return ctx:reply(text, opts)
end

local ask = {}

function ask.name(ctx)
  ctx:go("preset.name", data(ctx))
  show(ctx, "Name the preset (1-64 characters), e.g. <i>Majors 3%</i>.", { back_row("name") })
end

function ask.pairs(ctx)
  ctx:go("preset.wait", data(ctx))
  show(ctx, "Which pairs?", {
    { { "Top 100 by volume", "preset:pairs:top100" } },
    { { "Top N by volume…", "preset:pairs:topn" }, { "My own list…", "preset:pairs:list" } },
    back_row("pairs"),
  })
end

function ask.topn(ctx)
  ctx:go("preset.topn", data(ctx))
  show(ctx, "How many of the biggest pairs by 24 h volume? Send a number from 1 to 1000.",
       { back_row("topn") })
end

function ask.symbols(ctx)
  ctx:go("preset.symbols", data(ctx))
  show(ctx, bot.fmt("Send up to %d pairs, separated by spaces or commas, e.g. <code>BTCUSDT ETH SOL</code>.",
                    alerts.limits().pairs_per_preset), { back_row("symbols") })
end

function ask.timeframes(ctx)
  local d = data(ctx)
  d.draft.intervals = d.draft.intervals or {}
  ctx:go("preset.wait", d)
  local chosen, row, rows = {}, {}, {}
  for _, iv in ipairs(d.draft.intervals) do chosen[iv] = true end
  for _, iv in ipairs(alerts.limits().intervals) do
    row[#row + 1] = { (chosen[iv] and "✅ " or "") .. iv, "preset:tf:" .. iv }
    if #row == 3 then rows[#rows + 1], row = row, {} end
  end
  if #row > 0 then rows[#rows + 1] = row end
  rows[#rows + 1] = { { "Done", "preset:tf:done" } }
  rows[#rows + 1] = back_row("timeframes")
  show(ctx, "Which timeframes? Tap to choose, then Done.", rows)
end

function ask.threshold(ctx)
  ctx:go("preset.threshold", data(ctx))
  show(ctx, "Alert when a candle moves by how many percent? Send a number from 0.1 to 100, e.g. 2.5.",
       { back_row("threshold") })
end

function ask.direction(ctx)
  ctx:go("preset.wait", data(ctx))
  show(ctx, "Which moves?", {
    { { "Up or down", "preset:dir:both" }, { "Up", "preset:dir:up" }, { "Down", "preset:dir:down" } },
    back_row("direction"),
  })
end

function ask.trigger(ctx)
  ctx:go("preset.wait", data(ctx))
  show(ctx, "When?", {
    { { "As soon as it crosses", "preset:trig:forming" } },
    { { "Only when the candle closes", "preset:trig:close" } },
    back_row("trigger"),
  })
end

function ask.confirm(ctx)
  local d = data(ctx)
  ctx:go("preset.wait", d)
  show(ctx, P.details(d.draft) .. "\n\nSave it?", {
    { { "Save", "preset:save" } },
    back_row("confirm"),
  })
end

local function step_index(step)
  for i, s in ipairs(ORDER) do if s == step then return i end end
  return 1
end

-- The next step, or straight to saving when one field is being edited.
local function next_step(ctx, after)
  local d = data(ctx)
  if d.edit_id then return ask.confirm(ctx) end
  ask[ORDER[step_index(after) + 1]](ctx)
end

local function save(ctx)
  local d = data(ctx)
  local p = d.draft
  p.id, p.user_id, p.chat_id = d.edit_id, ctx.user.id, ctx.chat.id
  local id, err = alerts.save(p)
  if not id then
    return show(ctx, bot.fmt("Not saved: %s", err), { back_row("confirm") })
  end
  ctx:finish()
  show(ctx, bot.fmt("Saved <b>%s</b>. Alerts start now; /preset lists your presets.", p.name))
end

-- ---- the list and one preset ----

local function list(ctx)
  local rows = {}
  for _, p in ipairs(alerts.presets(ctx.user.id)) do
    rows[#rows + 1] = { { (p.active and "" or "⏸ ") .. p.name, "preset:show:" .. p.id } }
  end
  rows[#rows + 1] = { { "➕ New preset", "preset:new" } }
  local n = #rows - 1
  show(ctx, n == 0 and "You have no presets yet." or
            ("Your presets (" .. n .. " of " .. alerts.limits().presets_per_user .. "):"), rows)
end

local function own(ctx, id)
  local p = alerts.get(tonumber(id) or -1)
  if not p or p.user_id ~= ctx.user.id then
    ctx:answer("That preset no longer exists.")
    list(ctx)
    return nil
  end
  return p
end

local function show_preset(ctx, p)
  show(ctx, P.details(p, alerts.stats(p.id)), {
    { { "Edit", "preset:edit:" .. p.id }, { p.active and "Pause" or "Resume", "preset:toggle:" .. p.id } },
    { { "Delete", "preset:del:" .. p.id }, { "« List", "preset:list" } },
  })
end

local FIELDS = { { "Name", "name" }, { "Pairs", "pairs" }, { "Timeframes", "timeframes" },
                 { "Threshold", "threshold" }, { "Direction", "direction" }, { "Trigger", "trigger" } }

bot.command("preset", "Create and manage your alert presets", function(ctx)
  ctx:finish()
  if ctx.args == "new" then
    ctx:go("preset.name", { draft = {} })
    return ask.name(ctx)
  end
  list(ctx)
end, { group_admin = true })

-- typed answers
bot.step("preset.name", function(ctx)
  local name = ctx.text or ""
  local n = utf8.len(name)
  if not n or n < 1 or n > 64 or name:find("[\0-\31]") then
    return ctx:reply("A name is one line of 1 to 64 characters. Try again, or /cancel.")
  end
  if bot.invisible(name) then   -- (a right-to-left override would make it read as another name)
    return ctx:reply("A name cannot hold invisible characters (right-to-left marks, zero-width " ..
                     "spaces, controls). Type it again in plain characters, or /cancel.")
  end
  local d = data(ctx)
  d.draft.name = name
  ctx:go("preset.name", d)
  next_step(ctx, "name")
end, { group_admin = true })

bot.step("preset.topn", function(ctx)
  local digits = (ctx.text or ""):gsub("%s", "")
  local n = digits ~= "" and not digits:find("%D") and tonumber(digits)   -- (not 1e3, 0x10)
  if not n or n < 1 or n > 1000 then
    return ctx:reply("Send a whole number from 1 to 1000 in plain digits, like 20. Or /cancel.")
  end
  local d = data(ctx)
  d.draft.pairs, d.draft.top_n, d.draft.symbols = "top", n, nil
  ctx:go("preset.topn", d)
  next_step(ctx, "pairs")
end, { group_admin = true })

bot.step("preset.symbols", function(ctx)
  local list_, err = P.parse_symbols(ctx.text or "", alerts.limits().pairs_per_preset)
  if not list_ then return ctx:reply(err .. " Or /cancel.") end
  local live, unknown = {}, {}
  for _, s in ipairs(candles.symbols()) do live[s] = true end
  if next(live) then
    for _, s in ipairs(list_) do
      if not live[s] then unknown[#unknown + 1] = s end
    end
  end
  if #unknown > 0 then
    return ctx:reply(bot.fmt("Not traded here: %s. Send the list again, or /cancel.", table.concat(unknown, ", ")))
  end
  local d = data(ctx)
  d.draft.pairs, d.draft.symbols, d.draft.top_n = "manual", list_, nil
  ctx:go("preset.symbols", d)
  next_step(ctx, "pairs")
end, { group_admin = true })

bot.step("preset.threshold", function(ctx)
  local v, err = P.parse_threshold(ctx.text or "")
  if not v then return ctx:reply(err .. " Or /cancel.") end
  local d = data(ctx)
  d.draft.threshold = v
  ctx:go("preset.threshold", d)
  next_step(ctx, "threshold")
end, { group_admin = true })

bot.step("preset.wait", function(ctx)
  ctx:reply("Use the buttons above, or /cancel.")
end)

-- buttons
bot.callback("preset", function(ctx, rest)
  if not ctx.chat then return ctx:answer("Send /preset in the chat with the bot.") end   -- (an inline message)
  local action, arg, arg2 = rest:match("^(%w+):?([%w_]*):?([%w_]*)$")
  local d = data(ctx)
  if action == "new" then
    if #alerts.presets(ctx.user.id) >= alerts.limits().presets_per_user then
      return ctx:answer("You have the most presets there can be; delete one first.", { alert = true })
    end
    ctx:go("preset.name", { draft = {} })
    return ask.name(ctx)
  elseif action == "list" then
    ctx:finish()
    return list(ctx)
  elseif action == "cancel" then
    ctx:finish()
    return show(ctx, "Cancelled. Nothing was changed.")
  elseif action == "show" then
    local p = own(ctx, arg)
    return p and show_preset(ctx, p)
  elseif action == "toggle" then
    local p = own(ctx, arg)
    if not p then return end
    p.active = not p.active
    local ok, err = alerts.save(p)
    if not ok then return ctx:answer(err, { alert = true }) end
    ctx:answer(p.active and "Resumed" or "Paused")
    return show_preset(ctx, alerts.get(p.id))
  elseif action == "del" then
    local p = own(ctx, arg)
    return p and show(ctx, bot.fmt("Delete <b>%s</b>? This cannot be undone.", p.name), {
      { { "Yes, delete it", "preset:delok:" .. p.id }, { "No", "preset:show:" .. p.id } } })
  elseif action == "delok" then
    local p = own(ctx, arg)
    if not p then return end
    alerts.delete(p.id)
    ctx:answer("Deleted")
    return list(ctx)
  elseif action == "edit" then
    local p = own(ctx, arg)
    if not p then return end
    local rows = {}
    for i = 1, #FIELDS, 3 do
      rows[#rows + 1] = {}
      for j = i, math.min(i + 2, #FIELDS) do
        table.insert(rows[#rows], { FIELDS[j][1], "preset:field:" .. p.id .. ":" .. FIELDS[j][2] })
      end
    end
    rows[#rows + 1] = { { "« Back", "preset:show:" .. p.id } }
    return show(ctx, bot.fmt("Change what in <b>%s</b>?", p.name), rows)
  elseif action == "field" then
    local p = own(ctx, arg)
    if not p or not ask[arg2] then return end
    local id = p.id
    p.id, p.user_id, p.chat_id, p.subscriptions = nil, nil, nil, nil
    ctx:go("preset.wait", { draft = p, edit_id = id })
    return ask[arg2](ctx)
  end
  -- the steps of a flow: a button from an old message after the flow ended
  if not d.draft then
    return ctx:answer("That conversation has ended. Send /preset to start again.")
  end
  local p = d.draft
  if action == "back" then
    if arg == "topn" or arg == "symbols" then return ask.pairs(ctx) end
    local i = step_index(arg)
    if i <= 1 or d.edit_id then   -- (an edit of one field goes back to the list)
      ctx:finish()
      return list(ctx)
    end
    return ask[ORDER[i - 1]](ctx)
  elseif action == "pairs" and arg ~= "topn" and arg ~= "list" and arg ~= "top100" then
    return ctx:answer("That button no longer does anything.")
  elseif action == "pairs" then
    if arg == "top100" then
      p.pairs, p.top_n, p.symbols = "top", 100, nil
      return next_step(ctx, "pairs")
    end
    return (arg == "topn" and ask.topn or ask.symbols)(ctx)
  elseif action == "tf" then
    p.intervals = p.intervals or {}
    if arg == "done" then
      if #p.intervals == 0 then return ctx:answer("Choose at least one timeframe.", { alert = true }) end
      return next_step(ctx, "timeframes")
    end
    local watched   -- (forged data must not grow the draft: only what the bot watches)
    for _, iv in ipairs(alerts.limits().intervals) do watched = watched or iv == arg end
    if not watched then return ctx:answer("That timeframe is not watched here.") end
    local found
    for i, iv in ipairs(p.intervals) do if iv == arg then found = i end end
    if found then table.remove(p.intervals, found) else p.intervals[#p.intervals + 1] = arg end
    return ask.timeframes(ctx)
  elseif action == "dir" and (arg == "both" or arg == "up" or arg == "down") then
    p.direction = arg
    return next_step(ctx, "direction")
  elseif action == "trig" and (arg == "forming" or arg == "close") then
    p.trigger = arg
    return next_step(ctx, "trigger")
  elseif action == "save" then
    return save(ctx)
  end
  ctx:answer("That button no longer does anything.")
end, { group_admin = true })
