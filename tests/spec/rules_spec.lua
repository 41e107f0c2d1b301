-- Rules as their scripts declare them: alerts.rule's fields, what
-- alerts.rules() lists, and alerts.save refusing what a rule does not
-- allow, with a sentence for the user.
describe("rule declarations", function()
  local function save(p)
    p.user_id = p.user_id or 1
    p.name = p.name or "p"
    p.pairs = p.pairs or "manual"
    p.symbols = p.symbols or { "BTCUSDT" }
    p.intervals = p.intervals or { "5m" }
    return spec.call(function() return alerts.save(p) end)
  end
  local function rule(name)
    for _, r in ipairs(spec.call(function() return alerts.rules() end)) do
      if r.name == name then return r end
    end
  end

  before_each(function()
    assert(spec.use_scripts({
      ["rules/move.lua"] = assert(io.open("scripts/rules/move.lua")):read("a"),
      ["rules/level.lua"] = [[
        alerts.rule{ name = "lvl", label = "Price level", unit = "USDT", mode = "level",
                     directions = { "up", "down" },
                     threshold = { min = 0, max = 1000000, default = 100, step = 0.5,
                                   prompt = "At which price?" },
                     history = 3, on = { "close" },
                     value = function(c) return c.close end }
      ]],
    }))
    spec.ranking{ "BTCUSDT", "ETHUSDT" }
  end)

  it("lists the live rules with what /preset needs", function()
    local m = rule("move")
    assert.equals("Candle move", m.label)
    assert.equals("%", m.unit)
    assert.equals("move", m.mode)
    assert.same({ "both", "up", "down" }, m.directions)
    assert.same({ "forming", "close" }, m.on)
    assert.equals(0.1, m.threshold.min)
    assert.equals(100, m.threshold.max)
    assert.equals(2, m.threshold.decimals)
    local l = rule("lvl")
    assert.equals("level", l.mode)
    assert.same({ "up", "down" }, l.directions)
    assert.same({ "close" }, l.on)
    assert.equals(3, l.history)
    assert.equals(1, l.threshold.decimals)   -- from step = 0.5
    assert.equals("At which price?", l.threshold.prompt)
  end)

  it("gives defaults to a rule that declares only a name and a value", function()
    spec.write("rules/bare.lua", [[alerts.rule{ name = "bare", value = function() end }]])
    assert(spec.reload())
    local b = rule("bare")
    assert.equals("bare", b.label)
    assert.equals("move", b.mode)
    assert.equals("%", b.unit)
    assert.same({ "forming", "close" }, b.on)
    spec.remove("rules/bare.lua")
    assert(spec.reload())
  end)

  it("takes an empty unit (a level or cross of a plain number)", function()
    spec.write("rules/plain.lua", [[alerts.rule{ name = "plain", unit = "", mode = "level",
      threshold = { min = 0, max = 100 }, value = function() end }]])
    assert(spec.reload())
    assert.equals("", rule("plain").unit)
    spec.remove("rules/plain.lua")
    assert(spec.reload())
  end)

  it("refuses a list of more than 1000 pairs with a sentence", function()
    local many = {}
    for i = 1, 1001 do many[i] = "BTCUSDT" end
    local id, err = save{ rule = "move", threshold = 1, symbols = many }
    assert.is_nil(id)
    assert.equals("A list has at most 1000 pairs.", err)
  end)

  it("reports each failing rule: one failing on every candle hides no other", function()
    spec.write("rules/bad1.lua", [[alerts.rule{ name = "bad1", on = { "forming" },
      value = function(c) return c.close + nil end }]])
    spec.write("rules/bad2.lua", [[alerts.rule{ name = "bad2", on = { "forming" },
      value = function(c) return c.open + nil end }]])
    assert(spec.reload())
    assert(save{ rule = "bad1", threshold = 1 })
    assert(save{ rule = "bad2", threshold = 1 })
    local t = (spec.now() // 300000 + 1) * 300000
    spec.candle{ symbol = "BTCUSDT", interval = "5m", open_time = t, open = 100, close = 101,
                 event_time = t + 1 }
    spec.advance(0)
    assert.is_true(spec.errors("rules/bad1.lua") >= 1)
    assert.is_true(spec.errors("rules/bad2.lua") >= 1)
    spec.remove("rules/bad1.lua")
    spec.remove("rules/bad2.lua")
    assert(spec.reload())
  end)

  it("refuses a broken declaration at reload, naming what is wrong", function()
    local cases = {
      { [[alerts.rule{ name = "x", mode = "level", value = function() end }]], "needs threshold" },
      { [[alerts.rule{ name = "x", mode = "sideways", value = function() end }]], 'unknown mode "sideways"' },
      { [[alerts.rule{ name = "x", directions = { "both" }, value = function() end }]], '"both" only with' },
      { [[alerts.rule{ name = "x", directions = { "left" }, value = function() end }]], 'unknown directions "left"' },
      { [[alerts.rule{ name = "x", threshold = { min = 5, max = 1 }, value = function() end }]], "min < max" },
      { [[alerts.rule{ name = "x", threshold = { min = 0, max = 1 }, value = function() end }]], "min > 0" },
      { [[alerts.rule{ name = "x", history = 1.5, value = function() end }]], "history must be" },
      { [[alerts.rule{ name = "x", threshold = { decimals = 1e10 }, value = function() end }]], "decimals must be a whole number" },
      { [[alerts.rule{ name = "x", threshold = { decimals = 2.5 }, value = function() end }]], "decimals must be a whole number" },
      { [[for i = 1, 17 do alerts.rule{ name = "x" .. i, value = function() end } end]], "at most 16 rules" },
      { [[alerts.rule{ name = "x", on = {}, value = function() end }]], "on must not be empty" },
      { [[alerts.rule{ name = "x", label = "", value = function() end }]], "label must be" },
      { [[alerts.rule{ name = "x" }]], "value must be a function" },
    }
    for _, c in ipairs(cases) do
      spec.write("rules/bad.lua", c[1])
      local ok, err = spec.reload()
      assert.is_falsy(ok, c[1])
      assert.matches(c[2], err, 1, true)
      assert.matches("rules/bad.lua:1", err, 1, true)
    end
    spec.remove("rules/bad.lua")
    assert(spec.reload())
    assert.is_truthy(rule("move"))   -- the live rules kept serving
  end)

  it("refuses a preset of a rule that does not exist, naming the rules", function()
    local id, err = save{ rule = "nosuch", threshold = 3 }
    assert.is_nil(id)
    assert.matches('There is no alert rule "nosuch"; the rules are: ', err, 1, true)
    assert.matches("move", err, 1, true)
    assert.matches("lvl", err, 1, true)
  end)

  it("checks the threshold against the rule's own range and unit", function()
    local id, err = save{ rule = "move", threshold = 0.05 }
    assert.is_nil(id)
    assert.equals("The threshold is a percentage from 0.1 to 100, like 2.5.", err)
    id, err = save{ rule = "lvl", threshold = -1, direction = "up", trigger = "close" }
    assert.is_nil(id)
    assert.equals("The threshold for Price level is a number from 0 to 1e+06 USDT, like 100.", err)
    id = assert(save{ rule = "lvl", threshold = 64210.54, direction = "up", trigger = "close" })
    assert.equals(64210.5, spec.call(function() return alerts.get(id) end).threshold)
  end)

  it("refuses a direction or trigger the rule does not have", function()
    local id, err = save{ rule = "lvl", threshold = 10, direction = "both", trigger = "close" }
    assert.is_nil(id)
    assert.equals("Price level alerts go up or down.", err)
    id, err = save{ rule = "lvl", threshold = 10, direction = "up", trigger = "forming" }
    assert.is_nil(id)
    assert.equals("Price level alerts come when a candle closes.", err)
    id, err = save{ rule = "move", threshold = 1, direction = "sideways" }
    assert.is_nil(id)
    assert.equals("Candle move alerts go up, down or both.", err)
  end)

  it("refuses unknown pairs and trigger words", function()
    local id, err = save{ rule = "move", threshold = 1, pairs = "all" }
    assert.is_nil(id)
    assert.matches('Pairs are "top"', err, 1, true)
    id, err = save{ rule = "move", threshold = 1, trigger = "soon" }
    assert.is_nil(id)
    assert.matches('The trigger is "forming"', err, 1, true)
  end)
end)
