-- store.list: a scope's entries in byte order of key, by prefix and range,
-- a page at a time.
describe("store.list", function()
  before_each(function() assert(spec.use_scripts({ ["x.lua"] = "" })) end)

  local function list(scope, opts)
    local t = spec.run(function(s, o) return store.list(s, o) end, scope, opts)
    assert(t.ok, t.err)
    return t.results[1], t.results[2]
  end
  local function keys(items)
    local k = {}
    for i, it in ipairs(items) do k[i] = it.key end
    return k
  end

  it("gives a scope's entries in byte order of key, with their values", function()
    spec.call(function()
      store.set("l1", "b", { n = 2 })
      store.set("l1", "a", "one")
      store.set("l1", "B", true)
      store.set("l1", "a\xff", 4)
      store.set("l1", "ab", 3)
      store.set("other", "a", "not this scope")
    end)
    local items, nxt = list("l1")
    assert.same({ "B", "a", "ab", "a\xff", "b" }, keys(items))
    assert.same({ key = "a", value = "one" }, items[2])
    assert.same({ n = 2 }, items[5].value)
    assert.is_true(items[1].value)
    assert.is_nil(nxt)
    assert.same({}, (list("empty")))
  end)

  it("keeps keys between from and to, and those starting with a prefix", function()
    spec.call(function()
      for _, k in ipairs({ "gas:1", "gas:2", "gas:3", "gas;", "gar", "ga", "h", "g\xff\xff", "g\xff\xff1" }) do
        store.set("l2", k, k)
      end
    end)
    assert.same({ "gas:1", "gas:2", "gas:3" }, keys(list("l2", { prefix = "gas:" })))
    assert.same({ "gas:2", "gas:3" }, keys(list("l2", { from = "gas:2", to = "gas;" })))
    assert.same({ "gas:2" }, keys(list("l2", { prefix = "gas:", from = "gas:15", to = "gas:3" })))
    assert.same({ "ga", "gar" }, keys(list("l2", { to = "gas" })))
    assert.same({ "g\xff\xff", "g\xff\xff1" }, keys(list("l2", { prefix = "g\xff\xff" })))
    assert.same({}, keys(list("l2", { prefix = "gas:", from = "gas;" })))
    assert.same({}, keys(list("l2", { from = "h", to = "a" })))
    assert.equals(9, #list("l2", { prefix = "" }))
  end)

  it("sorts zero-padded times in time order", function()
    spec.call(function()
      for _, ms in ipairs({ 1767225600000, 999, 1767225660000, 86400000 }) do
        store.set("l3", string.format("%013d", ms), ms)
      end
    end)
    local items = list("l3", { from = string.format("%013d", 1000) })
    assert.same({ 86400000, 1767225600000, 1767225660000 },
                { items[1].value, items[2].value, items[3].value })
  end)

  it("pages by limit, next being the from of the next page", function()
    spec.call(function()
      for i = 1, 25 do store.set("l4", string.format("k%03d", i), i) end
    end)
    local seen, from, pages = {}, nil, 0
    repeat
      local items, nxt = list("l4", { limit = 10, from = from })
      pages = pages + 1
      assert.is_true(#items <= 10)
      for _, it in ipairs(items) do seen[#seen + 1] = it.value end
      from = nxt
    until not from
    assert.equals(3, pages)
    assert.equals(25, #seen)
    for i = 1, 25 do assert.equals(i, seen[i]) end
    local items, nxt = list("l4", { limit = 25 })
    assert.equals(25, #items)
    assert.is_nil(nxt)
    items, nxt = list("l4", { limit = 24 })
    assert.equals("k025", nxt)
  end)

  it("gives at most 1000 by default", function()
    spec.call(function()
      for i = 1, 1001 do store.set("l5", string.format("%05d", i), i) end
    end)
    local items, nxt = list("l5")
    assert.equals(1000, #items)
    assert.equals("01001", nxt)
    items = list("l5", { limit = 10000 })
    assert.equals(1001, #items)
  end)

  it("sees the handler's own writes and takes integer bounds", function()
    local t = spec.run(function()
      store.set("l6", 12, "x")
      store.set("l6", 20, "y")
      return store.list("l6", { from = 12, to = 13 })
    end)
    assert.is_true(t.ok, t.err)
    assert.same({ { key = "12", value = "x" } }, t.results[1])
  end)

  it("refuses bad options, quoting the call", function()
    local function err(opts)
      local t = spec.run(function(o) return store.list("s", o) end, opts)
      assert.is_false(t.ok)
      return t.err
    end
    assert.matches("expected store.list%(scope %[, opts%]%): opts.limit must be an integer from 1 to 10000",
                   err({ limit = 0 }))
    assert.matches("opts.limit must be an integer from 1 to 10000", err({ limit = 10001 }))
    assert.matches("opts.limit must be an integer", err({ limit = 2.5 }))
    assert.matches("unknown option 'prefx'", err({ prefx = "a" }))
    assert.matches("opts.from must be a string, got table", err({ from = {} }))
    assert.matches("opts.prefix must be at most 256 characters", err({ prefix = ("x"):rep(257) }))
    local t = spec.run(function() return store.list("") end)
    assert.matches("scope must be 1 to 64 characters", t.err)
    t = spec.eval("store.list('s')")
    assert.is_true(t.ok, t.err)
  end)

  it("charges the rows it reads to the handler's instruction budget", function()
    spec.call(function()
      for i = 1, 100 do store.set("l7", string.format("%03d", i), i) end
    end)
    spec.limits({ instructions = 100000 })
    local t = spec.eval("for i = 1, 1000 do store.list('l7') end")
    local few = spec.eval("for i = 1, 5 do store.list('l7') end")
    spec.limits({ instructions = 10000000 })   -- (the default)
    assert.is_false(t.ok)
    assert.matches("instruction limit of 100000 exceeded", t.err)
    assert.is_true(few.ok, few.err)
  end)

  it("is for handlers only", function()
    local ok, err = spec.use_scripts({ ["top.lua"] = "store.list('s')" })
    assert.is_nil(ok)
    assert.matches("store.list", err)
  end)
end)
