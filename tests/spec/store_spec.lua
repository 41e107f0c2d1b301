-- store: JSON values by scope and key, durable when the handler returns.
describe("store", function()
  before_each(function() assert(spec.use_scripts({ ["x.lua"] = "" })) end)

  local function run(fn, ...) local t = spec.run(fn, ...) assert.is_true(t.ok, t.err) return table.unpack(t.results) end

  it("round-trips tables, strings, numbers and booleans", function()
    local value = { name = "BTC <b>", levels = { 1, 2.5, -3 }, on = true, nested = { a = { b = "c" } } }
    run(function() assert(store.set("prefs", 42, value)) end)
    assert.same(value, run(function() return store.get("prefs", 42) end))
    run(function() store.set("s", "k", "plain") end)
    assert.equals("plain", run(function() return store.get("s", "k") end))
    run(function() store.set("n", "k", 7) end)
    assert.equals(7, run(function() return store.get("n", "k") end))
    assert.is_true(math.type(run(function() return store.get("n", "k") end)) == "integer")
  end)

  it("deletes with nil and keeps scopes apart", function()
    run(function() store.set("a", "k", 1); store.set("b", "k", 2); store.set("a", "k", nil) end)
    assert.is_nil(run(function() return store.get("a", "k") end))
    assert.equals(2, run(function() return store.get("b", "k") end))
  end)

  it("rejects values it cannot store and bad keys, quoting the call", function()
    local t = spec.run(function() store.set("a", "k", function() end) end)
    assert.matches("expected store.set%(scope, key, value%): value: cannot encode a function", t.err)
    t = spec.run(function() store.set("", "k", 1) end)
    assert.matches("scope must be 1 to 64 characters", t.err)
    t = spec.run(function() store.get("a", {}) end)
    assert.matches("key must be a string or an integer", t.err)
  end)
end)
