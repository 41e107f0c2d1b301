-- Gas alerts: once per crossing, with hysteresis, found through levels
-- sorted per (lane, direction) so a reading touches only the alerts whose
-- level it crossed.
--
-- An alert {lane, dir = "below"|"above", level, armed, paused, quiet,
-- last_fired} is in one of two states.  Armed, it fires when the lane
-- crosses its level: below L when the lane goes from > L to <= L, above
-- the mirror; then it is disarmed until the lane is back past L by the
-- margin (below: > L + m; above: < L - m), m = max(5 % of L, 0.01 gwei).
-- So each alert has one active level at a time (L armed, L +- m disarmed),
-- kept in a sorted list per (lane, dir, state); a reading p -> v looks up
-- with binary searches the entries between p and v.  A paused alert is
-- not in the index.
local A = {}

A.LANES = { "safe", "propose", "fast", "base" }
A.LIMIT = 10   -- alerts per chat

function A.margin(level) return math.max(level * 0.05, 0.01) end

-- Whether the alert's condition holds at this value (below: v <= L).
function A.holds(a, v)
  if a.dir == "below" then return v <= a.level end
  return v >= a.level
end

-- The armed state of a new (or resumed) alert: disarmed when it already holds.
function A.fresh_armed(a, v)
  return v == nil or not A.holds(a, v)
end

-- The level where the alert changes state next.
function A.active_level(a)
  if a.armed then return a.level end
  return a.dir == "below" and a.level + A.margin(a.level) or a.level - A.margin(a.level)
end

function A.new_index() return { lists = {}, entries = {}, examined = 0 } end

local shared = A.new_index()
function A.shared() return shared end

local function list_of(ix, lane, dir, armed)
  local name = lane .. ":" .. dir .. ":" .. (armed and "fire" or "rearm")
  local l = ix.lists[name]
  if not l then l = {}; ix.lists[name] = l end
  return l
end

-- first index whose entry is >= (v, key) (key nil: >= v), or > v when strict
local function search(list, v, key, strict)
  local lo, hi = 1, #list + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    local e = list[mid]
    local before
    if strict then before = e.v <= v
    elseif e.v ~= v or key == nil then before = e.v < v
    else before = e.key < key end
    if before then lo = mid + 1 else hi = mid end
  end
  return lo
end

function A.remove(ix, key)
  local e = ix.entries[key]
  if not e then return end
  local list = e.list
  local i = search(list, e.v, key)
  if list[i] == e then table.remove(list, i) end
  ix.entries[key] = nil
end

-- Puts (or moves) the alert stored under key; a paused one leaves the index.
function A.put(ix, key, a)
  A.remove(ix, key)
  if a.paused then return end
  local list = list_of(ix, a.lane, a.dir, a.armed)
  local e = { v = A.active_level(a), key = key, list = list,
              lane = a.lane, dir = a.dir, level = a.level, armed = a.armed and true or false }
  table.insert(list, search(list, e.v, key), e)
  ix.entries[key] = e
end

