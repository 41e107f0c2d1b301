-- Where gas readings come from: Etherscan's gas oracle (API v2), any
-- Ethereum JSON-RPC endpoint (eth_feeHistory, else eth_gasPrice), and a
-- simulated series for the console demo.  The parse_* functions are pure
-- (text in, reading or error out); fetch() does the HTTP, in a handler.
-- A reading: {safe =, propose =, fast =, base =, block =, source =}, in
-- gwei; a lane the source does not give is nil.
local S = {}

S.LANES = { "safe", "propose", "fast", "base" }

-- Etherscan answers its errors with HTTP 200 and status "0"; the text says
-- which.  kind: "rate", "key" (the admins are told), "chain", "v1", "other".
function S.error_kind(text)
  local low = text:lower()
  if low:find("max rate limit", 1, true) then return "rate" end
  if low:find("invalid api key", 1, true) then return "key" end   -- (and "too many invalid api key attempts")
  if low:find("missing or unsupported chainid", 1, true) then return "chain" end
  if low:find("deprecated v1 endpoint", 1, true) then return "v1" end
  return "other"
end

-- Text from outside, fit for a log line: printable ASCII, at most 120 bytes.
function S.clean(text)
  text = tostring(text):gsub("[^\32-\126]", "?")
  if #text > 120 then text = text:sub(1, 117) .. "..." end
  return text
end

-- "7.5" -> 7.5; nil unless a plain non-negative decimal below a million
local function gwei(s)
  if type(s) ~= "string" or not s:match("^%d+%.?%d*$") then return nil end
  local v = tonumber(s)
  if not v or v >= 1e6 then return nil end
  return v
end

-- "0x1a2b" (wei) -> gwei; nil unless hex that fits in 63 bits
local function hex_gwei(s)
  if type(s) ~= "string" or not s:match("^0x%x+$") or #s > 18 then return nil end
  local v = tonumber(s:sub(3), 16)
  if not v or v < 0 then return nil end
  return v / 1e9
end

local function hex_int(s)
  if type(s) ~= "string" or not s:match("^0x%x+$") or #s > 18 then return nil end
  local v = tonumber(s:sub(3), 16)
  return v and v >= 0 and v or nil
end

-- body -> reading | nil, why, kind (kind: see KINDS, or "garbage")
function S.parse_etherscan(body)
  local doc = json.decode(body or "")
  if type(doc) ~= "table" then return nil, "not JSON", "garbage" end
  if doc.status == "0" or doc.message == "NOTOK" then
    local text = type(doc.result) == "string" and doc.result or
                 (type(doc.message) == "string" and doc.message or "status 0")
    text = S.clean(text)
    return nil, text, S.error_kind(text)
  end
  local r = doc.result
  if doc.status ~= "1" or type(r) ~= "table" then return nil, "no result in the answer", "garbage" end
  local out = { source = "etherscan" }
  for _, f in ipairs({ { "safe", "SafeGasPrice" }, { "propose", "ProposeGasPrice" },
                       { "fast", "FastGasPrice" }, { "base", "suggestBaseFee" } }) do
    local lane, field = f[1], f[2]
    out[lane] = gwei(r[field])
    if not out[lane] then return nil, "no number in " .. field, "garbage" end
  end
  out.block = type(r.LastBlock) == "string" and r.LastBlock:match("^%d+$") and tonumber(r.LastBlock) or nil
  return out
end

local function rpc_result(body)
  local doc = json.decode(body or "")
  if type(doc) ~= "table" then return nil, "not JSON" end
  if type(doc.error) == "table" then
    return nil, "RPC error: " .. S.clean(type(doc.error.message) == "string" and doc.error.message or "?")
  end
  if doc.result == nil or doc.result == json.null then return nil, "no result in the answer" end
  return doc.result
end

