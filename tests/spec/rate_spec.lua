-- /rate through the real host: the flow through the fake Telegram, the
-- sources stubbed (good, slow, failing, garbage), the circuit breakers and
-- the cache under the simulated clock.  The expected numbers are worked by
-- hand in the comments (README "/rate": rates 2 places half-up, sums down).
local RAPIRA = "https://api.rapira.net/open/market/rates"
local ERAPI = "https://open.er-api.com/v6/latest/USD"

local function read(path) return assert(io.open(path)):read("a") end
local function scripts()
  local t = { ["commands/rate.lua"] = read("scripts/commands/rate.lua") }
  for _, m in ipairs({ "rate_config", "rate_calc", "rate_cache", "rate_source", "rate_recorded" }) do
    t["lib/" .. m .. ".lua"] = read("scripts/lib/" .. m .. ".lua")
  end
  return t
end

-- What the stubs answer: "good", "down" (HTTP 500), "slow" (60 s), "garbage"
-- or "crossed" (a bid above the ask), per source; and the numbers.
local mode, ask, bid
local function rapira_body()
  return string.format('{"code":0,"message":"success","data":[{"symbol":"BTC/USDT","askPrice":91860.5,' ..
    '"bidPrice":91840.1,"close":91850},{"symbol":"USDT/RUB","close":95.0,"askPrice":%s,"bidPrice":%s}]}', ask, bid)
end
local FIAT = '{"result":"success","base_code":"USD","time_last_update_unix":1767225600,' ..
  '"rates":{"USD":1,"RUB":90,"EUR":0.86,"THB":32,"AED":3.6725,"ZAR":18,"IDR":16500}}'
local function answer(which, good)
  local m = mode[which]
  if m == "down" then return { status = 500, body = "upstream error" } end
  if m == "slow" then return { body = good(), delay = 60 } end
  if m == "garbage" then return { body = "<html>502 Bad Gateway</html>" } end
  if m == "crossed" then return { body = string.format(
    '{"data":[{"symbol":"USDT/RUB","askPrice":%s,"bidPrice":%s}]}', bid, ask + 1) } end
  return { body = good() }
end