-- Puts many alerts at once ({{key, alert}, ...}, keys not in the index
-- yet): appended, then each list sorted once (start-up with many alerts
-- would otherwise shift a list for each).  The sort compares strings that
-- order as (v, key) do, so no Lua comparator runs n log n times.
function A.put_all(ix, items)
  local touched = {}
  for _, it in ipairs(items) do
    local key, a = it[1], it[2]
    if not a.paused and not ix.entries[key] then
      local list = list_of(ix, a.lane, a.dir, a.armed)
      local e = { v = A.active_level(a), key = key, list = list,
                  lane = a.lane, dir = a.dir, level = a.level, armed = a.armed and true or false }
      list[#list + 1] = e
      ix.entries[key] = e
      touched[list] = true
    end
  end
  for list in pairs(touched) do
    local order, by = {}, {}
    for i, e in ipairs(list) do
      -- (levels have at most 3 decimals and margins 5 % of them: 6 decimals tell any two apart)
      local k = string.format("%017.6f|%s", e.v + 1e6, e.key)
      order[i], by[k] = k, e
    end
    table.sort(order)
    for i, k in ipairs(order) do list[i] = by[k] end
  end
end

function A.count(ix)
  local n = 0
  for _ in pairs(ix.entries) do n = n + 1 end
  return n
end

-- The entries of list from index i to j, as {key =, action =}; counted.
local function take(ix, out, list, i, j, action)
  for k = i, j do
    out[#out + 1] = { key = list[k].key, action = action }
    ix.examined = ix.examined + 1
  end
end

-- The lane moved from p to v: -> {{key =, action = "fire" | "rearm"}, ...},
-- the alerts whose active level lies between.  Changes nothing (the
-- caller writes the store, then calls A.put with the new states).
function A.step(ix, lane, p, v)
  local out = {}
  if p == nil or v == nil or p == v then return out end
  local L = ix.lists
  local function range(name, lo_v, lo_strict, hi_v, hi_strict, action)
    local list = L[lane .. ":" .. name]
    if not list then return end
    -- entries with lo_v < e.v (lo_strict) or lo_v <= e.v, and e.v < hi_v or e.v <= hi_v (hi_strict)
    local i = search(list, lo_v, nil, lo_strict)
    local j = search(list, hi_v, nil, hi_strict) - 1
    take(ix, out, list, i, j, action)
  end
  if v < p then
    range("below:fire", v, false, p, false, "fire")     -- v <= L < p
    range("above:rearm", v, true, p, true, "rearm")     -- v < R <= p
  else
    range("above:fire", p, true, v, true, "fire")       -- p < L <= v
    range("below:rearm", p, false, v, false, "rearm")   -- p <= R < v
  end
  return out
end

-- A reading after prev: every lane's step, -> {{key =, action =, lane =, value =}, ...}.
-- A lane missing from either reading (eth_gasPrice gives only one) is not compared.
function A.plan(ix, prev, r)
  local out = {}
  if not prev then return out end
  for _, lane in ipairs(A.LANES) do
    for _, t in ipairs(A.step(ix, lane, prev[lane], r[lane])) do
      t.lane, t.value = lane, r[lane]
      out[#out + 1] = t
    end
  end
  return out
end

-- The alert's new state after an action at time now (ms): -> the alert
-- changed (a copy), and whether to send it (false: in its quiet period).
function A.apply(a, action, now)
  local b = {}
  for k, x in pairs(a) do b[k] = x end
  if action == "rearm" then
    b.armed = true
    return b, false
  end
  b.armed = false
  if a.last_fired and a.quiet and a.quiet > 0 and now - a.last_fired < a.quiet * 1000 then
    return b, false
  end
  b.last_fired = now
  return b, true
end

-- Whether the stored alert is the one the index entry describes (a failed
-- handler may have left memory ahead of the store).
function A.matches(ix, key, a)
  local e = ix.entries[key]
  return e ~= nil and a ~= nil and not a.paused and e.lane == a.lane and e.dir == a.dir
     and e.level == a.level and e.armed == (a.armed and true or false)
end

-- "7.5", "12", "0.125": a level for people
function A.num(v)
  local s = string.format(v >= 1 and "%.2f" or "%.3f", v)   -- (as parse_level rounds)
  return (s:gsub("%.?0+$", ""))
end

A.LANE_NAMES = { safe = "Safe", propose = "Standard", fast = "Fast", base = "Base fee" }

-- "Fast below 7.5 gwei"
function A.describe(a)
  return string.format("%s %s %s gwei", A.LANE_NAMES[a.lane] or a.lane, a.dir, A.num(a.level))
end

-- "Safe 7.1 · Standard 7.5 · Fast 8 · Base fee 6.9 gwei" (the lanes the reading has)
function A.lanes_line(r)
  local parts = {}
  for _, lane in ipairs(A.LANES) do
    if r[lane] then parts[#parts + 1] = A.LANE_NAMES[lane] .. " " .. A.num(r[lane]) end
  end
  return table.concat(parts, " · ") .. " gwei"
end

A.SOURCE_NAMES = { etherscan = "Etherscan", rpc = "the RPC node", simulated = "a simulation (console demo)" }

-- The alert a chat gets when its alert fires on reading r: html, digest line.
function A.message(a, r)
  local name = A.LANE_NAMES[a.lane]
  local html = string.format("⛽ <b>Gas: %s</b>\n%s is %s gwei now.\n%s\n<i>From %s%s.</i> /gas",
    A.describe(a), name, A.num(r[a.lane]), A.lanes_line(r), A.SOURCE_NAMES[r.source] or r.source,
    r.block and string.format(", block %d", r.block) or "")
  return html, string.format("Gas %s %s gwei (%s %s)", name:lower(), A.num(r[a.lane]), a.dir, A.num(a.level))
end

-- A typed level -> gwei (2 decimals, 3 below 1) | nil, a sentence saying what to send.
function A.parse_level(text)
  local s = (text or ""):lower():gsub("%s*gwei%s*$", ""):gsub("^%s+", ""):gsub("%s+$", ""):gsub(",", ".")
  local v = s:match("^%d+%.?%d*$") and tonumber(s) or (s:match("^%.%d+$") and tonumber("0" .. s))
  if not v or v < 0.001 or v > 100000 then
    return nil, "Send the level in gwei as a number from 0.001 to 100000, like 7.5."
  end
  local scale = v < 1 and 1000 or 100
  return math.floor(v * scale + 0.5) / scale
end

return A
