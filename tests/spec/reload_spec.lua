-- Hot reload: validate a whole new generation, swap it in at once, keep the
-- old one on any error.
describe("reload", function()
  it("swaps in a good change", function()
    assert(spec.use_scripts({ ["v.lua"] = "host.on_start(function() store.set('t', 'v', 1) end)" }))
    local g = host.generation()
    spec.write("v.lua", "host.on_start(function() store.set('t', 'v', 2) end)")
    assert(spec.reload())
    spec.advance(0)
    assert.equals(g + 1, host.generation())
    assert.equals(2, spec.run(function() return store.get("t", "v") end).results[1])
  end)

  it("keeps the old generation serving after a syntax error and reports file:line", function()
    assert(spec.use_scripts({ ["tick.lua"] = "timer.every(1, function() store.set('t', 'n', (store.get('t', 'n') or 0) + 1) end)" }))
    local g = host.generation()
    spec.write("broken.lua", "local x = \n\n  = 3")
    local ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("broken.lua:3:", err)
    assert.equals(g, host.generation())
    spec.advance(5)
    assert.equals(5, spec.run(function() return store.get("t", "n") end).results[1])
  end)

  it("keeps the old generation after a runtime error at a top level", function()
    assert(spec.use_scripts({ ["a.lua"] = "timer.every(1, function() end)" }))
    spec.write("b.lua", "local t = nil\nlocal y = t.field")
    local ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("b.lua:2: attempt to index a nil value", err)
    assert.equals(1, spec.timers("a.lua"))
  end)

  it("removes a removed script's timers", function()
    assert(spec.use_scripts({
      ["keep.lua"] = "timer.every(1, function() end)",
      ["gone.lua"] = "timer.every(1, function() store.set('t', 'gone', os.time()) end)\ntimer.after(60, function() end)",
    }))
    assert.equals(2, spec.timers("gone.lua"))
    spec.remove("gone.lua")
    assert(spec.reload())
    assert.equals(0, spec.timers("gone.lua"))
    assert.equals(1, spec.timers("keep.lua"))
    spec.advance(1)
    local before = spec.run(function() return store.get("t", "gone") end).results[1]
    spec.advance(5)
    assert.equals(before, spec.run(function() return store.get("t", "gone") end).results[1])
  end)

  it("does not double a timer across reloads", function()
    assert(spec.use_scripts({ ["c.lua"] = "timer.every(1, function() store.set('t', 'c', (store.get('t', 'c') or 0) + 1) end)" }))
    for _ = 1, 5 do assert(spec.reload()) end
    spec.advance(10)
    assert.equals(10, spec.run(function() return store.get("t", "c") end).results[1])
  end)

  it("lets a handler that is waiting finish on its old generation", function()
    spec.stub_http("http://slow.test/", { body = "late", delay = 5 })
    assert(spec.use_scripts({ ["w.lua"] = [[
      local version = "old"
      host.on_start(function()
        local body = http.get("http://slow.test/x")
        store.set("t", "w", version .. ":" .. body)
      end)]] }))
    spec.advance(1)
    spec.write("w.lua", "host.on_start(function() end)")
    assert(spec.reload())
    spec.advance(5)
    assert.equals("old:late", spec.run(function() return store.get("t", "w") end).results[1])
  end)

  it("drops no timer tick while reloading repeatedly", function()
    assert(spec.use_scripts({ ["n.lua"] = "timer.every(0.5, function() store.set('t', 'ticks', (store.get('t', 'ticks') or 0) + 1) end)" }))
    for _ = 1, 20 do
      spec.advance(0.5)
      assert(spec.reload())
    end
    assert.equals(20, spec.run(function() return store.get("t", "ticks") end).results[1])
  end)

  it("accepts a folder left with no scripts", function()
    assert(spec.use_scripts({ ["x.lua"] = "timer.every(1, function() end)" }))
    spec.remove("x.lua")
    assert(spec.reload())
    assert.equals(0, spec.timers())
  end)

  it("reloads at most once a second, even when a script asks on every start", function()
    assert(spec.use_scripts({ ["again.lua"] = "host.on_start(function() host.reload() end)" }))
    local g = host.generation()
    spec.advance(10)
    local reloads = host.generation() - g
    assert.is_true(reloads >= 9 and reloads <= 11, "reloads in 10 s: " .. reloads)
    assert(spec.use_scripts({ ["calm.lua"] = "" }))
  end)
end)
