-- timer.after / every / cancel on the simulated clock.
describe("timer", function()
  it("runs after, every and honours cancel", function()
    assert(spec.use_scripts({ ["t.lua"] = [[
      local function bump(k) store.set("t", k, (store.get("t", k) or 0) + 1) end
      timer.after(2, function() bump("after") end)
      timer.every(1, function() bump("every") end)
      host.on_start(function()
        local id = timer.after(3, function() bump("cancelled") end)
        store.set("t", "cancel_result", timer.cancel(id))
        store.set("t", "cancel_again", timer.cancel(id))
        timer.after(0.5, function() bump("from_handler") end)
      end)]] }))
    spec.advance(1.9)
    local function get(k) return spec.run(function() return store.get("t", k) end).results[1] end
    assert.is_nil(get("after"))
    assert.equals(1, get("every"))
    assert.equals(1, get("from_handler"))
    spec.advance(3.1)
    assert.equals(1, get("after"))
    assert.equals(5, get("every"))
    assert.is_nil(get("cancelled"))
    assert.is_true(get("cancel_result"))
    assert.is_false(get("cancel_again"))
  end)

  it("rejects misuse with the expected call", function()
    local ok, err = spec.use_scripts({ ["bad.lua"] = "timer.every(0, function() end)" })
    assert.is_nil(ok)
    assert.matches("expected timer.every%(seconds, fn%): seconds must be at least 0.01", err)
    ok, err = spec.use_scripts({ ["bad2.lua"] = "timer.after('soon', print)" })
    assert.is_nil(ok)
    assert.matches("bad argument #1 to 'after'", err)
  end)

  it("counts a failing timer handler against its script and keeps ticking", function()
    assert(spec.use_scripts({ ["f.lua"] = "timer.every(1, function() error('boom') end)" }))
    spec.advance(3)
    assert.equals(3, spec.errors("f.lua"))
    assert.equals(1, spec.timers("f.lua"))
    local logged = false
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("f.lua:1: boom", 1, true) and l.msg:find("traceback", 1, true) then logged = true end
    end
    assert.is_true(logged, "error logged with file:line and traceback")
  end)
end)