local counted = 0   -- the requests before this test
local function count(prefix)
  local n = -counted
  for _, r in ipairs(spec.http_requests()) do
    if r.url:sub(1, #prefix) == prefix then n = n + 1 end
  end
  return n
end

local function metric(name)
  return tonumber(spec.metrics():match("\ncandlewatch_script_" .. name .. " ([%d.e+-]+)"))
end

local tg, chat = nil, 100
local function last(c) local t = tg.texts(c) return t[#t] end
-- (a second and a half: the chat's messages go out one a second)
local function say(c, text) tg.message{ chat = c, text = text } spec.advance(1.5) return last(c) end
local function press(c, data) tg.press{ chat = c, data = data } spec.advance(1.5) return last(c) end

local function start(section)
  spec.config("rate", section or { enabled = true })
  assert(spec.use_scripts(scripts()))
  tg = tg or spec.telegram()
  spec.advance(0.1)
end

local function reset()
  mode, ask, bid = { rapira = "good", fiat = "good" }, "95.1234", "94.9"
  spec.stub_http(RAPIRA, function() return answer("rapira", rapira_body) end)
  spec.stub_http(ERAPI, function() return answer("fiat", function() return FIAT end) end)
  spec.call(function() store.set("rate.last", "usdt", nil) store.set("rate.last", "fiat", nil) end)
  chat = chat + 1
  counted = 0
  counted = count(RAPIRA)
end

describe("/rate's flow", function()
  before_each(reset)
  it("gives -> gets -> margin -> amount -> the result, from memory", function()
    start()
    assert.matches("What does the client give?", say(chat, "/rate"), 1, true)
    assert.matches("What do they get?", press(chat, "rate:give:RUB"), 1, true)
    assert.matches("margin in percent", press(chat, "rate:get:USDT"), 1, true)
    assert.matches("How much RUB", say(chat, "2,5"), 1, true)
    local r = say(chat, "10 000")
    -- ask 95.1234 -> 95.12; x 1.025 = 97.498 -> 97.50; 10000 / 97.50 = 102.564.. -> 102.56
    assert.matches("10 000.00 RUB → USDT</b>, margin +2.5 %", r, 1, true)
    assert.matches("Base rate: 95%.12 RUB per USDT %(Rapira, %d s old%)\n", r)
    assert.matches("Final rate: <b>97.50 RUB per USDT</b>", r, 1, true)
    assert.matches("The client gets: <b>102.56 USDT</b>", r, 1, true)
    assert.matches("Path: RUB → USDT directly (Rapira's ask)", r, 1, true)
  end)

  it("changes the margin, the amount or the pair without starting over", function()
    start()
    say(chat, "/rate") press(chat, "rate:give:RUB") press(chat, "rate:get:USDT")
    say(chat, "2.5") say(chat, "10000")
    press(chat, "rate:chg:margin")
    local r = say(chat, "-1")
    -- 95.12 x 0.99 = 94.1688 -> 94.17; 10000 / 94.17 = 106.190.. -> 106.19
    assert.matches("Final rate: <b>94.17 RUB per USDT</b>", r, 1, true)
    assert.matches("<b>106.19 USDT</b>", r, 1, true)
    press(chat, "rate:chg:amount")
    r = say(chat, "5 000,50")   -- 5000.50 / 94.17 = 53.100.. -> 53.10
    assert.matches("<b>53.10 USDT</b>", r, 1, true)
    press(chat, "rate:chg:pair")
    press(chat, "rate:give:USDT")
    r = press(chat, "rate:get:RUB")
    -- bid 94.90; the client receives RUB: x (100 - (-1)) / 100 = 95.849 -> 95.85;
    -- 5000.50 x 95.85 = 479 297.925 -> 479 297.92 (down)
    assert.matches("Base rate: 94.90 RUB per USDT", r, 1, true)
    assert.matches("Final rate: <b>95.85 RUB per USDT</b>", r, 1, true)
    assert.matches("<b>479 297.92 RUB</b>", r, 1, true)
    assert.matches("What does the client give?", press(chat, "rate:new"), 1, true)
  end)

  it("has Back and Cancel on every step", function()
    start()
    say(chat, "/rate") press(chat, "rate:give:USDT") press(chat, "rate:get:EUR")
    assert.matches("What do they get?", press(chat, "rate:back"), 1, true)
    assert.matches("What does the client give?", press(chat, "rate:back"), 1, true)
    press(chat, "rate:give:USDT") press(chat, "rate:get:EUR") say(chat, "1")
    assert.matches("margin in percent", press(chat, "rate:back"), 1, true)
    say(chat, "1") say(chat, "100")
    assert.matches("How much USDT", press(chat, "rate:back"), 1, true)
    assert.equals("Cancelled.", press(chat, "rate:cancel"))
    press(chat, "rate:get:EUR")
    assert.matches("has ended", tg.answers()[#tg.answers()], 1, true)
  end)

  it("keeps the calculation across a reload (the state is the chat's)", function()
    start()
    say(chat, "/rate") press(chat, "rate:give:RUB") press(chat, "rate:get:IDR") say(chat, "2")
    start()   -- a new generation: the module's memory is gone, the state is not
    local r = say(chat, "1 000")
    -- IDR per RUB: 16500 / 90 = 183.33..; the client receives IDR: x 0.98 = 179.6634 -> 179.66;
    -- 1000 x 179.66 = 179 660 (IDR: no places)
    assert.matches("Base rate: 183.33 IDR per RUB", r, 1, true)
    assert.matches("<b>179 660 IDR</b>", r, 1, true)
    assert.matches("Path: RUB → USD → IDR", r, 1, true)
  end)

  it("says what to send for each bad input", function()
    start()
    say(chat, "/rate") press(chat, "rate:give:RUB") press(chat, "rate:get:USD")
    assert.matches("Send the margin in percent as a number", say(chat, "two"), 1, true)
    assert.matches("from %-20 to 20 percent", say(chat, "25"))
    assert.matches("at most two decimals", say(chat, "2.555"), 1, true)
    say(chat, "2")
    assert.matches("more than zero", say(chat, "0"), 1, true)
    assert.matches("too large", say(chat, "2 000 000 000 000"), 1, true)
    assert.matches("at most 2 decimals", say(chat, "10,505"), 1, true)
    assert.matches("Digits go in groups of three", say(chat, "10 00"), 1, true)
    assert.matches("Use the buttons above", (function() press(chat, "rate:back") press(chat, "rate:back")
                                                        return say(chat, "hello") end)(), 1, true)
  end)

  it("takes the one-line form, and says how to write it", function()
    start()
    -- USDT -> THB through RUB: 94.9 x 32 / 90 = 33.742.. -> 33.74; the client receives THB:
    -- x 1.01 = 34.0774 -> 34.08; 10000.50 x 34.08 = 340 817.04
    local r = say(chat, "/rate 10 000,50 usdt thb -1")
    assert.matches("Base rate: 33.74 THB per USDT (Rapira + open.er-api.com", r, 1, true)
    assert.matches("<b>340 817.04 THB</b>", r, 1, true)
    assert.matches("Path: USDT → RUB (Rapira's bid) → THB", r, 1, true)
    -- no margin: 0; RUB -> USD: 90 RUB per USD; 900 / 90 = 10.00
    assert.matches("<b>10.00 USD</b>", say(chat, "/rate 900 RUB USD"), 1, true)
    assert.matches("Send it like", say(chat, "/rate 10000"), 1, true)
    assert.matches("RUB or USDT, not EUR", say(chat, "/rate 100 EUR RUB 1"), 1, true)
    assert.matches("not BTC", say(chat, "/rate 100 RUB BTC 1"), 1, true)
    assert.matches("A margin is from", say(chat, "/rate 100 RUB USD 99"), 1, true)
    assert.matches("more than zero", say(chat, "/rate -5 RUB USD 1"), 1, true)
    assert.matches("Send it like", say(chat, "/rate " .. string.rep("9", 200) .. " RUB USD"), 1, true)
  end)
end)

describe("/rate's sources", function()
  before_each(reset)
  it("answers from the last good rate, with its age, while a source is down", function()
    start()
    mode.rapira = "down"
    spec.advance(600)
    local r = say(chat, "/rate 1000 RUB USDT 0")
    -- 1000 / 95.12 = 10.513.. -> 10.51, the rate 10 minutes old
    assert.matches("<b>10.51 USDT</b>", r, 1, true)
    assert.matches("(Rapira, 10 min old; the source is not answering: its last rate)", r, 1, true)
    -- after stale_max (6 h) without an answer: no number at all
    spec.advance(6 * 3600)
    r = say(chat, "/rate 1000 RUB USDT 0")
    assert.matches("too old to use", r, 1, true)
    assert.is_nil(r:find("The client gets", 1, true))
  end)

  it("never shows a rate from garbage or a crossed book", function()
    mode.rapira = "garbage"
    start()
    local r = say(chat, "/rate 1000 RUB USDT 0")
    assert.matches("No rate is available right now", r, 1, true)
    mode.rapira = "crossed"
    spec.advance(30)
    r = say(chat, "/rate 1000 RUB USDT 0")
    assert.matches("No rate is available right now", r, 1, true)
    assert.is_true(metric("rate_rapira_errors_total") >= 2)
    mode.rapira = "good"   -- (three failures opened the breaker: a minute's pause)
    spec.advance(90)
    assert.matches("<b>10.51 USDT</b>", say(chat, "/rate 1000 RUB USDT 0"), 1, true)
  end)

  it("measures each source's latency in /metrics", function()
    start()
    local sum0 = metric("rate_rapira_latency_seconds_sum")
    local n0 = metric("rate_rapira_latency_seconds_count")
    spec.stub_http(RAPIRA, function() return { body = rapira_body(), delay = 0.25 } end)
    spec.advance(240) spec.advance(0.5)            -- the refresh ahead, answered in 0.25 s
    assert.equals(n0 + 1, metric("rate_rapira_latency_seconds_count"))
    assert.is_true(math.abs(metric("rate_rapira_latency_seconds_sum") - sum0 - 0.25) < 0.002)
    spec.stub_http(RAPIRA, function() return answer("rapira", rapira_body) end)
  end)

  it("gives up on a slow source after the timeout; the user does not wait", function()
    start()
    mode.rapira = "slow"
    spec.advance(300)   -- expired; the preloader's request is waiting
    local r = say(chat, "/rate 1000 RUB USDT 0")   -- from memory, while the request still waits
    assert.matches("<b>10.51 USDT</b>", r, 1, true)
    assert.matches("5 min old", r, 1, true)
    local before = metric("rate_rapira_errors_total")
    spec.advance(3.5)      -- rate.timeout: 5 s from the request
    assert.equals(before + 1, metric("rate_rapira_errors_total"))
  end)

  it("says a source is not answering even while its last rate is younger than the TTL", function()
    start()                                       -- the start's preload: a good rate
    mode.rapira = "down"
    spec.advance(240)                             -- 80 % of the TTL: the refresh ahead fails
    local r = say(chat, "/rate 1000 RUB USDT 0")
    assert.matches("<b>10.51 USDT</b>", r, 1, true)
    assert.matches("; the source is not answering: its last rate)", r, 1, true)
    mode.rapira = "good"
    spec.advance(30)                              -- the next refresh answers
    assert.is_nil(say(chat, "/rate 1000 RUB USDT 0"):find("not answering", 1, true))
  end)

  it("opens a source's breaker after 3 failures and closes it after a pause", function()
    mode.rapira = "down"
    start()                                       -- failure 1 (the start's preload)
    assert.equals(1, count(RAPIRA))
    spec.advance(30) spec.advance(30)             -- the preloader: failures 2 and 3
    assert.equals(3, count(RAPIRA))
    assert.equals(2, metric("rate_rapira_breaker"))   -- open
    say(chat, "/rate 1000 RUB USDT 0")            -- a user's read asks nothing of an open breaker
    spec.advance(30)
    assert.equals(3, count(RAPIRA))
    spec.advance(30)                              -- 60 s: one trial (half-open), which fails
    assert.equals(4, count(RAPIRA))
    assert.equals(2, metric("rate_rapira_breaker"))
    mode.rapira = "good"
    spec.advance(30)
    assert.equals(4, count(RAPIRA))
    spec.advance(30)                              -- the next trial answers: closed
    assert.equals(5, count(RAPIRA))
    assert.equals(0, metric("rate_rapira_breaker"))
    assert.matches("<b>10.51 USDT</b>", say(chat, "/rate 1000 RUB USDT 0"), 1, true)
  end)

  it("refreshes the popular pairs ahead of expiry, so reads stay hits", function()
    start()
    assert.equals(1, count(RAPIRA))
    local hits = metric("rate_cache_hits_total") or 0
    for _ = 1, 7 do spec.advance(30) end          -- 210 s: still fresh, nothing asked
    assert.equals(1, count(RAPIRA))
    ask = "96.004"
    spec.advance(30)                              -- 240 s = 80 % of the TTL: refreshed
    assert.equals(2, count(RAPIRA))
    spec.advance(30) spec.advance(30)             -- past the first answer's 300 s
    local r = say(chat, "/rate 1000 RUB USDT 0")
    assert.matches("Base rate: 96.00 RUB per USDT (Rapira, 1 min old)", r, 1, true)
    assert.equals(hits + 1, metric("rate_cache_hits_total"))
  end)

  it("keeps the last good rates across a restart, with their age", function()
    start()
    mode.rapira, mode.fiat = "down", "down"
    spec.advance(120)
    start()
    local r = say(chat, "/rate 900 RUB USD 0")
    assert.matches("<b>10.00 USD</b>", r, 1, true)
    assert.matches("2 min old", r, 1, true)
  end)
end)

describe("/rate with its config section", function()
  before_each(reset)
  local APILAYER = "https://fiat.test/exchangerates_data/latest"
  local function section(t)
    local s = { enabled = true, fiat_url = APILAYER, fiat_key = "k-77secret", health_after = 60 }
    for k, v in pairs(t or {}) do s[k] = v end
    return s
  end

  it("reads APILayer with its key, falls back to open.er-api.com when it refuses, logs no key", function()
    local refuse = false
    spec.stub_http(APILAYER, function(req)
      if refuse or req.headers.apikey ~= "k-77secret" then
        return { status = 401, body = '{"message":"Invalid authentication credentials"}' }
      end
      return { body = '{"success":true,"timestamp":1767225600,"base":"USD","date":"2026-01-01",' ..
                      '"rates":{"RUB":91,"EUR":0.86,"THB":32,"AED":3.6725,"ZAR":18,"IDR":16500}}' }
    end)
    spec.admins{ 9001 }
    start(section())
    -- 910 / 91 = 10.00
    local r = say(chat, "/rate 910 RUB USD 0")
    assert.matches("Base rate: 91.00 RUB per USD (APILayer,", r, 1, true)
    assert.matches("<b>10.00 USD</b>", r, 1, true)
    refuse = true
    spec.advance(300)    -- expired: the next refresh asks APILayer, refused, then the fallback
    spec.advance(30)
    r = say(chat, "/rate 900 RUB USD 0")
    assert.matches("Base rate: 90.00 RUB per USD (open.er-api.com,", r, 1, true)
    local refused = false
    for _, line in ipairs(spec.logs()) do
      assert.is_nil(line.msg:find("k-77secret", 1, true), line.msg)
      refused = refused or line.msg:find("APILayer: the key is refused (HTTP 401)", 1, true) ~= nil
    end
    assert.is_true(refused, "the refusal is logged")
    spec.advance(2)
    local told = table.concat(tg.texts(9001), "\n")   -- the operators, once
    assert.matches("APILayer refuses the API key (the key is refused (HTTP 401))", told, 1, true)
    assert.is_nil(told:find("k-77secret", 1, true))
  end)

  it("refuses a preload that is not a pair, naming the key", function()
    spec.config("rate", section({ preload = { "RUB/USDT", "BTC/EUR" } }))
    local ok, err = spec.use_scripts(scripts())
    assert.is_nil(ok)
    assert.matches([[key 'rate.preload' holds "BTC/EUR"]], err, 1, true)
    spec.config("rate", section({ cross = "eur" }))
    ok, err = spec.use_scripts(scripts())
    assert.is_nil(ok)
    assert.matches([[key 'rate.cross' must be "rub" or "usd", got "eur"]], err, 1, true)
    assert.is_nil(spec.metrics():find("k-77secret", 1, true))
  end)

  it("says in /health when a source has been down for long, and when it is back", function()
    start(section())
    local function status()
      local c = spec.health().components or {}
      return (c["script:rate_rapira"] or {}).status
    end
    mode.rapira = "down"
    spec.advance(270)                 -- the refresh ahead at 240 s failed: failing for 30 s
    assert.equals("ok", status())
    spec.advance(30)                  -- 60 s of failures: health_after
    assert.equals("degraded", status())
    assert.matches("Rapira has failed for 1 min", spec.health().components["script:rate_rapira"].reason, 1, true)
    mode.rapira = "good"
    for _ = 1, 3 do spec.advance(30) end   -- the breaker's trial answers
    assert.equals("ok", status())
  end)
end)

describe("rate_source's parsers", function()
  local source = require("rate_source")
  it("reads Rapira's list, APILayer's and open.er-api.com's answers exactly", function()
    local v = assert(source.parse_rapira('{"data":[{"symbol":"USDT/RUB","askPrice":"81.17","bidPrice":81.05}]}'))
    assert.equals("81.17", tostring(v.ask))
    assert.equals("81.05", tostring(v.bid))
    v = assert(source.parse_apilayer('{"success":true,"timestamp":1767225600,"base":"USD","date":"2026-01-01",' ..
      '"rates":{"RUB":79.8512,"EUR":0.859377,"THB":31.9875,"AED":3.6725,"ZAR":17.1893,"IDR":16652}}'))
    assert.equals("0.859377", tostring(v.EUR))
    assert.equals("16652", tostring(v.IDR))
    v = assert(source.parse_erapi(FIAT))
    assert.equals("3.6725", tostring(v.AED))
  end)

  it("refuses errors and garbage with a short reason", function()
    for _, case in ipairs({
      { source.parse_apilayer, '{"success":false,"error":{"code":202,"type":"invalid_currency_codes"}}', "invalid_currency_codes" },
      { source.parse_apilayer, '{"message":"Invalid authentication credentials"}', "Invalid authentication" },
      { source.parse_apilayer, '{"success":true,"base":"EUR","rates":{}}', "not per USD" },
      { source.parse_apilayer, '{"success":true,"base":"USD","rates":{"RUB":90}}', "no usable EUR" },
      { source.parse_erapi, '{"result":"error","error-type":"unsupported-code"}', "unsupported-code" },
      { source.parse_erapi, 'null', "not JSON" },
      { source.parse_rapira, '{"data":[{"symbol":"USDT/RUB","askPrice":0,"bidPrice":0}]}', "usable ask" },
      { source.parse_rapira, '{"data":[{"symbol":"USDT/RUB","askPrice":"1e999","bidPrice":1}]}', "usable ask" },
      { source.parse_rapira, '{"data":[]}', "no USDT/RUB" },
      { source.parse_rapira, '[1,2]', "not Rapira" },
    }) do
      local v, err = case[1](case[2])
      assert.is_nil(v, case[2])
      assert.matches(case[3], err, 1, true)
    end
  end)

  it("sends APILayer's key in its header only, and names a refused key without it", function()
    spec.stub_http("https://fiat.test/latest", function(req)
      if req.headers.apikey ~= "k-123secret" then return { status = 401, body = '{"message":"Invalid authentication credentials"}' } end
      return { status = 429, body = '{"message":"API rate limit reached"}' }
    end)
    local cfg = { timeout = 5, rapira_url = RAPIRA, fiat_url = "https://fiat.test/latest", fiat_key = "k-123secret" }
    local list = source.list(cfg)
    assert.equals("apilayer", list[2].name)
    local v, err = spec.call(function() return list[2].get() end)
    assert.is_nil(v)
    assert.equals("rate limited (HTTP 429)", err)
    local reqs = spec.http_requests()
    assert.equals("https://fiat.test/latest?base=USD&symbols=RUB,EUR,THB,AED,ZAR,IDR", reqs[#reqs].url)
    cfg.fiat_key = "wrong"
    v, err = spec.call(function() return source.list(cfg)[2].get() end)
    assert.equals("the key is refused (HTTP 401)", err)
  end)
end)

describe("/start", function()
  it("mentions /rate when it is on, and /help lists it", function()
    reset()
    spec.config("rate", { enabled = true })
    local t = scripts()
    t["commands/start.lua"] = read("scripts/commands/start.lua")
    assert(spec.use_scripts(t))
    tg = tg or spec.telegram()
    assert.matches("/rate works out an exchange", say(chat, "/start"), 1, true)
    assert.matches("/rate - Exchange rate calculator", say(chat, "/help"), 1, true)
  end)
end)
