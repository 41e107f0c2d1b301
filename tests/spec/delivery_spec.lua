-- The delivery scheduler through the real core: order, failures and their
-- handling, on the simulated clock (spec.telegram fakes the Bot API).
describe("delivery", function()
  local tg
  local function texts_in_order()
    local out = {}
    for _, c in ipairs(tg.calls) do
      if c.method == "sendMessage" then out[#out + 1] = c.text end
    end
    return out
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/start.lua"] = assert(io.open("scripts/commands/start.lua")):read("a"),
      ["commands/reload.lua"] = assert(io.open("scripts/commands/reload.lua")):read("a"),
      ["commands/x.lua"] = [[
        bot.command("edit", "Edit", function(ctx) ctx:edit("same", { message_id = 4 }) end)
      ]],
    }))
    tg = spec.telegram()
    spec.advance(600)   -- a fresh minute: earlier tests' buckets are full again
  end)

  it("sends replies first, then alerts by priority", function()
    spec.call(function()
      bot.alert(101, "low", 1)
      bot.alert(102, "high", 50)
      bot.send(103, "reply")
    end)
    spec.advance(1)
    assert.same({ "reply", "high", "low" }, texts_in_order())
  end)

  it("ages alerts: priority buys at most ten minutes", function()
    tg.fail("sendMessage", { status = 429, retry_after = 1000, description = "Too Many Requests: retry after 1000" })
    spec.call(function() bot.alert(111, "old", 0) end)
    spec.advance(599)
    spec.call(function() bot.alert(112, "big, 9:59 later", 100) end)
    spec.advance(2)
    spec.call(function() bot.alert(113, "big, 10:01 later", 100) end)
    assert.same({}, texts_in_order())   -- everything waits out retry_after
    spec.advance(400)
    assert.same({ "big, 9:59 later", "old", "big, 10:01 later" }, texts_in_order())
    assert.equals(1, spec.telegram_stats().rate_limited)
  end)

  it("waits exactly retry_after for one chat, not for the others", function()
    spec.call(function() bot.alert(121, "a1", 0) end)
    spec.advance(0.5)
    tg.fail("sendMessage", { status = 429, retry_after = 30, description = "Too Many Requests: retry after 30" })
    spec.call(function() bot.alert(121, "a2", 0) end)   -- chat 121 sent 0.5 s ago: its own flood
    spec.advance(1)
    spec.call(function() bot.alert(122, "b1", 0) end)
    spec.advance(1)
    assert.same({ "a1", "b1" }, texts_in_order())
    spec.advance(27)
    assert.same({ "a1", "b1" }, texts_in_order())
    spec.advance(2)
    assert.same({ "a1", "b1", "a2" }, texts_in_order())
  end)

  it("resends refused HTML as plain text", function()
    tg.fail("sendMessage", { status = 400, description = "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0" })
    spec.call(function() bot.alert(131, "<x>BTC</x> &amp; ETH &lt;3", 1) end)
    spec.advance(1)
    local sent = tg.sent(131)
    assert.equals(1, #sent)
    assert.equals("BTC & ETH <3", sent[1].text)
    assert.is_nil(sent[1].params.parse_mode)
  end)

  it("counts 'message is not modified' as delivered", function()
    local before = spec.telegram_stats()
    tg.fail("editMessageText", { status = 400, description = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message" })
    tg.message{ chat = 141, text = "/edit" }
    spec.advance(5)
    local after = spec.telegram_stats()
    assert.equals(before.sent + 1, after.sent)
    assert.equals(before.failed, after.failed)
    assert.equals(before.retried, after.retried)
  end)

  it("retries 5xx with backoff until it goes through", function()
    for _ = 1, 3 do tg.fail("sendMessage", { status = 502, description = "Bad Gateway" }) end
    spec.call(function() bot.alert(151, "eventually", 1) end)
    spec.advance(1)
    assert.same({}, tg.texts(151))
    spec.advance(60)
    assert.same({ "eventually" }, tg.texts(151))
    assert.is_true(spec.telegram_stats().retried >= 3)
  end)

  it("stops a blocked chat's alerts until /start", function()
    tg.fail("sendMessage", { status = 403, description = "Forbidden: bot was blocked by the user" })
    spec.call(function() bot.alert(161, "first", 1) end)
    spec.advance(1)
    local ok, err = spec.call(function() return bot.alert(161, "while blocked", 1) end)
    assert.is_nil(ok)
    assert.matches("inactive", err)
    tg.message{ chat = 161, text = "/start" }
    spec.advance(2)
    assert.equals("queued", (spec.call(function() return bot.alert(161, "back", 1) end)))
    spec.advance(2)
    local t = tg.texts(161)
    assert.matches("^Hello", t[1])
    assert.equals("back", t[2])
  end)

  it("merges alerts waiting for the same chat, up to 50", function()
    spec.call(function()
      for i = 1, 60 do bot.alert(171, "alert " .. i, 1) end
    end)
    spec.advance(5)
    local t = tg.texts(171)
    assert.equals(2, #t)
    assert.matches("^alert 1\n\nalert 2\n", t[1])
    assert.matches("alert 50$", t[1])
    assert.matches("^alert 51\n", t[2])
  end)

  it("merges alerts only within Telegram's 4,096 characters", function()
    spec.call(function()
      for i = 1, 3 do bot.alert(172, i .. ("é"):rep(1499), 1) end   -- 1,500 characters each
    end)
    spec.advance(5)
    local t = tg.texts(172)
    assert.equals(2, #t)
    assert.equals(1500 + 2 + 1500, utf8.len(t[1]))
    assert.equals("3", t[2]:sub(1, 1))
  end)

  it("drops a user's updates beyond 20 in 10 seconds", function()
    for _ = 1, 25 do tg.message{ chat = 181, text = "/help" } end
    spec.advance(60)
    assert.equals(20, #tg.texts(181))
    local warned = false
    for _, l in ipairs(spec.logs()) do
      if l.msg:find("user 181 sends more than 20 updates", 1, true) then warned = true end
    end
    assert.is_true(warned)
  end)

  it("delivers a reply queued while an alert is in flight, and the alert once", function()
    tg.delay("sendMessage", 5)
    spec.call(function() bot.alert(201, "ALERT", 1) end)
    spec.advance(1)   -- the alert is in flight
    spec.call(function() bot.send(201, "REPLY") end)
    spec.call(function() bot.alert(201, "ALERT2", 1) end)
    spec.advance(20)
    assert.same({ "ALERT", "REPLY", "ALERT2" }, tg.texts(201))
    assert.equals(0, spec.telegram_stats().depth)
  end)

  -- Telegram counts its limits over sliding windows: the most sends the
  -- stand-in saw in any window of `span` ms starting at a send.
  local function stamp_sends()
    local at = {}
    setmetatable(tg.calls, { __newindex = function(t, k, v)
      if v.method == "sendMessage" then
        at[v.chat] = at[v.chat] or {}
        table.insert(at[v.chat], spec.now())
        at.all = at.all or {}
        table.insert(at.all, spec.now())
      end
      rawset(t, k, v)
    end })
    return at
  end
  local function busiest(times, span)
    local most = 0
    for i = 1, #times do
      local n = 0
      for j = i, #times do
        if times[j] - times[i] < span then n = n + 1 end
      end
      most = math.max(most, n)
    end
    return most
  end

  it("never puts a fourth message to a chat within 3 s, nor a 21st to a group within a minute", function()
    local at = stamp_sends()
    spec.call(function()
      for i = 1, 12 do bot.send(211, "reply " .. i) end
      for i = 1, 30 do bot.send(-100211, "group " .. i) end
    end)
    spec.advance(200)
    assert.equals(12, #at[211])
    assert.equals(30, #at[-100211])
    assert.is_true(busiest(at[211], 3000) <= 3, "chat: " .. busiest(at[211], 3000) .. " in 3 s")
    assert.is_true(busiest(at[211], 1000) <= 3, "chat: a burst of at most 3")
    assert.is_true(busiest(at[-100211], 60000) <= 20, "group: " .. busiest(at[-100211], 60000) .. " in a minute")
  end)

  it("sends at most 28 messages in any second to all chats (Telegram allows 30)", function()
    local at = stamp_sends()
    spec.call(function()
      for chat = 1, 120 do bot.alert(300 + chat, "move", 1) end
    end)
    spec.advance(60)
    assert.equals(120, #at.all)
    local most = busiest(at.all, 1000)
    assert.is_true(most <= 28, most .. " in one second")
  end)

  it("keeps /reload for the operators", function()
    tg.message{ chat = 191, text = "/reload" }
    spec.advance(1)
    assert.same({ "That command is for the bot's operators." }, tg.texts(191))
  end)
end)
