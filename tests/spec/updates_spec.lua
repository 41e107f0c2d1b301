-- Updates from outside that handlers could not read (no chat, no sender,
-- ids that are not ids) are dropped and counted before any handler runs;
-- a button under an inline message reaches its handler without a chat.
describe("malformed updates", function()
  local tg
  local function read(name) return assert(io.open(name)):read("a") end
  local function malformed() return spec.health().components.telegram.updates_malformed end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/start.lua"] = read("scripts/commands/start.lua"),
      ["commands/preset.lua"] = read("scripts/commands/preset.lua"),
      ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
      ["commands/inl.lua"] = [[
        bot.callback("inl", function(ctx, rest)
          if rest == "reply" then return ctx:reply("to whom?") end
          ctx:answer(ctx.chat == nil and ctx.message_id == nil and ctx.inline_message_id or "a chat")
        end)
      ]],
    }))
    tg = spec.telegram()
  end)

  it("drops and counts messages and presses without what handlers rely on", function()
    local before = malformed()
    local bad = {
      [[{"update_id":7001,"message":{"message_id":1,"text":"/start","from":{"id":5}}}]],
      [[{"update_id":7002,"message":{"message_id":1,"text":"/start","from":{"id":5},"chat":{"id":"abc"}}}]],
      [[{"update_id":7003,"message":{"message_id":1,"text":"/start","chat":{"id":6}}}]],
      [[{"update_id":7004,"message":{"message_id":1,"text":"/start","from":{"id":1e30},"chat":{"id":7}}}]],
      [[{"update_id":7005,"message":{"message_id":1,"text":"/start","from":{"id":"abc"},"chat":{"id":8}}}]],
      [[{"update_id":7006,"callback_query":{"id":"q","data":"preset:list","from":{"id":9}}}]],
      [[{"update_id":7007,"message":{"message_id":1,"text":{"t":"/start"},"from":{"id":10},"chat":{"id":10}}}]],
    }
    for _, u in ipairs(bad) do assert.is_true(spec.telegram_update(u)) end
    spec.advance(5)
    assert.equals(#bad, malformed() - before)
    for _, c in ipairs(tg.calls) do
      assert.is_nil(c.method == "sendMessage" and c or nil)   -- nobody was answered, chat 0 least of all
    end
    local rows = spec.run(function()
      local n = 0
      for _, k in ipairs({ "nil", "abc", "0", "5", "6", "9", "10" }) do n = n + (store.get("users", k) and 1 or 0) end
      return n
    end).results[1]
    assert.equals(0, rows)
    assert.equals(0, spec.errors("commands/start.lua") + spec.errors("commands/preset.lua"))
    -- a well-formed one still goes through
    tg.message{ chat = 11, text = "/start" }
    spec.advance(2)
    assert.matches("^Hello", tg.texts(11)[1])
    assert.equals(#bad, malformed() - before)
  end)

  it("gives a button under an inline message a ctx without a chat, which handlers test", function()
    local function press(id, data)
      assert.is_true(spec.telegram_update(json.encode({ update_id = id, callback_query = {
        id = "q" .. id, data = data, from = { id = 12, first_name = "I" }, inline_message_id = "IM" .. id } })))
      spec.advance(2)
      local last
      for _, c in ipairs(tg.calls) do
        if c.method == "answerCallbackQuery" and c.params.callback_query_id == "q" .. id then last = c.params.text end
      end
      return last
    end
    assert.equals("IM7101", press(7101, "inl"))
    assert.matches("chat with the bot", press(7102, "preset:list"))
    assert.equals(0, spec.errors("commands/preset.lua"))
    -- a handler that replies anyway fails plainly, sending nothing to chat 0
    press(7103, "inl:reply")
    assert.equals(1, spec.errors("commands/inl.lua"))
    local logs = {}
    for _, l in ipairs(spec.logs()) do logs[#logs + 1] = l.msg end
    assert.matches("this update has no chat", table.concat(logs, "\n"), 1, true)
    assert.equals(0, #tg.sent(0))
  end)
end)
