-- bot.alert honours pauses and quiet hours as candle alerts do: held while
-- the chat is paused (/stop, /snooze, alerts.pause) or in its quiet hours,
-- its digest line joining the digest sent when they end.
describe("bot.alert while the chat's alerts are held", function()
  local tg
  local chat = 600
  local function read(name) return assert(io.open(name)):read("a") end
  local function say(c, text) tg.message{ chat = c, text = text } spec.advance(2) end
  local function alert(c, html, opts)
    return spec.call(function(...) return bot.alert(...) end, c, html, opts)
  end
  local function stored(c)
    return spec.call(function(k) return store.get("alerts.pause", k) end, tostring(c))
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/start.lua"] = read("scripts/commands/start.lua"),
      ["commands/pause.lua"] = read("scripts/commands/pause.lua"),
      ["commands/fail.lua"] = [[
        bot.command("fail", "Alerts, then fails", function(ctx)
          assert(bot.alert(ctx.chat.id, "<b>Gas</b> from a failing handler") == "held")
          error("kaput")
        end)
      ]],
    }))
    tg = spec.telegram()
    spec.advance(600)
    chat = chat + 1
  end)

  it("is held during /stop and comes in the digest at /start, the html's first line as its line", function()
    say(chat, "/stop")
    assert.equals("held", alert(chat, "<b>Gas</b> fast <i>7.5</i> gwei &lt; 8\nsecond line", 40))
    assert.equals("held", alert(chat, "Gas base 41 gwei", { priority = 5, digest = "Base fee > 40 & rising" }))
    spec.advance(5)
    assert.equals(1, #tg.texts(chat))   -- only /stop's answer
    local saved = stored(chat)
    assert.equals(2, saved.count)   -- (what a restart loads: see tests/unit/engine.c)
    say(chat, "/start")
    spec.advance(3)
    local t = tg.texts(chat)
    assert.matches("a digest of the 2 that fired meanwhile follows", t[2], 1, true)
    assert.matches("While your alerts were paused, 2 fired:", t[3], 1, true)
    assert.matches("\nGas fast 7.5 gwei &lt; 8\n", t[3], 1, true)
    assert.matches("\nBase fee &gt; 40 &amp; rising", t[3], 1, true)
    assert.is_nil(t[3]:find("second line", 1, true))
    assert.equals("queued", alert(chat, "after /start"))
    spec.advance(3)
    assert.equals("after /start", tg.texts(chat)[4])
  end)

  it("is held during /snooze, its digest sent when the snooze ends", function()
    say(chat, "/snooze 15m")
    assert.equals("held", alert(chat, "gas low"))
    spec.advance(14 * 60)
    assert.equals(1, #tg.texts(chat))
    spec.advance(70)
    local t = tg.texts(chat)
    assert.equals(2, #t)
    assert.matches("While your alerts were paused, 1 fired:</b>\ngas low", t[2], 1, true)
  end)

  it("is held in quiet hours, its digest sent when they end", function()
    local now_min = (spec.now() // 60000) % 1440
    local function hm(m) return string.format("%02d:%02d", (m % 1440) // 60, m % 60) end
    say(chat, "/quiet " .. hm(now_min) .. "-" .. hm(now_min + 30) .. " UTC+0")
    assert.equals("held", alert(chat, "gas in the night"))
    spec.advance(60)
    assert.equals(1, #tg.texts(chat))
    spec.advance(30 * 60)
    local t = tg.texts(chat)
    assert.equals(2, #t)
    assert.matches("gas in the night", t[2], 1, true)
    assert.equals("queued", alert(chat, "gas by day"))
  end)

  it("gives a long line's first 50 characters, never cutting an entity or a character", function()
    spec.call(function(c) alerts.pause(c) end, chat)
    alert(chat, string.rep("x", 45) .. " &amp; more words after the cut")
    alert(chat, string.rep("é", 40))   -- (a line is at most 63 bytes)
    alert(chat, "<b></b>")   -- no text: a line all the same
    local held = spec.call(function(c) return alerts.resume(c) end, chat)
    assert.equals(3, held)
    spec.advance(3)
    local digest = tg.texts(chat)[1]
    assert.matches("\n" .. string.rep("x", 45) .. " &amp; mo…\n", digest, 1, true)
    assert.matches("\n" .. string.rep("é", 30) .. "…\n", digest, 1, true)
    assert.matches("\nan alert$", digest)
  end)

  it("is taken back with the rest of a failing handler's work", function()
    say(chat, "/stop")
    assert.equals("held", alert(chat, "kept"))
    say(chat, "/fail")
    assert.equals(1, stored(chat).count)
    assert.is_true(spec.call(function(c) return alerts.paused(c) end, chat))
    assert.equals("held", alert(chat, "still paused"))
    assert.equals(2, spec.call(function(c) return alerts.resume(c) end, chat))
    spec.advance(3)
    local t = tg.texts(chat)
    assert.matches("^Sorry", t[2])
    assert.matches("2 fired:</b>\nkept\nstill paused$", t[3])
  end)

  it("in quiet hours, a failing handler leaves no pause behind", function()
    local now_min = (spec.now() // 60000) % 1440
    spec.call(function(c, m) alerts.set_quiet(c, m, (m + 30) % 1440, 0) end, chat, now_min)
    say(chat, "/fail")
    assert.is_nil(spec.call(function(c) return alerts.paused(c) end, chat))
    assert.is_nil(stored(chat))
  end)

  it("keeps priorities and refuses bad options", function()
    spec.call(function()
      bot.alert(chat, "low", 1)
      bot.alert(chat + 1000, "high", { priority = 50 })
    end)
    spec.advance(1)
    local order = {}
    for _, c in ipairs(tg.calls) do
      if c.method == "sendMessage" then order[#order + 1] = c.text end
    end
    assert.same({ "high", "low" }, order)
    local function err(opts)
      local t = spec.run(function(o) return bot.alert(1, "x", o) end, opts)
      assert.is_false(t.ok)
      return t.err
    end
    assert.matches("expected bot.alert%(chat_id, html %[, opts%]%): unknown option 'prio'", err({ prio = 1 }))
    assert.matches("unknown option of type number", err({ 7 }))
    assert.matches("opts.digest must be a line of text, got \"\"", err({ digest = "" }))
    assert.matches("opts.digest must be a line of text, got number", err({ digest = 5 }))
    assert.matches("opts.priority must be a number, got string", err({ priority = "high" }))
  end)
end)
