-- scripts/lib/gas_history.lua: 24 h of one-minute readings, pruned as
-- they age; low / average / high with when; the trend; the sparkline.
local H
local function read(path) return assert(io.open(path)):read("a") end
local MIN = 60000

describe("gas_history", function()
  before_each(function()
    assert(spec.use_scripts({ ["lib/gas_history.lua"] = read("scripts/lib/gas_history.lua") }))
    H = require("gas_history")
  end)

  it("keeps the last reading of each minute, in time order, under zero-padded keys", function()
    local h = H.new()
    H.add(h, { t = 2 * MIN, fast = 1 })
    H.add(h, { t = 3 * MIN, fast = 2 })
    H.add(h, { t = 3 * MIN, fast = 3 })   -- the same minute again
    H.add(h, { t = 1 * MIN, fast = 4 })   -- late
    local ts, vs = {}, {}
    for i, r in ipairs(h.list) do ts[i], vs[i] = r.t, r.fast end
    assert.same({ MIN, 2 * MIN, 3 * MIN }, ts)
    assert.same({ 4, 1, 3 }, vs)
    assert.equals(3 * MIN, H.last(h).t)
    assert.equals("0000000060000", H.key(MIN))
    assert.is_true(H.key(9 * MIN) < H.key(10 * MIN))
    assert.equals(120000, H.minute(179999))
  end)

  it("prunes what is older than 24 h and names the store keys it dropped", function()
    local h = H.new()
    local day = 24 * 60 * MIN
    for m = 0, 24 * 60 + 9 do H.add(h, { t = m * MIN, propose = m }) end
    local now = (24 * 60 + 9) * MIN
    assert.equals(9, #H.expired(h, now))
    assert.equals(24 * 60 + 10, #h.list)   -- (expired changes nothing)
    local dropped = H.prune(h, now)
    assert.equals(9, #dropped)
    assert.equals(H.key(0), dropped[1])
    assert.equals(H.key(8 * MIN), dropped[9])
    assert.equals(24 * 60 + 1, #h.list)
    assert.equals(now - day, h.list[1].t)
    assert.same({}, H.prune(h, now))
  end)

  it("gives the day's low, average and high of a lane with when they were", function()
    local h = H.new()
    local now = 1000 * MIN
    H.add(h, { t = now - 25 * 60 * MIN, propose = 1 })   -- older than 24 h: not counted
    H.add(h, { t = now - 600 * MIN, propose = 12 })
    H.add(h, { t = now - 300 * MIN, propose = 30, fast = 40 })
    H.add(h, { t = now - 100 * MIN, propose = 6 })
    H.add(h, { t = now, base = 3 })                       -- no standard lane (eth_gasPrice)
    local s = H.stats(h, "propose", now)
    assert.equals(6, s.low)
    assert.equals(now - 100 * MIN, s.low_t)
    assert.equals(30, s.high)
    assert.equals(now - 300 * MIN, s.high_t)
    assert.equals(16, s.avg)
    assert.equals(3, s.n)
    assert.is_nil(H.stats(h, "safe", now))
  end)

  it("calls the trend from the last 15 minutes against the 45 before", function()
    local function trend(before, recent)
      local h, now = H.new(), 500 * MIN
      for m = 59, 16, -1 do H.add(h, { t = now - m * MIN, fast = before }) end
      for m = 14, 0, -1 do H.add(h, { t = now - m * MIN, fast = recent }) end
      return H.trend(h, "fast", now)
    end
    local word, pct = trend(10, 12)
    assert.equals("rising", word)
    assert.near(20, pct, 1e-9)
    assert.equals("falling", (trend(10, 9)))
    assert.equals("steady", (trend(10, 10.4)))
    assert.is_nil(H.trend(H.new(), "fast", 0))
    local h = H.new()
    H.add(h, { t = 100 * MIN, fast = 3 })   -- nothing from before
    assert.is_nil(H.trend(h, "fast", 100 * MIN))
  end)

  it("draws one bar per hour, lowest to highest, a dot for an hour without readings", function()
    local h, now = H.new(), 48 * 60 * MIN
    for hour = 0, 23 do
      if hour ~= 5 then
        for m = 0, 59, 10 do   -- hour 0 is the oldest; its value: the hour, 10..33
          H.add(h, { t = now - (24 - hour) * 60 * MIN + m * MIN + MIN, fast = 10 + hour })
        end
      end
    end
    local line = H.sparkline(h, "fast", now)
    assert.equals(24, utf8.len(line))
    local chars = {}
    for _, c in utf8.codes(line) do chars[#chars + 1] = utf8.char(c) end
    assert.equals("▁", chars[1])
    assert.equals("█", chars[24])
    assert.equals("·", chars[6])
    for i = 2, 24 do
      if i ~= 6 and i ~= 7 then assert.is_true(chars[i] >= chars[i - 1], line) end
    end
    local flat = H.new()
    H.add(flat, { t = now, fast = 5 })
    assert.equals(string.rep("·", 23) .. "▄", H.sparkline(flat, "fast", now))
  end)
end)
