-- The pattern guard: string.find/match/gmatch/gsub refuse a pattern whose
-- worst case on the subject would take too long (Lua matches in C, outside
-- the instruction budget), counting every kind of repetition, sets and %b;
-- and no pattern of the shipped scripts trips it on anything a user can
-- send (a Telegram message is at most 4096 characters: up to 12,288 bytes
-- of UTF-8; button data at most 64 bytes).
local function read(name) return assert(io.open(name)):read("a") end

describe("the pattern guard", function()
  before_each(function()
    spec.limits({ instructions = 1e9 })
    assert(spec.use_scripts({ ["noop.lua"] = "-- nothing\n" }))
  end)

  local function refused(src, ...)
    local t = spec.eval(src, ...)
    assert.is_true(t.done)
    assert.is_false(t.ok, "refused: " .. src)
    assert.matches("pattern too costly for a subject of %d+ bytes %(up to [%d.e+]+ steps, the limit is 1e8%)", t.err)
    return t.err
  end

  it("refuses one lazy item that is quadratic on a long subject", function()
    local err = refused("return string.rep('a', 20000):find('.-b')")
    assert.matches("string.find: pattern too costly for a subject of 20000 bytes", err)
  end)

  it("refuses %b() on a long subject", function()
    refused("return string.rep('(', 20000):find('%b()')")
  end)

  it("counts ? (exponential when it overlaps what follows)", function()
    refused("local n = 24 return string.rep('a', n):find(string.rep('a?', n) .. string.rep('a', n))")
  end)

  it("counts the length of a set", function()
    refused("return string.rep('a', 20000):find('[' .. string.rep('b', 20000) .. ']')")
  end)

  it("knows the deprecated %z class (zero bytes)", function()
    refused("return string.rep('\\0', 1000):find('%z*%z*%z*x')")
  end)

  it("refuses a plain find whose comparisons would take too long", function()
    refused("return string.rep('a', 200000):find(string.rep('a', 5000) .. 'b', 1, true)")
  end)

  it("refuses gmatch and gsub as find", function()
    refused("for _ in string.rep('a', 20000):gmatch('.-b') do end")
    refused("return (string.rep('a', 2000):gsub('a*a*b', ''))")
  end)

  it("charges matching to the instruction budget, so a loop of costly matches stops", function()
    spec.limits({ instructions = 200000 })
    local box = { n = 0 }
    local t = spec.eval([[
      local box = ...
      local s = string.rep("a", 2000)   -- each find: some million steps, allowed
      for i = 1, 100 do s:find(".-b") box.n = i end]], box)
    assert.is_false(t.ok)
    assert.matches("spec.eval:3: instruction limit of 200000 exceeded", t.err)
    assert.is_true(box.n < 5, "stopped after " .. box.n .. " matches")
  end)

  it("lets linear patterns through on long subjects", function()
    local t = spec.eval([[
      local s = string.rep("word  ", 100000)
      local n = 0
      for w in s:gmatch("%a+") do n = n + 1 end
      return n, (s:gsub("%s+", " ")):len(), select(2, s:find("^%s*(%S+)%s+(%S+)")),
        s:match("^(.-)%s*$"):len(), (s .. "x"):find("x", 1, true)]])
    assert.is_true(t.ok, t.err)
    assert.same({ 100000, 500000, 10, 599998, 600001, 600001 }, t.results)
  end)

  it("knows a subject with no run of what repeats is cheap", function()
    -- 200,000 bytes, but no digits: "(%d+)x" cannot backtrack
    local t = spec.eval("return select('#', string.rep('ab', 100000):find('(%d+)x'))")
    assert.is_true(t.ok, t.err)
  end)
end)

