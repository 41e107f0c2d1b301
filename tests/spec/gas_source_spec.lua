-- scripts/lib/gas_source.lua: every answer Etherscan's gas oracle and a
-- JSON-RPC endpoint can give, through the host's real http module with
-- stubbed answers, and the order the sources are tried in.
local S
local function read(path) return assert(io.open(path)):read("a") end

local ES = "https://es.test/v2/api"
local RPC = "https://rpc.test/"
local function cfg(t)
  local c = { etherscan_url = ES, rpc_url = RPC, chain = 1, key = "K3Y", timeout = 10,
              sources = { "etherscan", "rpc" } }
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

local function oracle(result, status, message)
  return json.encode({ status = status or "1", message = message or "OK", result = result })
end
local GOOD = oracle({ LastBlock = "21000123", SafeGasPrice = "7.5", ProposeGasPrice = "8.25",
                      FastGasPrice = "9", suggestBaseFee = "7.123456789", gasUsedRatio = "0.5,0.4" })

-- wei as the RPC's hex
local function hex(gwei) return string.format("0x%x", math.floor(gwei * 1e9 + 0.5)) end
local function fee_history(bases, rewards)
  local b, r = {}, {}
  for i, v in ipairs(bases) do b[i] = hex(v) end
  for i, row in ipairs(rewards) do r[i] = { hex(row[1]), hex(row[2]), hex(row[3]) } end
  return json.encode({ jsonrpc = "2.0", id = 1,
                       result = { oldestBlock = "0x100", baseFeePerGas = b, reward = r, gasUsedRatio = {} } })
end

-- the RPC's answers by method: {eth_feeHistory = response, eth_gasPrice = response}
local function stub_rpc(by_method)
  spec.stub_http(RPC, function(req)
    local call = json.decode(req.body)
    return by_method[call.method] or { status = 500, body = "no such method" }
  end)
end

local function fetch(c)
  return spec.call(function(x) return S.fetch(x) end, c or cfg())
end
local function fetch_later(c, seconds)
  local t = spec.run(function(x) return S.fetch(x) end, c or cfg())
  spec.advance(seconds)
  assert.is_true(t.done and t.ok, t.err)
  return table.unpack(t.results)
end

