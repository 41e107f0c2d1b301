-- /preset: create, list, show, edit, pause and delete alert presets.
-- A new preset is asked for step by step, as the table STEPS below says:
-- name -> which alert (the rule) -> pairs -> timeframes -> threshold ->
-- direction -> trigger -> confirm, where buttons ask the optional
-- minimum 24 h volume and whether a chart follows each alert.  Every step checks what was typed, says what is
-- wrong, and has a way back; /cancel leaves.  The draft lives in the chat's state, so a restart or reload
-- mid-way loses nothing.  Editing a preset asks one step, then only what
-- the change left open (a new rule needs its own threshold).
local P = require("presets")

local function data(ctx) return ctx.state.data or {} end

local function back_row(step)
  return { { "« Back", "preset:back:" .. step }, { "Cancel", "preset:cancel" } }
end

-- Shows the message: an edit after a button press, a new message after
-- text; then the messages a long pair list needs.
local function show(ctx, text, keyboard, extra)
  local opts = keyboard and { keyboard = bot.keyboard(keyboard) } or nil
  if ctx.data then ctx:edit(text, opts) else ctx:reply(text, opts) end
  for _, t in ipairs(extra or {}) do ctx:reply(t) end
end

local function one_of(choices, value)
  for _, c in ipairs(choices) do if c[1] == value then return true end end
  return false
end

-- ---- the steps ----
-- One entry per step:
--   id       its name: "preset:back:<id>"; a typed answer goes to the
--            bot.step "preset.<id>"
--   title    its button in the edit menu (none: not edited alone); a
--            function (rule) -> title or nil for a step of the rule's
--   answer   "text" (parse), "buttons" (choices) or "toggle" (choices, then Done)
--   key      the buttons' data: "preset:<key>:<value>"
--   prompt   (d, rule) -> the question
--   choices  (d, rule) -> {{value, label}, ...}; rows, per_row: how many a row
--   refused, empty   a toggle's answers to a value it does not offer, and
--            to Done with nothing chosen
--   parse    (text, d, rule) -> value | nil, a sentence saying what is wrong
--   set      (d, value, rule) -> nil, or the id of the step to ask next
--            (default: draft[field] = value)
--   field    the draft's field the step sets; missing = still to ask
--   rule     true: it depends on the chosen rule (after the rule step)
--   skip     (d, rule) -> true when there is nothing to ask (and sets
--            what it implies)
--   under    a sub-step of that step (not in the linear flow)
--   optional not in the linear flow: a button of that label on the
--            confirmation asks it, and it returns there
-- A step with one possible answer is not asked: the answer is taken.
local function only_choice(choices, field)
  return function(d, r)
    local c = choices(r)
    if #c ~= 1 then return false end
    d.draft[field] = c[1][1]
    return true
  end
end

-- The rule's i-th setting (ema_cross's periods), when it has one: its
-- value is kept both as param<i> (what is still to ask) and in params.
local function param_step(i)
  local function q(r) return r and r.params and r.params[i] end
  return { id = "param" .. i, answer = "text", field = "param" .. i, rule = true,
    title = function(r) return q(r) and q(r).label end,
    prompt = function(_, r) return P.param_prompt(q(r)) end,
    parse = function(text, _, r)
      local v, err = P.parse_param(text, q(r))
      if not v then return nil, err .. " Or /cancel." end
      return v
    end,
    set = function(d, v, r)
      d.draft["param" .. i] = v
      d.draft.params = d.draft.params or {}
      d.draft.params[q(r).name] = v
    end,
    skip = function(_, r) return not q(r) end }
end

