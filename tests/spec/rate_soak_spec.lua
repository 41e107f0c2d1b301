-- A soak of /rate's cache: 300 chats asking for every pair, a source
-- failing now and then, 12 hours of simulated time.  The script state's
-- memory (collectgarbage("count"), sampled every hour) stays flat: the
-- cache keeps one entry per kind of rate, the pairs in use are at most the
-- 14 /rate offers, and nothing is kept per user or per request.
local RAPIRA = "https://api.rapira.net/open/market/rates"
local ERAPI = "https://open.er-api.com/v6/latest/USD"

local function read(path) return assert(io.open(path)):read("a") end

describe("the /rate cache over hours", function()
  it("keeps the script state's memory flat", function()
    local t = { ["commands/rate.lua"] = read("scripts/commands/rate.lua") }
    for _, m in ipairs({ "rate_config", "rate_calc", "rate_cache", "rate_source", "rate_recorded" }) do
      t["lib/" .. m .. ".lua"] = read("scripts/lib/" .. m .. ".lua")
    end
    local n, down = 0, false
    spec.stub_http(RAPIRA, function()
      n = n + 1
      if down then return { status = 503, body = "busy" } end
      return { body = string.format('{"data":[{"symbol":"USDT/RUB","askPrice":%d.%02d,"bidPrice":90.5}]}',
                                    91 + n % 5, n % 100) }
    end)
    spec.stub_http(ERAPI, { body = '{"result":"success","base_code":"USD","rates":{"RUB":90,"EUR":0.86,' ..
                                   '"THB":32,"AED":3.6725,"ZAR":18,"IDR":16500}}' })
    spec.config("rate", { enabled = true })
    assert(spec.use_scripts(t))
    local tg = spec.telegram()
    local pairs_ = {}
    for _, give in ipairs({ "RUB", "USDT" }) do
      for _, get in ipairs({ "USDT", "RUB", "USD", "EUR", "THB", "AED", "ZAR", "IDR" }) do
        if give ~= get then pairs_[#pairs_ + 1] = give .. " " .. get end
      end
    end
    local samples, answered = {}, 0
    for hour = 1, 12 do
      for tick = 1, 6 do                      -- every 10 minutes, every chat asks once
        down = (hour % 4 == 0 and tick <= 3)  -- the source down half an hour in four
        for chat = 1, 300 do
          local p = pairs_[(chat + hour * 7 + tick) % #pairs_ + 1]
          tg.message{ chat = 5000 + chat, text = string.format("/rate %d %s %d", chat * 37 + tick, p, chat % 5) }
        end
        spec.advance(600)
        for _, c in ipairs(tg.calls) do   -- (the fake Telegram's record is in the same state: emptied)
          if c.text and c.text:find("The client gets", 1, true) then answered = answered + 1 end
        end
        tg.calls = {}
        local reqs = spec.http_requests()   -- (and the stubs' record of every request)
        for i = #reqs, 1, -1 do reqs[i] = nil end
      end
      collectgarbage()   -- (the spec shares the script state: garbage out, what is kept counted)
      samples[hour] = spec.call(function() return collectgarbage("count") end)
    end
    print("KiB each hour: " .. table.concat(samples, " "))
    assert.is_true(answered > 300 * 12 * 6 * 0.9, "answered " .. answered)
    -- flat: after the first hours (the state's tables at their size), no
    -- hour's sample above the largest of the first four by more than 10 %
    -- (a cache keeping something per request would grow by 1,800 a sample)
    local early = math.max(samples[1], samples[2], samples[3], samples[4])
    for hour = 5, 12 do
      assert.is_true(samples[hour] < early * 1.1,
                     string.format("hour %d: %.0f KiB against %.0f KiB early", hour, samples[hour], early))
    end
  end)
end)
