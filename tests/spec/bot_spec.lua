-- Command flows through the real core: updates in, the scheduler out, the
-- Bot API faked behind the HTTP stubs (spec.telegram).
describe("bot command flows", function()
  local tg

  local flow = [[
    bot.command("new", "Start a flow", function(ctx)
      ctx:go("ask.name", { started = true })
      ctx:reply("Name?", { keyboard = bot.keyboard{ { {"Skip", "flow:skip"} } } })
    end)
    bot.step("ask.name", function(ctx)
      if #ctx.text > 10 then
        ctx:reply("Too long: 1-10 characters, please.")
        return
      end
      ctx.state.data.name = ctx.text
      ctx:go("ask.size", ctx.state.data)
      ctx:reply(bot.fmt("Size for <b>%s</b>?", ctx.text))
    end)
    bot.step("ask.size", function(ctx)
      ctx:reply(bot.fmt("Saved %s with size %s.", ctx.state.data.name, ctx.text))
      ctx:finish()
    end)
    bot.callback("flow", function(ctx, rest)
      ctx:answer("Skipped")
      ctx:edit("Skipped: " .. rest)
      ctx:finish()
    end)
    bot.command("boom", "Fails", function(ctx) error("kaput") end)
    bot.command("peek", "Looks at ctx", function(ctx)
      ctx:reply("metatable: " .. tostring(getmetatable(ctx)))
    end)
    bot.command("meta", "Tampers with ctx", function(ctx)
      setmetatable(ctx, { __index = function() error("boom") end })
    end)
    bot.command("bare", "A flow without data", function(ctx)
      ctx:go("bare.next")
      ctx:reply("go")
    end)
    bot.step("bare.next", function(ctx)
      ctx:reply("step " .. ctx.state.step .. " " .. json.encode(ctx.state.data))
    end)
    bot.command("grp", "Group setting", function(ctx) ctx:reply("changed") end, { group_admin = true })
  ]]

  before_each(function()
    assert(spec.use_scripts({
      ["commands/start.lua"] = assert(io.open("scripts/commands/start.lua")):read("a"),
      ["commands/flow.lua"] = flow,
    }))
    tg = spec.telegram()
  end)

  it("answers /start by name, escaping what the user controls", function()
    tg.message{ chat = 42, text = "/start", first_name = "<b>Ann</b> & co" }
    spec.advance(1)
    local t = tg.texts(42)
    assert.equals(1, #t)
    assert.matches("Hello, &lt;b&gt;Ann&lt;/b&gt; &amp; co!", t[1], 1, true)
    tg.message{ chat = 42, text = "/start" }
    spec.advance(2)
    assert.matches("^Welcome back", tg.texts(42)[2])
  end)

  it("lists the registered commands in /help", function()
    tg.message{ chat = 7, text = "/help" }
    spec.advance(1)
    local help = tg.texts(7)[1]
    assert.matches("/new - Start a flow", help, 1, true)
    assert.matches("/cancel - Leave the current conversation", help, 1, true)
  end)

  it("walks a multi-step flow, validating each step", function()
    tg.message{ chat = 5, text = "/new" }
    tg.message{ chat = 5, text = "a name that is far too long" }
    tg.message{ chat = 5, text = "Ann<" }
    tg.message{ chat = 5, text = "XL" }
    spec.advance(10)
    local t = tg.texts(5)
    assert.same({ "Name?", "Too long: 1-10 characters, please.", "Size for <b>Ann&lt;</b>?",
                  "Saved Ann&lt; with size XL." }, t)
    local first = tg.sent(5)[1]
    assert.equals("flow:skip", first.params.reply_markup.inline_keyboard[1][1].callback_data)
    assert.equals("HTML", first.params.parse_mode)
  end)

  it("keeps a chat's state across a reload, and /cancel leaves it", function()
    tg.message{ chat = 6, text = "/new" }
    spec.advance(1)
    assert(spec.reload())
    tg.message{ chat = 6, text = "Bob" }
    spec.advance(2)
    assert.equals("Size for <b>Bob</b>?", tg.texts(6)[2])
    tg.message{ chat = 6, text = "/cancel" }
    tg.message{ chat = 6, text = "M" }
    spec.advance(3)
    local t = tg.texts(6)
    assert.equals("Cancelled. Nothing was changed.", t[3])
    assert.matches("^Send a command to get started", t[4])
  end)

  it("saves a step entered without data (regression: the state held itself)", function()
    tg.message{ chat = 12, text = "/bare" }
    tg.message{ chat = 12, text = "x" }
    spec.advance(3)
    assert.same({ "go", "step bare.next {}" }, tg.texts(12))
  end)

  it("handles button presses: answer, edit, unknown buttons", function()
    tg.press{ chat = 8, data = "flow:now", message_id = 3 }
    tg.press{ chat = 8, data = "gone:1", message_id = 3 }
    spec.advance(1)
    local answers, edits = {}, {}
    for _, c in ipairs(tg.calls) do
      if c.method == "answerCallbackQuery" then answers[#answers + 1] = c.params.text end
      if c.method == "editMessageText" then edits[#edits + 1] = c end
    end
    assert.same({ "Skipped", "That button no longer does anything. Send /help to start again." }, answers)
    assert.equals(1, #edits)
    assert.equals("Skipped: now", edits[1].text)
    assert.equals(3, edits[1].params.message_id)
  end)

  it("tells the user when a handler fails, and keeps serving", function()
    tg.message{ chat = 9, text = "/boom" }
    tg.message{ chat = 9, text = "/nope" }
    tg.message{ chat = 9, text = "/help" }
    spec.advance(5)
    local t = tg.texts(9)
    assert.matches("something went wrong", t[1])
    assert.matches("don't know that command", t[2])
    assert.matches("<b>Commands</b>", t[3], 1, true)
    assert.equals(1, spec.errors("commands/flow.lua"))
  end)

  it("keeps ctx's metatable out of scripts' reach (regression: the host aborted)", function()
    tg.message{ chat = 13, text = "/meta" }
    tg.message{ chat = 13, text = "/help" }
    spec.advance(5)
    local t = tg.texts(13)
    assert.matches("something went wrong", t[1])
    assert.matches("<b>Commands</b>", t[2], 1, true)
    tg.message{ chat = 13, text = "/peek" }
    spec.advance(5)
    assert.equals("metatable: ctx", tg.texts(13)[3])
  end)

  it("lets only a group's administrators change its settings", function()
    tg.admins[-100] = { [7] = true }
    tg.message{ chat = -100, from = 8, text = "/grp" }
    tg.message{ chat = -100, from = 7, text = "/grp" }
    spec.advance(10)
    assert.same({ "Only this group's administrators can change its settings.", "changed" },
                tg.texts(-100))
  end)

  it("refuses callback data over 64 bytes when the keyboard is built", function()
    local t = spec.run(function() return bot.keyboard{ { {"x", string.rep("a", 65)} } } end)
    assert.is_false(t.ok)
    assert.matches("callback data must be 1%-64 bytes", t.err)
  end)

  it("refuses a command registered twice, naming both scripts", function()
    spec.write("commands/dup.lua", [[bot.command("new", "again", function() end)]])
    local ok, err = spec.reload()
    assert.is_falsy(ok)
    assert.matches('commands/flow.lua:1: command "new" is registered twice: also by commands/dup.lua',
                   err, 1, true)
  end)

  it("never handles an update twice", function()
    local u = { update_id = 100000, message = { message_id = 1, date = 0, text = "/help",
                from = { id = 3, first_name = "C" }, chat = { id = 3, type = "private" } } }
    assert.is_true(spec.telegram_update(json.encode(u)))
    assert.is_true(spec.telegram_update(json.encode(u)))
    spec.advance(3)
    assert.equals(1, #tg.texts(3))
  end)

  it("routes an update as host work, protected, even from a call under a tight memory limit", function()
    -- A script's call that leads to dispatch (here spec.telegram_update
    -- inside a handler) must not put the update's ctx under that call's
    -- memory limit, nor let an error there escape the host's C code: the
    -- update is handled (or its handler fails cleanly) and the chat goes on.
    local text = "/bare " .. string.rep("y", 3000000)
    local u = json.encode({ update_id = 100001, message = { message_id = 1, date = 0, text = text,
                            from = { id = 8, first_name = "H" }, chat = { id = 8, type = "private" } } })
    collectgarbage()
    spec.limits({ memory_mb = math.ceil(collectgarbage("count") / 1024) + 1 })
    local ok, t = pcall(spec.run, function() return spec.telegram_update(u) end)
    spec.limits({ memory_mb = 256 })   -- (the default)
    assert.is_true(ok, t)
    assert.same({ true }, t.results)
    spec.advance(1)
    local first = tg.texts(8)[1]
    assert.is_truthy(first == "go" or first:match("^Sorry, something went wrong"), first)
    tg.message{ chat = 8, text = "/bare" }
    spec.advance(1)
    assert.same("go", tg.texts(8)[2])
  end)
end)
