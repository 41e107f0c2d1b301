-- The decimal module inside the real host: every row of
-- tests/fixtures/decimal_table.tsv (Python's decimal module's answers, made
-- by tests/fixtures/gen_decimal_table.py) through decimal.new, + - *, :cmp,
-- :div, :round and :format; then what people type (decimal.parse and its
-- sentences) and how wrong calls are refused.
local SEP = { none = "", space = " ", comma = ",", dot = ".", apos = "'", under = "_",
              thin = "\u{2009}", nbsp = "\u{A0}" }
local ERRORS = { ["!range"] = "out of range (more than 38 digits)",
                 ["!scale"] = "more than 18 decimal places",
                 ["!div0"] = "division by zero" }

local function load_rows()
  local rows = {}
  for line in io.lines("tests/fixtures/decimal_table.tsv") do
    if line:sub(1, 1) ~= "#" then
      local r = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do r[#r + 1] = field end
      rows[r[1]] = rows[r[1]] or {}
      table.insert(rows[r[1]], r)
    end
  end
  return rows
end
local rows = load_rows()

-- fn's result as text, or the table's name of the error it raised.
local function outcome(fn)
  local ok, v = pcall(fn)
  if ok then return tostring(v) end
  for key, words in pairs(ERRORS) do
    if tostring(v):find(words, 1, true) then return key end
  end
  return "unexpected error: " .. tostring(v)
end

-- Runs check(row) -> got over the rows of op; fails listing the first few
-- rows whose result differs from the table's (the row's last column).
local function check_all(op, at_least, check)
  local list, bad = rows[op] or {}, {}
  for _, r in ipairs(list) do
    local got = check(r)
    if got ~= r[#r] then
      bad[#bad + 1] = table.concat(r, " ") .. "  got " .. got
    end
  end
  assert.is_true(#list >= at_least, op .. ": only " .. #list .. " rows in the table")
  assert.equals(0, #bad, #bad .. " of " .. #list .. " " .. op .. " rows differ:\n" ..
                table.concat(bad, "\n", 1, math.min(#bad, 8)))
end

local D = decimal.new

-- A table operand as a Lua integer when it is one that fits (else nil).
local function as_integer(s)
  if #s <= 18 and s:match("^%-?%d+$") then return math.tointeger(tonumber(s)) end
end

describe("decimal against Python's decimal (tests/fixtures/decimal_table.tsv)", function()
  it("reads machine text as Python does (new)", function()
    check_all("new", 500, function(r) return outcome(function() return D(r[2]) end) end)
  end)

  local ops = {
    add = function(a, b) return a + b end,
    sub = function(a, b) return a - b end,
    mul = function(a, b) return a * b end,
  }
  for name, fn in pairs(ops) do
    it("computes " .. name .. " exactly, with an integer operand alike", function()
      check_all(name, 1000, function(r)
        local got = outcome(function() return fn(D(r[2]), D(r[3])) end)
        local ia, ib = as_integer(r[2]), as_integer(r[3])
        if ib and outcome(function() return fn(D(r[2]), ib) end) ~= got then
          return got .. " (but " .. outcome(function() return fn(D(r[2]), ib) end) ..
                 " with the integer " .. ib .. ")"
        end
        if ia and outcome(function() return fn(ia, D(r[3])) end) ~= got then
          return got .. " (but another result with the integer " .. ia .. ")"
        end
        return got
      end)
    end)
  end

  it("compares (cmp, ==, <, <=)", function()
    check_all("cmp", 500, function(r)
      local a, b = D(r[2]), D(r[3])
      local c = a:cmp(b)
      if (a == b) ~= (c == 0) or (a < b) ~= (c < 0) or (a <= b) ~= (c <= 0) then
        return "operators disagreeing with cmp " .. c
      end
      return tostring(c)
    end)
  end)

  it("divides to a scale in every mode (div)", function()
    check_all("div", 3000, function(r)
      return outcome(function() return D(r[2]):div(D(r[3]), math.tointeger(r[4]), r[5]) end)
    end)
  end)

  it("rounds to a scale in every mode (round)", function()
    check_all("round", 2000, function(r)
      return outcome(function() return D(r[2]):round(math.tointeger(r[3]), r[4]) end)
    end)
  end)

  it("formats with groups and a point (format)", function()
    check_all("fmt", 1000, function(r)
      local n = math.tointeger(r[3])
      return outcome(function()
        return D(r[2]):format{ decimals = n >= 0 and n or nil, mode = r[4],
                               group = SEP[r[5]], point = SEP[r[6]] }
      end)
    end)
  end)

  it("takes a float as Decimal(repr(x)), rounded to digits half-even (from_number)", function()
    check_all("num", 2500, function(r)
      local x = tonumber(r[2])
      if math.type(x) ~= "float" then return "not a float: " .. r[2] end
      return outcome(function() return decimal.from_number(x, math.tointeger(r[3])) end)
    end)
  end)
end)

describe("decimal.from_number", function()
  it("reads a JSON number exactly as written, up to 15 significant digits", function()
    local t = json.decode('{"rub": 95.31, "thb": 0.3741, "big": 123456789012.345, "idr": 16250}')
    assert.equals(D("95.31"), decimal.from_number(t.rub))
    assert.equals("0.3741", tostring(decimal.from_number(t.thb)))
    assert.equals("123456789012.345", tostring(decimal.from_number(t.big)))
    assert.equals(D("16250"), decimal.from_number(t.idr))
  end)

  it("takes an integer exactly, rounded only when digits are given", function()
    assert.equals("9007199254740993", tostring(decimal.from_number(9007199254740993)))
    assert.equals("-9223372036854775808", tostring(decimal.from_number(math.mininteger)))
    assert.equals("120000", tostring(decimal.from_number(123456, 2)))
  end)

  it("rounds the decimal digits, not the binary value", function()
    -- 2.675 is 2.67499999999999982236431605997495353221893310546875 in binary:
    -- printf's %.3g says 2.67; the decimal 2.675 rounds half-even to 2.68
    assert.equals("2.67", string.format("%.3g", 2.675))
    assert.equals("2.68", tostring(decimal.from_number(2.675, 3)))
    assert.equals("0.00001053", tostring(decimal.from_number(1 / 95000, 4)))
  end)

  it("refuses what is not a finite number, and says how to fit a tiny one", function()
    local cases = {
      { function() decimal.from_number(0 / 0) end, "is not a finite number" },
      { function() decimal.from_number(math.huge) end, "inf is not a finite number" },
      { function() decimal.from_number(-math.huge) end, "-inf is not a finite number" },
      { function() decimal.from_number("1.5") end, "a number expected, got string (decimal.new reads a string)" },
      { function() decimal.from_number(1.5, 0) end, "digits must be an integer from 1 to 17" },
      { function() decimal.from_number(1.5, 18) end, "digits must be an integer from 1 to 17" },
      { function() decimal.from_number(1.5, 2.5) end, "digits must be an integer from 1 to 17" },
      { function() decimal.from_number(1 / 95000) end,
        "1.0526315789473684e-05: more than 18 decimal places (digits = n rounds it" },
      { function() decimal.from_number(1e40) end, "1e+40: out of range" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1])
      assert.is_false(ok)
      assert.matches(c[2], err, 1, true)
    end
  end)
end)

describe("decimal.parse: what people type", function()
  local good = {
    { "10 000,50", { comma = true }, "10000.50" },
    { " 10 000,50 ", { comma = true }, "10000.50" },
    { "10000.50", { comma = true }, "10000.50" },
    { "10\u{A0}000\u{202F}000,5", { comma = true }, "10000000.5" },
    { "1\u{2009}000", nil, "1000" },
    { "1_000_000.25", nil, "1000000.25" },
    { "-1", nil, "-1" },
    { "\u{2212}2,5", { comma = true }, "-2.5" },
    { "+2.5", nil, "2.5" },
    { ",5", { comma = true }, "0.5" },
  }
  for _, c in ipairs(good) do
    it("reads '" .. c[1] .. "' as " .. c[3], function()
      local d, err = decimal.parse(c[1], c[2])
      assert.is_nil(err)
      assert.equals(c[3], tostring(d))
    end)
  end

  local bad = {
    { "", { comma = true }, "That is not a number: type it like 10 000,50." },
    { "abc", nil, "\"a\" is not part of a number: type it like 10 000.50." },
    { "2.5%", nil, "\"%\" is not part of a number: type it like 10 000.50." },
    { "2.5e3", nil, "\"e\" is not part of a number: type it like 10 000.50." },
    { "1,5", nil, "Use a point as the decimal separator: type it like 10 000.50." },
    { "1.000,50", { comma = true }, "A number has one decimal separator: type it like 10 000,50." },
    { "10 00,5", { comma = true }, "Digits go in groups of three between spaces: type it like 10 000,50." },
    { "10000 000", { comma = true }, "Digits go in groups of three between spaces: type it like 10 000,50." },
    { "1,000 5", { comma = true }, "No spaces after the decimal separator: type it like 10 000,50." },
    { "5 €", nil, "Only digits make a number: type it like 10 000.50." },
    { "<i>5</i>", nil, "Only digits make a number: type it like 10 000.50." },
    { "0.0000000000000000001", nil, "At most 18 digits may follow the decimal separator." },
    { string.rep("9", 39), nil, "The number is too large." },
    { string.rep("1", 100), nil, "The number is too long." },
  }
  for _, c in ipairs(bad) do
    it("refuses '" .. c[1]:sub(1, 20) .. "' with a sentence", function()
      local d, err = decimal.parse(c[1], c[2])
      assert.is_nil(d)
      assert.equals(c[3], err)
    end)
  end
end)

describe("decimal values", function()
  it("keep their scale in tostring and concatenate as it", function()
    assert.equals("10000.50", tostring(D("10000.50")))
    assert.equals(2, D("10000.50"):scale())
    assert.equals("sum: -1.20 RUB", "sum: " .. -D("1.20") .. " RUB")
    assert.equals("0.00", tostring(D("-0.00")))
  end)

  it("take integers, and refuse floats and strings as operands", function()
    assert.equals("3.5", tostring(D("1.5") + 2))
    assert.equals("-0.5", tostring(1 - D("1.5")))
    assert.equals("42", tostring(D(42)))
    assert.equals(D(42), D(D(42)))
    assert.has_error(function() return D(0.1) end,
      "decimal.new(s | integer): 0.1 is a float, which is not exact: write it as a string, decimal.new(\"0.1\")")
    local ok, err = pcall(function() return D("1") + 0.5 end)
    assert.is_false(ok)
    assert.matches("0.5 is a float", err)
    ok, err = pcall(function() return D("1") * "2" end)
    assert.is_false(ok)
    assert.matches("a string is not a decimal", err)
    ok, err = pcall(function() return D("1") < 1.5 end)
    assert.is_false(ok)
    assert.matches("1.5 is a float", err)
  end)

  it("compare with integers by cmp and <, and == only with decimals (Lua's rule)", function()
    assert.is_true(D("1.50") == D("1.5"))
    assert.is_false(D("1") == 1)
    assert.is_false(D("1") == metrics.counter("decimal_spec_other"))
    assert.equals(0, D("1.00"):cmp(1))
    assert.is_true(D("0.99") < 1)
    assert.is_true(-1 <= D("-1.0"))
  end)

  it("refuse / and say how to divide", function()
    local ok, err = pcall(function() return D(1) / D(3) end)
    assert.is_false(ok)
    assert.matches("a:div%(b, scale %[, mode%]%)", err)
  end)

  it("raise errors naming what went wrong, with the script's line", function()
    local ok, err = pcall(function() return D(1):div(0, 2) end)
    assert.is_false(ok)
    assert.matches("decimal_spec.lua:%d+: decimal: 1 / 0: division by zero", err)
    ok, err = pcall(function() return D(string.rep("9", 20)) * D(string.rep("9", 19)) end)
    assert.matches("out of range", err)
    ok, err = pcall(function() return D("0.0000000001") * D("0.000000001") end)
    assert.matches("more than 18 decimal places", err)
    ok, err = pcall(function() return D("1e99") end)
    assert.matches('decimal.new%(s | integer%): "1e99": out of range', err)
    ok, err = pcall(function() return D(" 1") end)
    assert.matches("not a decimal number", err)
  end)

  it("check their arguments", function()
    local d = D("2.5")
    assert.equals("2", tostring(d:round(0)))       -- half_even unless told
    assert.equals("3", tostring(d:round(0, "half_up")))
    assert.has_error(function() d:round(0, "HALF_UP") end)
    assert.has_error(function() d:round(19) end)
    assert.has_error(function() d:round(1.5) end)
    assert.has_error(function() d:div(2) end)
    assert.has_error(function() d.round(2, 0) end)
    assert.has_error(function() d:format{ point = " " } end)
    assert.has_error(function() d:format{ group = ",", point = "," } end)
    assert.has_error(function() d:format{ group = "12" } end)
    assert.has_error(function() decimal.parse(5) end)
    assert.has_error(function() D({}) end)
  end)

  it("format as people read them", function()
    local d = D("-1234567.891")
    assert.equals("-1 234 567,89", d:format{ decimals = 2, group = " ", point = "," })
    assert.equals("-1,234,567.891", d:format{ group = "," })
    assert.equals("-1234568", d:format{ decimals = 0, mode = "floor" })
    assert.equals("-1234567.891", d:format())
  end)

  it("are sealed: no metatable to change, no field to set", function()
    local d = D(1)
    assert.equals("decimal", getmetatable(d))
    assert.has_error(function() d.scale = 3 end)
    assert.equals(1, d:sign())
    assert.is_true(D(0):is_zero())
    assert.equals("5.5", tostring(D("-5.5"):abs()))
  end)

  it("are distinct table keys even when equal: key by tostring", function()
    local t = {}
    t[D("1.5")] = true
    assert.is_nil(t[D("1.5")])
    t[tostring(D("1.5"))] = true
    assert.is_true(t[tostring(D("1.5"))])
  end)
end)

describe("docs/scripting.md's decimal example", function()
  it("pays 102,56 USDT for 10 000,50 RUB at 95.12 plus 2.5 %", function()
    local amount = assert(decimal.parse("10 000,50", { comma = true }))
    local rate = decimal.new("95.12") * (100 + decimal.new("2.5"))
    assert.equals("9749.800", tostring(rate))
    rate = rate:div(100, 2, "half_up")
    assert.equals("97.50", tostring(rate))
    assert.equals("102,56", amount:div(rate, 2, "down"):format{ group = " ", point = "," })
  end)
end)

describe("decimal values kept as text", function()
  it("read back exactly, scale included, and are refused by json.encode", function()
    for _, s in ipairs({ "-1234.50", "0.000000000000000001", string.rep("9", 38), "0.00" }) do
      local back = decimal.new(tostring(decimal.new(s)))
      assert.equals(s, tostring(back))
      assert.equals(decimal.new(s):scale(), back:scale())
    end
    assert.has_error(function() json.encode({ d = decimal.new(1) }) end)
  end)
end)
