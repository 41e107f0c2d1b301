-- host.config: a script's own section of config.lua, checked against the
-- schema the script declares (values, environment, defaults; errors name
-- the key; read-only; secrets masked); host.mode.  (host.tell_admins:
-- tell_admins_spec.lua.)

-- A lib module declaring the section "tc", as scripts/lib/gas_config.lua does.
local SCHEMA = [[
return host.config("tc", {
  enabled = { type = "boolean", default = false },
  interval = { type = "number", min = 15, max = 3600, default = 60, help = "seconds" },
  chain = { type = "integer", min = 1, default = 1 },
  url = { type = "url", default = "https://api.example.org/v2" },
  key = { type = "string", env = "CW_SPEC_UNSET_VARIABLE", secret = true },
  path = { type = "string", env = "PATH" },
  sources = { type = "strings", min = 1, max = 2, default = { "a", "b" }, one_of = { "a", "b", "rpc" } },
  lane = { type = "string", one_of = { "safe", "fast" } },
})
]]

-- Scripts reading the lib; the section as config.lua would hold it.
local function load(section, extra)
  spec.config("tc", section)
  local files = { ["lib/tc.lua"] = SCHEMA, ["one.lua"] = "local c = require('tc')" }
  for k, v in pairs(extra or {}) do files[k] = v end
  return spec.use_scripts(files)
end

local function value(k)
  return spec.call(function() return require("tc")[k] end)
end

