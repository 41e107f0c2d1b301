-- host.tell_admins: a script's message to the operators through the admin
-- diagnostics, each key at most once per admin.repeat_after.
describe("host.tell_admins", function()
  local tg
  before_each(function()
    assert(spec.use_scripts({ ["a.lua"] = "timer.every(60, function() end)" }))
    tg = spec.telegram()
    spec.admins{ 1, 2 }
  end)

  local function tell(key, html)
    return spec.call(function() return host.tell_admins(key, html) end)
  end

  it("tells every admin, then holds the same key back for admin.repeat_after", function()
    assert.is_true(tell("t.key", "<b>Etherscan</b> refuses the key"))
    spec.advance(1)
    assert.equals("<b>Etherscan</b> refuses the key", tg.texts(1)[1])
    assert.equals("<b>Etherscan</b> refuses the key", tg.texts(2)[1])
    assert.is_false(tell("t.key", "again"))
    assert.is_true(tell("t.other", "another matter"))
    spec.advance(3598)   -- (3599 s after the first)
    assert.is_false(tell("t.key", "still too soon"))
    spec.advance(1)
    assert.is_true(tell("t.key", "an hour later"))
    spec.advance(1)
    local texts = table.concat(tg.texts(1), "\n")
    assert.is_nil(texts:find("again", 1, true))
    assert.is_nil(texts:find("still too soon", 1, true))
    assert.matches("an hour later", texts, 1, true)
  end)

  it("is false with nobody to tell", function()
    spec.admins{}
    assert.is_false(tell("t.none", "hello"))
  end)

  it("refuses a bad key, and the top level", function()
    local t = spec.run(function() return host.tell_admins(string.rep("k", 65), "x") end)
    assert.is_false(t.ok)
    assert.matches("key must be 1-64 bytes", t.err, 1, true)
    local ok, err = spec.use_scripts({ ["b.lua"] = "host.tell_admins('k', 'x')" })
    assert.is_nil(ok)
    assert.matches("not available at a script's top level", err, 1, true)
  end)
end)
