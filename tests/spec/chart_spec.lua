-- The chart module inside the real host: a PNG from the market's own
-- candles (its signature, its size from the IHDR chunk), and each wrong
-- field refused with an error naming it.
local t0 = 1767225600000   -- 2026-01-01 00:00 UTC

-- width, height of a PNG (the IHDR chunk follows the 8-byte signature)
local function png_size(png)
  assert.equals("\137PNG\r\n\26\n", png:sub(1, 8))
  assert.equals("IHDR", png:sub(13, 16))
  local w, h = string.unpack(">I4I4", png, 17)
  return w, h
end

local function some_candles(n)
  local list = {}
  for i = 1, n do
    local o = 100 + math.sin(i / 3) * 5
    local c = o + math.cos(i) * 2
    list[i] = { open_time = t0 + (i - 1) * 60000, open = o, close = c,
                high = math.max(o, c) + 1, low = math.min(o, c) - 1, volume = 10 + i }
  end
  return list
end

describe("chart.render", function()
  before_each(function() assert(spec.use_scripts({ ["x.lua"] = "" })) end)

  it("draws the market's candles, newest first as candles.last gives them", function()
    for i = 0, 59 do
      spec.candle{ symbol = "BTCUSDT", interval = "1m", open_time = t0 + i * 60000,
                   open = 100 + i, close = 101 + i, high = 102 + i, low = 99 + i,
                   volume = 5, quote_volume = 500, closed = true }
    end
    local png = spec.call(function()
      local list = candles.last("BTCUSDT", "1m", 60)
      local ema = {}
      for i, c in ipairs(list) do ema[i] = i > 50 and false or c.close end
      return chart.render{ candles = list, title = "BTCUSDT 1m", theme = "light",
                           series = { { values = ema, label = "EMA" } },
                           lines = { { price = 130, label = "alert" } },
                           highlight = list[1].open_time }
    end)
    assert.same({ 800, 500 }, { png_size(png) })
  end)

  it("takes the size asked for, and draws line charts over times", function()
    local x, v = {}, {}
    for i = 1, 30 do x[i], v[i] = t0 + i * 3600000, i * i end
    local png = spec.call(function()
      return chart.render{ width = 640, height = 360, x = x, series = { { values = v } } }
    end)
    assert.same({ 640, 360 }, { png_size(png) })
    png = spec.call(function()
      return chart.render{ candles = some_candles(40), lower = { min = 0, max = 100, guides = { 30, 70 } },
                           series = { { values = (function()
                             local r = {}
                             for i = 1, 40 do r[i] = 50 + i end
                             return r
                           end)(), pane = "lower", label = "RSI" } } }
    end)
    assert.same({ 800, 500 }, { png_size(png) })
  end)

  -- each spec, with what the error must say
  local bad = {
    { function(s) s.width = 5000 end, "width: expected an integer 200..2000" },
    { function(s) s.height = 10 end, "height: expected an integer 150..2000" },
    { function(s) s.width = "wide" end, "width: expected an integer" },
    { function(s) s.theme = "blue" end, "theme: expected \"dark\" or \"light\"" },
    { function(s) s.title = {} end, "title: expected a string" },
    { function(s) s.title = string.rep("x", 300) end, "title: at most 200 bytes" },
    { function(s) s.decimals = 40 end, "decimals: expected an integer 0..15" },
    { function(s) s.colour = 1 end, "spec: unknown field 'colour'" },
    { function(s) s.candles = 5 end, "candles: expected an array" },
    { function(s) s.candles = {} end, "candles: nothing to draw" },
    { function(s) s.candles[3] = "x" end, "candles%[3%]: expected a candle table" },
    { function(s) s.candles[2].high = 0 / 0 end, "candles%[2%]%.high: expected a number" },
    { function(s) s.candles[2].low = math.huge end, "candles%[2%]%.low: expected a number" },
    { function(s) s.candles[2].close = 1e300 end, "candles%[2%]%.close: expected a number within" },
    { function(s) s.candles[4].high = s.candles[4].low - 1 end, "candles%[4%]: high and low must contain" },
    { function(s) s.candles[4].open_time = "soon" end, "candles%[4%]%.open_time: expected an integer" },
    { function(s) s.candles[4].open_time = s.candles[2].open_time end, "candles: open_time must increase" },
    { function(s) s.candles[1].volume = -1 end, "candles%[1%]%.volume: expected a number >= 0" },
    { function(s) s.candles = some_candles(2001) end, "candles: 2001 entries, at most 2000" },
    { function(s) s.x = { 1, 2, 3 } end, "x: a line chart's times: not with candles" },
    { function(s) s.series = { { values = { 1, 2 } } } end, "series%[1%]%.values: 2 values for 10 points" },
    { function(s) s.series = { { values = "v" } } end, "series%[1%]%.values: expected an array" },
    { function(s) s.series = { 5 } end, "series%[1%]: expected a table" },
    { function(s) s.series = { { values = s.ten, pane = "side" } } end, "series%[1%]%.pane: expected" },
    { function(s) s.series = { { values = s.ten, colour = 9 } } end, "series%[1%]%.colour: expected an integer 1..4" },
    { function(s) s.series = { { values = s.ten, color = 1 } } end, "series%[1%]: unknown field 'color'" },
    { function(s) s.ten[5] = math.huge; s.series = { { values = s.ten } } end,
      "series%[1%]%.values%[5%]: beyond" },
    { function(s) s.ten[5] = "x"; s.series = { { values = s.ten } } end,
      "series%[1%]%.values%[5%]: expected a number, or false" },
    { function(s) s.series = { {}, {}, {}, {}, {}, {}, {}, {}, {} } end, "series: 9 entries, at most 8" },
    { function(s) s.bands = { { upper = s.ten } } end, "bands%[1%]%.lower: expected an array" },
    { function(s) s.lines = { { price = 0 / 0 } } end, "lines%[1%]%.price: expected a number" },
    { function(s) s.lines = { { price = 1, style = "wavy" } } end, "lines%[1%]%.style: expected" },
    { function(s) s.lines = { { price = 1, label = 7 } } end, "lines%[1%]%.label: expected a string" },
    { function(s) s.highlight = 12345 end, "highlight: no candle has that open_time" },
    { function(s) s.highlight = "last" end, "highlight: expected a candle's open_time" },
    { function(s) s.lower = { min = 5, max = 1 } end, "lower: min must be below max" },
    { function(s) s.lower = { guides = { 1, 2, 3 } } end, "lower.guides: 3 entries, at most 2" },
    { function(s) s.lower = { step = 1 } end, "lower: unknown field 'step'" },
    -- (150 two-byte letters: the limit is in bytes, and says so)
    { function(s) s.title = string.rep("\u{e9}", 150) end, "title: at most 200 bytes" },
  }

  it("refuses each wrong field, naming it", function()
    for i, case in ipairs(bad) do
      local s = { candles = some_candles(10), ten = {} }
      for k = 1, 10 do s.ten[k] = k end
      case[1](s)
      s.ten = nil
      local t = spec.run(function() return chart.render(s) end)
      assert.is_false(t.ok, "case " .. i .. " was accepted")
      assert.matches("chart.render: .*" .. case[2], t.err, nil, "case " .. i)
    end
  end)

  it("charges the render to the caller's instruction budget", function()
    spec.limits{ instructions = 100000 }
    local t = spec.run(function()
      return chart.render{ width = 2000, height = 2000, candles = some_candles(10) }
    end)
    assert.is_false(t.ok)
    assert.matches("instruction limit", t.err)
  end)

  -- At the default limit a handler's plain Lua runs for about as long as
  -- the largest chart takes to draw (~75 ms here, 2000x2000 with 2,000
  -- candles): so one such render fits in a call, a second meets the
  -- limit, while a dozen charts of /chart's size (800x500) still fit.
  it("charges a render about what it costs: two of the largest meet the limit", function()
    spec.limits{ instructions = 10000000 }   -- (lua.instruction_limit's default)
    local big, small = some_candles(2000), some_candles(120)
    local function renders(n)
      return spec.run(function()
        for _ = 1, n do chart.render{ width = 2000, height = 2000, candles = big } end
      end)
    end
    local one = renders(1)
    assert.is_true(one.ok, one.err)
    local t = renders(2)
    assert.is_false(t.ok, "two of the largest in a call")
    assert.matches("instruction limit", t.err)
    assert.is_true(spec.run(function()
      for _ = 1, 10 do chart.render{ width = 800, height = 500, candles = small } end
    end).ok, "ten renders of 800x500 in one call")
  end)
end)
