-- Runaway scripts are stopped, named, and the host keeps serving.
describe("script limits", function()
  before_each(function()
    spec.limits({ instructions = 200000, memory_mb = 32 })
  end)

  it("stops an endless loop in a handler with a clear error", function()
    assert(spec.use_scripts({
      ["loop.lua"] = "timer.after(1, function() while true do end end)",
      ["alive.lua"] = "timer.every(1, function() store.set('t', 'alive', (store.get('t', 'alive') or 0) + 1) end)",
    }))
    spec.advance(3)
    assert.equals(1, spec.errors("loop.lua"))
    local found
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("loop.lua:1: instruction limit of 200000 exceeded", 1, true) then found = l end
    end
    assert.is_truthy(found, "the log names the script, line and limit")
    assert.equals("error", found.level)
    assert.equals(3, spec.run(function() return store.get("t", "alive") end).results[1])
  end)

  it("stops a loop that catches the error with pcall", function()
    local t = spec.eval("while true do pcall(function() while true do end end) end")
    assert.is_true(t.done)
    assert.is_false(t.ok)
    assert.matches("instruction limit", t.err)
  end)

  it("stops an endless loop at a script's top level; the old scripts keep serving", function()
    assert(spec.use_scripts({ ["ok.lua"] = "timer.every(1, function() end)" }))
    spec.write("spin.lua", "while true do end")
    local ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("spin.lua:1: instruction limit", err)
    assert.equals(1, spec.timers("ok.lua"))
  end)

  it("stops an allocation bomb, naming the script and the limit", function()
    spec.limits({ instructions = 1e9 })
    assert(spec.use_scripts({
      ["bomb.lua"] = [[
        timer.after(1, function()
          local t = {}
          for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end
        end)]],
    }))
    spec.advance(1)
    assert.equals(1, spec.errors("bomb.lua"))
    local found = false
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("bomb.lua: memory limit of 32 MiB exceeded", 1, true) then found = true end
    end
    assert.is_true(found)
    -- the host still runs scripts afterwards
    local t = spec.eval("return #string.rep('y', 1000)")
    assert.same({ 1000 }, t.results)
  end)

  it("frees the C side when the memory limit strikes inside store.get or json", function()
    spec.limits({ instructions = 1e9, memory_mb = 256 })
    assert(spec.use_scripts({ ["big.lua"] = [[
      host.on_start(function()
        local a = {}
        for i = 1, 130000 do a[i] = i end   -- (under a stored value's 1 MiB of JSON)
        store.set("t", "big", a)
      end)]] }))
    spec.advance(0)
    collectgarbage()
    spec.limits({ memory_mb = math.ceil(collectgarbage("count") / 1024) + 1 })
    local t = spec.run(function() return #store.get("t", "big") end)
    assert.is_false(t.ok)
    assert.matches("memory limit", t.err)
    t = spec.run(function() return #json.decode(json.encode({ 1, 2, 3 })) end)
    assert.same({ 3 }, t.results)   -- (make test-asan checks that nothing leaked)
  end)
end)