local STEPS = {
  { id = "name", title = "Name", answer = "text", field = "name",
    prompt = function() return "Name the preset (1-64 characters), e.g. <i>Majors 3%</i>." end,
    parse = function(text)
      local n = utf8.len(text)
      if not n or n < 1 or n > 64 or text:find("[\0-\31]") then
        return nil, "A name is one line of 1 to 64 characters. Try again, or /cancel."
      end
      if bot.invisible(text) then   -- (a right-to-left override would make it read as another name)
        return nil, "A name cannot hold invisible characters (right-to-left marks, zero-width " ..
                    "spaces, controls). Type it again in plain characters, or /cancel."
      end
      return text
    end },

  { id = "rule", title = "Alert", answer = "buttons", key = "rule", field = "rule",
    prompt = function() return "Which alert?" end,
    choices = function()
      local out = {}
      for _, r in ipairs(alerts.rules()) do out[#out + 1] = { r.name, r.label } end
      return out
    end,
    skip = function(d)
      local rules = alerts.rules()
      if #rules ~= 1 then return false end
      d.draft.rule = rules[1].name
      return true
    end,
    -- a new rule keeps only what it allows; its threshold and settings
    -- are asked again
    set = function(d, name)
      local p, r = d.draft, P.rule(name)
      if p.rule ~= name then
        p.threshold, p.params, p.param1, p.param2, p.param3 = nil, nil, nil, nil, nil
      end
      p.rule = name
      if not one_of(P.direction_choices(r), p.direction) then p.direction = nil end
      if not one_of(P.trigger_choices(r), p.trigger) then p.trigger = nil end
    end },

  param_step(1), param_step(2), param_step(3),

  -- asked only when more than one venue is on (config: exchange, spot, bybit)
  { id = "venue", title = function() return #candles.venues() > 1 and "Exchange" or nil end,
    answer = "buttons", key = "venue", field = "venue",
    prompt = function() return "Which exchange?" end,
    choices = function()
      local out = {}
      for _, v in ipairs(candles.venues()) do out[#out + 1] = { v, P.VENUES[v] or v } end
      return out
    end,
    skip = function(d)
      local on = candles.venues()
      if #on > 1 then return false end
      d.draft.venue = on[1] or "binance"
      return true
    end,
    -- another exchange: the pairs are asked again (a list names its pairs)
    set = function(d, v)
      if d.draft.venue ~= v then d.draft.pairs, d.draft.top_n, d.draft.symbols = nil, nil, nil end
      d.draft.venue = v
    end },

  { id = "pairs", title = "Pairs", answer = "buttons", key = "pairs", field = "pairs",
    prompt = function() return "Which pairs?" end,
    choices = function()
      return { { "top100", "Top 100 by volume" }, { "topn", "Top N by volume…" }, { "list", "My own list…" } }
    end,
    rows = { 1, 2 },
    set = function(d, v)
      if v == "topn" then return "topn" end
      if v == "list" then return "symbols" end
      d.draft.pairs, d.draft.top_n, d.draft.symbols = "top", 100, nil
    end },

  { id = "topn", under = "pairs", answer = "text",
    prompt = function()
      return "How many of the biggest pairs by 24 h volume? Send a number from 1 to 1000."
    end,
    parse = function(text)
      local digits = text:gsub("%s", "")
      local n = digits ~= "" and not digits:find("%D") and tonumber(digits)   -- (not 1e3, 0x10)
      if not n or n < 1 or n > 1000 then
        return nil, "Send a whole number from 1 to 1000 in plain digits, like 20. Or /cancel."
      end
      return n
    end,
    set = function(d, n) d.draft.pairs, d.draft.top_n, d.draft.symbols = "top", n, nil end },

  { id = "symbols", under = "pairs", answer = "text",
    prompt = function()
      return bot.fmt("Send up to %d pairs, separated by spaces or commas, e.g. <code>BTCUSDT ETH SOL</code>.",
                     math.min(alerts.limits().pairs_per_preset, 1000))
    end,
    parse = function(text, d)
      local list, err = P.parse_symbols(text, math.min(alerts.limits().pairs_per_preset, 1000),
                                        d and d.draft and d.draft.venue)
      if not list then return nil, err .. " Or /cancel." end
      local live, unknown = {}, {}
      for _, s in ipairs(candles.symbols()) do live[s] = true end
      if next(live) then
        for _, s in ipairs(list) do
          if not live[s] then unknown[#unknown + 1] = s end
        end
      end
      if #unknown > 0 then
        return nil, bot.fmt("Not traded here: %s. Send the list again, or /cancel.", table.concat(unknown, ", "))
      end
      return list
    end,
    set = function(d, list) d.draft.pairs, d.draft.symbols, d.draft.top_n = "manual", list, nil end },

  { id = "timeframes", title = "Timeframes", answer = "toggle", key = "tf", field = "intervals",
    prompt = function() return "Which timeframes? Tap to choose, then Done." end,
    choices = function()
      local out = {}
      for _, iv in ipairs(alerts.limits().intervals) do out[#out + 1] = { iv, iv } end
      return out
    end,
    per_row = 3, refused = "That timeframe is not watched here.",
    empty = "Choose at least one timeframe." },

  { id = "threshold", title = "Threshold", answer = "text", field = "threshold", rule = true,
    prompt = function(_, r) return P.threshold_prompt(r) end,
    parse = function(text, _, r)
      local v, err = P.parse_threshold(text, r)
      if not v then return nil, err .. " Or /cancel." end
      return v
    end },

  { id = "direction", title = "Direction", answer = "buttons", key = "dir", field = "direction", rule = true,
    prompt = function(_, r) return P.direction_question(r) end,
    choices = function(_, r) return P.direction_choices(r) end,
    rows = { 3 },
    skip = only_choice(P.direction_choices, "direction") },

  { id = "trigger", title = "Trigger", answer = "buttons", key = "trig", field = "trigger", rule = true,
    prompt = function() return "When?" end,
    choices = function(_, r) return P.trigger_choices(r) end,
    skip = only_choice(P.trigger_choices, "trigger") },

  { id = "volume", title = "Min. volume", answer = "text", key = "vol", field = "min_volume",
    optional = "Minimum 24 h volume…",
    prompt = function(d)
      local now = (d.draft.min_volume or 0) > 0 and (" Now: " .. P.volume_text(d.draft.min_volume) .. ".") or ""
      return "Only pairs trading at least how much in 24 h? Send the minimum volume in USDT, " ..
             "like 5M, 250k or 1000000, or tap No minimum." .. now
    end,
    choices = function() return { { "none", "No minimum" } } end,
    parse = function(text)
      local v, err = P.parse_volume(text)
      if not v then return nil, err .. " Or tap No minimum, or /cancel." end
      return v
    end,
    set = function(d, v) d.draft.min_volume = (v == "none") and 0 or v end },

  { id = "chart", title = "Chart", answer = "buttons", key = "chart", field = "chart",
    optional = "Chart with each alert…",
    prompt = function(d)
      return "Send a chart of the pair after each alert? The text comes at once, the " ..
             "picture a moment later. Now: " .. (d.draft.chart and "with a chart." or "text only.")
    end,
    choices = function() return { { "on", "Yes, with a chart" }, { "off", "Text only" } } end,
    set = function(d, v) d.draft.chart = v == "on" end },

  { id = "confirm" },   -- (the summary and Save: ask_confirm)
}

local BY_ID, BY_KEY, ORDER = {}, {}, {}
for _, s in ipairs(STEPS) do
  BY_ID[s.id] = s
  if s.key then BY_KEY[s.key] = s end
  if not s.under then ORDER[#ORDER + 1] = s end
end

-- The draft's rule; nil when it is gone (a reload removed its script).
local function draft_rule(d) return P.rule(d.draft.rule) end

-- The keyboard of a buttons or toggle step: its choices (in rows of the
-- sizes step.rows gives, then step.per_row or one a row), a toggle's Done, « Back / Cancel.
local function keyboard(s, d, r)
  local rows, choices, i = {}, s.choices and s.choices(d, r) or {}, 1
  local chosen = {}
  if s.answer == "toggle" then
    for _, v in ipairs(d.draft[s.field] or {}) do chosen[v] = true end
  end
  local sizes, n = s.rows or {}, 1
  while i <= #choices do
    local row = {}
    for _ = 1, sizes[n] or s.per_row or 1 do
      local c = choices[i]
      if not c then break end
      row[#row + 1] = { (chosen[c[1]] and "✅ " or "") .. c[2], "preset:" .. s.key .. ":" .. c[1] }
      i = i + 1
    end
    rows[#rows + 1], n = row, n + 1
  end
  if s.answer == "toggle" then rows[#rows + 1] = { { "Done", "preset:" .. s.key .. ":done" } } end
  rows[#rows + 1] = back_row(s.id)
  return rows
end

local ask

-- The rule a step depends on is gone (the scripts were reloaded without
-- it): say so and ask for another.
local function rule_gone(ctx, d)
  local msg = bot.fmt('The alert "%s" is no longer available. Choose another one for this preset.',
                      d.draft.rule or "?")
  if #alerts.rules() == 0 then
    ctx:finish()
    return show(ctx, "No alerts can be set up right now (the bot has no alert rules). Try again later.")
  end
  d.draft.rule = nil
  ctx:go("preset.wait", d)
  return show(ctx, msg, keyboard(BY_ID.rule, d))
end

local function ask_confirm(ctx, d)
  ctx:go("preset.wait", d)
  local text, extra = P.details(d.draft)
  local rows = { { { "Save", "preset:save" } } }
  for _, s in ipairs(ORDER) do
    if s.optional then rows[#rows + 1] = { { s.optional, "preset:ask:" .. s.id } } end
  end
  rows[#rows + 1] = back_row("confirm")
  show(ctx, text .. "\n\nSave it?", rows, extra)
end

function ask(ctx, id)
  local d, s = data(ctx), BY_ID[id]
  local r = draft_rule(d)
  if s.rule and not r then return rule_gone(ctx, d) end
  if id == "confirm" then return ask_confirm(ctx, d) end
  ctx:go(s.answer == "text" and ("preset." .. id) or "preset.wait", d)
  local kb = s.choices and keyboard(s, d, r) or { back_row(id) }
  show(ctx, s.prompt(d, r), kb)
end

local function position(id)
  for i, s in ipairs(ORDER) do if s.id == id then return i end end
  return 1
end

-- Whether the step is asked for this draft on the way through (a skip
-- fills in its answer).
local function asked(s, d)
  if s.id == "confirm" then return true end
  if s.optional then return false end
  local r = draft_rule(d)
  if s.rule and not r then return true end   -- (ask says the rule is gone)
  return not (s.skip and s.skip(d, r))
end

-- The next step: in a new preset the next one asked; when one field is
-- being edited, what the change left open, else the confirmation.
local function next_step(ctx, after)
  local d = data(ctx)
  if d.edit_id then
    for _, s in ipairs(ORDER) do
      if s.field and d.draft[s.field] == nil and asked(s, d) and (s.rule or s.id == "rule") then
        return ask(ctx, s.id)
      end
    end
    return ask(ctx, "confirm")
  end
  for i = position(after) + 1, #ORDER do
    if asked(ORDER[i], d) then return ask(ctx, ORDER[i].id) end
  end
end

local function previous_step(ctx, from)
  local d = data(ctx)
  for i = position(from) - 1, 1, -1 do
    if asked(ORDER[i], d) then return ask(ctx, ORDER[i].id) end
  end
end

-- Sets the step's answer and moves on.
local function answered(ctx, s, value)
  local d = data(ctx)
  local go = s.set and s.set(d, value, draft_rule(d))
  if not s.set then d.draft[s.field] = value end
  if go then return ask(ctx, go) end
  next_step(ctx, s.under or s.id)
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
  local text, extra = P.details(p, alerts.stats(p.id))
  show(ctx, text, {
    { { "Edit", "preset:edit:" .. p.id }, { p.active and "Pause" or "Resume", "preset:toggle:" .. p.id } },
    { { "Delete", "preset:del:" .. p.id }, { "« List", "preset:list" } },
  }, extra)
end

-- The edit menu: the steps with a title that this preset's rule asks (no
-- "Alert" while there is only one; no step with one possible answer).
local function edit_menu(ctx, p)
  local r, fields = P.rule(p.rule), {}
  for _, s in ipairs(ORDER) do
    local title = s.title
    if type(title) == "function" then title = title(r) end
    local offered = title and (s.id ~= "rule" or #alerts.rules() > 1 or not r)
    if offered and s.rule and r and s.choices then offered = #s.choices({ draft = p }, r) > 1 end
    if offered then fields[#fields + 1] = { id = s.id, title = title } end
  end
  local rows = {}
  for i = 1, #fields, 3 do
    rows[#rows + 1] = {}
    for j = i, math.min(i + 2, #fields) do
      table.insert(rows[#rows], { fields[j].title, "preset:field:" .. p.id .. ":" .. fields[j].id })
    end
  end
  rows[#rows + 1] = { { "« Back", "preset:show:" .. p.id } }
  return show(ctx, bot.fmt("Change what in <b>%s</b>?", p.name), rows)
end

bot.command("preset", "Create and manage your alert presets", function(ctx)
  ctx:finish()
  if ctx.args == "new" then
    ctx:go("preset.name", { draft = {} })
    return ask(ctx, "name")
  end
  list(ctx)
end, { group_admin = true })

-- typed answers: one bot.step per text step
for _, s in ipairs(STEPS) do
  if s.answer == "text" then
    bot.step("preset." .. s.id, function(ctx)
      local d = data(ctx)
      if not d.draft then return ctx:reply("That conversation has ended. Send /preset to start again.") end
      local r = draft_rule(d)
      if s.rule and not r then return rule_gone(ctx, d) end
      local v, err = s.parse(ctx.text or "", d, r)
      if v == nil then return ctx:reply(err) end
      answered(ctx, s, v)
    end, { group_admin = true })
  end
end

bot.step("preset.wait", function(ctx)
  ctx:reply("Use the buttons above, or /cancel.")
end)

-- A press on one of a step's buttons.
local function pressed(ctx, s, value)
  local d = data(ctx)
  local p, r = d.draft, draft_rule(d)
  if s.rule and not r then return rule_gone(ctx, d) end
  local choices = s.choices(d, r)
  if s.answer == "toggle" then
    p[s.field] = p[s.field] or {}
    if value == "done" then
      if #p[s.field] == 0 then return ctx:answer(s.empty, { alert = true }) end
      return next_step(ctx, s.id)
    end
    -- (forged data must not grow the draft: only what is offered)
    if not one_of(choices, value) then return ctx:answer(s.refused) end
    local found
    for i, v in ipairs(p[s.field]) do if v == value then found = i end end
    if found then table.remove(p[s.field], found) else p[s.field][#p[s.field] + 1] = value end
    return ask(ctx, s.id)
  end
  if not one_of(choices, value) then return ctx:answer("That button no longer does anything.") end
  answered(ctx, s, value)
end

-- buttons
bot.callback("preset", function(ctx, rest)
  if not ctx.chat then return ctx:answer("Send /preset in the chat with the bot.") end   -- (an inline message)
  local action, tail = rest:match("^(%w+):?(.*)$")
  local arg, arg2 = (tail or ""):match("^([^:]*):?(.*)$")
  local d = data(ctx)
  if action == "new" then
    if #alerts.presets(ctx.user.id) >= alerts.limits().presets_per_user then
      return ctx:answer("You have the most presets there can be; delete one first.", { alert = true })
    end
    ctx:go("preset.name", { draft = {} })
    return ask(ctx, "name")
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
    return p and edit_menu(ctx, p)
  elseif action == "field" then
    local p = own(ctx, arg)
    local s = BY_ID[arg2]
    if not p then return end
    if not s or not s.title then return ctx:answer("That button is out of date: open the preset again.") end
    local id, r = p.id, P.rule(p.rule)
    p.id, p.user_id, p.chat_id, p.subscriptions = nil, nil, nil, nil
    for i, q in ipairs(r and r.params or {}) do p["param" .. i] = (p.params or {})[q.name] end
    ctx:go("preset.wait", { draft = p, edit_id = id })
    return ask(ctx, s.id)
  end
  -- the steps of a flow: a button from an old message after the flow ended
  if not d.draft then
    return ctx:answer("That conversation has ended. Send /preset to start again.")
  end
  if action == "back" then
    local s = BY_ID[arg]
    if s and s.under then return ask(ctx, s.under) end
    if s and s.optional and not d.edit_id then return ask(ctx, "confirm") end
    if not s or position(arg) <= 1 or d.edit_id then   -- (an edit of one field goes back to the list)
      ctx:finish()
      return list(ctx)
    end
    return previous_step(ctx, arg)
  elseif action == "save" then
    return save(ctx)
  elseif action == "ask" and BY_ID[arg] and BY_ID[arg].optional then
    return ask(ctx, arg)
  elseif BY_KEY[action] then
    return pressed(ctx, BY_KEY[action], action == "rule" and tail or arg)
  end
  ctx:answer("That button no longer does anything.")
end, { group_admin = true })
