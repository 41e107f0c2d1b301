-- Groups: only a group's administrators change its alerts, whether they
-- type a command or press a button under an administrator's message.
describe("group settings", function()
  local tg
  local group, admin, member = -1007001, 71, 72
  local function read(name) return assert(io.open(name)):read("a") end
  local function last(c) local t = tg.texts(c) return t[#t] end
  local function say(text, from) tg.message{ chat = group, text = text, from = from } spec.advance(2) return last(group) end
  local function press(data, from) tg.press{ chat = group, data = data, message_id = 1, from = from } spec.advance(2) end
  local function notices()
    local out = {}
    for _, c in ipairs(tg.calls) do
      if c.method == "answerCallbackQuery" and c.params.text then out[#out + 1] = c.params.text end
    end
    return out
  end
  local function presets_of(u) return spec.run(function(x) return alerts.presets(x) end, u).results[1] end
  local function state_of(u)
    return spec.run(function(k) return store.get("telegram.state", k) end, group .. ":" .. u).results[1]
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/start.lua"] = read("scripts/commands/start.lua"),
      ["commands/preset.lua"] = read("scripts/commands/preset.lua"),
      ["commands/pause.lua"] = read("scripts/commands/pause.lua"),
      ["rules/move.lua"] = read("scripts/rules/move.lua"),
      ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
      ["lib/alertfmt.lua"] = read("scripts/lib/alertfmt.lua"),
    }))
    tg = spec.telegram()
    tg.admins[group] = { [admin] = true }
    spec.ranking{ "BTCUSDT", "ETHUSDT" }
  end)

  it("refuses a member's presses on the buttons of an administrator's /preset", function()
    assert.matches("Only this group's administrators", say("/preset", member))
    assert.matches("no presets yet", say("/preset", admin))
    local before = #tg.texts(group)
    -- the member presses "New preset" under the admin's list, then walks
    -- the flow with forged presses and typed answers
    press("preset:new", member)
    say("Member's", member)
    for _, d in ipairs({ "preset:pairs:top100", "preset:tf:5m", "preset:tf:done" }) do press(d, member) end
    say("0.1", member)
    for _, d in ipairs({ "preset:dir:both", "preset:trig:forming", "preset:save" }) do press(d, member) end
    assert.equals(0, #presets_of(member))
    assert.is_nil(state_of(member))
    assert.equals(before, #tg.texts(group))   -- nothing said to the whole group
    local n = notices()
    assert.equals(7, #n)
    for _, t in ipairs(n) do assert.matches("Only this group's administrators", t) end
  end)

  it("still lets an administrator make a group preset with the buttons", function()
    say("/preset", admin)
    press("preset:new", admin)
    assert.matches("Which pairs", say("Group's", admin))
    for _, d in ipairs({ "preset:pairs:top100", "preset:tf:5m", "preset:tf:done" }) do press(d, admin) end
    say("2", admin)
    for _, d in ipairs({ "preset:dir:both", "preset:trig:forming", "preset:save" }) do press(d, admin) end
    local mine = presets_of(admin)
    assert.equals(1, #mine)
    assert.equals(group, mine[1].chat_id)
  end)

  it("refuses a member's /stop, /snooze, /quiet and /start of a paused group", function()
    for _, cmd in ipairs({ "/stop", "/snooze 24h", "/quiet 00:00-23:59 UTC+0" }) do
      assert.matches("Only this group's administrators", say(cmd, member))
    end
    local got = spec.run(function(c) return alerts.paused(c), alerts.quiet(c) end, group).results
    assert.is_nil(got[1])
    assert.is_nil(got[2])
    assert.matches("Alerts paused", say("/stop", admin))
    assert.matches("only its administrators can resume", say("/start", member))
    assert.is_truthy(spec.run(function(c) return alerts.paused(c) end, group).results[1])
    assert.matches("Alerts resumed", say("/start", admin))
    assert.is_nil(spec.run(function(c) return alerts.paused(c) end, group).results[1])
  end)

  it("leaves private chats alone", function()
    tg.message{ chat = 73, text = "/stop" }
    spec.advance(2)
    assert.matches("Alerts paused", last(73))
    tg.message{ chat = 73, text = "/start" }
    spec.advance(2)
    assert.matches("Alerts resumed", last(73))
  end)
end)
