-- Code that runs after the instruction limit struck (an xpcall message
-- handler, a __close, the close of a coroutine the limit killed) counts
-- against the same budget, and nested coroutine closes cannot overflow the
-- C stack.  Each runaway here is bounded (a few million steps), so that
-- without the protection the spec still ends, with the work done.
describe("after the instruction limit", function()
  before_each(function()
    spec.limits({ instructions = 200000 })
    assert(spec.use_scripts({ ["noop.lua"] = "-- nothing\n" }))
  end)

  local SPIN = "function() while true do end end"
  local WORK = "function(m) for i = 1, 3e6 do box.n = box.n + 1 end return m end"

  local box_of_last
  local function run(src)
    local box = { n = 0 }
    box_of_last = box
    local t = spec.eval("local box = ... " .. src:gsub("SPIN", SPIN):gsub("WORK", WORK), box)
    assert.is_true(t.done)
    return t, box.n
  end

  it("does not run an xpcall message handler", function()
    local t, n = run("return xpcall(SPIN, WORK)")
    assert.is_false(t.ok)
    assert.matches("spec.eval:1: instruction limit of 200000 exceeded", t.err)
    assert.equals(0, n)
  end)

  it("stops a message handler that spins after an ordinary error", function()
    local t, n = run("return xpcall(error, WORK, 'boom')")
    assert.is_false(t.ok)
    assert.matches("instruction limit of 200000 exceeded", t.err)
    assert.is_true(n < 200000, "the handler was stopped within the budget: " .. n)
  end)

  it("does not run a handler's pending __close once the limit killed it", function()
    local t, n = run([[
      local x <close> = setmetatable({}, { __close = WORK })
      while true do end]])
    assert.is_false(t.ok)
    assert.matches("instruction limit", t.err)
    assert.equals(0, n)
  end)

  it("runs a __close left by an ordinary error within the budget", function()
    local t, n = run([[
      local x <close> = setmetatable({}, { __close = WORK })
      error("boom")]])
    assert.is_false(t.ok)
    assert.matches("boom", t.err)
    assert.is_true(n > 0 and n < 200000, "__close ran, stopped by the budget: " .. n)
  end)

  it("does not close a coroutine the limit killed, now or in a later call", function()
    local t, n = run([[
      box.co = coroutine.create(function()
        local x <close> = setmetatable({}, { __close = WORK })
        while true do end
      end)
      coroutine.resume(box.co)
      box.after = true
      return coroutine.close(box.co)]])
    assert.is_false(t.ok)
    assert.matches("instruction limit", t.err)
    assert.equals(0, n)
    assert.is_nil(box_of_last.after, "the handler stopped at once")
    -- the next handler, with a budget of its own, closes the same coroutine
    local box = { n = 0 }
    t = spec.eval("local box, co = ... return coroutine.close(co)", box, box_of_last.co)
    assert.is_true(t.ok, t.err)
    assert.is_false(t.results[1])
    assert.matches("instruction limit of 200000 exceeded", t.results[2])
    assert.equals(0, box.n)
  end)

  it("does not let coroutine.wrap close a coroutine the limit killed", function()
    local t, n = run([[
      local f = coroutine.wrap(function()
        local x <close> = setmetatable({}, { __close = WORK })
        while true do end
      end)
      return pcall(f)]])
    assert.is_false(t.ok)
    assert.matches("instruction limit", t.err)
    assert.equals(0, n)
  end)

  it("keeps coroutine.wrap's own behaviour", function()
    local src = [[
      local closed = false
      local f = coroutine.wrap(function(a)
        local x <close> = setmetatable({}, { __close = function() closed = true end })
        local b = coroutine.yield(a + 1)
        error("bad " .. b)
      end)
      local first = f(1)
      local ok, err = pcall(f, 5)
      local ok2, err2 = pcall(function() return f() end)
      return first, ok, err, closed, ok2, err2]]
    local t = spec.eval(src)
    assert.is_true(t.ok, t.err)
    -- the same source with Lua's own coroutine library (spec files have it)
    assert.same({ load(src, "=spec.eval")() }, t.results)
  end)

  it("lets a handler wait inside xpcall, and its handler run on an ordinary error", function()
    spec.stub_http("https://api.test/slow", { body = "slow", delay = 1 })
    local t = spec.eval([[
      local a, b = xpcall(function() return http.get("https://api.test/slow") end, tostring)
      local c, d = xpcall(error, function(m) return "handled: " .. m end, "boom", 0)
      return a, b, c, d]])
    assert.is_false(t.done)
    spec.advance(1)
    assert.is_true(t.ok, t.err)
    assert.same({ true, "slow", false, "handled: boom" }, t.results)
  end)

  it("stops an xpcall runaway at a script's top level; the old scripts keep serving", function()
    spec.write("spin.lua", "xpcall(function() while true do end end, function(m) print('handler ran') return m end)")
    local ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("spin.lua:1: instruction limit of 200000 exceeded", err)
    for _, l in ipairs(spec.logs()) do
      assert.is_nil(l.msg:find("handler ran", 1, true))
    end
    assert.same({ 3 }, spec.eval("return 1 + 2").results)
  end)
end)

describe("nested coroutine closes", function()
  before_each(function()
    spec.limits({ instructions = 1e8 })
    assert(spec.use_scripts({ ["noop.lua"] = "-- nothing\n" }))
  end)

  -- Each coroutine's __close closes the one before: Lua 5.4.4 does not
  -- count these C calls, and 10,000 of them overflowed the C stack.
  local CHAIN = [[
    local n, levels, first_err = ..., 0, nil
    local co = false
    for i = 1, n do
      local previous = co
      co = coroutine.create(function()
        local x <close> = setmetatable({}, { __close = function()
          if previous then
            levels = levels + 1
            local ok, err = coroutine.close(previous)
            first_err = first_err or (not ok and err)
          end
        end })
        coroutine.yield()
      end)
      coroutine.resume(co)
    end
    coroutine.close(co)
    return levels, first_err]]

  it("refuses to nest past the C stack allowance, with a clear error", function()
    local t = spec.eval(CHAIN, 10000)
    assert.is_true(t.ok, t.err)
    assert.matches("coroutine.close: coroutines nested too deeply %(over %d+ KiB of C stack%)",
      t.results[2])
    assert.is_true(t.results[1] > 100, "ordinary nesting still works: " .. t.results[1])
    assert.same({ 3 }, spec.eval("return 1 + 2").results)
  end)

  it("lets ordinary nesting through", function()
    local t = spec.eval(CHAIN, 50)
    assert.same({ 49, false }, t.results)
  end)
end)
