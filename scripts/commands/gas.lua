-- /gas: the gas price now (every lane, the trend, the last 24 h; /gas chart
-- or the Chart button: the 24 h as a picture, drawn once per reading and
-- theme), answered from memory (scripts/gas.lua keeps it), and the chat's
-- gas alerts: a new
-- one is lane -> below/above -> level (typed) -> quiet period; the list
-- pauses, resumes and deletes them.  In groups only administrators change
-- them (the "gasalert" buttons and the typed level).  The alerts live in
-- the store (scope gas.alert, key "<chat>:<id>"); memory's index follows
-- each change once it is written.
local cfg = require("gas_config")
if not cfg.enabled then return end

local A = require("gas_alerts")
local H = require("gas_history")

local QUIET = { { 0, "None" }, { 1800, "30m" }, { 3600, "1h" }, { 14400, "4h" }, { 86400, "1d" } }
local QUIET_TEXT = {}
for _, q in ipairs(QUIET) do QUIET_TEXT[q[1]] = q[2] end

local uses_etherscan = false
for _, s in ipairs(cfg.sources) do uses_etherscan = uses_etherscan or s == "etherscan" end

local function show(ctx, text, rows)
  local opts = rows and { keyboard = bot.keyboard(rows) } or nil
  if ctx.data then ctx:edit(text, opts) else ctx:reply(text, opts) end
end

