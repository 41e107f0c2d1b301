-- /rate: the exchange desk's calculator (README "/rate").  What the client
-- gives (RUB or USDT) -> what they get -> the margin in percent (typed) ->
-- the amount (typed) -> the result: the base rate with its source and age,
-- the final rate, the sum, the cross path, and buttons to change the
-- amount, the margin or the pair, or to start again.  Every step has Back
-- (but the first) and Cancel; the answers live in the chat's state, so a
-- restart mid-way loses nothing.  One line works too: /rate 10000 RUB USDT 2.5.
-- The result never waits for a source: rates come from memory
-- (scripts/lib/rate_cache.lua), refreshed in the background.
local cfg = require("rate_config")
if not cfg.enabled then return end
local calc = require("rate_calc")
local cache = require("rate_cache")
local source = require("rate_source")

local console = host.mode() == "console"
cache.setup(cfg, console and require("rate_recorded").sources() or source.list(cfg))

local ORDER = { "give", "get", "margin", "amount", "result" }

local function data(ctx) return ctx.state.data or {} end

-- An edit after a button press, a new message after text.
local function show(ctx, text, rows)
  local opts = rows and { keyboard = bot.keyboard(rows) } or nil
  if ctx.data then ctx:edit(text, opts) else ctx:reply(text, opts) end
end

local function nav(first)
  if first then return { { "Cancel", "rate:cancel" } } end
  return { { "« Back", "rate:back" }, { "Cancel", "rate:cancel" } }
end

