-- scripts/lib/gas_alerts.lua: once per crossing, hysteresis, the quiet
-- period, and the sorted-level index touching only the crossed alerts, on
-- scripted series of readings.
local A
local function read(path) return assert(io.open(path)):read("a") end

-- A chat's alerts driven through the index the way scripts/gas.lua does:
-- plan, apply, put back.  -> an object: add(key, alert), feed(values) ->
-- the keys that fired for each reading.
local function world(lane)
  local w = { ix = A.new_index(), alerts = {}, now = 0 }
  function w.add(key, a, current)
    a.lane = a.lane or lane
    a.armed = A.fresh_armed(a, current)
    w.alerts[key] = a
    A.put(w.ix, key, a)
    return a
  end
  function w.reading(v)
    local r = { [lane] = v }
    local fired = {}
    w.now = w.now + 60000
    for _, t in ipairs(A.plan(w.ix, w.prev, r)) do
      local a = w.alerts[t.key]
      assert.is_true(A.matches(w.ix, t.key, a))
      local b, send = A.apply(a, t.action, w.now)
      w.alerts[t.key] = b
      A.put(w.ix, t.key, b)
      if send then fired[#fired + 1] = t.key end
    end
    w.prev = r
    table.sort(fired)
    return fired
  end
  -- the keys fired at each value of the series, as one list of lists
  function w.feed(values)
    local out = {}
    for i, v in ipairs(values) do out[i] = w.reading(v) end
    return out
  end
  return w
end

describe("gas_alerts", function()
  before_each(function()
    assert(spec.use_scripts({ ["lib/gas_alerts.lua"] = read("scripts/lib/gas_alerts.lua") }))
    A = require("gas_alerts")
  end)

  it("fires 'below' once when the lane crosses to or under the level, again only after L + 5 %", function()
    local w = world("fast")
    w.add("c:1", { dir = "below", level = 20 })
    w.reading(25)
    -- margin: 1 gwei; 20 -> fires, hovering under 21 does not re-arm
    assert.same({ {}, { "c:1" }, {}, {}, {}, {}, {}, {} },
                w.feed({ 21, 20, 20.5, 19, 21, 20, 19.9, 20.9 }))
    -- above 21 re-arms; the next crossing fires
    assert.same({ {}, {}, { "c:1" } }, w.feed({ 21.01, 20.01, 18 }))
    -- a jump from far above to far below is one crossing
    assert.same({ {}, { "c:1" } }, w.feed({ 50, 1 }))
  end)

  it("fires 'above' once when the lane reaches the level, again only after L - 5 %", function()
    local w = world("base")
    w.add("c:2", { dir = "above", level = 40 })
    w.reading(30)
    assert.same({ {}, { "c:2" }, {}, {}, {}, {}, { "c:2" } }, w.feed({ 39.99, 40, 45, 38.5, 39.9, 37.99, 40.01 }))
  end)

  it("uses a margin of at least 0.01 gwei for tiny levels", function()
    assert.equals(0.01, A.margin(0.05))
    assert.equals(1, A.margin(20))
    local w = world("safe")
    w.add("c:3", { dir = "below", level = 0.1 })
    w.reading(0.2)
    assert.same({ { "c:3" }, {}, {}, { "c:3" } }, w.feed({ 0.1, 0.109, 0.111, 0.09 }))
  end)

  it("starts an alert whose condition already holds disarmed", function()
    local w = world("fast")
    local a = w.add("c:4", { dir = "below", level = 10 }, 8)
    assert.is_false(a.armed)
    w.reading(8)
    assert.same({ {}, {}, { "c:4" } }, w.feed({ 9, 10.6, 10 }))
    assert.is_true(w.add("c:5", { dir = "below", level = 10 }, 10.2).armed)
    assert.is_true(w.add("c:6", { dir = "above", level = 10 }, nil).armed)   -- no reading yet
  end)

  it("holds a crossing within the quiet period back (disarming) and sends the next one after it", function()
    local w = world("propose")
    w.add("c:7", { dir = "below", level = 20, quiet = 600 })   -- 10 minutes
    w.reading(25)
    local fired = w.feed({ 19, 22, 19, 22, 19, 22, 22, 22, 22, 22, 22, 19 })
    -- minute 1 fires; the crossings at minutes 3 and 5 are inside 10 minutes;
    -- minute 12 is 11 minutes after the one sent
    assert.same({ { "c:7" }, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, { "c:7" } }, fired)
    assert.is_false(w.alerts["c:7"].armed)
  end)

  it("keeps lanes and directions apart, and a missing lane compares nothing", function()
    local ix = A.new_index()
    local function put(key, lane, dir, level)
      A.put(ix, key, { lane = lane, dir = dir, level = level, armed = true })
    end
    put("a", "fast", "below", 10)
    put("b", "safe", "below", 10)
    put("c", "fast", "above", 10)
    local plan = A.plan(ix, { fast = 12, safe = 12 }, { fast = 9, safe = 11 })
    assert.same({ { key = "a", action = "fire", lane = "fast", value = 9 } }, plan)
    assert.same({}, A.plan(ix, { fast = 12 }, { propose = 5 }))
    assert.same({}, A.plan(ix, nil, { fast = 5 }))
  end)

  it("leaves paused alerts out and finds resumed ones again", function()
    local ix = A.new_index()
    A.put(ix, "p", { lane = "fast", dir = "below", level = 10, armed = true, paused = true })
    assert.same({}, A.step(ix, "fast", 12, 9))
    A.put(ix, "p", { lane = "fast", dir = "below", level = 10, armed = true })
    assert.equals(1, #A.step(ix, "fast", 12, 9))
    A.remove(ix, "p")
    assert.same({}, A.step(ix, "fast", 12, 9))
    assert.equals(0, A.count(ix))
  end)

  it("puts many alerts at once into the same order as one by one", function()
    local one, all, items = A.new_index(), A.new_index(), {}
    for i = 1, 500 do
      local a = { lane = ({ "fast", "base" })[i % 2 + 1], dir = i % 3 == 0 and "above" or "below",
                  level = (i * 7919) % 97 / 4 + 1, armed = i % 5 ~= 0, paused = i % 11 == 0 }
      items[#items + 1] = { "k" .. i, a }
      A.put(one, "k" .. i, a)
    end
    A.put_all(all, items)
    assert.equals(A.count(one), A.count(all))
    for name, list in pairs(one.lists) do
      local keys_one, keys_all = {}, {}
      for i, e in ipairs(list) do keys_one[i] = e.key end
      for i, e in ipairs(all.lists[name] or {}) do keys_all[i] = e.key end
      assert.same(keys_one, keys_all)
    end
    assert.same(A.step(one, "fast", 30, 2), A.step(all, "fast", 30, 2))
  end)

  it("touches only the alerts whose level the reading crossed, among 20,000", function()
    local ix = A.new_index()
    local n = 0
    for i = 1, 10000 do   -- levels 0.01 .. 100 gwei, both directions, armed and not
      local level = i / 100
      n = n + 1
      A.put(ix, "b" .. i, { lane = "fast", dir = "below", level = level, armed = i % 2 == 0 })
      A.put(ix, "a" .. i, { lane = "fast", dir = "above", level = level, armed = i % 2 == 1 })
    end
    assert.equals(20000, A.count(ix))
    ix.examined = 0
    -- 30.5 -> 30.0: armed "below" alerts with 30.0 <= L < 30.5 (even i: 3000..3048, 25 of them)
    -- and disarmed "above" alerts with 30.0 < L - m <= 30.5 (m = 5 %: L in (31.58, 32.11], even i)
    local plan = A.step(ix, "fast", 30.5, 30)
    local fire, rearm = 0, 0
    for _, t in ipairs(plan) do
      if t.action == "fire" then
        fire = fire + 1
        local i = tonumber(t.key:sub(2))
        assert.equals("b", t.key:sub(1, 1))
        assert.is_true(i >= 3000 and i < 3050 and i % 2 == 0, t.key)
      else
        rearm = rearm + 1
        local i = tonumber(t.key:sub(2))
        local R = i / 100 - A.margin(i / 100)
        assert.equals("a", t.key:sub(1, 1))
        assert.is_true(R > 30 and R <= 30.5 and i % 2 == 0, t.key)
      end
    end
    assert.equals(25, fire)
    -- every disarmed "above" alert with R in (30, 30.5] by brute force
    local want = 0
    for i = 2, 10000, 2 do
      local R = i / 100 - A.margin(i / 100)
      if R > 30 and R <= 30.5 then want = want + 1 end
    end
    assert.equals(want, rearm)
    assert.equals(#plan, ix.examined)   -- nothing outside the range was looked at
    ix.examined = 0
    assert.same({}, A.step(ix, "fast", 30.001, 30.002))
    assert.equals(0, ix.examined)
  end)

  it("reads typed levels in gwei and says what to send otherwise", function()
    assert.equals(7.5, A.parse_level("7.5"))
    assert.equals(7.5, A.parse_level(" 7,5 gwei "))
    assert.equals(12, A.parse_level("12"))
    assert.equals(0.125, A.parse_level(".125"))
    assert.equals(7.13, A.parse_level("7.125"))
    for _, bad in ipairs({ "", "abc", "-3", "0", "1e3", "0x10", "100001", "7.5.1", "nan", "inf" }) do
      local v, err = A.parse_level(bad)
      assert.is_nil(v, bad)
      assert.equals("Send the level in gwei as a number from 0.001 to 100000, like 7.5.", err)
    end
    assert.equals("Fast below 7.5 gwei", A.describe({ lane = "fast", dir = "below", level = 7.5 }))
    assert.equals("Base fee above 0.125 gwei", A.describe({ lane = "base", dir = "above", level = 0.125 }))
  end)

  it("words an alert with the reading's lanes and source", function()
    local r = { safe = 7.1, propose = 7.5, fast = 7.9, base = 6.8, block = 21000123, source = "etherscan" }
    local html, digest = A.message({ lane = "fast", dir = "below", level = 8 }, r)
    assert.equals("⛽ <b>Gas: Fast below 8 gwei</b>\nFast is 7.9 gwei now.\n" ..
                  "Safe 7.1 · Standard 7.5 · Fast 7.9 · Base fee 6.8 gwei\n" ..
                  "<i>From Etherscan, block 21000123.</i> /gas", html)
    assert.equals("Gas fast 7.9 gwei (below 8)", digest)
    assert.equals("Standard 21.5 gwei", A.lanes_line({ propose = 21.5, source = "rpc" }))
  end)
end)
