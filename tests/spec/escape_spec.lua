-- Regression specs for ways scripts could reach past the sandbox, the
-- budget, or another script's state (each failed before its fix).
describe("sandbox holes", function()
  before_each(function() spec.limits({ instructions = 100000, memory_mb = 64 }) end)

  it("pairs() on a library does not hand out the table behind it", function()
    assert(spec.use_scripts({
      ["a.lua"] = [[
        local it, raw = pairs(string)
        assert(type(raw) ~= "table", "got the raw string table")
        local n = 0
        for k, v in pairs(string) do n = n + 1 end
        assert(n > 10, "pairs still lists the library")
      ]],
    }))
    local t = spec.eval("return ('abc'):upper()")
    assert.same({ "ABC" }, t.results)
  end)

  it("refuses metatables with __gc, which run outside any budget", function()
    local t = spec.eval("setmetatable({}, {__gc = function() while true do end end})")
    assert.is_false(t.ok)
    assert.matches("__gc", t.err)
  end)

  it("stops a looping __close of a failed handler", function()
    local t = spec.eval([[
      local guard <close> = setmetatable({}, {__close = function() while true do end end})
      error("fail")]])
    assert.is_true(t.done)
    assert.is_false(t.ok)
  end)

  it("keeps the loop turning under a timer.after(0) chain", function()
    assert(spec.use_scripts({ ["chain.lua"] = [[
      local n = 0
      local function again() n = n + 1; store.set("t", "chain", n); timer.after(0, again) end
      host.on_start(again)]] }))
    local ok, err = pcall(spec.advance, 1)
    assert.is_false(ok)
    assert.matches("timers keep firing", err)
    -- a reload ends the chain: the replaced generation's handlers get no timers
    assert(spec.use_scripts({ ["quiet.lua"] = "" }))
    spec.advance(1)
    assert.equals(0, spec.timers())
  end)

  it("bounds pattern matching that would backtrack for ever", function()
    local t = spec.eval([[return string.find(string.rep("a", 3000), string.rep(".-", 4) .. "b")]])
    assert.is_true(t.done)
    assert.is_false(t.ok)
    assert.matches("pattern too costly", t.err)
    t = spec.eval([[return ("key=value"):match("^(%w+)=(%w+)$")]])
    assert.same({ "key", "value" }, t.results)
  end)

  it("does not let a script resume another handler's coroutine", function()
    spec.stub_http("http://x/", { body = "ok", delay = 1 })
    assert(spec.use_scripts({ ["h.lua"] = [[
      local victim
      timer.after(1, function()
        victim = coroutine.running()
        local body = http.get("http://x/b")
        store.set("t", "victim", body)
      end)
      timer.after(1, function()
        http.get("http://x/a")
        store.set("t", "thief", tostring(pcall(coroutine.resume, victim, "fake")))
      end)]] }))
    spec.advance(5)
    local r = spec.run(function() return store.get("t", "victim"), store.get("t", "thief") end)
    assert.equals("ok", r.results[1])
    assert.equals("false", r.results[2])
  end)

  it("fails a handler that yields outside a host call instead of parking it", function()
    local t = spec.eval("coroutine.yield() return 1")
    assert.is_true(t.done)
    assert.is_false(t.ok)
    assert.matches("yield", t.err)
  end)

  it("lets a handler require a library module", function()
    assert(spec.use_scripts({
      ["lib/m.lua"] = "return { answer = 42 }",
      ["r.lua"] = "host.on_start(function() store.set('t', 'req', require('m').answer) end)",
    }))
    spec.advance(0)
    assert.equals(42, spec.run(function() return store.get("t", "req") end).results[1])
    assert.equals(0, spec.errors("r.lua"))
  end)

  it("does not let one script change a library module for the others", function()
    local lib = [[
      local m = { n = 0, list = { 1, 2, 3 }, nested = { deep = { x = 1 } } }
      function m.esc(s) return (s:gsub("<", "&lt;")) end
      function m.bump() m.n = m.n + 1 return m.n end
      return m]]
    for _, evil in ipairs({
      "require('m').esc = function(s) return s end",
      "require('m').nested.deep.x = 2",
      "rawset(require('m').list, 1, 'x')",
      "getmetatable(require('m')).__index = {}",
    }) do
      local ok, err = spec.use_scripts({ ["lib/m.lua"] = lib, ["evil.lua"] = evil })
      assert.is_nil(ok, evil)
      assert.matches("evil.lua:1: ", err)
    end
    local ok, err = spec.use_scripts({ ["lib/m.lua"] = lib, ["evil.lua"] = "require('m').esc = print" })
    assert.matches("evil.lua:1: attempt to modify a library module: scripts/lib modules are shared by "
      .. "all scripts; copy what you want to change", err)
    -- reading, iterating and the module's own state work as before
    assert(spec.use_scripts({ ["lib/m.lua"] = lib, ["ok.lua"] = "" }))
    local t = spec.eval([[
      local m = require("m")
      local keys = {}
      for k in pairs(m) do keys[#keys + 1] = k end
      table.sort(keys)
      local sum = 0
      for _, v in ipairs(m.list) do sum = sum + v end
      m.bump()
      return m.esc("<b>"), table.concat(keys, ","), #m.list, sum, m.bump(), m.n,
        m.nested.deep.x, rawequal(m.nested, require("m").nested)]])
    assert.is_true(t.ok, t.err)
    assert.same({ "&lt;b>", "bump,esc,list,n,nested", 3, 6, 2, 2, 1, true }, t.results)
  end)

  it("does not let a script cancel another script's timers", function()
    assert(spec.use_scripts({ ["keep.lua"] = "timer.every(1, function() end)" }))
    spec.write("evil.lua", "for id = 1, 1000 do timer.cancel(id) end error('x')")
    assert.is_nil(spec.reload())
    assert.equals(1, spec.timers("keep.lua"))
  end)
end)