local function age_text(s)
  if s < 60 then return s .. " s old" end
  if s < 3600 then return (s // 60) .. " min old" end
  return string.format("%d h %d min old", s // 3600, s % 3600 // 60)
end

-- The rate's words: "95.12 RUB per USDT".
local function rate_words(r, give, get)
  local unit, per = calc.quote(give, get)
  return calc.fmt_rate(r) .. " " .. per .. " per " .. unit
end

local function margin_text(m)
  return (m:sign() > 0 and "+" or "") .. tostring(m) .. " %"
end

local RESULT_ROWS = {
  { { "Amount", "rate:chg:amount" }, { "Margin", "rate:chg:margin" }, { "Pair", "rate:chg:pair" } },
  { { "New calculation", "rate:new" } },
}

local function result_text(d)
  local give, get = d.give, d.get
  local amount, margin = decimal.new(d.amount), decimal.new(d.margin)
  local head = bot.fmt("<b>%s %s → %s</b>, margin %s", calc.fmt_amount(amount, give), give, get,
                       margin_text(margin))
  local r, err = cache.rate(give, get)
  if not r then return head .. "\n\n" .. bot.escape(err) end
  local final = calc.final(r.base, margin, give, get)
  local sum = calc.sum(amount, final, give, get)
  local lines = {
    head, "",
    bot.fmt("Base rate: %s (%s, %s%s)", rate_words(r.base, give, get), r.labels, age_text(r.age),
            r.stale and "; the source is not answering: its last rate" or ""),
    bot.fmt("Final rate: <b>%s</b>", rate_words(final, give, get)),
    sum and bot.fmt("The client gets: <b>%s %s</b>", calc.fmt_amount(sum, get), get)
        or "The final rate is zero: no sum.",
    bot.fmt("Path: %s", r.path),
  }
  return table.concat(lines, "\n")
end

local ask = {}

function ask.give(ctx, d)
  ctx:go("rate.wait", d)
  local row = {}
  for _, g in ipairs(calc.GIVES) do row[#row + 1] = { g, "rate:give:" .. g } end
  show(ctx, "What does the client give?", { row, nav(not d.edit) })
end

function ask.get(ctx, d)
  ctx:go("rate.wait", d)
  local rows, row = {}, {}
  for _, g in ipairs(calc.GETS[d.give]) do
    row[#row + 1] = { g, "rate:get:" .. g }
    if #row == 4 then rows[#rows + 1], row = row, {} end
  end
  if #row > 0 then rows[#rows + 1] = row end
  rows[#rows + 1] = nav()
  show(ctx, bot.fmt("The client gives %s. What do they get?", d.give), rows)
end

function ask.margin(ctx, d)
  for _, k in ipairs(calc.sources(d.give, d.get, cfg.cross)) do   -- warm what the result reads
    local e, age = cache.peek(k)
    if not e or age >= cfg.ttl then cache.kick(k) end
  end
  ctx:go("rate.margin", d)
  show(ctx, bot.fmt("%s → %s. The margin in percent? Send a number like 2, 2.5 or -1.", d.give, d.get),
       { nav() })
end

function ask.amount(ctx, d)
  ctx:go("rate.amount", d)
  show(ctx, bot.fmt("How much %s does the client give? Send it like 10 000 or 10 000,50.", d.give), { nav() })
end

function ask.result(ctx, d)
  ctx:go("rate.wait", d)
  local rows = { RESULT_ROWS[1], RESULT_ROWS[2], nav() }
  show(ctx, result_text(d), rows)
end

local function go(ctx, step, d)
  d.at = step
  return ask[step](ctx, d)
end

-- The step after `step`: get after give; then the first one not answered
-- (margin, amount), else the result.
local function after(ctx, step, d)
  if step == "give" then return go(ctx, "get", d) end
  if not d.margin then return go(ctx, "margin", d) end
  if not d.amount then return go(ctx, "amount", d) end
  return go(ctx, "result", d)
end

local function back(ctx, d)
  if d.edit and d.give and d.get and d.margin and d.amount and calc.pair_ok(d.give, d.get) then
    d.edit = nil
    return go(ctx, "result", d)
  end
  for i, s in ipairs(ORDER) do
    if s == d.at and i > 1 then return go(ctx, ORDER[i - 1], d) end
  end
  return go(ctx, "give", d)
end

-- /rate 10000 RUB USDT 2.5: amount, gives, gets, margin (0 when left out).
local ONE_LINE = "Send it like <code>/rate 10000 RUB USDT 2.5</code>: the amount, what the client " ..
                 "gives (RUB or USDT), what they get, and the margin in percent. Or just /rate."

-- The words of a short text, split at ASCII blanks (no pattern: a byte
-- loop over at most 100 bytes).
local BLANK = { [" "] = true, ["\t"] = true, ["\n"] = true, ["\r"] = true }
local function words_of(s)
  local out, from = {}, nil
  for i = 1, #s + 1 do
    local blank = i > #s or BLANK[s:sub(i, i)]
    if blank and from then out[#out + 1], from = s:sub(from, i - 1), nil
    elseif not blank and not from then from = i end
  end
  return out
end

local function one_line(ctx)
  if #ctx.args > 100 then return ctx:reply(ONE_LINE) end
  local words, at = words_of(ctx.args), nil   -- the amount's words, then the first of letters
  for i, w in ipairs(words) do
    if not at and w:find("^%a+$") then at = i end
  end
  if not at or at == 1 or #words > at + 2 or #words < at + 1 then return ctx:reply(ONE_LINE) end
  local amount = table.concat(words, " ", 1, at - 1)
  local give, get, margin = words[at], words[at + 1], words[at + 2] or ""
  give, get = give:upper(), get:upper()
  if not calc.GETS[give] then
    return ctx:reply(bot.fmt("The client gives RUB or USDT, not %s. ", give) .. ONE_LINE)
  end
  if not calc.pair_ok(give, get) then
    return ctx:reply(bot.fmt("For %s the client can get %s, not %s.", give,
                             table.concat(calc.GETS[give], ", "), get))
  end
  local a, err = calc.parse_amount(amount, give)
  if not a then return ctx:reply(err) end
  local m = decimal.new(0)
  if margin ~= "" then
    m, err = calc.parse_margin(margin)
    if not m then return ctx:reply(err) end
  end
  go(ctx, "result", { give = give, get = get, amount = tostring(a), margin = tostring(m) })
end

bot.command("rate", "Exchange rate calculator: RUB or USDT to other currencies, with a margin", function(ctx)
  ctx:finish()
  if ctx.args and ctx.args:find("%S") then return one_line(ctx) end
  go(ctx, "give", {})
end)

bot.step("rate.margin", function(ctx)
  local d = data(ctx)
  if not (d.give and d.get) then ctx:finish() return ctx:reply("That calculation has ended. Send /rate to start again.") end
  local m, err = calc.parse_margin(ctx.text)
  if not m then return ctx:reply(err .. " Or /cancel.") end
  d.margin, d.edit = tostring(m), nil
  after(ctx, "margin", d)
end)

bot.step("rate.amount", function(ctx)
  local d = data(ctx)
  if not (d.give and d.get and d.margin) then
    ctx:finish()
    return ctx:reply("That calculation has ended. Send /rate to start again.")
  end
  local a, err = calc.parse_amount(ctx.text, d.give)
  if not a then return ctx:reply(err .. " Or /cancel.") end
  d.amount, d.edit = tostring(a), nil
  after(ctx, "amount", d)
end)

bot.step("rate.wait", function(ctx)
  ctx:reply("Use the buttons above, or /cancel.")
end)

bot.callback("rate", function(ctx, rest)
  if not ctx.chat then return ctx:answer("Send /rate in the chat with the bot.") end
  local action, arg = rest:match("^(%w+):?(.*)$")
  local d = data(ctx)
  if action == "cancel" then
    ctx:finish()
    return show(ctx, "Cancelled.")
  elseif action == "new" then
    return go(ctx, "give", {})
  end
  if not d.at then return ctx:answer("That calculation has ended. Send /rate to start again.") end
  if action == "back" then
    return back(ctx, d)
  elseif action == "give" and calc.GETS[arg] then
    if d.give ~= arg then d.get = nil end
    d.give = arg
    return after(ctx, "give", d)
  elseif action == "get" and d.give and calc.pair_ok(d.give, arg) then
    d.get, d.edit = arg, nil
    return after(ctx, "get", d)
  elseif action == "chg" and d.amount and d.margin and d.give and d.get then
    d.edit = true
    if arg == "amount" then return go(ctx, "amount", d) end
    if arg == "margin" then return go(ctx, "margin", d) end
    if arg == "pair" then return go(ctx, "give", d) end
  end
  ctx:answer("That button no longer does anything.")
end)

-- The preloader: the popular pairs' rates refreshed ahead of expiry.
timer.every(math.max(5, cfg.ttl // 10), cache.tick)
host.on_start(function()
  cache.load_saved()
  cache.tick()
end)
