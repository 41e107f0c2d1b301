-- The gas service end to end through the real host: scripts/gas.lua polls
-- a stubbed Etherscan (and RPC) on its timer, /gas answers, the inline
-- flow sets alerts (lane, direction, typed level, quiet period), the list
-- pauses, resumes and deletes them, and an alert arrives once per
-- crossing: none while the price hovers, none twice after a reload.
local function read(path) return assert(io.open(path)):read("a") end

local ES, RPC = "https://es.test/v2/api", "https://rpc.test/"
local MIN = 60

local tg
local chat = 9000
local price = { fast = 30 }          -- what the stubbed oracle answers: fast, the others below it
local es_answer                      -- a table answer instead (errors)
local errors                         -- script errors before the test

local function oracle_body()
  local f = price.fast
  return json.encode({ status = "1", message = "OK", result = {
    LastBlock = "21000000", SafeGasPrice = tostring(f - 2), ProposeGasPrice = tostring(f - 1),
    FastGasPrice = tostring(f), suggestBaseFee = tostring(f - 3), gasUsedRatio = "0.5" } })
end

local function setup(section)
  local s = { enabled = true, interval = 60, etherscan_url = ES, rpc_url = RPC, key = "K3Y" }
  for k, v in pairs(section or {}) do s[k] = v end
  spec.config("gas", s)
  assert(spec.use_scripts({
    ["gas.lua"] = read("scripts/gas.lua"),
    ["commands/gas.lua"] = read("scripts/commands/gas.lua"),
    ["commands/start.lua"] = read("scripts/commands/start.lua"),
    ["commands/pause.lua"] = read("scripts/commands/pause.lua"),
    ["lib/gas_config.lua"] = read("scripts/lib/gas_config.lua"),
    ["lib/gas_source.lua"] = read("scripts/lib/gas_source.lua"),
    ["lib/gas_alerts.lua"] = read("scripts/lib/gas_alerts.lua"),
    ["lib/gas_history.lua"] = read("scripts/lib/gas_history.lua"),
  }))
  tg = spec.telegram()
  errors = spec.errors()
  es_answer = nil
  spec.stub_http(ES, function() return es_answer or { status = 200, body = oracle_body() } end)
  spec.stub_http(RPC, { status = 500, body = "down" })
  chat = chat + 1
  return chat
end

