-- The last 24 hours of gas readings, one a minute (the minute's last), in
-- memory for /gas: low, average and high with when, the trend, a
-- sparkline.  The store (scope gas.reading, key H.key(t)) keeps the same
-- rows; scripts/gas.lua writes and prunes them, and reloads them here.
local H = {}

H.KEEP_MS = 24 * 3600 * 1000

function H.new() return { list = {} } end

-- The history this generation's scripts share (scripts/gas.lua fills it).
local shared = H.new()
function H.shared() return shared end

function H.minute(ms) return ms // 60000 * 60000 end
function H.key(t) return string.format("%013d", t) end

-- Adds a reading {t = minute start ms, lanes...}: a second one of the
-- same minute replaces the first; kept sorted by t.
function H.add(h, r)
  local list = h.list
  local i = #list
  while i >= 1 and list[i].t > r.t do i = i - 1 end
  if i >= 1 and list[i].t == r.t then list[i] = r else table.insert(list, i + 1, r) end
end

function H.last(h) return h.list[#h.list] end

-- The store keys of the readings older than 24 h before now (changes nothing).
function H.expired(h, now)
  local list, cut, keys = h.list, now - H.KEEP_MS, {}
  while #keys < #list and list[#keys + 1].t < cut do keys[#keys + 1] = H.key(list[#keys + 1].t) end
  return keys
end

-- Drops the readings older than 24 h before now; -> their store keys.
function H.prune(h, now)
  local list, keys = h.list, H.expired(h, now)
  local n = #keys
  if n > 0 then table.move(list, n + 1, #list + n, 1) end   -- (the tail beyond is nil)
  return keys
end

-- The lane over the last 24 h: {low =, low_t =, high =, high_t =, avg =, n =} | nil
function H.stats(h, lane, now)
  local cut, s = now - H.KEEP_MS, nil
  for _, r in ipairs(h.list) do
    local v = r[lane]
    if v and r.t >= cut then
      if not s then s = { low = v, low_t = r.t, high = v, high_t = r.t, sum = 0, n = 0 } end
      if v < s.low then s.low, s.low_t = v, r.t end
      if v > s.high then s.high, s.high_t = v, r.t end
      s.sum, s.n = s.sum + v, s.n + 1
    end
  end
  if s then s.avg = s.sum / s.n end
  return s
end

local function average(h, lane, from, to)
  local sum, n = 0, 0
  for i = #h.list, 1, -1 do
    local r = h.list[i]
    if r.t < from then break end
    if r.t < to and r[lane] then sum, n = sum + r[lane], n + 1 end
  end
  return n > 0 and sum / n or nil
end

-- The last 15 minutes' average against the 45 minutes before:
-- "rising" / "falling" (by 5 % or more) / "steady", and the change in
-- percent; nil without readings in both.
function H.trend(h, lane, now)
  local recent = average(h, lane, now - 15 * 60000, now + 1)
  local before = average(h, lane, now - 60 * 60000, now - 15 * 60000)
  if not recent or not before or before <= 0 then return nil end
  local pct = (recent - before) / before * 100
  if pct >= 5 then return "rising", pct end
  if pct <= -5 then return "falling", pct end
  return "steady", pct
end

local BARS = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }

-- One character per hour of the last 24 h (its average; "·" for an hour
-- without readings), lowest to highest of the day.
function H.sparkline(h, lane, now, width)
  width = width or 24
  local span = H.KEEP_MS / width
  local sums, ns = {}, {}
  for i = 1, width do sums[i], ns[i] = 0, 0 end
  for _, r in ipairs(h.list) do
    local age = now - r.t
    if r[lane] and age >= 0 and age < H.KEEP_MS then
      local b = width - math.floor(age / span)
      sums[b], ns[b] = sums[b] + r[lane], ns[b] + 1
    end
  end
  local lo, hi = math.huge, -math.huge
  for i = 1, width do
    if ns[i] > 0 then
      sums[i] = sums[i] / ns[i]
      lo, hi = math.min(lo, sums[i]), math.max(hi, sums[i])
    end
  end
  local out = {}
  for i = 1, width do
    if ns[i] == 0 then out[i] = "·"
    elseif hi - lo < 1e-9 then out[i] = BARS[4]
    else out[i] = BARS[1 + math.floor((sums[i] - lo) / (hi - lo) * 7 + 0.5)] end
  end
  return table.concat(out)
end

return H
