-- scripts/lib/rate_calc.lua: /rate's exact arithmetic and rounding rule,
-- against Python's decimal on tests/fixtures/rate_table.tsv (made by
-- tests/fixtures/gen_rate_table.py), and the typed margin and amount.
local calc = require("rate_calc")
local D = decimal.new

describe("rate_calc against Python's decimal (tests/fixtures/rate_table.tsv)", function()
  it("gives every row's base rate, final rate and sum", function()
    local n, bad = 0, {}
    for line in io.lines("tests/fixtures/rate_table.tsv") do
      local f = {}
      for col in line:gmatch("[^\t]+") do f[#f + 1] = col end
      local give, get, cross = f[1], f[2], f[3]
      local usdt = { ask = D(f[4]), bid = D(f[5]) }
      local fiat = { RUB = D(f[6]), [get] = D(f[7]) }
      if get == "RUB" or get == "USDT" then fiat = { RUB = D(f[6]) } end
      local base = assert(calc.base(give, get, usdt, fiat, cross))
      local final = calc.final(base, D(f[8]), give, get)
      local sum = calc.sum(D(f[9]), final, give, get)
      local got = table.concat({ tostring(base), tostring(final), tostring(sum) }, "\t")
      local want = table.concat({ f[10], f[11], f[12] }, "\t")
      if got ~= want and #bad < 5 then bad[#bad + 1] = line .. "  got " .. got end
      n = n + 1
    end
    assert.equals(3000, n)
    assert.same({}, bad)
  end)

  it("works the issue's example: 10 000 RUB to USDT at Rapira's ask 95.12 and 2.5 %", function()
    local base = calc.base("RUB", "USDT", { ask = D("95.1234"), bid = D("94.9") }, nil, "rub")
    assert.equals("95.12", tostring(base))
    local final = calc.final(base, D("2.5"), "RUB", "USDT")
    assert.equals("97.50", tostring(final))           -- 97.498 half up
    assert.equals("102.56", tostring(calc.sum(D(10000), final, "RUB", "USDT")))   -- 102.5641 down
  end)

  it("gives the desk the margin in both directions", function()
    local usdt = { ask = D("95"), bid = D("94") }
    local fiat = { RUB = D("90"), IDR = D("16500"), THB = D("32") }
    -- USDT -> RUB: the client receives RUB, the rate goes down
    assert.equals("92.12", tostring(calc.final(D("94.00"), D(2), "USDT", "RUB")))
    -- RUB -> IDR: quoted as IDR per RUB (183.33), the client receives IDR: down
    local b = calc.base("RUB", "IDR", usdt, fiat, "rub")
    assert.equals("183.33", tostring(b))
    assert.equals("179.66", tostring(calc.final(b, D(2), "RUB", "IDR")))
    assert.equals("17966", tostring(calc.sum(D(100), D("179.66"), "RUB", "IDR")))   -- IDR: no places
    -- RUB -> THB: RUB per THB (2.81), the client pays RUB: up
    b = calc.base("RUB", "THB", usdt, fiat, "rub")
    assert.equals("2.81", tostring(b))
    assert.equals("2.87", tostring(calc.final(b, D(2), "RUB", "THB")))
    -- a negative margin gives the client the better rate
    assert.equals("2.75", tostring(calc.final(b, D(-2), "RUB", "THB")))
  end)

  it("says which path a cross rate took, and nothing when a number is missing", function()
    local usdt = { ask = D("95"), bid = D("94") }
    local fiat = { RUB = D("90"), EUR = D("0.86") }
    local b, path = calc.base("USDT", "EUR", usdt, fiat, "rub")
    assert.equals("0.90", tostring(b))                  -- 94 * 0.86 / 90 = 0.8982
    assert.matches("Rapira's bid", path, 1, true)
    b, path = calc.base("USDT", "EUR", usdt, fiat, "usd")
    assert.equals("0.86", tostring(b))
    assert.matches("1 USDT taken as 1 USD", path, 1, true)
    assert.is_nil((calc.base("USDT", "EUR", nil, fiat, "rub")))
    assert.is_nil((calc.base("RUB", "ZAR", usdt, fiat, "rub")))
    assert.same({ "usdt", "fiat" }, calc.sources("USDT", "EUR", "rub"))
    assert.same({ "fiat" }, calc.sources("USDT", "EUR", "usd"))
    assert.same({ "usdt" }, calc.sources("RUB", "USDT", "rub"))
  end)
end)

describe("rate_calc's typed input", function()
  it("takes a margin in percent and says what to send otherwise", function()
    assert.equals("2.5", tostring((calc.parse_margin("2,5"))))
    assert.equals("-1", tostring((calc.parse_margin("-1"))))
    assert.equals("2", tostring((calc.parse_margin("2 %"))))
    for _, bad in ipairs({ "", "abc", "21", "-20.5", "2.555", "1e2" }) do
      local m, err = calc.parse_margin(bad)
      assert.is_nil(m, bad)
      assert.matches("Send", err, 1, true)
    end
  end)

  it("takes an amount with spaces and a comma, in the currency's places", function()
    assert.equals("10000.50", tostring((calc.parse_amount("10 000,50", "RUB"))))
    assert.equals("1000000000000", tostring((calc.parse_amount("1 000 000 000 000", "RUB"))))
    for _, bad in ipairs({ "0", "-5", "10,505", "1 000 000 000 000,01", "ten", "10 00" }) do
      local a, err = calc.parse_amount(bad, "RUB")
      assert.is_nil(a, bad)
      assert.is_string(err)
    end
  end)
end)