local function last(c) local t = tg.texts(c) return t[#t] end
local function say(c, text, from) tg.message{ chat = c, text = text, from = from } spec.advance(2) return last(c) end
local function press(c, data, from)
  tg.press{ chat = c, data = data, message_id = 1, from = from }
  spec.advance(2)
  return last(c)
end
local function buttons(c)
  local out, sent = {}, tg.sent(c)
  for i = #sent, 1, -1 do
    local m = sent[i].params.reply_markup
    if m then
      for _, row in ipairs(m.inline_keyboard) do
        for _, b in ipairs(row) do out[b.text] = b.callback_data end
      end
      return out
    end
  end
  return out
end
-- the oracle answers fast = v from now on; the next poll takes it.  -> the
-- alerts the chat got from that poll
local function poll(c, v)
  if v then price.fast = v end
  local before = #tg.texts(c)
  spec.advance(MIN)
  spec.advance(5)   -- (the alert's delivery)
  local out = {}
  for i = before + 1, #tg.texts(c) do out[#out + 1] = tg.texts(c)[i] end
  return out
end
-- an alert set through the flow: "gas:..." presses and the typed level
local function make_alert(c, lane, dir, level, quiet, from)
  press(c, "gasalert:new", from)
  press(c, "gasalert:lane:" .. lane, from)
  press(c, "gasalert:dir:" .. dir, from)
  say(c, level, from)
  return press(c, "gasalert:quiet:" .. (quiet or 0), from)
end

describe("/gas", function()
  after_each(function() assert.equals(errors, spec.errors()) end)   -- no handler failed

  it("says when there is no reading yet, then shows the lanes, the day and the budget", function()
    local c = setup()
    assert.matches("No gas reading yet", say(c, "/gas"))
    poll(c, 30)
    local text = say(c, "/gas")
    assert.matches("Safe 28 · Standard 29 · Fast 30 · Base fee 27 gwei", text, 1, true)
    assert.matches("From Etherscan, block 21000000", text, 1, true)
    assert.matches("Etherscan calls today: 1 of 100,000.", text, 1, true)
    for _ = 1, 3 do poll(c, 20) end
    text = say(c, "/gas")
    assert.matches("low 19 at %d%d:%d%d, average 21.5, high 29 at %d%d:%d%d", text)
    assert.matches("<code>[▁-█·]+</code>", text)
    assert.matches("Etherscan calls today: 4 of 100,000.", text, 1, true)
    assert.matches("/gas shows Ethereum's gas price", say(c, "/start"), 1, true)
  end)

  it("draws the last 24 h as a picture, once for every chat asking", function()
    local c = setup()
    for _, v in ipairs({ 30, 24, 36, 28 }) do poll(c, v) end
    local day = say(c, "/gas"):match("24 h, standard: (low [%d.]+ at %d%d:%d%d, average [%d.]+, high [%d.]+ at %d%d:%d%d)")
    assert.truthy(day)
    assert.equals("gas:chart", buttons(c)["📈 Chart (24 h)"])
    press(c, "gas:chart")
    local sent = tg.sent(c)
    local m = sent[#sent]
    assert.equals("sendPhoto", m.method)
    assert.is_true(m.uploaded)
    assert.equals("\x89PNG\r\n\x1a\n", m.photo:sub(1, 8))
    local w, h = string.unpack(">I4I4", m.photo, 17)
    assert.same({ 800, 500 }, { w, h })
    assert.matches("Standard: " .. day .. ".", m.text, 1, true)
    say(c + 1000, "/gas history")   -- another chat: the same picture, by file_id
    local other = tg.sent(c + 1000)
    assert.equals(m.file_id, other[#other].file_id)
    assert.is_false(other[#other].uploaded)
  end)

  it("is not there when the section is off", function()
    local c = setup({ enabled = false })
    say(c, "/start")
    assert.is_nil(last(c):find("/gas", 1, true))
    assert.equals(0, spec.timers("gas.lua"))
  end)

  it("refuses to load with a source it does not know, naming the key", function()
    spec.config("gas", { enabled = true, sources = { "etherscan", "rcp" } })
    local ok, err = spec.use_scripts({
      ["gas.lua"] = read("scripts/gas.lua"),
      ["commands/gas.lua"] = read("scripts/commands/gas.lua"),
      ["lib/gas_config.lua"] = read("scripts/lib/gas_config.lua"),
      ["lib/gas_source.lua"] = read("scripts/lib/gas_source.lua"),
      ["lib/gas_alerts.lua"] = read("scripts/lib/gas_alerts.lua"),
      ["lib/gas_history.lua"] = read("scripts/lib/gas_history.lua"),
    })
    assert.is_nil(ok)
    assert.matches('lib/gas_config.lua:3: key \'gas.sources\' item 2: "rcp" is not one of etherscan, rpc (did you mean \'rpc\'?)', err, 1, true)
    setup()   -- (a generation that loads, for after_each)
  end)

  it("sets an alert through the buttons and a typed level, refusing bad levels with a sentence", function()
    local c = setup()
    poll(c, 30)
    say(c, "/gas")
    assert.matches("Which gas price?", press(c, buttons(c)["➕ New alert"]))
    assert.matches("Alert when Fast gas goes", press(c, "gasalert:lane:fast"))
    assert.matches("Fast below how many gwei? It is 30 now.", press(c, "gasalert:dir:below"), 1, true)
    assert.equals("Send the level in gwei as a number from 0.001 to 100000, like 7.5. Or /cancel.", say(c, "cheap"))
    assert.matches("At most one alert per how long?", say(c, "25 gwei"))
    assert.equals("Saved: Fast below 25 gwei, at most one alert per 1h. You are told when it crosses. /gas lists your alerts.",
                  press(c, "gasalert:quiet:3600"))
    assert.matches("Gas alerts here %(1 of 10%):\n1%. Fast below 25 gwei %(at most every 1h%)", press(c, "gas:list"))
    -- a level the lane already meets starts disarmed, and says so
    assert.matches("already above 10: the first alert comes after it has gone below 9.5 and back",
                   make_alert(c, "fast", "above", "10"), 1, true)
    press(c, "gasalert:quiet:60")   -- (no flow open)
    assert.equals("That conversation has ended. Send /gas to start again.", tg.answers()[#tg.answers()])
  end)

  it("alerts once per crossing, not while hovering, and not twice after a reload", function()
    local c = setup()
    poll(c, 30)
    make_alert(c, "fast", "below", "25")
    assert.same({}, poll(c, 26))
    local got = poll(c, 24)
    assert.equals(1, #got)
    assert.matches("Gas: Fast below 25 gwei", got[1], 1, true)
    assert.matches("Fast is 24 gwei now", got[1], 1, true)
    for _, v in ipairs({ 25.5, 24, 26, 23, 25 }) do   -- hovering under 26.25 (25 + 5 %)
      assert.same({}, poll(c, v))
    end
    assert(spec.reload())
    assert.same({}, poll(c, 24))                       -- the crossing was sent before the reload
    assert.matches("Fast 24", say(c, "/gas"))           -- the history came back from the store
    assert.same({}, poll(c, 27))                       -- back above: re-armed
    assert.equals(1, #poll(c, 25))
  end)

  it("holds gas alerts while the chat is stopped, and puts them in the digest /start sends", function()
    local c = setup()
    poll(c, 30)
    make_alert(c, "fast", "below", "25")
    assert.matches("Alerts paused", say(c, "/stop"))
    assert.same({}, poll(c, 24))
    local texts = tg.texts(c)
    say(c, "/start")
    local after = table.concat(tg.texts(c), "\n", #texts + 1)
    assert.matches("Gas fast 24 gwei (below 25)", after, 1, true)
    assert.same({}, poll(c, 23))                        -- (it fired once; held, not lost or repeated)
  end)

  it("pauses, resumes and deletes alerts from the list", function()
    local c = setup()
    poll(c, 30)
    make_alert(c, "fast", "below", "25")
    press(c, "gas:list")
    assert.matches("⏸ Fast below 25 gwei %(paused%)", press(c, buttons(c)["⏸ Pause 1"]))
    assert.same({}, poll(c, 20))                       -- paused: nothing
    assert.same({}, poll(c, 30))
    press(c, buttons(c)["▶ Resume 1"])
    assert.equals(1, #poll(c, 24))
    -- resumed while the price meets it: waits for the next crossing
    press(c, "gas:list")
    press(c, buttons(c)["⏸ Pause 1"])
    press(c, buttons(c)["▶ Resume 1"])
    assert.same({}, poll(c, 23))
    assert.same({}, poll(c, 27))
    assert.equals(1, #poll(c, 24))
    local del = buttons(c)["🗑 Delete 1"]
    assert.equals("No gas alerts in this chat yet.", press(c, del))
    assert.same({}, poll(c, 30))
    assert.same({}, poll(c, 20))
    press(c, del)
    assert.equals("That alert no longer exists.", tg.answers()[#tg.answers()])
  end)

  it("takes the store's word over memory's (a failed handler's writes are rolled back, memory's are not)", function()
    local c = setup()
    poll(c, 30)
    make_alert(c, "fast", "below", "25")
    make_alert(c, "fast", "below", "26")
    spec.call(function(chat)   -- the store without the first, the second already disarmed
      for _, it in ipairs(store.list("gas.alert", { prefix = chat .. ":" })) do
        if it.value.level == 25 then store.set("gas.alert", it.key, nil) end
        if it.value.level == 26 then
          it.value.armed = false
          store.set("gas.alert", it.key, it.value)
        end
      end
    end, c)
    assert.same({}, poll(c, 24))
    assert.same({}, poll(c, 30))                        -- (26 re-armed from the store's state)
    local got = poll(c, 24)
    assert.equals(1, #got)
    assert.matches("below 26 gwei", got[1], 1, true)
  end)

  it("holds up to 10 alerts a chat and says so", function()
    local c = setup()
    poll(c, 30)
    for i = 1, 10 do make_alert(c, "safe", "above", tostring(100 + i)) end
    assert.matches("Gas alerts here %(10 of 10%)", press(c, "gas:list"))
    press(c, "gasalert:new")
    assert.equals("This chat has 10 gas alerts, the most there can be; delete one first.", tg.answers()[#tg.answers()])
  end)

  it("lets only a group's administrators change its alerts", function()
    local group, admin, member = -1009001, 91, 92
    setup()
    tg.admins[group] = { [admin] = true }
    poll(group, 30)
    assert.matches("Fast 30", say(group, "/gas", member))       -- anyone sees the prices
    press(group, "gasalert:new", member)
    assert.matches("Only this group's administrators", tg.answers()[#tg.answers()])
    assert.matches("Saved: Fast below 25 gwei", make_alert(group, "fast", "below", "25", 0, admin))
    assert.equals(1, #poll(group, 24))
  end)

  it("logs each Etherscan error text once, counts every one, tells the admins of a bad key, uses the RPC", function()
    local c = setup()
    spec.admins{ 5 }
    spec.stub_http(RPC, function(req)
      local m = json.decode(req.body).method
      if m == "eth_gasPrice" then return { body = json.encode({ result = "0x4a817c800" }) } end   -- 20 gwei
      return { status = 503, body = "busy" }
    end)
    local function budget() return tonumber(say(c, "/gas"):match("Etherscan calls today: (%d+) of 100,000%.")) end
    poll(c, 30)
    local calls = budget()
    spec.clear_logs()
    es_answer = { status = 200, body = json.encode({ status = "0", message = "NOTOK", result = "Max rate limit reached" }) }
    for _ = 1, 3 do poll(c) end
    es_answer = { status = 200, body = json.encode({ status = "0", message = "NOTOK", result = "Invalid API Key" }) }
    for _ = 1, 2 do poll(c) end
    local logged = {}
    for _, l in ipairs(spec.logs()) do
      local what = l.msg:match("^gas: etherscan failed: (.*)")
      if what then logged[#logged + 1] = what end
    end
    assert.same({ "Max rate limit reached", "Invalid API Key" }, logged)
    assert.matches("candlewatch_script_gas_etherscan_errors_total 5", spec.metrics(), 1, true)
    local told = 0
    for _, t in ipairs(tg.texts(5)) do if t:find("Etherscan refuses the gas API key", 1, true) then told = told + 1 end end
    assert.equals(1, told)
    for _, l in ipairs(spec.logs()) do assert.is_nil(l.msg:find("K3Y", 1, true), l.msg) end
    local text = say(c, "/gas")
    assert.matches("Standard 20 gwei", text, 1, true)           -- eth_gasPrice: the standard lane only
    assert.matches("From the RPC node.", text, 1, true)
    assert.equals(calls + 5, budget())
    es_answer = nil
    spec.clear_logs()
    poll(c, 30)
    local again = false
    for _, l in ipairs(spec.logs()) do again = again or l.msg:find("gas: etherscan answers again", 1, true) ~= nil end
    assert.is_true(again)
  end)

  it("loads 30,000 stored alerts after a reload, a handler's budget at a time, and fires the crossed ones", function()
    local c = setup()
    poll(c, 30)
    make_alert(c, "fast", "below", "25")
    for part = 0, 2 do   -- other chats' alerts, at levels the price does not cross
      spec.call(function(p)
        for i = 1, 10000 do
          local n = p * 10000 + i
          store.set("gas.alert", string.format("%d:%d", 100000 + n // 10, 900000 + n),
                    { id = 900000 + n, chat = 100000 + n // 10, lane = "fast", dir = n % 2 == 0 and "below" or "above",
                      level = 50 + n % 1000 / 10, armed = true, paused = false, quiet = 0 })
        end
      end, part)
    end
    spec.limits({ instructions = 3e6 })   -- (less than reading 30,000 rows in one handler costs)
    assert(spec.reload())
    spec.advance(1)
    local got = poll(c, 24)
    spec.limits({ instructions = 1e7 })
    assert.equals(1, #got)
    assert.matches("below 25 gwei", got[1], 1, true)
    assert.equals(0, spec.errors("gas.lua"))
  end)

  it("keeps 24 h of readings in the store, pruned as they age", function()
    local c = setup({ interval = 600 })
    local function rows()
      return spec.call(function()
        local n, from = 0, nil
        repeat
          local items, nxt = store.list("gas.reading", { from = from })
          n, from = n + #items, nxt
        until not from
        return n
      end)
    end
    for _ = 1, 150 do spec.advance(600) end             -- 25 h, one reading every 10 minutes
    local n = rows()
    assert.is_true(n >= 143 and n <= 145, n)            -- 24 h of them
  end)
end)
