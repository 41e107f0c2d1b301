-- Rules with settings a preset chooses (ema_cross's periods): each preset
-- fires where a hand computation of its own EMAs crosses, two settings of
-- one rule side by side; settings checked with a sentence for the user;
-- alerts.get and alerts.rules show them; the defaults share the rule's slot.
local HOUR = 3600000
local ema = dofile("tests/spec/hand.lua").ema   -- EMA(n) of closes[1..k], by hand

local function gap(closes, k, fast, slow)
  local f, s = ema(closes, k, fast), ema(closes, k, slow)
  return (f - s) / s * 100
end

describe("rule settings", function()
  local tg, t0, closes
  local function row(k)
    local c = closes[k]
    return { open_time = t0 + (k - 1) * HOUR, open = closes[k - 1] or c, close = c,
             high = c + 1, low = c - 1, volume = 10, quote_volume = 5e7, closed = true,
             price_decimals = 2, event_time = t0 + k * HOUR - 1 }
  end
  local function save(p)
    p.user_id = p.user_id or p.chat_id
    p.name = p.name or "x"
    p.pairs = "manual"
    p.symbols = p.symbols or { "BTCUSDT" }
    p.intervals = { "1h" }
    p.rule = p.rule or "ema_cross"
    p.threshold = p.threshold or 0
    p.direction = p.direction or "up"
    p.trigger = "close"
    return spec.call(function() return alerts.save(p) end)
  end

  before_each(function()
    assert(spec.use_scripts({
      ["lib/alertfmt.lua"] = assert(io.open("scripts/lib/alertfmt.lua")):read("a"),
      ["rules/move.lua"] = assert(io.open("scripts/rules/move.lua")):read("a"),
      ["rules/ema_cross.lua"] = assert(io.open("scripts/rules/ema_cross.lua")):read("a"),
    }))
    tg = spec.telegram()
    spec.ranking{ "BTCUSDT", "ETHUSDT" }
    closes = {}
    t0 = (spec.now() // HOUR) * HOUR - 300 * HOUR
  end)

  it("lists the settings and checks them with a sentence", function()
    local r
    for _, x in ipairs(spec.call(function() return alerts.rules() end)) do
      if x.name == "ema_cross" then r = x end
    end
    assert.equals("fast", r.params[1].name)
    assert.equals(9, r.params[1].default)
    assert.equals("slow", r.params[2].name)
    local cases = {
      { { fast = 21, slow = 9 }, "must be below the slow one's" },
      { { fast = 1 }, "fast EMA's period is a number from 2 to 500" },
      { { slow = 5000 }, "slow EMA's period is a number from 3 to 1000" },
      { { speed = 3 }, "has no setting \"speed\"; its settings: fast, slow" },
      { { fast = "x" }, "fast is a number" },
    }
    for _, c in ipairs(cases) do
      local id, err = save{ chat_id = 60, params = c[1] }
      assert.is_nil(id)
      assert.is_truthy(err:find(c[2], 1, true), err)
    end
    local id = assert(save{ chat_id = 60, params = { fast = 50, slow = 200 } })
    local p = spec.call(function() return alerts.get(id) end)
    assert.same({ fast = 50, slow = 200 }, p.params)
    id = assert(save{ chat_id = 60 })
    assert.same({ fast = 9, slow = 21 }, spec.call(function() return alerts.get(id) end).params)
  end)

  it("fires each preset where its own EMAs cross, by hand", function()
    -- a falling then rising series: the fast EMAs cross the slow ones upward
    -- at different candles for 5/10 and for 9/21 (the defaults)
    for k = 1, 400 do
      closes[k] = k <= 300 and 200 - k * 0.2 + math.sin(k) or 140 + (k - 300) * 0.6
    end
    assert(save{ chat_id = 61, params = { fast = 5, slow = 10 } })
    assert(save{ chat_id = 62 })   -- 9 / 21
    -- (the history after the presets: new settings' indicators start cold,
    -- and only the feed fetches the history again)
    spec.advance(1)
    local rows = {}
    for k = 1, 300 do rows[k] = row(k) end
    spec.history{ symbol = "BTCUSDT", interval = "1h", rows = rows }
    local want = { [61] = {}, [62] = {} }
    for k = 301, 400 do
      local r = row(k)
      r.symbol, r.interval = "BTCUSDT", "1h"
      spec.candle(r)
      spec.advance(1)
      for chat, p in pairs{ [61] = { 5, 10 }, [62] = { 9, 21 } } do
        if gap(closes, k - 1, p[1], p[2]) < 0 and gap(closes, k, p[1], p[2]) >= 0 then
          table.insert(want[chat], k)
        end
      end
      assert.equals(#want[61], #tg.texts(61), "5/10 at candle " .. k)
      assert.equals(#want[62], #tg.texts(62), "9/21 at candle " .. k)
    end
    assert.equals(1, #want[61])
    assert.equals(1, #want[62])
    assert.is_true(want[61][1] < want[62][1], "the faster pair crosses first")
    local text = tg.texts(61)[1]
    assert.is_truthy(text:find("EMA 5 crossed above EMA 10 at " ..
                               string.format("%.2f", closes[want[61][1]]), 1, true), text)
    assert.is_truthy(tg.texts(62)[1]:find("EMA 9 crossed above EMA 21", 1, true))
  end)
end)
