-- Scripts' own metrics through the real core: counters and gauges appear in
-- /metrics under candlewatch_script_, keep their values across a reload,
-- and misuse is refused with a message that says what is wrong.
describe("metrics", function()
  local function sample(name)
    return tonumber(spec.metrics():match("\n" .. name .. " ([^\n]+)"))
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/m.lua"] = [[
        local hits = metrics.counter("hits", "Hits seen.")
        local depth = metrics.gauge("depth")
        timer.every(1, function() hits:inc() depth:set(7) depth:dec(2) end)
      ]],
    }))
  end)

  it("shows a script's counter and gauge", function()
    spec.advance(3)
    assert.equals(3, sample("candlewatch_script_hits_total"))
    assert.equals(5, sample("candlewatch_script_depth"))
    assert.matches("# HELP candlewatch_script_hits_total Hits seen.", spec.metrics(), 1, true)
    assert.matches("# TYPE candlewatch_script_depth gauge", spec.metrics(), 1, true)
  end)

  it("keeps the values across a reload", function()
    spec.advance(2)
    local before = sample("candlewatch_script_hits_total")
    assert(spec.reload())
    spec.advance(1)
    assert.equals(before + 1, sample("candlewatch_script_hits_total"))
  end)

  it("refuses misuse, saying what is wrong", function()
    local cases = {
      { function() metrics.counter("Bad-Name") end, "name must be 1%-64 characters" },
      { function() metrics.counter("x_total") end, "without _total" },
      { function() metrics.gauge("hits") end, '"hits" is already a counter' },
      { function() metrics.counter("hits"):inc(-1) end, 'counter "hits" only goes up' },
      { function() metrics.counter("hits"):set(1) end, "is a counter: use inc" },
      { function() metrics.gauge("depth"):inc(0 / 0) end, "must be a finite number" },
    }
    for _, c in ipairs(cases) do
      local t = spec.run(c[1])
      assert.is_false(t.ok)
      assert.matches(c[2], t.err)
    end
  end)

  it("refuses a name that would make one of the host's families", function()
    for _, c in ipairs({ { "counter", "_total" }, { "gauge", "" } }) do
      local t = spec.run(function() metrics[c[1]]("errors") end)
      assert.is_false(t.ok)
      assert.matches('"errors" would be candlewatch_script_errors' .. c[2] .. ", which the host "
        .. "exposes itself; choose another name", t.err, 1, true)
    end
    local n = 0
    for _ in spec.metrics():gmatch("# TYPE candlewatch_script_errors") do n = n + 1 end
    assert.equals(1, n)
  end)

  it("shows every live script's error count, zero included", function()
    assert.matches('candlewatch_script_errors_total{script="commands/m.lua"} 0', spec.metrics(), 1, true)
  end)
end)

