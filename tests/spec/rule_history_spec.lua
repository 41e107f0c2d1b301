-- value(candle, history, state): the closed candles a rule declares with
-- history = n, as a view, and the rule's own state per (symbol, interval),
-- kept across reloads and dropped with the rule.
describe("rule history and state", function()
  local t0
  local seq = 0

  -- what the rule logged: the messages starting with tag, in order
  local function said(tag)
    local out = {}
    for _, l in ipairs(spec.logs()) do
      if l.msg:find(tag, 1, true) == 1 then out[#out + 1] = l.msg:sub(#tag + 2) end
    end
    return out
  end
  local function candle(sym, k, closed, extra)
    seq = seq + 1
    local c = { symbol = sym, interval = "1m", open_time = t0 + k * 60000, open = 100 + k,
                close = 1000 + k, high = 2000 + k, low = 50 + k, volume = 7 + k,
                closed = closed, event_time = t0 + k * 60000 + seq }
    for key, v in pairs(extra or {}) do c[key] = v end
    return spec.candle(c)
  end
  -- a preset on the rule, so the engine surely evaluates it for sym
  local function watch(rule, sym, threshold)
    assert(spec.call(function()
      return alerts.save{ user_id = 5, name = rule .. sym, rule = rule, pairs = "manual",
                          symbols = { sym }, intervals = { "1m" }, threshold = threshold or 1e9,
                          direction = "up", trigger = "forming" }
    end))
  end

  before_each(function()
    assert(spec.use_scripts({
      ["rules/move.lua"] = assert(io.open("scripts/rules/move.lua")):read("a"),
      ["rules/hist.lua"] = [[
        local kept, kept_candle
        alerts.rule{ name = "hist", mode = "level", directions = { "up", "down" },
                     threshold = { min = 0, max = 1e9 }, history = 3,
                     value = function(candle, history)
                       local closes = {}
                       for i = 1, #history do closes[#closes + 1] = history[i].close end
                       log.warn("hist %s %s n=%d [%s] next=%s zero=%s", candle.symbol,
                                candle.closed and "closed" or "forming", #history,
                                table.concat(closes, ","), tostring(history[#history + 1]),
                                tostring(history[0]))
                       if #history > 0 then
                         local h = history[1]
                         log.warn("fields %s %s %s %s %s %s %s", h.open_time, h.open, h.high,
                                  h.low, h.volume, tostring(h.closed), h.symbol)
                       end
                       kept, kept_candle = history, history[1]
                       return 0
                     end }
        timer.every(1, function()   -- after the call: reading them raises
          if kept then
            local ok, err = pcall(function() return #kept end)
            log.warn("kept history: %s", ok and "readable" or err)
            if kept_candle then
              ok, err = pcall(function() return kept_candle.close end)
              log.warn("kept entry: %s", ok and "readable" or err)
            end
            kept, kept_candle = nil, nil
          end
        end)
      ]],
    }))
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT" }
    t0 = (spec.now() // 60000 + 1) * 60000 + 3600000 * seq
    spec.clear_logs()
  end)

  it("shows the closed candles before the candle, newest first, up to n", function()
    watch("hist", "BTCUSDT")
    candle("BTCUSDT", 0, false)
    spec.advance(0)
    for k = 0, 4 do
      candle("BTCUSDT", k, true)
      spec.advance(0)
      candle("BTCUSDT", k + 1, false)
      spec.advance(0)
    end
    assert.same({
      "BTCUSDT forming n=0 [] next=nil zero=nil",
      "BTCUSDT closed n=0 [] next=nil zero=nil",      -- the closing candle is not its own history
      "BTCUSDT forming n=1 [1000.0] next=nil zero=nil",
      "BTCUSDT closed n=1 [1000.0] next=nil zero=nil",
      "BTCUSDT forming n=2 [1001.0,1000.0] next=nil zero=nil",
      "BTCUSDT closed n=2 [1001.0,1000.0] next=nil zero=nil",
      "BTCUSDT forming n=3 [1002.0,1001.0,1000.0] next=nil zero=nil",
      "BTCUSDT closed n=3 [1002.0,1001.0,1000.0] next=nil zero=nil",
      "BTCUSDT forming n=3 [1003.0,1002.0,1001.0] next=nil zero=nil",   -- at most n
      "BTCUSDT closed n=3 [1003.0,1002.0,1001.0] next=nil zero=nil",
      "BTCUSDT forming n=3 [1004.0,1003.0,1002.0] next=nil zero=nil",
    }, said("hist"))
    local f = said("fields")
    assert.equals(("%d 104.0 2004.0 54.0 11.0 true BTCUSDT"):format(t0 + 4 * 60000), f[#f])
  end)

  it("sees each queued event's own past, not the candles that came after it", function()
    watch("hist", "ETHUSDT")
    for k = 0, 3 do candle("ETHUSDT", k, true) end   -- four closes before the engine runs
    spec.advance(0)
    assert.same({
      "ETHUSDT closed n=0 [] next=nil zero=nil",
      "ETHUSDT closed n=1 [1000.0] next=nil zero=nil",
      "ETHUSDT closed n=2 [1001.0,1000.0] next=nil zero=nil",
      "ETHUSDT closed n=3 [1002.0,1001.0,1000.0] next=nil zero=nil",
    }, said("hist"))
    candle("ETHUSDT", 6, true)   -- a gap: 4 and 5 come later, from backfill
    candle("ETHUSDT", 5, true, { backfilled = true })
    spec.advance(0)
    local h = said("hist")   -- each sees what is held older than itself
    assert.equals("ETHUSDT closed n=3 [1005.0,1003.0,1002.0] next=nil zero=nil", h[#h - 1])
    assert.equals("ETHUSDT closed n=3 [1003.0,1002.0,1001.0] next=nil zero=nil", h[#h])
  end)

  it("raises when the history or one of its candles is read after the call", function()
    watch("hist", "SOLUSDT")
    candle("SOLUSDT", 0, true)
    candle("SOLUSDT", 1, false)
    spec.advance(2)
    local h, e = said("kept history:"), said("kept entry:")
    assert.matches("this history was passed to a rule's value() and is gone", h[#h], 1, true)
    assert.matches("this candle was passed to a rule's value() and is gone", e[#e], 1, true)
  end)

  it("grows the candle store at go-live for a rule that reads more than it keeps", function()
    local function held()
      return #spec.call(function() return candles.last("XRPUSDT", "1m", 2000) end)
    end
    for k = 0, 299 do candle("XRPUSDT", k, true) end
    spec.advance(0)
    local configured = held()
    assert.is_true(configured < 300, "the config keeps fewer than 300 (exchange.history)")
    local n = configured + 20
    spec.write("rules/deep.lua", ([[
      alerts.rule{ name = "deep", history = %d, on = { "forming" },
                   value = function(candle, history)
                     log.warn("deep n=%%d oldest=%%s", #history, history[#history].close)
                   end }
    ]]):format(n))
    assert(spec.reload())
    assert.equals(configured, held(), "what was held stays")
    watch("deep", "XRPUSDT", 100)
    for k = 300, 329 do candle("XRPUSDT", k, true) end
    candle("XRPUSDT", 330, false)
    spec.advance(0)
    assert.equals(n + 1, held(), "n candles and the one closing")
    local d = said("deep")
    assert.equals(("n=%d oldest=%.1f"):format(n, 1000 + 330 - n), d[#d])
    spec.remove("rules/deep.lua")
    assert(spec.reload())
    assert.equals(n + 1, held(), "never shrinks while running")
  end)

  it("keeps a rule's state per symbol and interval across reloads, and drops it with the rule", function()
    local src = [[
      alerts.rule{ name = "count", on = { "forming" },
                   value = function(candle, history, state)
                     state.n = (state.n or 0) + 1
                     log.warn("count%s %s %d", VERSION, candle.symbol, state.n)
                   end }
    ]]
    spec.write("rules/count.lua", src:gsub("VERSION", "1"))
    assert(spec.reload())
    watch("count", "ADAUSDT", 100)
    watch("count", "BTCUSDT", 100)
    candle("ADAUSDT", 0, false)
    candle("ADAUSDT", 0, false)
    candle("BTCUSDT", 0, false)
    spec.advance(0)
    assert.same({ "ADAUSDT 1", "ADAUSDT 2", "BTCUSDT 1" }, said("count1"))
    spec.write("rules/count.lua", src:gsub("VERSION", "2"))   -- a new version of the rule
    assert(spec.reload())
    candle("ADAUSDT", 0, false)
    spec.advance(0)
    assert.same({ "ADAUSDT 3" }, said("count2"))
    spec.remove("rules/count.lua")   -- gone: its state goes
    assert(spec.reload())
    spec.write("rules/count.lua", src:gsub("VERSION", "3"))
    assert(spec.reload())
    candle("ADAUSDT", 0, false)
    spec.advance(0)
    assert.same({ "ADAUSDT 1" }, said("count3"))
    spec.remove("rules/count.lua")
    assert(spec.reload())
  end)

  it("reports a rule that fails in its state or history with file:line, and keeps serving", function()
    spec.write("rules/boom.lua", [[
      alerts.rule{ name = "boom", history = 2, on = { "forming" },
                   value = function(candle, history, state)
                     state.calls = (state.calls or 0) + 1
                     return history[1].close + nil   -- fails once history has a candle
                   end }
    ]])
    assert(spec.reload())
    watch("boom", "DOGEUSDT", 100)
    watch("hist", "DOGEUSDT")
    candle("DOGEUSDT", 0, true)
    candle("DOGEUSDT", 1, false)
    spec.advance(0)
    assert.is_true(spec.errors("rules/boom.lua") >= 1)
    local reported
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("rules/boom.lua:4:", 1, true) then reported = l.msg end
    end
    assert(reported, "the failure is logged with file:line")
    assert.matches("traceback", reported, 1, true)
    local h = said("hist")   -- the other rule was evaluated after it, as usual
    assert.matches("^DOGEUSDT forming n=1 ", h[#h])
    spec.remove("rules/boom.lua")
    assert(spec.reload())
  end)

  it("bounds a rule's state by the Lua memory limit, and frees it with the rule", function()
    spec.write("rules/hog.lua", [[
      alerts.rule{ name = "hog", on = { "forming" },
                   value = function(candle, history, state)   -- keeps 1 MiB more every event
                     state[#state + 1] = string.rep("x", 1 << 20) .. candle.event_time
                   end }
    ]])
    assert(spec.reload())
    watch("hog", "DOGEUSDT", 100)
    watch("hist", "DOGEUSDT")
    collectgarbage()
    local base = collectgarbage("count") // 1024
    spec.limits{ memory_mb = base + 40 }
    spec.advance(11)   -- (rule failures are reported at most once per 10 s)
    for k = 1, 60 do
      candle("DOGEUSDT", 100, false, { event_time = t0 + 100 * 60000 + k })
      spec.advance(0)
    end
    local limited
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("rules/hog.lua", 1, true) and l.msg:find("memory limit", 1, true) then limited = l.msg end
    end
    assert(limited, "the rule fails with the memory limit, naming its script")
    local h = said("hist")
    assert.matches("^DOGEUSDT forming ", h[#h])   -- the other rules still run
    spec.remove("rules/hog.lua")   -- gone: its state goes, and the memory with it
    assert(spec.reload())
    collectgarbage()
    assert.is_true(collectgarbage("count") // 1024 < base + 10)
    spec.limits{ memory_mb = 256 }
  end)
end)