local function now_ms() return os.time() * 1000 end
local function hhmm(ms) return os.date("!%H:%M", ms // 1000) end

-- "1,234"
local function thousands(n)
  local s = string.format("%d", n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

-- the chat's alerts, oldest first, with their keys
local function chat_alerts(chat)
  local items = store.list("gas.alert", { prefix = tostring(chat) .. ":", limit = A.LIMIT + 1 })
  local out = {}
  for _, it in ipairs(items) do
    it.value.key = it.key
    out[#out + 1] = it.value
  end
  table.sort(out, function(a, b) return a.id < b.id end)
  return out
end

local function overview(ctx)
  local h, now = H.shared(), now_ms()
  local r = H.last(h)
  local n = ctx.chat and #chat_alerts(ctx.chat.id) or 0
  local rows = { { { n > 0 and ("🔔 My alerts (" .. n .. ")") or "🔔 My alerts", "gas:list" },
                   { "➕ New alert", "gasalert:new" } },
                 { { "↻ Refresh", "gas:refresh" }, { "📈 Chart (24 h)", "gas:chart" } } }
  if not r then
    return show(ctx, "No gas reading yet: the first comes within a minute. Tap Refresh then.", rows)
  end
  local lines = {
    bot.fmt("⛽ <b>Gas</b> on %s at %s UTC", cfg.chain == 1 and "Ethereum" or ("chain " .. cfg.chain), hhmm(r.at or r.t)),
    A.lanes_line(r),
  }
  local word, pct = H.trend(h, "propose", now)
  if word then
    lines[#lines + 1] = word == "steady" and "Trend: steady" or
                        string.format("Trend: %s (%+.0f %% over the last hour)", word, pct)
  end
  local s = H.stats(h, "propose", now)
  if s then
    lines[#lines + 1] = string.format("24 h, standard: low %s at %s, average %s, high %s at %s",
      A.num(s.low), hhmm(s.low_t), A.num(s.avg), A.num(s.high), hhmm(s.high_t))
    lines[#lines + 1] = "<code>" .. H.sparkline(h, "propose", now) .. "</code> (24 h to now)"
  end
  lines[#lines + 1] = string.format("<i>From %s%s.</i>", A.SOURCE_NAMES[r.source] or bot.escape(r.source),
                                    r.block and string.format(", block %d", r.block) or "")
  if now - (r.at or r.t) > 3 * cfg.interval * 1000 then
    lines[#lines + 1] = bot.fmt("No source has answered since %s UTC; the bot keeps trying.", hhmm(r.at or r.t))
  end
  if cfg.key and cfg.key ~= "" and uses_etherscan then
    local c = store.get("gas.meta", "calls")
    local used = (type(c) == "table" and c.day == os.date("!%Y-%m-%d", now // 1000)) and c.n or 0
    lines[#lines + 1] = string.format("Etherscan calls today: %s of %s.", thousands(used), thousands(cfg.daily_calls))
  end
  show(ctx, table.concat(lines, "\n"), rows)
end

local function alert_line(i, a)
  local extra = {}
  if a.quiet and a.quiet > 0 then extra[#extra + 1] = "at most every " .. (QUIET_TEXT[a.quiet] or (a.quiet .. " s")) end
  if a.paused then extra[#extra + 1] = "paused" end
  return string.format("%d. %s%s%s", i, a.paused and "⏸ " or "", A.describe(a),
                       #extra > 0 and (" (" .. table.concat(extra, ", ") .. ")") or "")
end

local function list(ctx)
  local alerts = chat_alerts(ctx.chat.id)
  local lines, rows = {}, {}
  for i, a in ipairs(alerts) do
    lines[#lines + 1] = alert_line(i, a)
    rows[#rows + 1] = { { a.paused and ("▶ Resume " .. i) or ("⏸ Pause " .. i),
                          (a.paused and "gasalert:resume:" or "gasalert:pause:") .. a.id },
                        { "🗑 Delete " .. i, "gasalert:del:" .. a.id } }
  end
  rows[#rows + 1] = { { "➕ New alert", "gasalert:new" }, { "« Gas", "gas:refresh" } }
  if #alerts == 0 then return show(ctx, "No gas alerts in this chat yet.", rows) end
  show(ctx, string.format("Gas alerts here (%d of %d):\n", #alerts, A.LIMIT) .. table.concat(lines, "\n"), rows)
end

-- ---- the last 24 h as a picture (/gas chart, the Chart button) ----

local LANE_COLOUR = { safe = 2, propose = 1, fast = 3, base = 4 }

-- The x times and one series a lane with readings (false where none).
local function lane_series(h, now)
  local x, by_lane = {}, {}
  for _, lane in ipairs(A.LANES) do by_lane[lane] = { values = {}, any = false } end
  for _, r in ipairs(h.list) do
    if r.t >= now - H.KEEP_MS then
      x[#x + 1] = r.t
      for _, lane in ipairs(A.LANES) do
        local v = r[lane]
        by_lane[lane].values[#x] = v or false
        by_lane[lane].any = by_lane[lane].any or v ~= nil
      end
    end
  end
  local series = {}
  for _, lane in ipairs(A.LANES) do
    if by_lane[lane].any then
      series[#series + 1] = { values = by_lane[lane].values, label = A.LANE_NAMES[lane],
                              colour = LANE_COLOUR[lane] }
    end
  end
  return x, series
end

-- The picture, drawn once per (last reading, theme): a chat asking for the
-- same one gets Telegram's file_id for it (bot.send_photo's key).
local function picture(ctx)
  local h, now = H.shared(), now_ms()
  local r, s = H.last(h), H.stats(h, "propose", now)
  if not r or not s then return ctx:reply("No gas reading yet: the first comes within a minute.") end
  local theme = store.get("chart.theme", tostring(ctx.user.id)) == "light" and "light" or "dark"
  local key = string.format("gas:24h:%d:%s", r.t, theme)
  local text = bot.fmt("⛽ <b>Gas</b>, the last 24 h to %s UTC, in gwei. Standard: low %s at %s, " ..
                       "average %s, high %s at %s.", hhmm(r.at or r.t), A.num(s.low), hhmm(s.low_t),
                       A.num(s.avg), A.num(s.high), hhmm(s.high_t))
  if bot.photo_id(key) then return ctx:reply_photo({ key = key }, text) end
  local x, series = lane_series(h, now)
  local png, err = chart.render{ width = 800, height = 500, theme = theme, x = x, series = series,
                                 decimals = s.high < 1 and 3 or 2,
                                 title = "Gas · " .. (cfg.chain == 1 and "Ethereum" or ("chain " .. cfg.chain)),
                                 subtitle = "gwei, last 24 h, UTC" }
  if not png then return ctx:reply("The chart could not be drawn: " .. bot.escape(err)) end
  ctx:reply_photo({ png = png, key = key }, text)
end

bot.command("gas", "Gas prices now, the last 24 h, and gas alerts", function(ctx)
  ctx:finish()
  local arg = (ctx.args or ""):match("^%s*(%S*)"):lower()
  if arg == "chart" or arg == "history" then return picture(ctx) end
  overview(ctx)
end)

-- viewing: anyone in the chat
bot.callback("gas", function(ctx, rest)
  if not ctx.chat then return ctx:answer("Send /gas in the chat with the bot.") end
  if rest == "list" then return list(ctx) end
  if rest == "refresh" then return overview(ctx) end
  if rest == "chart" then return picture(ctx) end
  ctx:answer("That button no longer does anything.")
end)

-- ---- a new alert: lane -> direction -> level -> quiet period ----

local function cancel_row(back)
  local row = { { "Cancel", "gasalert:cancel" } }
  if back then table.insert(row, 1, { "« Back", "gasalert:back:" .. back }) end
  return row
end

local ask = {}

function ask.lane(ctx, d)
  ctx:go("gas.wait", d)
  local r = H.last(H.shared())
  local rows, row = {}, {}
  for _, lane in ipairs(A.LANES) do
    row[#row + 1] = { A.LANE_NAMES[lane], "gasalert:lane:" .. lane }
    if #row == 2 then rows[#rows + 1], row = row, {} end
  end
  rows[#rows + 1] = cancel_row()
  show(ctx, "Which gas price?" .. (r and ("\nNow: " .. A.lanes_line(r)) or ""), rows)
end

function ask.dir(ctx, d)
  ctx:go("gas.wait", d)
  show(ctx, string.format("Alert when %s gas goes…", A.LANE_NAMES[d.draft.lane]), {
    { { "Below a level", "gasalert:dir:below" }, { "Above a level", "gasalert:dir:above" } },
    cancel_row("lane") })
end

function ask.level(ctx, d)
  ctx:go("gas.level", d)
  local r = H.last(H.shared())
  local v = r and r[d.draft.lane]
  show(ctx, string.format("%s %s how many gwei?%s Send a number, like 7.5.", A.LANE_NAMES[d.draft.lane],
                          d.draft.dir, v and (" It is " .. A.num(v) .. " now.") or ""),
       { cancel_row("dir") })
end

function ask.quiet(ctx, d)
  ctx:go("gas.wait", d)
  local row = {}
  for _, q in ipairs(QUIET) do row[#row + 1] = { q[2], "gasalert:quiet:" .. q[1] } end
  show(ctx, string.format("%s. At most one alert per how long?", A.describe(d.draft)),
       { row, cancel_row("level") })
end

local function save(ctx, d)
  local chat = ctx.chat.id
  if #chat_alerts(chat) >= A.LIMIT then
    ctx:finish()
    return show(ctx, string.format("This chat has %d gas alerts, the most there can be. Delete one in /gas first.", A.LIMIT))
  end
  local id = store.get("gas.meta", "next_id") or 1
  local a = { id = id, chat = chat, lane = d.draft.lane, dir = d.draft.dir, level = d.draft.level,
              quiet = d.draft.quiet, paused = false, by = ctx.user.id, created = os.time() }
  local r = H.last(H.shared())
  local v = r and r[a.lane]
  a.armed = A.fresh_armed(a, v)
  local key = chat .. ":" .. id
  store.set("gas.alert", key, a)
  store.set("gas.meta", "next_id", id + 1)
  ctx:finish()
  local text = "Saved: " .. A.describe(a) ..
               (a.quiet > 0 and (", at most one alert per " .. QUIET_TEXT[a.quiet]) or "") .. "."
  if not a.armed then
    local back = a.dir == "below" and a.level + A.margin(a.level) or a.level - A.margin(a.level)
    text = text .. string.format("\n%s is %s gwei now, already %s %s: the first alert comes after it has gone %s %s and back.",
      A.LANE_NAMES[a.lane], A.num(v), a.dir, A.num(a.level), a.dir == "below" and "above" or "below", A.num(back))
  else
    text = text .. " You are told when it crosses."
  end
  show(ctx, text .. " /gas lists your alerts.")
  A.put(A.shared(), key, a)   -- (memory last: after everything is written)
end

bot.step("gas.level", function(ctx)
  local d = ctx.state.data or {}
  if not d.draft then return ctx:reply("That conversation has ended. Send /gas to start again.") end
  local v, err = A.parse_level(ctx.text)
  if not v then return ctx:reply(err .. " Or /cancel.") end
  d.draft.level = v
  ask.quiet(ctx, d)
end, { group_admin = true })

bot.step("gas.wait", function(ctx)
  ctx:reply("Use the buttons above, or /cancel.")
end)

-- the alert of this chat named by a button; nil (and the list shown) when gone
local function own(ctx, id)
  local key = ctx.chat.id .. ":" .. (tonumber(id) and math.tointeger(tonumber(id)) or "?")
  local a = store.get("gas.alert", key)
  if type(a) ~= "table" then
    ctx:answer("That alert no longer exists.")
    list(ctx)
    return nil
  end
  return a, key
end

-- changing: in groups, administrators only
bot.callback("gasalert", function(ctx, rest)
  if not ctx.chat then return ctx:answer("Send /gas in the chat with the bot.") end
  local action, arg = rest:match("^(%w+):?(.*)$")
  local d = ctx.state.data or {}
  if action == "new" then
    if #chat_alerts(ctx.chat.id) >= A.LIMIT then
      return ctx:answer(string.format("This chat has %d gas alerts, the most there can be; delete one first.", A.LIMIT),
                        { alert = true })
    end
    return ask.lane(ctx, { draft = {} })
  elseif action == "cancel" then
    ctx:finish()
    return show(ctx, "Cancelled. Nothing was changed.")
  elseif action == "pause" or action == "resume" then
    local a, key = own(ctx, arg)
    if not a then return end
    a.paused = action == "pause"
    if not a.paused then   -- (as if new: disarmed when it already holds)
      local r = H.last(H.shared())
      a.armed = A.fresh_armed(a, r and r[a.lane])
    end
    a.key = nil
    store.set("gas.alert", key, a)
    ctx:answer(a.paused and "Paused" or "Resumed")
    list(ctx)
    return A.put(A.shared(), key, a)
  elseif action == "del" then
    local a, key = own(ctx, arg)
    if not a then return end
    store.set("gas.alert", key, nil)
    ctx:answer("Deleted")
    list(ctx)
    return A.remove(A.shared(), key)
  end
  -- the steps of a new alert: a button from an old message after the flow ended
  if not d.draft then return ctx:answer("That conversation has ended. Send /gas to start again.") end
  if action == "lane" and A.LANE_NAMES[arg] then
    d.draft.lane = arg
    return ask.dir(ctx, d)
  elseif action == "dir" and (arg == "below" or arg == "above") and d.draft.lane then
    d.draft.dir = arg
    return ask.level(ctx, d)
  elseif action == "quiet" and QUIET_TEXT[tonumber(arg)] and d.draft.level then
    d.draft.quiet = math.tointeger(tonumber(arg))
    return save(ctx, d)
  elseif action == "back" and ask[arg] then
    return ask[arg](ctx, d)
  end
  ctx:answer("That button no longer does anything.")
end, { group_admin = true })