describe("metrics.histogram", function()
  local BOUNDS = { 0.1, 0.5, 1 }
  local SEEN = { 0.05, 0.1, 0.3, 2, 0.7, -1 }

  -- The exposition's lines of the family name, in order.
  local function family(name)
    local lines = {}
    for line in spec.metrics():gmatch("[^\n]+") do
      if line:find(name, 1, true) then lines[#lines + 1] = line end
    end
    return lines
  end

  -- The histogram's samples now: { [le] = n, count =, sum = } (the host
  -- keeps script metrics from one test to the next, as across reloads).
  local function samples()
    local t = {}
    local text = spec.metrics()
    for le, n in text:gmatch('\ncandlewatch_script_fetch_seconds_bucket{le="([^"]+)"} (%d+)') do
      t[le] = tonumber(n)
    end
    t.sum = tonumber(text:match("\ncandlewatch_script_fetch_seconds_sum (%S+)"))
    t.count = tonumber(text:match("\ncandlewatch_script_fetch_seconds_count (%d+)"))
    return t
  end

  local function expected(bounds, seen)
    local want, sum = {}, 0
    for _, b in ipairs(bounds) do
      local n = 0
      for _, v in ipairs(seen) do if v <= b then n = n + 1 end end
      want[#want + 1] = { le = b, n = n }
    end
    for _, v in ipairs(seen) do sum = sum + v end
    return want, sum
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/h.lua"] = [[
        local fetch = metrics.histogram("fetch_seconds", "Fetch time.", { 0.1, 0.5, 1 })
        metrics.histogram("waits")
        timer.every(1, function() fetch:observe(0.05) end)
      ]],
    }))
  end)

  -- Observes the list through the script's histogram: its timer observes
  -- 0.05 each second (the first of SEEN), the rest here by the same name.
  local function observe(list)
    spec.advance(1)
    assert.equals(0.05, list[1])
    assert.is_true(spec.run(function()
      local h = metrics.histogram("fetch_seconds", "Fetch time.", BOUNDS)
      for i = 2, #list do h:observe(list[i]) end
    end).ok)
  end

  it("writes cumulative buckets, +Inf, _sum and _count", function()
    local before = samples()
    observe(SEEN)
    local lines = family("candlewatch_script_fetch_seconds")
    assert.equals("# HELP candlewatch_script_fetch_seconds Fetch time.", lines[1])
    assert.equals("# TYPE candlewatch_script_fetch_seconds histogram", lines[2])
    local want, sum = expected(BOUNDS, SEEN)
    for i, w in ipairs(want) do
      local le, n = lines[2 + i]:match('^candlewatch_script_fetch_seconds_bucket{le="([^"]+)"} (%d+)$')
      assert.equals(w.le, tonumber(le))
      assert.equals(w.n, tonumber(n) - before[le])
    end
    local after = samples()
    assert.matches('^candlewatch_script_fetch_seconds_bucket{le="%+Inf"} %d+$', lines[#BOUNDS + 3])
    assert.equals(#SEEN, after["+Inf"] - before["+Inf"])
    assert.matches("^candlewatch_script_fetch_seconds_sum ", lines[#BOUNDS + 4])
    assert.is_true(math.abs(after.sum - before.sum - sum) < 1e-9)
    assert.matches("^candlewatch_script_fetch_seconds_count ", lines[#BOUNDS + 5])
    assert.equals(#SEEN, after.count - before.count)
    assert.equals(#BOUNDS + 5, #lines)
  end)

  it("has buckets for seconds by default, each bound written as given", function()
    local lines = family("candlewatch_script_waits_bucket")
    local les = {}
    for _, line in ipairs(lines) do les[#les + 1] = line:match('le="([^"]+)"') end
    assert.same({ "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf" },
                les)
    assert.matches("candlewatch_script_waits_count 0", spec.metrics(), 1, true)
  end)

  it("is the same metric after a reload", function()
    local before = samples()
    observe({ 0.05, 3 })
    assert(spec.reload())
    observe({ 0.05, 0.4 })
    local after = samples()
    for _, w in ipairs(expected(BOUNDS, { 0.05, 3, 0.05, 0.4 })) do
      local le = tostring(w.le):gsub("%.0$", "")
      assert.equals(w.n, after[le] - before[le])
    end
    assert.equals(4, after.count - before.count)
  end)

  it("refuses bad buckets and names with a sentence", function()
    local many = {}
    for i = 1, 31 do many[i] = i end
    local H = metrics.histogram
    local cases = {
      { function() H("a", "x", {}) end, "buckets must be 1 to 30 numbers (+Inf is added), got 0" },
      { function() H("a", "x", many) end, "buckets must be 1 to 30 numbers (+Inf is added), got 31" },
      { function() H("a", "x", "1,2") end, "buckets must be a list of numbers, got string" },
      { function() H("a", "x", { 1, 1 }) end, "buckets must be in increasing order: bucket 2 (1.0) is not above bucket 1 (1.0)" },
      { function() H("a", "x", { 2, 1 }) end, "bucket 2 (1.0) is not above bucket 1 (2.0)" },
      { function() H("a", "x", { 1, "2" }) end, "bucket 2 must be a finite number (+Inf is added), got string" },
      { function() H("a", "x", { math.huge }) end, "bucket 1 must be a finite number (+Inf is added), got an infinity or NaN" },
      { function() H("a", "x", { 0 / 0 }) end, "bucket 1 must be a finite number" },
      { function() H("Bad-Name") end, "name must be 1-64 characters" },
      { function() H("x_total") end, "without _total" },
      { function() H("errors") end, '"errors" would be candlewatch_script_errors, which the host exposes itself' },
      { function() metrics.counter("fetch_seconds") end, '"fetch_seconds" is already a histogram' },
      { function() H("fetch_seconds", "x", { 0.1, 0.5 }) end,
        '"fetch_seconds" already has other buckets (3 of them, from 0.1 to 1.0): they stay until a restart' },
      { function() metrics.gauge("fetch_seconds_count") end,
        '"fetch_seconds_count" and the histogram "fetch_seconds" would both write candlewatch_script_fetch_seconds_count' },
      { function() H("waits_sum") end, "would both write candlewatch_script_waits_sum" },
      { function() H("fetch_seconds", "Fetch time.", BOUNDS):observe(0 / 0) end, "histogram:observe(v): v must be a finite number" },
    }
    for _, c in ipairs(cases) do
      local t = spec.run(c[1])
      assert.is_false(t.ok)
      assert.matches(c[2], t.err, 1, true)
    end
    assert.is_true(spec.run(function() H("fetch_seconds", "again", { 0.1, 0.5, 1 }) end).ok)
    assert.is_nil(spec.metrics():match("candlewatch_script_a_"))
  end)
end)