describe("host.config", function()
  after_each(function()
    spec.config("tc", nil)
    spec.config("ct", nil)
    spec.config("telegarm", nil)
  end)

  it("gives the defaults when the config has no section", function()
    assert(load(nil))
    assert.is_false(value("enabled"))
    assert.equals(60, value("interval"))
    assert.equals(1, value("chain"))
    assert.equals("https://api.example.org/v2", value("url"))
    assert.is_nil(value("key"))
    assert.same({ "a", "b" }, spec.call(function()
      local out = {}
      for i, s in ipairs(require("tc").sources) do out[i] = s end
      return out
    end))
  end)

  it("takes the config's values over the defaults", function()
    assert(load({ enabled = true, interval = 30.5, chain = 5.0, sources = { "rpc" }, lane = "fast" }))
    assert.equals("fast", value("lane"))
    assert.is_true(value("enabled"))
    assert.equals(30.5, value("interval"))
    assert.equals(5, value("chain"))
    assert.equals(math.type(5), math.type(value("chain")))   -- 5.0 made an integer
    assert.equals("rpc", spec.call(function() return require("tc").sources[1] end))
  end)

  it("takes the environment variable when the config has no value", function()
    assert(load(nil))
    assert.equals(os.getenv("PATH"), value("path"))
    assert(load({ path = "/from/config" }))
    assert.equals("/from/config", value("path"), "the config's value wins")
  end)

  it("converts the environment's text to the key's type, naming the variable when it cannot", function()
    spec.config("tc", nil)
    local ok, err = spec.use_scripts({
      ["x.lua"] = "host.config('tc', { n = { type = 'integer', env = 'PATH' } })",
    })
    assert.is_nil(ok)
    assert.matches("key 'tc.n' (from the environment variable PATH) must be an integer, got text that is not a number", err, 1, true)
  end)

  local wrong = {
    { { interval = "60" }, "key 'tc.interval' must be a number from 15 to 3600, got string" },
    { { interval = 5 }, "key 'tc.interval' must be a number from 15 to 3600, got 5" },
    { { chain = 1.5 }, "key 'tc.chain' must be an integer of at least 1, got number with a fraction" },
    { { chain = 0 }, "key 'tc.chain' must be an integer of at least 1, got 0" },
    { { enabled = "yes" }, "key 'tc.enabled' must be a boolean, got string" },
    { { url = "ftp://x.org" }, "key 'tc.url' must be an http(s) URL, got a string that is not one" },
    { { sources = { "a", 2 } }, "key 'tc.sources' must be a list of strings of 1 to 2 items, got a list with a number item" },
    { { sources = {} }, "key 'tc.sources' must be a list of strings of 1 to 2 items, got a list of 0" },
    { { sources = "a" }, "key 'tc.sources' must be a list of strings of 1 to 2 items, got string" },
    { { intervall = 60 }, "unknown key 'tc.intervall' (did you mean 'tc.interval'?)" },
    { { sources = { "a", "rcp" } }, "key 'tc.sources' item 2: \"rcp\" is not one of a, b, rpc (did you mean 'rpc'?)" },
    { { lane = "fsat" }, "key 'tc.lane': \"fsat\" is not one of safe, fast (did you mean 'fast'?)" },
  }
  for _, case in ipairs(wrong) do
    it("refuses " .. case[2], function()
      local ok, err = load(case[1])
      assert.is_nil(ok)
      assert.matches(case[2], err, 1, true)
      assert.matches("lib/tc.lua:1:", err, 1, true)
    end)
  end

  it("suggests no value far from any of one_of", function()
    local ok, err = load({ lane = "medium" })
    assert.is_nil(ok)
    assert.matches("key 'tc.lane': \"medium\" is not one of safe, fast", err, 1, true)
    assert.is_nil(err:find("did you mean", 1, true))
  end)

  it("checks against a one_of of 32 names, the most it takes", function()
    local names = {}
    for i = 1, 32 do names[i] = ("'n%02d'"):format(i) end
    spec.config("tc", { k = "n33" })
    spec.write("lib/tc.lua", "return host.config('tc', { k = { type = 'string', one_of = { "
      .. table.concat(names, ", ") .. " } } })")
    local ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("key 'tc.k': \"n33\" is not one of n01, n02,", err, 1, true)
    assert.matches("n31, n32 (did you mean 'n", err, 1, true)
    spec.config("tc", { k = "n32" })
    assert(spec.reload())
    assert.equals("n32", value("k"))
  end)

  it("refuses a value config.lua cannot hold in a section, naming the key", function()
    assert.has_error(function() spec.config("tc", { f = print }) end,
      "spec.config: key 'tc.f' must be a boolean, number, string or list of them, got function")
  end)

  it("keeps the old generation when a section's value is wrong", function()
    assert(load({ interval = 30 }))
    local g = host.generation()
    spec.config("tc", { interval = "x" })
    assert.is_nil(spec.reload())
    assert.equals(g, host.generation())
    assert.equals(30, value("interval"))
  end)

  it("refuses a top-level table no script declares, suggesting the nearest name", function()
    assert(load(nil))
    spec.config("ct", { a = 1 })
    local ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("unknown key 'ct' (did you mean 'tc'?)", err, 1, true)
    spec.config("ct", nil)
    spec.config("telegarm", { a = 1 })
    ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("unknown key 'telegarm' (did you mean 'telegram'?)", err, 1, true)
  end)

  it("is read-only, deep, and tostring shows no value", function()
    assert(load({ key = "sk-secret-value-123" }))
    local t = spec.run(function() require("tc").interval = 1 end)
    assert.is_false(t.ok)
    assert.matches("read-only table 'tc'", t.err, 1, true)
    t = spec.run(function() require("tc").sources[1] = "x" end)
    assert.is_false(t.ok)
    assert.matches("read-only", t.err, 1, true)
    local shown = spec.call(function() return tostring(require("tc")) end)
    assert.equals("config section 'tc'", shown)
  end)

  it("masks a secret in every log line and error", function()
    assert(load({ key = "sk-secret-value-123" }, {
      ["two.lua"] = "local c = require('tc')\n"
        .. "host.on_start(function() log.info('key is ' .. c.key) error('failed with ' .. c.key) end)",
    }))
    spec.advance(1)
    local seen, leaked = false, false
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("key is ***", 1, true) then seen = true end
      if l.msg:find("sk-secret-value-123", 1, true) then leaked = true end
    end
    assert.is_true(seen, "the line is logged, masked")
    assert.is_false(leaked, "the secret appears in no log line")
    -- so is /metrics (a metric's help text)
    spec.write("four.lua", "local c = require('tc') metrics.counter('tc_calls', 'calls with ' .. c.key)")
    assert(spec.reload())
    assert.matches("calls with ***", spec.metrics(), 1, true)
    assert.is_nil(spec.metrics():find("sk-secret", 1, true))
    -- a reload's error (what /health and the admins are shown) is masked too
    spec.write("three.lua", "local c = require('tc') error('top ' .. c.key)")
    local ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("top ***", err, 1, true)
    assert.is_nil(err:find("sk-secret", 1, true))
  end)

  it("refuses a secret it could not mask (more than the log has room for)", function()
    local schema, section = {}, {}
    for i = 1, 17 do
      schema[#schema + 1] = ("s%d = { type = 'string', secret = true },"):format(i)
      section["s" .. i] = ("secret-number-%02d"):format(i)
    end
    spec.config("many", section)
    local ok, err = spec.use_scripts({ ["m.lua"] = "host.config('many', {" .. table.concat(schema) .. "})" })
    spec.config("many", nil)
    assert.is_nil(ok)
    assert.matches("no room to mask another secret", err, 1, true)
  end)

  it("allows one declaration of a name, naming the first declaring file", function()
    spec.config("tc", nil)
    local ok, err = spec.use_scripts({
      ["lib/tc.lua"] = SCHEMA,
      ["a.lua"] = "require('tc')",
      ["b.lua"] = "host.config('tc', {})",
    })
    assert.is_nil(ok)
    assert.matches("b.lua:1: host.config('tc'): the section is already declared by lib/tc.lua", err, 1, true)
  end)

  it("runs a lib module that failed after its declaration again, failing on its own error", function()
    spec.config("tc", nil)
    local ok, err = spec.use_scripts({
      ["lib/tc.lua"] = "local c = host.config('tc', {})\nerror('the lib is broken')",
      ["a.lua"] = "local ok = pcall(require, 'tc') assert(not ok)\nrequire('tc')",
    })
    assert.is_nil(ok)
    assert.matches("lib/tc.lua:2: the lib is broken", err, 1, true)
    assert.is_nil(err:find("already declared", 1, true))
    -- the same file declaring twice in one run is still refused
    ok, err = spec.use_scripts({
      ["lib/tc.lua"] = "host.config('tc', {}) host.config('tc', {})",
      ["a.lua"] = "require('tc')",
    })
    assert.is_nil(ok)
    assert.matches("the section is already declared by lib/tc.lua", err, 1, true)
  end)

  it("shares a lib module's section among the scripts that require it", function()
    assert(load({ chain = 7 }, { ["two.lua"] = "local c = require('tc') assert(c.chain == 7)" }))
    assert.equals(7, value("chain"))
  end)

  it("is for top levels only", function()
    assert(spec.use_scripts({ ["a.lua"] = "timer.every(1, function() end)" }))
    local t = spec.run(function() return host.config("zz", {}) end)
    assert.is_false(t.ok)
    assert.matches("may only be called at a script's top level", t.err, 1, true)
  end)

  local bad_decl = {
    { "host.config('telegram', {})", "'telegram' is the core's" },
    { "host.config('Gas', {})", "the name must be a-z" },
    { "host.config('x', { a = { type = 'float' } })", "key 'a' needs type =" },
    { "host.config('x', { a = { type = 'number', defualt = 1 } })", "unknown field 'defualt'" },
    { "host.config('x', { a = { type = 'number', max = 10, default = 20 } })",
      "the default of 'a' must be a number of at most 10, got 20" },
    { "host.config('x', { a = { type = 'string', min = 1 } })", "min of 'a' must be a number" },
    { "host.config('x', { a = { type = 'number', one_of = { 'a' } } })",
      "one_of of 'a' must be a list of 1 to 32 strings, for a string or strings" },
    { "host.config('x', { a = { type = 'string', one_of = {} } })", "one_of of 'a' must be a list" },
    { "host.config('x', { a = { type = 'strings', one_of = { 'a', 'b' }, default = { 'b', 'c' } } })",
      "the default of 'a': \"c\" is not one of a, b" },
  }
  for i, case in ipairs(bad_decl) do
    it("refuses a schema mistake: " .. case[2], function()
      -- (one folder for them all: a spec file has 32 script sets)
      if i == 1 then assert(spec.use_scripts({})) end
      spec.write("a.lua", case[1])
      local ok, err = spec.reload()
      assert.is_nil(ok)
      assert.matches("a.lua:1: ", err, 1, true)
      assert.matches(case[2], err, 1, true)
    end)
  end
end)

describe("host.mode", function()
  it("says the host runs specs", function()
    assert.equals("spec", host.mode())
  end)
end)
