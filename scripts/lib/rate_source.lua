-- /rate's sources: each answer parsed exactly (numbers through decimals,
-- never float arithmetic) and checked, or refused with a short reason; and
-- the request of each.  What each source answers (tests/fakes/fake_rates.c
-- stands in for all three; docs/configuration.md "rate"):
--
-- Rapira, GET https://api.rapira.net/open/market/rates (public, no key):
--   {"code":0,"message":"success","data":[{"symbol":"USDT/RUB","open":..,
--    "high":..,"low":..,"close":95.1,"askPrice":95.2,"bidPrice":95.0,...},..]}
--   Numbers in RUB per USDT.  The rate used depends on the direction:
--   the client gives RUB for USDT -> the desk buys USDT on the market at
--   the ask (askPrice); the client gives USDT for RUB (or for fiat through
--   RUB) -> the desk sells at the bid (bidPrice).  close (the last trade) is
--   not used: it may lie on either side of the spread.  A list without
--   USDT/RUB, a price <= 0 or a bid above the ask is refused.
-- APILayer exchangerates_data, GET <fiat_url>?base=USD&symbols=RUB,EUR,...
--   with the key in the `apikey` header:
--   200 {"success":true,"timestamp":..,"base":"USD","date":"..","rates":{"RUB":..,..}}
--   200 {"success":false,"error":{"code":..,"type":"..","info":".."}} (a bad
--   symbol, base, plan); the gateway's 401 {"message":"Invalid authentication
--   credentials"} (or "No API key found in request") and 429 {"message":
--   "API rate limit reached..."}.
-- open.er-api.com (ExchangeRate-API's open access, no key), GET
--   https://open.er-api.com/v6/latest/USD:
--   {"result":"success","base_code":"USD","time_last_update_unix":..,"rates":{..}}
--   or {"result":"error","error-type":"unsupported-code"}; updated daily,
--   and it lists RUB, EUR, THB, AED, ZAR and IDR (the ECB's rates, e.g.
--   frankfurter, have neither RUB nor AED, so they cannot stand in).
local calc = require("rate_calc")

local M = {}

-- A JSON number or numeric string as a decimal; nil when it is not one.
-- A float becomes the shortest decimal that reads back as the same float
-- (decimal.from_number): the number the source wrote, for up to 15 digits.
local function num(x)
  if math.type(x) == "integer" then return decimal.new(x) end
  if type(x) == "string" then
    local ok, d = pcall(decimal.new, x)
    return ok and d or nil
  end
  if type(x) ~= "number" or x ~= x or x == math.huge or x == -math.huge then return nil end
  local ok, d = pcall(decimal.from_number, x)
  return ok and d or nil
end
M.num = num

local function positive(x)
  local d = num(x)
  if d and d:sign() > 0 then return d end
end

-- Rapira's answer -> {ask =, bid =} | nil, reason
function M.parse_rapira(body)
  local t = type(body) == "string" and json.decode(body)
  if type(t) ~= "table" or type(t.data) ~= "table" then return nil, "not Rapira's rates list" end
  for _, it in ipairs(t.data) do
    if type(it) == "table" and it.symbol == "USDT/RUB" then
      local ask, bid = positive(it.askPrice), positive(it.bidPrice)
      if not (ask and bid) then return nil, "USDT/RUB without a usable ask and bid" end
      if bid > ask then return nil, "USDT/RUB's bid above its ask" end
      return { ask = ask, bid = bid }
    end
  end
  return nil, "no USDT/RUB in Rapira's list"
end

-- A rates table per USD with every currency /rate needs, or nil, reason.
local function fiat_rates(rates)
  if type(rates) ~= "table" then return nil, "no rates" end
  local out = {}
  for _, c in ipairs(calc.FIAT) do
    out[c] = positive(rates[c])
    if not out[c] then return nil, "no usable " .. c .. " rate" end
  end
  return out
end

-- APILayer's answer -> {RUB =, EUR =, ...} | nil, reason
function M.parse_apilayer(body)
  local t = type(body) == "string" and json.decode(body)
  if type(t) ~= "table" then return nil, "not JSON" end
  if t.success ~= true then
    local e = type(t.error) == "table" and t.error or {}
    local what = type(e.type) == "string" and e.type or type(e.info) == "string" and e.info
                 or type(e.message) == "string" and e.message or type(t.message) == "string" and t.message
    return nil, "APILayer refused: " .. (what and what:sub(1, 80) or "success is not true")
  end
  if t.base ~= "USD" then return nil, "rates not per USD" end
  return fiat_rates(t.rates)
end

-- open.er-api.com's answer -> {RUB =, ...} | nil, reason
function M.parse_erapi(body)
  local t = type(body) == "string" and json.decode(body)
  if type(t) ~= "table" then return nil, "not JSON" end
  if t.result ~= "success" then
    local what = type(t["error-type"]) == "string" and t["error-type"]:sub(1, 80) or "result is not success"
    return nil, "refused: " .. what
  end
  if t.base_code ~= "USD" then return nil, "rates not per USD" end
  return fiat_rates(t.rates)
end

-- Why a request failed, in a few words (never the key: it is in a header).
local function failed(err, status)
  if status == 401 or status == 403 then return "the key is refused (HTTP " .. status .. ")" end
  if status == 429 then return "rate limited (HTTP 429)" end
  if status then return "HTTP " .. status end
  return err or "no answer"
end

-- The sources, in the order tried for each kind of rate.  Each is
-- {name =, label =, kind = "usdt" | "fiat", get = function() -> value | nil, reason}
-- (get runs in a handler and waits for the answer).
function M.list(cfg)
  local out = {}
  local function add(name, label, kind, url, headers, parse)
    out[#out + 1] = { name = name, label = label, kind = kind, get = function()
      local body, err, status = http.get(url, { timeout = cfg.timeout, headers = headers })
      if not body then return nil, failed(err, status) end
      return parse(body)
    end }
  end
  add("rapira", "Rapira", "usdt", cfg.rapira_url, nil, M.parse_rapira)
  if cfg.fiat_key and cfg.fiat_key ~= "" then
    local sep = cfg.fiat_url:find("?", 1, true) and "&" or "?"
    add("apilayer", "APILayer", "fiat", cfg.fiat_url .. sep .. "base=USD&symbols=" .. table.concat(calc.FIAT, ","),
        { apikey = cfg.fiat_key }, M.parse_apilayer)
  end
  if cfg.fallback_url and cfg.fallback_url ~= "" then
    add("erapi", "open.er-api.com", "fiat", cfg.fallback_url, nil, M.parse_erapi)
  end
  return out
end

return M
