-- A handler is all or nothing: when it raises, what it wrote is rolled
-- back (store, presets, pauses, quiet hours, conversation state) and what
-- it queued is taken back; only the apology goes out.
describe("a failing handler", function()
  local tg
  local function get(scope, key) return spec.run(function(s, k) return store.get(s, k) end, scope, key).results[1] end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/half.lua"] = [[
        local function preset(ctx)
          return { user_id = ctx.user.id, chat_id = ctx.chat.id, name = "half", pairs = "top", top_n = 10,
                   intervals = { "5m" }, threshold = 2, direction = "both", trigger = "forming" }
        end
        bot.command("half", "Does half its work, then fails", function(ctx)
          store.set("notes", "k" .. ctx.chat.id, { n = 1 })
          assert(alerts.save(preset(ctx)))
          alerts.pause(ctx.chat.id)
          alerts.set_quiet(ctx.chat.id, 60, 120, 0)
          ctx:go("half.next", { x = 1 })
          ctx:reply("Saved!")
          bot.send(ctx.chat.id + 1, "told another chat")
          bot.alert(ctx.chat.id, "an alert")
          error("kaput")
        end)
        bot.command("whole", "Does all its work", function(ctx)
          store.set("notes", "k" .. ctx.chat.id, { n = 2 })
          ctx:go("half.next", { x = 2 })
          ctx:reply("Saved!")
        end)
        bot.command("wait", "Writes, waits, writes, fails", function(ctx)
          store.set("notes", "before" .. ctx.chat.id, true)
          http.get("https://api.test/slow")
          store.set("notes", "after" .. ctx.chat.id, true)
          ctx:reply("after the wait")
          error("kaput after the wait")
        end)
        bot.step("half.next", function(ctx) ctx:reply("step") end)
      ]],
    }))
    tg = spec.telegram()
    spec.stub_http("https://api.test/slow", { body = "ok", delay = 1 })
  end)

  it("keeps nothing of what it did, and says only sorry", function()
    tg.message{ chat = 301, text = "/half" }
    spec.advance(3)
    assert.same({ "Sorry, something went wrong on our side. The operators have been told; please try again later." },
                tg.texts(301))
    assert.same({}, tg.texts(302))
    assert.is_nil(get("notes", "k301"))
    assert.is_nil(get("telegram.state", "301:301"))
    local r = spec.run(function(c) return #alerts.presets(c), alerts.paused(c), alerts.quiet(c) end, 301).results
    assert.same({ 0 }, { r[1], r[2], r[3] })
    -- the flow was not entered: a text is not its step
    tg.message{ chat = 301, text = "hello" }
    spec.advance(2)
    assert.is_nil(tg.texts(301)[2]:find("^step"))
    -- and the update was handled: it is not handled again
    assert.equals(0, spec.telegram_stats().depth)
  end)

  it("is as durable as before when it succeeds", function()
    tg.message{ chat = 303, text = "/whole" }
    spec.advance(3)
    assert.same({ "Saved!" }, tg.texts(303))
    assert.same({ n = 2 }, get("notes", "k303"))
    tg.message{ chat = 303, text = "hello" }
    spec.advance(2)
    assert.equals("step", tg.texts(303)[2])
  end)

  it("rolls back a timer's or any task's writes too", function()
    local t = spec.run(function() store.set("notes", "task", 1) error("no") end)
    assert.is_false(t.ok)
    assert.is_nil(get("notes", "task"))
    t = spec.run(function() store.set("notes", "task", 2) end)
    assert.is_true(t.ok)
    assert.equals(2, get("notes", "task"))
  end)

  it("that waited keeps what it wrote before the wait, not after", function()
    tg.message{ chat = 304, text = "/wait" }
    spec.advance(5)
    assert.is_true(get("notes", "before304"))
    assert.is_nil(get("notes", "after304"))
    local t = tg.texts(304)
    assert.equals(1, #t)
    assert.matches("^Sorry", t[1])
  end)
end)