describe("gas_source", function()
  before_each(function()
    assert(spec.use_scripts({ ["lib/gas_source.lua"] = read("scripts/lib/gas_source.lua") }))
    S = require("gas_source")
  end)

  it("reads Etherscan's oracle: every lane in gwei, the block, the source", function()
    spec.stub_http(ES, { status = 200, body = GOOD })
    local r, report = fetch_later(nil, 1)
    assert.same({ safe = 7.5, propose = 8.25, fast = 9, base = 7.123456789, block = 21000123,
                  source = "etherscan" }, r)
    assert.equals(1, report.calls)
    local reqs = spec.http_requests()
    local req = reqs[#reqs]
    assert.equals("GET", req.method)
    assert.equals(ES .. "?chainid=1&module=gastracker&action=gasoracle&apikey=K3Y", req.url)
  end)

  it("classifies each error text Etherscan sends with HTTP 200 and status 0", function()
    local texts = {
      { "Max rate limit reached, please use API Key for higher rate limit", "rate" },
      { "Invalid API Key", "key" },
      { "Missing or unsupported chainid parameter (required for v2 api), please see https://api.etherscan.io/v2/chainlist for the list of supported chainids", "chain" },
      { "You are using a deprecated V1 endpoint, switch to Etherscan API V2.", "v1" },
      { "Too many invalid api key attempts, please try again later", "key" },
      { "Something new", "other" },
    }
    for _, t in ipairs(texts) do
      local r, why, kind = S.parse_etherscan(oracle(t[1], "0", "NOTOK"))
      assert.is_nil(r)
      assert.equals(t[2], kind, t[1])
      assert.equals(S.clean(t[1]), why)
      assert.is_true(#why <= 120)
    end
  end)

  it("refuses garbage and answers without every field, saying which", function()
    local bad = {
      "", "<html>502</html>", "[1,2]", '"x"', oracle(json.null), oracle("a string"),
      oracle({ SafeGasPrice = "1", ProposeGasPrice = "2", FastGasPrice = "3" }),
      oracle({ SafeGasPrice = "1", ProposeGasPrice = "-2", FastGasPrice = "3", suggestBaseFee = "1" }),
      oracle({ SafeGasPrice = "1", ProposeGasPrice = "2", FastGasPrice = "1e999", suggestBaseFee = "1" }),
      oracle({ SafeGasPrice = 1, ProposeGasPrice = "2", FastGasPrice = "3", suggestBaseFee = "1" }),
    }
    for _, body in ipairs(bad) do
      local r, why, kind = S.parse_etherscan(body)
      assert.is_nil(r, body)
      assert.equals("garbage", kind, body)
      assert.is_string(why)
    end
    local _, why = S.parse_etherscan(bad[7])
    assert.equals("no number in suggestBaseFee", why)
  end)

  it("keeps the texts it logs printable and short", function()
    assert.equals("a?b?c", S.clean("a\nb\27c"))
    assert.equals(120, #S.clean(string.rep("x", 5000)))
  end)

  it("falls back to the RPC's fee history when Etherscan fails: lanes = next base fee + median tip", function()
    stub_rpc({ eth_feeHistory = { body = fee_history({ 10, 11, 12, 13 },
                                                     { { 1, 2, 3 }, { 0.5, 1.5, 9 }, { 2, 2.5, 4 } }) } })
    local answers = {
      { status = 200, body = oracle("Max rate limit reached", "0", "NOTOK") },
      { status = 503, body = "busy" },
      { delay = 30 },                                  -- past the 10 s timeout
      { status = 200, body = "{not json" },
      { status = 200, body = oracle({ SafeGasPrice = "1" }) },
      { error = "connection refused" },
    }
    local whys = {}
    for i, answer in ipairs(answers) do
      spec.stub_http(ES, answer)
      local r, report = fetch_later(nil, 31)
      -- next base fee 13; median tips 1, 2, 4
      assert.same({ safe = 14, propose = 15, fast = 17, base = 13, block = 0x102, source = "rpc" }, r)
      assert.equals(1, report.calls)
      assert.equals(1, #report.errors)
      assert.equals("etherscan", report.errors[1].source)
      assert.is_true(report.ok.rpc)
      whys[i] = report.errors[1].text
    end
    assert.same({ "Max rate limit reached", "HTTP 503", "timeout", "not JSON",
                  "no number in ProposeGasPrice", "connection refused" }, { whys[1], whys[2], whys[3], whys[4], whys[5], whys[6] })
    local posts = {}
    for _, req in ipairs(spec.http_requests()) do
      if req.url == RPC then posts[#posts + 1] = req end
    end
    assert.equals("POST", posts[1].method)
    assert.equals("application/json", posts[1].headers["Content-Type"])
    assert.same({ "0x14", "latest", { 20, 50, 80 } }, json.decode(posts[1].body).params)
  end)

  it("asks only the RPC without a key, and eth_gasPrice (standard lane only) when the fee history fails", function()
    stub_rpc({ eth_feeHistory = { body = json.encode({ jsonrpc = "2.0", id = 1,
                                                      error = { code = -32601, message = "method not found" } }) },
               eth_gasPrice = { body = json.encode({ jsonrpc = "2.0", id = 1, result = hex(21.5) }) } })
    local nokey = cfg()
    nokey.key = nil
    local before = #spec.http_requests()
    local r, report = fetch_later(nokey, 1)
    assert.same({ propose = 21.5, source = "rpc" }, r)
    assert.equals(0, report.calls)
    assert.same({}, report.errors)
    local reqs = spec.http_requests()
    assert.equals(before + 2, #reqs)
    for i = before + 1, #reqs do assert.equals(RPC, reqs[i].url) end
  end)

  it("reports every source's failure when none answers", function()
    spec.stub_http(ES, { status = 200, body = oracle("Invalid API Key", "0", "NOTOK") })
    stub_rpc({ eth_feeHistory = { body = "garbage" }, eth_gasPrice = { body = '{"result":"0xZZ"}' } })
    local r, report = fetch_later(nil, 1)
    assert.is_nil(r)
    assert.same({ { source = "etherscan", text = "Invalid API Key", kind = "key" },
                  { source = "rpc", text = "eth_feeHistory: not JSON; eth_gasPrice: the gas price is not hex wei",
                    kind = "other" } }, report.errors)
  end)

  it("refuses fee histories that are not what eth_feeHistory returns", function()
    local bad = {
      json.encode({ result = { baseFeePerGas = {}, reward = {} } }),
      json.encode({ result = { baseFeePerGas = { "0x1" }, reward = {} } }),
      json.encode({ result = { baseFeePerGas = { "0x1", "0x2" }, reward = { { "0x1", "0x2" } } } }),
      json.encode({ result = { baseFeePerGas = { "0x1", "12" }, reward = { { "0x1", "0x2", "0x3" } } } }),
      json.encode({ result = { baseFeePerGas = { "0x1", "0xffffffffffffffffff" }, reward = { { "0x1", "0x2", "0x3" } } } }),
      json.encode({ result = "0x5" }),
      json.encode({ id = 1 }),
    }
    for _, body in ipairs(bad) do
      local r, why = S.parse_fee_history(body)
      assert.is_nil(r, body)
      assert.is_string(why)
    end
  end)

  it("tries the sources in the configured order", function()
    spec.stub_http(ES, { status = 200, body = GOOD })
    stub_rpc({ eth_gasPrice = { body = json.encode({ result = hex(3) }) } })
    local r = fetch_later(cfg({ sources = { "rpc", "etherscan" } }), 1)
    assert.equals("rpc", r.source)
    assert.equals(3, r.propose)
    r = fetch_later(cfg({ sources = { "etherscan" } }), 1)
    assert.equals("etherscan", r.source)
  end)

  it("simulates the same series for the same minute (the console demo)", function()
    local t = spec.now()
    assert.same(S.simulate(t), S.simulate(t + 59999 - t % 60000))
    local r = S.simulate(t)
    assert.is_true(r.base > 0 and r.safe >= r.base and r.fast >= r.propose and r.propose >= r.safe)
    assert.equals("simulated", r.source)
  end)
end)
