-- /rate's rates in memory, so that no user waits for a source:
--   * an entry per kind of rate ("usdt": Rapira's USDT/RUB; "fiat": the
--     fiat rates per USD), each the last good answer with its time; fresh
--     for cfg.ttl seconds, then still shown with its age up to
--     cfg.stale_max (and said to be old), then not at all; at most
--     cfg.cache_entries entries (least recently used out first);
--   * the last good answers also in the store ("rate.last"), so a restart
--     starts with them (and their age);
--   * refreshed in the background: a read of an entry that is not fresh
--     starts a refresh in a handler of its own (timer.after(0)) and answers
--     at once from what is there; tick() (the preloader, on a timer)
--     refreshes ahead of expiry what the popular pairs need (cfg.preload
--     and the pairs used in the last hour);
--   * a circuit breaker per source: cfg.breaker_failures failures in a row
--     open it (no request at all), after cfg.breaker_pause seconds one trial
--     request (half-open) closes it again or opens it for another pause;
--   * /metrics: rate_<source>_latency_seconds (histogram), _errors_total,
--     _breaker (0 closed, 1 half-open, 2 open), rate_cache_hits/misses_total;
--     /health: a source failing for cfg.health_after seconds is "degraded".
local calc = require("rate_calc")

local M = {}
local cfg, sources = nil, {}
local entries, n_entries, clock = {}, 0, 0   -- kind -> {value, t, source, label, used}
local breakers, busy, used = {}, {}, {}     -- name -> breaker; kind -> since when; pair -> last use
local failing = {}                           -- kind -> true: its last refresh found no source answering
local m_hits = metrics.counter("rate_cache_hits", "/rate answers from a fresh cached rate")
local m_misses = metrics.counter("rate_cache_misses", "/rate reads of a missing or expired rate")
local m = {}                                 -- per source: latency, errors, breaker
local health = {}                            -- name -> the status last told /health
local KINDS = { "usdt", "fiat" }
local POPULAR_FOR = 3600                     -- a pair used this recently is kept warm

local function now() return os.time() end

