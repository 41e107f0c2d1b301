-- Gas prices: one timer polls the configured sources for every chat (the
-- console demo reads a simulated series instead), keeps 24 h of readings
-- and fires the gas alerts the reading crossed.  /gas and its alerts are
-- commands/gas.lua; the pieces are scripts/lib/gas_*.lua.
--
-- One handler per poll: it waits for the HTTP answers first, then writes
-- everything together (the reading, the alerts' states, their bot.alert
-- calls, the budget and the error texts) and only then changes memory, so
-- a handler stopped half-way or a kill -9 sends nothing twice and loses
-- nothing.  The store (scopes gas.reading, gas.alert, gas.meta) is the
-- truth; memory (the history and the alerts' index) is rebuilt from it
-- each time the script goes live.
local cfg = require("gas_config")
if not cfg.enabled then return end

local S = require("gas_source")
local A = require("gas_alerts")
local H = require("gas_history")

local readings = metrics.counter("gas_readings", "Gas readings taken")
local failures = {
  etherscan = metrics.counter("gas_etherscan_errors", "Etherscan gas oracle calls that failed"),
  rpc = metrics.counter("gas_rpc_errors", "Gas RPC calls that failed"),
}
local ERROR_TEXTS = 20   -- distinct error texts remembered (and logged) per source
local simulated = host.mode() == "console"

local function now_ms() return os.time() * 1000 end

-- every entry of a store scope, a page at a time
local function each(scope, fn)
  local from
  repeat
    local items, nxt = store.list(scope, { from = from, limit = 1000 })
    for _, it in ipairs(items) do fn(it.key, it.value) end
    from = nxt
  until not from
end

-- Etherscan calls today (UTC) -> the meta row to write
local function count_calls(n, now)
  local day = os.date("!%Y-%m-%d", now // 1000)
  local c = store.get("gas.meta", "calls")
  if type(c) ~= "table" or c.day ~= day then c = { day = day, n = 0 } end
  c.n = c.n + n
  store.set("gas.meta", "calls", c)
end

-- Each distinct error text is logged once (until its source answers
-- again), every failure counted; a refused key tells the operators.
local function note_errors(report)
  local seen = store.get("gas.meta", "errors")
  if type(seen) ~= "table" then seen = {} end
  local changed = false
  for _, e in ipairs(report.errors) do
    failures[e.source]:inc()
    local mine = seen[e.source] or {}
    seen[e.source] = mine
    if not mine[e.text] then
      local n = 0
      for _ in pairs(mine) do n = n + 1 end
      if n < ERROR_TEXTS then
        mine[e.text], changed = true, true
        log.warn("gas: %s failed: %s%s", e.source, e.text,
                 n + 1 == ERROR_TEXTS and " (further new texts are counted, not logged)" or "")
      end
    end
    if e.kind == "key" then
      host.tell_admins("gas.key", bot.fmt("Etherscan refuses the gas API key: <i>%s</i>. " ..
        "Set a valid ETHERSCAN_API_KEY (or gas.key) and restart; meanwhile gas readings come from " ..
        "the RPC source if gas.sources has it.", e.text))
    end
  end
  for source in pairs(report.ok) do
    if seen[source] and next(seen[source]) then
      log.info("gas: %s answers again", source)
      seen[source], changed = nil, true
    end
  end
  if changed then store.set("gas.meta", "errors", seen) end
end

-- The writes of one reading r taken at now: the alerts it crossed (each
-- checked against the store, which memory may be ahead of), the reading,
-- the rows past 24 h.  -> the index changes to make once all is written.
local function write_reading(r, now)
  local ix, h = A.shared(), H.shared()
  local changes = {}
  for _, t in ipairs(A.plan(ix, H.last(h), r)) do
    local a = store.get("gas.alert", t.key)
    if not A.matches(ix, t.key, a) then
      changes[t.key] = a or false   -- (memory was wrong: take the store's)
    else
      local b, send = A.apply(a, t.action, now)
      store.set("gas.alert", t.key, b)
      changes[t.key] = b
      if send then
        local html, digest = A.message(b, r)
        local ok, err = bot.alert(a.chat, html, { priority = 1, digest = digest })
        if not ok then log.info("the gas alert %s was not sent: %s", t.key, tostring(err)) end
      end
    end
  end
  store.set("gas.reading", H.key(r.t), r)
  for _, key in ipairs(H.expired(h, now)) do store.set("gas.reading", key, nil) end
  return changes
end

local busy_until = 0   -- (a poll still waiting for its sources: the next one skips)

local loading = true   -- (the alerts are still being read: no poll yet)

local function poll()
  local now = now_ms()
  if loading or now < busy_until then return end
  busy_until = now + (3 * cfg.timeout + 5) * 1000
  local r, report
  if simulated then
    r, report = S.simulate(now), { calls = 0, errors = {}, ok = {} }
  else
    r, report = S.fetch(cfg)   -- (the only waits)
  end
  busy_until = 0
  now = now_ms()
  -- after the last wait: all writes, then memory
  if report.calls > 0 then count_calls(report.calls, now) end
  note_errors(report)
  if not r then return end
  r.t, r.at = H.minute(now), now
  local changes = write_reading(r, now)
  readings:inc()
  local ix, h = A.shared(), H.shared()
  for key, a in pairs(changes) do
    if a then A.put(ix, key, a) else A.remove(ix, key) end
  end
  H.add(h, r)
  H.prune(h, now)
end

local PAGES = 20       -- pages of 1,000 alerts one handler reads (each row costs its budget)

-- The readings of the last 24 h into memory (older rows deleted); the
-- console's simulated day where there are none.
local function load_history(now)
  local h, old = H.shared(), {}
  each("gas.reading", function(key, r)
    if type(r) == "table" and type(r.t) == "number" and r.t >= now - H.KEEP_MS then
      H.add(h, r)
    else
      old[#old + 1] = key
    end
  end)
  for _, key in ipairs(old) do store.set("gas.reading", key, nil) end
  if simulated then   -- the demo's day so far, so /gas has a history at once
    local have = {}
    for _, r in ipairs(h.list) do have[r.t] = true end
    for t = H.minute(now) - H.KEEP_MS + 60000, H.minute(now) - 60000, 60000 do
      if not have[t] then
        local r = S.simulate(t)
        r.t, r.at = t, t
        H.add(h, r)
      end
    end
  end
end

local ready

-- The alerts into the index, PAGES pages a handler (a next one goes on
-- from `from`), then the first poll.
local function load_alerts(from, got)
  for _ = 1, PAGES do
    local items, nxt = store.list("gas.alert", { from = from, limit = 1000 })
    for _, it in ipairs(items) do got[#got + 1] = { it.key, it.value } end
    from = nxt
    if not from then break end
  end
  if from then return timer.after(0, function() load_alerts(from, got) end) end
  timer.after(0, function() ready(got) end)   -- (sorting them: a budget of its own)
end

function ready(got)
  A.put_all(A.shared(), got)
  loading = false
  local sources = {}
  for _, name in ipairs(cfg.sources) do
    if name ~= "etherscan" or (cfg.key and cfg.key ~= "") then sources[#sources + 1] = name end
  end
  log.info("%d gas readings and %d gas alerts loaded; polling %s every %g s%s", #H.shared().list,
           A.count(A.shared()), simulated and "a simulated series" or table.concat(sources, ", "),
           cfg.interval, #sources < #cfg.sources and " (no Etherscan key: set ETHERSCAN_API_KEY)" or "")
  if host.mode() ~= "spec" then poll() end   -- (in specs the timer alone polls: a spec moves the clock)
end

host.on_start(function()
  load_history(now_ms())
  load_alerts(nil, {})
end)

timer.every(cfg.interval, poll)
