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