-- Whether a refresh of the kind runs (one stopped by the host's limits
-- never cleared its mark: the mark expires after the sources' timeouts).
local function is_busy(kind)
  return busy[kind] and now() - busy[kind] <= cfg.timeout * #sources + 5
end

-- Sets the sources (rate_source.list's) and the config; at a top level.
function M.setup(c, list)
  cfg, sources = c, list
  for _, s in ipairs(list) do
    breakers[s.name] = breakers[s.name] or { state = "closed", fails = 0 }
    m[s.name] = {
      errors = metrics.counter("rate_" .. s.name .. "_errors", s.label .. ": failed requests and refused answers"),
      breaker = metrics.gauge("rate_" .. s.name .. "_breaker", s.label .. "'s circuit breaker: 0 closed, 1 half-open, 2 open"),
      latency = metrics.histogram("rate_" .. s.name .. "_latency_seconds", s.label .. ": seconds to an answer"),
    }
  end
end

function M.breaker(name) return breakers[name] end
function M.sources() return sources end

-- The entry of a kind and its age in seconds, without side effects.
function M.peek(kind)
  local e = entries[kind]
  if not e then return nil end
  return e, now() - e.t
end

local function put(kind, e)
  if not entries[kind] then
    n_entries = n_entries + 1
    while n_entries > cfg.cache_entries do   -- (the least recently used goes)
      local old, oldest
      for k, v in pairs(entries) do
        if k ~= kind and (not oldest or v.used < oldest) then old, oldest = k, v.used end
      end
      if not old then break end
      entries[old], n_entries = nil, n_entries - 1
    end
  end
  clock = clock + 1
  e.used = clock
  entries[kind] = e
end

-- ---- the breaker ----
local BSTATE = { closed = 0, half_open = 1, open = 2 }

local function allowed(b)
  if b.state == "open" and now() - b.opened_at >= cfg.breaker_pause then b.state = "half_open" end
  return b.state ~= "open"
end

local function tell_health(s, b)
  local status, reason = "ok", nil
  if b.down_since and now() - b.down_since >= cfg.health_after then
    status = "degraded"
    reason = string.format("%s has failed for %d min (%s)", s.label, (now() - b.down_since) // 60,
                           b.last_err or "?")
  end
  if health[s.name] ~= status then
    host.health("rate_" .. s.name, status, reason)
    health[s.name] = status
  end
end

local function result(s, ok, err)
  local b = breakers[s.name]
  if ok then
    b.state, b.fails, b.down_since, b.last_err = "closed", 0, nil, nil
  else
    b.fails, b.last_err = b.fails + 1, err
    b.down_since = b.down_since or now()
    if b.state == "half_open" or b.fails >= cfg.breaker_failures then
      b.state, b.opened_at = "open", now()
    end
    m[s.name].errors:inc()
    log.warn("rate: %s: %s", s.label, err)
    if tostring(err):find("key is refused", 1, true) then   -- (not a passing fault)
      host.tell_admins("rate." .. s.name .. ".key", bot.fmt("/rate: %s refuses the API key (%s). " ..
        "Check rate.fiat_key (APILAYER_KEY); meanwhile the keyless fallback is used.", s.label, err))
    end
  end
  m[s.name].breaker:set(BSTATE[b.state])
  tell_health(s, b)
end

-- Asks the kind's sources in order (skipping those whose breaker is open)
-- until one answers; keeps its answer.  A handler (it waits).  true, or
-- nil and the last reason.
function M.refresh(kind)
  local why = "no source"
  busy[kind] = now()
  for _, s in ipairs(sources) do
    local b = breakers[s.name]
    if s.kind == kind and allowed(b) then
      local t0 = host.clock()
      local ok, v, err = pcall(s.get)
      if not ok then v, err = nil, "failed: " .. tostring(v):sub(1, 120) end
      m[s.name].latency:observe(host.clock() - t0)
      result(s, v ~= nil, err)
      if v then
        put(kind, { value = v, t = now(), source = s.name, label = s.label })
        busy[kind], failing[kind] = nil, nil   -- (before the write, which raises when the database fails)
        local saved = {}
        for k, d in pairs(v) do saved[k] = tostring(d) end
        store.set("rate.last", kind, { t = now(), source = s.name, label = s.label, value = saved })
        return true
      end
      why = err
    elseif s.kind == kind then
      why = s.label .. " is paused after repeated failures"
    end
  end
  busy[kind], failing[kind] = nil, true
  return nil, why
end

-- Starts a refresh of the kind in a handler of its own unless one runs.
function M.kick(kind)
  if is_busy(kind) then return end
  busy[kind] = now()
  if not timer.after(0, function() M.refresh(kind) end) then busy[kind] = nil end
end

-- The last good answers saved before a restart (or a reload), for what
-- memory lacks.  A handler.
function M.load_saved()
  for _, kind in ipairs(KINDS) do
    local s = not entries[kind] and store.get("rate.last", kind)
    if type(s) == "table" and type(s.value) == "table" and math.type(s.t) == "integer" then
      local v, ok = {}, true
      for k, text in pairs(s.value) do
        local good, d = pcall(decimal.new, text)
        if good then v[k] = d else ok = false end
      end
      if ok then put(kind, { value = v, t = s.t, source = s.source, label = s.label }) end
    end
  end
end

-- Records that a pair is in use (keeps it warm for an hour).
function M.touch(give, get)
  if calc.pair_ok(give, get) then used[give .. "/" .. get] = now() end
end

-- The kinds the popular pairs need.
local function wanted()
  local kinds, t = {}, now()
  local function add(pair)
    local give, get = pair:match("^(%u+)/(%u+)$")
    if give and calc.pair_ok(give, get) then
      for _, k in ipairs(calc.sources(give, get, cfg.cross)) do kinds[k] = true end
    end
  end
  for _, p in ipairs(cfg.preload or {}) do add(p) end
  for p, at in pairs(used) do
    if t - at <= POPULAR_FOR then add(p) else used[p] = nil end
  end
  return kinds
end

-- The preloader's turn (a handler, on a timer): refreshes ahead of expiry
-- (from 80 % of the TTL on) each kind the popular pairs need.
function M.tick()
  local want = wanted()
  for _, kind in ipairs(KINDS) do
    local e = entries[kind]
    if want[kind] and not is_busy(kind) and (not e or now() - e.t >= cfg.ttl * 4 // 5) then
      M.refresh(kind)
    end
  end
  for _, s in ipairs(sources) do tell_health(s, breakers[s.name]) end
end

-- The pair's base rate from memory, never waiting:
--   {base =, path =, age =, stale = bool, labels = "Rapira + APILayer"}
--   (stale: older than the TTL, or its source failed since: said either way)
--   or nil, a sentence (no rate, or only one too old to show).
-- Counts a hit when every rate it reads is fresh, else a miss and starts
-- their refresh.
function M.rate(give, get)
  M.touch(give, get)
  local values, age, labels, fresh, down = {}, 0, {}, true, false
  for _, kind in ipairs(calc.sources(give, get, cfg.cross)) do
    local e = entries[kind]
    local a = e and now() - e.t
    if not e or a >= cfg.ttl then fresh = false; M.kick(kind) end
    if failing[kind] then down = true end
    if e then
      clock = clock + 1
      e.used = clock
      values[kind], labels[#labels + 1] = e.value, e.label
      if a > age then age = a end
    end
  end
  if fresh then m_hits:inc() else m_misses:inc() end
  if age > cfg.stale_max then
    return nil, "The last rate the sources gave is too old to use; they have not answered since. Try again in a minute."
  end
  local base, err = calc.base(give, get, values.usdt, values.fiat, cfg.cross)
  if not base then
    return nil, "No rate is available right now (" .. err .. "): the sources have not answered yet. Try again in a few seconds."
  end
  return { base = base, path = err, age = age, stale = not fresh or down, labels = table.concat(labels, " + ") }
end

-- For the soak spec: how many entries and pairs are kept.
function M.sizes()
  local n = 0
  for _ in pairs(used) do n = n + 1 end
  return n_entries, n
end

return M
