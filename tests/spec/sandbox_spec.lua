-- The sandbox: what a script can and cannot reach.
describe("the script sandbox", function()
  before_each(function()
    assert(spec.use_scripts({ ["noop.lua"] = "-- nothing\n" }))
  end)

  local function eval(src)
    local t = spec.eval(src)
    assert.is_true(t.done)
    return t
  end

  it("has no os.execute", function()
    local t = eval('return os.execute("true")')
    assert.is_false(t.ok)
    assert.matches("os.execute is not available", t.err)
  end)

  it("has no io library", function()
    local t = eval('return io.open("/etc/passwd")')
    assert.is_false(t.ok)
    assert.matches("undefined global 'io'", t.err)
  end)

  it("names an undefined global when it is read", function()
    local t = eval("return no_such_thing + 1")
    assert.is_false(t.ok)
    assert.matches("undefined global 'no_such_thing'", t.err)
  end)

  it("refuses bytecode in load", function()
    local bytecode = string.dump(function() return 1 end)
    local t = spec.eval("local f, err = load(...) return f == nil, err", bytecode)
    assert.is_true(t.ok)
    assert.is_true(t.results[1])
    assert.matches("binary chunk", t.results[2])
  end)

  it("refuses a precompiled script file", function()
    local bytecode = string.dump(load("timer.every(1, function() end)"))
    local ok, err = spec.use_scripts({ ["compiled.lua"] = bytecode })
    assert.is_nil(ok)
    assert.matches("compiled.lua:1: precompiled bytecode is refused", err)
  end)

  it("has no package, debug, dofile, loadfile or string.dump", function()
    for _, expr in ipairs({ "package", "debug", "dofile('x')", "loadfile('x')",
                            "string.dump(print)", "('x'):dump()" }) do
      local t = eval("return " .. expr)
      assert.is_false(t.ok, expr)
    end
  end)

  it("keeps os.time, os.clock and os.date", function()
    local t = eval("return os.time(), os.clock(), os.date('!%Y', 0)")
    assert.is_true(t.ok)
    assert.equals(spec.now() // 1000, t.results[1])
    assert.equals("1970", t.results[3])
  end)

  it("does not let a script change the shared libraries", function()
    local t = eval("string.upper = nil")
    assert.is_false(t.ok)
    assert.matches("read%-only table 'string'", t.err)
    t = eval("rawset(string, 'upper', 1)")
    assert.is_false(t.ok)
    t = eval("return ('abc'):upper(), getmetatable('')")
    assert.is_true(t.ok)
    assert.same({ "ABC", "locked" }, t.results)
  end)

  it("gives each script its own globals", function()
    assert(spec.use_scripts({
      ["a.lua"] = "shared = 'a'",
      ["b.lua"] = "host.on_start(function() store.set('t', 'b_sees', tostring(rawget(_ENV, 'shared'))) end)",
    }))
    spec.advance(0)
    assert.equals("nil", spec.run(function() return store.get("t", "b_sees") end).results[1])
  end)

  it("only lets top-level code register", function()
    local ok, err = spec.use_scripts({ ["eager.lua"] = "store.set('x', 'y', 1)" })
    assert.is_nil(ok)
    assert.matches("eager.lua:1: store.set is not available at a script's top level", err)
  end)
end)