describe("the shipped scripts' patterns", function()
  -- Every call with a pattern in scripts/: the literal, and the call.
  local function shipped()
    local out, calls = {}, 0
    local p = io.popen("find scripts -name '*.lua' | sort")
    for file in p:lines() do
      local n = 0
      for line in io.lines(file) do
        n = n + 1
        for fn in line:gmatch(":(%a+)%(") do
          if fn == "find" or fn == "match" or fn == "gmatch" or fn == "gsub" then calls = calls + 1 end
        end
        for fn, lit in line:gmatch(":(%a+)%((%b\"\")") do
          if fn == "find" or fn == "match" or fn == "gmatch" or fn == "gsub" then
            out[#out + 1] = { fn = fn, pattern = load("return " .. lit)(), where = file .. ":" .. n }
          end
        end
        for fn, lit in line:gmatch(":(%a+)%((%b'')") do
          if fn == "find" or fn == "match" or fn == "gmatch" or fn == "gsub" then
            out[#out + 1] = { fn = fn, pattern = load("return " .. lit)(), where = file .. ":" .. n }
          end
        end
      end
    end
    p:close()
    return out, calls
  end

  -- What a user may send: a message of 4096 characters of one kind (each
  -- ASCII kind the patterns care about; 3-byte and 4-byte characters), and
  -- the mixes that make the longest runs with the most bytes.
  local function subjects()
    local out = {}
    for _, c in ipairs({ "a", "Z", "1", " ", "\n", "_", ":", "-", "+", ".", ",", "%", "&", "h", "m", "(" }) do
      out[#out + 1] = string.rep(c, 4096)
    end
    for _, unit in ipairs({ "a ", "1h", "1:", "1 ", "a:", "a_" }) do
      out[#out + 1] = string.rep(unit, 2048)
    end
    local cjk, emoji = "中", "😀"   -- 1 character (3 bytes); 2 characters (4 bytes)
    out[#out + 1] = string.rep(cjk, 4096)
    out[#out + 1] = string.rep(emoji, 2048)
    for _, spaces in ipairs({ 512, 1024, 2048, 3072 }) do
      out[#out + 1] = string.rep(cjk, 4096 - spaces) .. string.rep(" ", spaces)
      out[#out + 1] = string.rep(" ", spaces) .. string.rep(cjk, 4096 - spaces - 2) .. " x"
      out[#out + 1] = "a" .. string.rep(" ", spaces) .. string.rep(cjk, 4096 - spaces - 2) .. "a"
    end
    out[#out + 1] = "a" .. string.rep(" ", 4094) .. "a"
    out[#out + 1] = string.rep("x", 4092) .. " a b"
    out[#out + 1] = string.rep(cjk, 4092) .. " a b"
    return out
  end

  -- Patterns whose subject is shorter than a message, and why.
  local BOUND = {
    ["^(%w+):?([%w_]*):?([%w_]*)$"] = 64,   -- preset.lua: button data (Telegram: 1-64 bytes)
  }

  it("are all literals this spec can see", function()
    local list, calls = shipped()
    assert.is_true(#list > 10)
    assert.equals(calls, #list, "a pattern call without a literal pattern: add it here by hand")
  end)

  it("pass the guard on every kind of message a user can send", function()
    spec.limits({ instructions = 1e9 })
    assert(spec.use_scripts({ ["noop.lua"] = "-- nothing\n" }))
    local list = shipped()
    local all = subjects()
    for _, p in ipairs(list) do
      local t = spec.eval([[
        local fn, pattern, subjects, bound = ...
        for i, s in ipairs(subjects) do
          if #s > bound then s = s:sub(1, bound) end
          local ok, err = pcall(function()
            if fn == "gmatch" then for _ in s:gmatch(pattern) do end
            elseif fn == "gsub" then s:gsub(pattern, "")
            else s[fn](s, pattern) end
          end)
          if not ok then return i, err end
        end]], p.fn, p.pattern, all, BOUND[p.pattern] or math.huge)
      assert.is_true(t.ok, t.err)
      assert.is_nil(t.results[1], p.where .. " " .. p.pattern .. ": subject " .. tostring(t.results[1])
        .. ": " .. tostring(t.results[2]))
    end
  end)
end)

describe("the shipped commands with the longest arguments", function()
  local tg
  before_each(function()
    local files = {}
    for _, f in ipairs({ "commands/admin.lua", "commands/pause.lua", "commands/preset.lua",
                         "commands/why.lua", "lib/presets.lua", "lib/pair_args.lua",
                         "lib/alertfmt.lua", "lib/text.lua" }) do
      files[f] = read("scripts/" .. f)
    end
    assert(spec.use_scripts(files))
    tg = spec.telegram()
    spec.admins{ 1 }
  end)

  local function say(chat, text)
    tg.message{ chat = chat, text = text }
    spec.advance(2)
    local t = tg.texts(chat)
    return t[#t] or ""
  end

  it("answer and never fail", function()
    local long = string.rep("中", 4096 - 40)
    for _, text in ipairs({
      "/admin broadcast " .. string.rep("long text ", 400),
      "/admin broadcast " .. long,
      "/admin " .. string.rep(" ", 4000) .. "x",
      "/quiet " .. string.rep("1", 4000),
      "/quiet " .. long .. " a",
      "/quiet 22:00-07:00 " .. long,
      "/pause " .. string.rep("1", 4000) .. "h",
      "/pause " .. long,
      "/why " .. long,
      "/why " .. string.rep("a ", 2040),
      "/why BTCUSDT " .. long,
      "/why " .. string.rep(" ", 4000) .. "x",
    }) do
      local r = say(1, text)
      assert.is_nil(r:find("Sorry, something went wrong", 1, true), text:sub(1, 30) .. ": " .. r)
    end
    assert.equals(0, spec.errors("commands/admin.lua"))
    assert.equals(0, spec.errors("commands/pause.lua"))
    assert.equals(0, spec.errors("commands/why.lua"))
  end)
end)