local function median(list)
  table.sort(list)
  local n = #list
  if n == 0 then return nil end
  if n % 2 == 1 then return list[(n + 1) // 2] end
  return (list[n // 2] + list[n // 2 + 1]) / 2
end

-- eth_feeHistory(20 blocks, [20, 50, 80]) -> reading | nil, why.  The lanes
-- are the next block's base fee plus the median over the blocks of each
-- percentile's tip.
function S.parse_fee_history(body)
  local r, why = rpc_result(body)
  if not r then return nil, why end
  if type(r) ~= "table" or type(r.baseFeePerGas) ~= "table" or type(r.reward) ~= "table" then
    return nil, "no baseFeePerGas or reward in the answer"
  end
  local fees = r.baseFeePerGas
  local base = hex_gwei(fees[#fees])
  if not base then return nil, "no base fee in the answer" end
  local tips = { {}, {}, {} }
  for _, block in ipairs(r.reward) do
    if type(block) ~= "table" then return nil, "a block's rewards are not a list" end
    for i = 1, 3 do
      local tip = hex_gwei(block[i])
      if not tip then return nil, "a reward is not hex wei" end
      table.insert(tips[i], tip)
    end
  end
  if #tips[1] == 0 then return nil, "no blocks in the answer" end
  local oldest = hex_int(r.oldestBlock)
  return { safe = base + median(tips[1]), propose = base + median(tips[2]),
           fast = base + median(tips[3]), base = base,
           block = oldest and oldest + #r.reward - 1 or nil, source = "rpc" }
end

-- eth_gasPrice -> a reading of the standard lane only
function S.parse_gas_price(body)
  local r, why = rpc_result(body)
  if not r then return nil, why end
  local v = hex_gwei(r)
  if not v then return nil, "the gas price is not hex wei" end
  return { propose = v, source = "rpc" }
end

local function escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function S.etherscan_url(cfg)
  return string.format("%s%schainid=%d&module=gastracker&action=gasoracle&apikey=%s",
                       cfg.etherscan_url, cfg.etherscan_url:find("?", 1, true) and "&" or "?",
                       cfg.chain, escape(cfg.key or ""))
end

local function rpc_call(cfg, method, params)
  local body = json.encode({ jsonrpc = "2.0", id = 1, method = method, params = params })
  local answer, err = http.post(cfg.rpc_url, body,
    { timeout = cfg.timeout, headers = { ["Content-Type"] = "application/json" } })
  if not answer then return nil, err end
  return answer
end

local function from_etherscan(cfg, report)
  report.calls = report.calls + 1
  local body, err = http.get(S.etherscan_url(cfg), { timeout = cfg.timeout })
  if not body then return nil, err, "http" end
  return S.parse_etherscan(body)
end

local function from_rpc(cfg)
  local body, err = rpc_call(cfg, "eth_feeHistory", { "0x14", "latest", { 20, 50, 80 } })
  local r, why = nil, err
  if body then r, why = S.parse_fee_history(body) end
  if r then return r end
  body, err = rpc_call(cfg, "eth_gasPrice", {})
  if not body then return nil, "eth_feeHistory: " .. why .. "; eth_gasPrice: " .. err end
  local r2, why2 = S.parse_gas_price(body)
  if not r2 then return nil, "eth_feeHistory: " .. why .. "; eth_gasPrice: " .. why2 end
  return r2
end

-- Handler: the first reading the configured sources give, in their order
-- (Etherscan only with a key).  -> reading | nil, report; report =
-- {calls = Etherscan calls made, errors = {{source =, text =, kind =}, ...},
--  ok = {source = true}}.  Nothing is written here: the caller writes
-- after its last wait.
function S.fetch(cfg)
  local report = { calls = 0, errors = {}, ok = {} }
  for _, name in ipairs(cfg.sources) do
    local r, why, kind
    if name == "etherscan" and cfg.key and cfg.key ~= "" then
      r, why, kind = from_etherscan(cfg, report)
    elseif name == "rpc" then
      r, why = from_rpc(cfg)
    end
    if r then
      report.ok[name] = true
      return r, report
    end
    if why then
      table.insert(report.errors, { source = name, text = S.clean(why), kind = kind or "other" })
    end
  end
  return nil, report
end

-- The console demo's series: a smooth day with some noise, the same for
-- the same minute (so /gas looks alive without a network).
function S.simulate(ms)
  local m = ms // 60000
  local noise = ((m * 1103515245 + 12345) % 2147483648) / 2147483648
  local base = 9 + 5 * math.sin(m / 1440 * 2 * math.pi) + 2 * math.sin(m / 47) + 1.5 * noise
  base = math.max(0.5, base)
  local function r3(x) return math.floor(x * 1000 + 0.5) / 1000 end
  return { base = r3(base), safe = r3(base + 0.05), propose = r3(base + 0.4 + noise),
           fast = r3(base + 1.2 + 2 * noise), source = "simulated" }
end

return S
