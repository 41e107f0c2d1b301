-- The /preset flow driven step by step through the real core, with
-- invalid input at every step, a way back, a reload mid-way, and the
-- preset it makes firing.
describe("/preset", function()
  local tg
  local chat = 0
  local function last(c) local t = tg.texts(c) return t[#t] end
  local function say(c, text) tg.message{ chat = c, text = text } spec.advance(2) return last(c) end
  local function press(c, data) tg.press{ chat = c, data = data, message_id = 1 } spec.advance(2) return last(c) end
  local function read(name) return assert(io.open(name)):read("a") end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/start.lua"] = read("scripts/commands/start.lua"),
      ["commands/preset.lua"] = read("scripts/commands/preset.lua"),
      ["rules/move.lua"] = read("scripts/rules/move.lua"),
      ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
      ["lib/alertfmt.lua"] = read("scripts/lib/alertfmt.lua"),
    }))
    tg = spec.telegram()
    spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT" }
    for _, s in ipairs({ "BTCUSDT", "ETHUSDT", "SOLUSDT" }) do
      spec.candle{ symbol = s, interval = "1m", open_time = 0, open = 1, closed = true }
    end
    chat = chat + 1
  end)

  it("creates a preset step by step, refusing bad input at each step", function()
    local c = 500 + chat
    assert.matches("no presets yet", say(c, "/preset"))
    assert.matches("Name the preset", press(c, "preset:new"))
    assert.matches("1 to 64 characters", say(c, string.rep("x", 65)))
    assert.matches("Which pairs%?", say(c, "My <list>"))
    assert.matches("Send up to 50 pairs", press(c, "preset:pairs:list"))
    assert.matches("Not traded here: DOGEUSDT", say(c, "btc, doge"))
    assert.matches("Which timeframes%?", say(c, "btc, eth"))
    assert.matches("Use the buttons above", say(c, "5m"))
    assert.matches("✅ 5m", (function() press(c, "preset:tf:5m") return tg.sent(c)[#tg.sent(c)].params.reply_markup.inline_keyboard[1][2].text end)())
    press(c, "preset:tf:15m")
    assert.matches("Alert when a candle moves by how many percent", press(c, "preset:tf:done"))
    assert.matches("Send the percent as a plain number, like 2.5", say(c, "lots"))
    assert.matches("from 0.1 to 100", say(c, "0.05"))
    assert.matches("Which moves%?", say(c, "2,5%"))
    assert.matches("When%?", press(c, "preset:dir:up"))
    local summary = press(c, "preset:trig:close")
    assert.matches("<b>My &lt;list&gt;</b>", summary, 1, true)
    assert.matches("Pairs: BTCUSDT, ETHUSDT", summary, 1, true)
    assert.matches("Timeframes: 5m, 15m", summary, 1, true)
    assert.matches("moves up by 2.50%% or more, once it has closed", summary)
    assert.matches("Saved <b>My &lt;list&gt;</b>", press(c, "preset:save"), 1, true)
    local p = spec.run(function(u) return alerts.presets(u) end, c).results[1][1]
    assert.same({ "BTCUSDT", "ETHUSDT" }, p.symbols)
    assert.same({ "5m", "15m" }, p.intervals)
    assert.equals(2.5, p.threshold)
    assert.equals("up", p.direction)
    assert.equals("close", p.trigger)
  end)

  it("goes back a step, and /cancel leaves the flow", function()
    local c = 500 + chat
    say(c, "/preset new")
    say(c, "Majors")
    assert.matches("Name the preset", press(c, "preset:back:pairs"))
    assert.matches("Which pairs%?", say(c, "Majors"))
    assert.matches("How many of the biggest pairs", press(c, "preset:pairs:topn"))
    assert.matches("whole number from 1 to 1000", say(c, "0"))
    assert.matches("Which pairs%?", press(c, "preset:back:topn"))
    say(c, "/cancel")
    assert.matches("Send a command to get started", say(c, "hello"))
    assert.matches("conversation has ended", (function()
      tg.press{ chat = c, data = "preset:tf:5m", message_id = 1 } spec.advance(1)
      for _, call in ipairs(tg.calls) do if call.method == "answerCallbackQuery" then last_answer = call.params.text end end
      return last_answer
    end)())
  end)

  it("takes plain decimal numbers, visible names and only the buttons it offers", function()
    local c = 500 + chat
    say(c, "/preset new")
    for _, n in ipairs({ "\u{202E}evil", "a\u{200B}b", "\u{7F}x", "x\u{2066}y" }) do
      assert.matches("cannot hold invisible characters", say(c, n))
    end
    assert.matches("Which pairs%?", say(c, "Family 👨\u{200D}👩\u{200D}👧"))
    press(c, "preset:pairs:topn")
    for _, v in ipairs({ "1e3", "0x3e8", "1000.0", "0x1p3", "+5", "2^3" }) do
      assert.matches("whole number from 1 to 1000 in plain digits", say(c, v))
    end
    assert.matches("Which timeframes%?", say(c, " 20 "))
    -- forged timeframes are not kept: the draft stays bounded
    for i = 1, 10 do tg.press{ chat = c, data = "preset:tf:x" .. i, message_id = 1 } end
    press(c, "preset:tf:1m")
    spec.advance(30)
    assert.matches("not watched here", tg.answers()[1])
    local st = spec.run(function(k) return store.get("telegram.state", k) end, c .. ":" .. c).results[1]
    assert.same({ "1m" }, st.data.draft.intervals)
    press(c, "preset:tf:done")
    for _, v in ipairs({ "0x10", "1e3", "++3", "3e0", "nan", "inf", "0x1p-3", "2.5.5", "-5" }) do
      assert.matches("Send the percent as a plain number", say(c, v))
    end
    assert.matches("Which moves%?", say(c, "+2,5 %"))
    press(c, "preset:dir:sideways")
    assert.matches("Which moves%?", last(c))
    press(c, "preset:dir:up")
    press(c, "preset:trig:whenever")
    assert.matches("When%?", last(c))
    press(c, "preset:trig:close")
    assert.matches("Saved", press(c, "preset:save"))
    local p = spec.run(function(u) return alerts.presets(u) end, c).results[1][1]
    assert.same({ 20, 2.5, "up", "close" }, { p.top_n, p.threshold, p.direction, p.trigger })
    -- and alerts.save refuses such a name whoever calls it
    local r = spec.run(function(u)
      return alerts.save{ user_id = u, name = "\u{202E}x", pairs = "top", top_n = 5, intervals = { "1m" }, threshold = 1 }
    end, c).results
    assert.is_nil(r[1])
    assert.matches("no control, right%-to%-left or zero%-width", r[2])
  end)

  it("survives a reload in the middle of the flow", function()
    local c = 500 + chat
    say(c, "/preset new")
    say(c, "Reloaded")
    press(c, "preset:pairs:top100")
    assert(spec.reload())
    press(c, "preset:tf:1m")
    press(c, "preset:tf:done")
    say(c, "1")
    press(c, "preset:dir:both")
    press(c, "preset:trig:forming")
    assert.matches("Saved", press(c, "preset:save"))
    local p = spec.run(function(u) return alerts.presets(u) end, c).results[1][1]
    assert.equals("top", p.pairs)
    assert.equals(100, p.top_n)
    assert.same({ "1m" }, p.intervals)
  end)

  it("shows, pauses, edits and deletes with confirmation, and the preset fires", function()
    local c = 500 + chat
    local id = spec.run(function(u)
      return alerts.save{ user_id = u, chat_id = u, name = "Edit me", pairs = "manual", symbols = { "SOLUSDT" },
                          intervals = { "1m" }, threshold = 1 }
    end, c).results[1]
    assert.matches("Alerts: 0 today, 0 in 7 days", press(c, "preset:show:" .. id))
    assert.matches("%(paused%)", press(c, "preset:toggle:" .. id))
    assert.matches("Edit me", press(c, "preset:toggle:" .. id))
    press(c, "preset:edit:" .. id)
    assert.matches("Alert when a candle moves by how many", press(c, "preset:field:" .. id .. ":threshold"))
    assert.matches("by 3.00%% or more", say(c, "3"))
    assert.matches("Saved", press(c, "preset:save"))
    local t0 = (spec.now() // 60000 + 1) * 60000
    spec.advance((t0 - spec.now()) / 1000)
    spec.candle{ symbol = "SOLUSDT", interval = "1m", open_time = t0, open = 100, close = 102, event_time = t0 + 1 }
    spec.advance(2)
    assert.is_nil(last(c):find("SOLUSDT", 1, true))
    spec.candle{ symbol = "SOLUSDT", interval = "1m", open_time = t0, open = 100, close = 103.5, event_time = t0 + 2 }
    spec.advance(2)
    assert.matches("<b>SOLUSDT</b> 1m <b>+3.50%</b>", last(c), 1, true)
    assert.matches("Alerts: 1 today", press(c, "preset:show:" .. id))
    assert.matches("cannot be undone", press(c, "preset:del:" .. id))
    assert.matches("no presets yet", press(c, "preset:delok:" .. id))
  end)
end)

describe("/status", function()
  it("sums up the presets, subscriptions and the feed", function()
    local function read(name) return assert(io.open(name)):read("a") end
    assert(spec.use_scripts({
      ["commands/status.lua"] = read("scripts/commands/status.lua"),
      ["rules/move.lua"] = read("scripts/rules/move.lua"),
      ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
    }))
    local tg = spec.telegram()
    spec.ranking{ "BTCUSDT", "ETHUSDT" }
    tg.message{ chat = 900, text = "/status" }
    spec.advance(2)
    assert.matches("0 of 0 presets active", tg.texts(900)[1])
    assert.matches("Create a preset with /preset", tg.texts(900)[1])
    spec.run(function()
      alerts.save{ user_id = 900, name = "Two <x>", pairs = "manual", symbols = { "BTCUSDT", "ETHUSDT" },
                   intervals = { "5m", "15m" }, threshold = 2 }
      alerts.save{ user_id = 900, name = "Off", pairs = "manual", symbols = { "BTCUSDT" },
                   intervals = { "5m" }, threshold = 3, active = false }
    end)
    tg.message{ chat = 900, text = "/status" }
    spec.advance(3)
    local t = tg.texts(900)[2]
    assert.matches("1 of 2 presets active</b>, 4 pair × timeframe subscriptions", t, 1, true)
    assert.matches("Two &lt;x&gt;: BTCUSDT, ETHUSDT, 5m 15m, up or down 2.00% as it happens · last alert: none yet", t, 1, true)
    assert.matches("⏸ Off", t, 1, true)
  end)
end)

-- The given scripts live (with the move rule and the formatter), Telegram
-- faked, and user/chat `user` watching BTCUSDT 1m at 1 %.
local function watching(user, scripts)
  local function read(name) return assert(io.open(name)):read("a") end
  local files = { ["rules/move.lua"] = read("scripts/rules/move.lua"),
                  ["lib/alertfmt.lua"] = read("scripts/lib/alertfmt.lua") }
  for _, name in ipairs(scripts) do files["commands/" .. name] = read("scripts/commands/" .. name) end
  assert(spec.use_scripts(files))
  local tg = spec.telegram()
  spec.ranking{ "BTCUSDT" }
  spec.run(function(u)
    alerts.save{ user_id = u, name = "p", pairs = "manual", symbols = { "BTCUSDT" }, intervals = { "1m" }, threshold = 1 }
  end, user)
  return tg
end

describe("/stop, /snooze and /start", function()
  it("pause alerts and resume them with a digest", function()
    local tg = watching(950, { "start.lua", "pause.lua" })
    tg.message{ chat = 950, text = "/snooze 5m" }
    tg.message{ chat = 950, text = "/snooze soon" }
    tg.message{ chat = 950, text = "/stop" }
    spec.advance(4)
    local t = tg.texts(950)
    assert.matches("Snooze for 15m to 24h", t[1], 1, true)
    assert.matches("Snooze for 15m to 24h", t[2], 1, true)
    assert.matches("Alerts paused", t[3], 1, true)
    local t0 = (spec.now() // 60000 + 1) * 60000
    spec.advance((t0 - spec.now()) / 1000)
    spec.candle{ symbol = "BTCUSDT", interval = "1m", open_time = t0, open = 100, close = 102, event_time = t0 + 1 }
    spec.advance(5)
    assert.equals(3, #tg.texts(950))
    tg.message{ chat = 950, text = "/start" }
    spec.advance(5)
    t = tg.texts(950)
    assert.matches("Alerts resumed; a digest of the 1 that fired meanwhile follows.", t[4], 1, true)
    assert.matches("BTCUSDT 1m +2.00%", t[5], 1, true)
    tg.message{ chat = 950, text = "/snooze 1h30m" }
    spec.advance(2)
    assert.matches("Alerts paused until", tg.texts(950)[6], 1, true)
  end)
end)

describe("/quiet", function()
  it("holds alerts during the daily quiet hours and sends a digest when they end", function()
    local tg = watching(960, { "pause.lua" })
    -- the local time now, in UTC+2, and quiet hours from now to 30 minutes on
    local local_min = ((spec.now() // 60000) + 120) % 1440
    local function hm(m) return string.format("%02d:%02d", (m % 1440) // 60, m % 60) end
    tg.message{ chat = 960, text = "/quiet 25:00-07:00" }
    tg.message{ chat = 960, text = "/quiet " .. hm(local_min) .. "-" .. hm(local_min + 30) .. " UTC+2" }
    tg.message{ chat = 960, text = "/quiet" }
    spec.advance(4)
    local t = tg.texts(960)
    assert.matches("Send the hours like", t[1], 1, true)
    assert.matches("Quiet hours: " .. hm(local_min) .. "-" .. hm(local_min + 30) .. " UTC+2, every day", t[2], 1, true)
    assert.matches("Quiet hours: " .. hm(local_min), t[3], 1, true)
    local t0 = (spec.now() // 60000 + 1) * 60000
    spec.advance((t0 - spec.now()) / 1000)
    spec.candle{ symbol = "BTCUSDT", interval = "1m", open_time = t0, open = 100, close = 103, event_time = t0 + 1 }
    spec.advance(60)
    assert.equals(3, #tg.texts(960))   -- held
    spec.advance(30 * 60)
    t = tg.texts(960)
    assert.equals(4, #t)
    assert.matches("While your alerts were paused, 1 fired:", t[4], 1, true)
    tg.message{ chat = 960, text = "/quiet off" }
    spec.advance(2)
    assert.matches("Quiet hours are off.", tg.texts(960)[5], 1, true)
  end)

  it("refuses time zones that do not exist, saying why", function()
    local tg = watching(961, { "pause.lua" })
    local function say(text) tg.message{ chat = 961, text = text } spec.advance(2) local t = tg.texts(961) return t[#t] end
    assert.matches("minutes of a time zone are 00 to 59", say("/quiet 23:00-07:00 UTC+5:99"))
    assert.matches("minutes of a time zone are 00 to 59", say("/quiet 23:00-07:00 UTC-3:60"))
    assert.matches("from UTC%-12:00 to UTC%+14:00", say("/quiet 23:00-07:00 UTC+14:30"))
    assert.matches("from UTC%-12:00 to UTC%+14:00", say("/quiet 23:00-07:00 UTC-12:30"))
    assert.matches("from UTC%-12:00 to UTC%+14:00", say("/quiet 23:00-07:00 UTC+99"))
    assert.is_nil(spec.run(function(c) return alerts.quiet(c) end, 961).results[1])
    assert.matches("23:00%-07:00 UTC%+5:45", say("/quiet 23:00-07:00 UTC+5:45"))
    assert.matches("23:00%-07:00 UTC%-12,", say("/quiet 23:00-07:00 UTC-12:00"))
  end)
end)
