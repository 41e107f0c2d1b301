-- host.health: a script's own component in /health ("script:<name>"),
-- counted in the overall status as the core's components are, kept until
-- set again (across reloads too), misuse refused with a sentence.
describe("host.health", function()
  local function set(name, status, reason)
    local t = spec.run(function() host.health(name, status, reason) end)
    assert.is_true(t.ok, t.err)
  end

  local function script_components()
    local list = {}
    for name in pairs(spec.health().components) do
      if name:sub(1, 7) == "script:" then list[#list + 1] = name:sub(8) end
    end
    return list
  end

  -- (the host keeps components from one test to the next: all back to ok)
  before_each(function()
    assert(spec.use_scripts({ ["commands/noop.lua"] = "" }))
    for _, name in ipairs(script_components()) do set(name, "ok") end
    assert.equals("ok", spec.health().status)
  end)

  it("shows a script's component with its status and reason", function()
    set("rate", "degraded", "the fiat source refuses the key")
    local h = spec.health()
    assert.same({ status = "degraded", reason = "the fiat source refuses the key" },
                h.components["script:rate"])
    assert.equals("degraded", h.status)
    assert.equals("ok", h.components.scripts.status)   -- the core's own, beside it
    set("rate", "ok")
    h = spec.health()
    assert.same({ status = "ok" }, h.components["script:rate"])
    assert.equals("ok", h.status)
  end)

  it("makes the overall status the worst of all components", function()
    set("rate", "degraded", "slow")
    set("gas", "failing", "no source answers")
    assert.equals("failing", spec.health().status)
    set("gas", "ok")
    assert.equals("degraded", spec.health().status)
    set("rate", "ok")
    assert.equals("ok", spec.health().status)
  end)

  it("keeps a component until it is set again, across reloads", function()
    set("rate", "failing", "down")
    assert(spec.use_scripts({ ["commands/other.lua"] = "" }))
    assert(spec.reload())
    assert.equals("failing", spec.health().components["script:rate"].status)
    assert.equals("failing", spec.health().status)
  end)

  it("can be set from a script's handler", function()
    assert(spec.use_scripts({
      ["commands/poll.lua"] = [[
        timer.every(10, function() host.health("poll", "degraded", "stale") end)
      ]],
    }))
    spec.advance(10)
    local c = spec.health().components["script:poll"]
    assert.equals("degraded", c.status)
    assert.equals("stale", c.reason)
  end)

  it("keeps a reason to one line of at most 200 bytes, cut on a character", function()
    set("rate", "degraded", "line one\nline\ttwo")
    assert.equals("line one line two", spec.health().components["script:rate"].reason)
    set("rate", "degraded", ("я"):rep(150))   -- 300 bytes
    local reason = spec.health().components["script:rate"].reason
    assert.is_true(#reason <= 200 and #reason >= 198)
    assert.is_not_nil(utf8.len(reason))
    assert.equals(("я"):rep(100), reason)
  end)

  it("masks a secret in the reason, before cutting it", function()
    local secret = "sk-health-secret-42"
    spec.config("hh", { key = secret })
    assert(spec.use_scripts({
      ["commands/src.lua"] = [[
        local c = host.config("hh", { key = { type = "string", secret = true } })
        host.on_start(function()
          host.health("src", "failing", "refused key " .. c.key .. " twice")
          host.health("long", "degraded", ("x"):rep(190) .. c.key)
        end)
      ]],
    }))
    spec.advance(1)
    local h = spec.health()
    spec.config("hh", nil)
    assert.equals("refused key *** twice", h.components["script:src"].reason)
    assert.equals(("x"):rep(190) .. "***", h.components["script:long"].reason)
    assert.is_nil(spec.metrics():find("sk-health", 1, true))
  end)

  it("refuses misuse, saying what is wrong", function()
    local cases = {
      { function() host.health("Rate", "ok") end, "name must be 1-32 characters of a-z, 0-9, _, - and ., starting with a letter" },
      { function() host.health(("a"):rep(33), "ok") end, "name must be 1-32 characters" },
      { function() host.health("", "ok") end, "name must be 1-32 characters" },
      { function() host.health("rate", "bad") end, 'status must be "ok", "degraded" or "failing"' },
      { function() host.health("rate") end, "bad argument #2" },
    }
    for _, c in ipairs(cases) do
      local t = spec.run(c[1])
      assert.is_false(t.ok)
      assert.matches(c[2], t.err, 1, true)
    end
    assert.is_nil(spec.health().components["script:Rate"])
  end)

  it("is for handlers, not a script's top level", function()
    local ok, err = spec.use_scripts({ ["commands/top.lua"] = 'host.health("top", "failing", "x")' })
    assert.is_falsy(ok)
    assert.matches("host.health", tostring(err), 1, true)
    assert.is_nil(spec.health().components["script:top"])
  end)

  it("holds at most 16 script components", function()
    local have = #script_components()
    for i = have + 1, 16 do set("c" .. i, "ok") end
    assert.equals(16, #script_components())
    local t = spec.run(function() host.health("one_more", "failing") end)
    assert.is_false(t.ok)
    assert.matches("scripts can have at most 16 components", t.err, 1, true)
    set(script_components()[1], "degraded", "one already there is still set")
  end)
end)
