-- The /preset wizard with more than one rule live, through the real core:
-- the "Which alert?" step, the threshold, directions and triggers each
-- rule allows, the minimum 24 h volume, every pair on the page, a rule
-- gone after a reload, and alerts and /status in the rule's words.
local function read(name) return assert(io.open(name)):read("a") end

-- An RSI-like level (its value is the close, to be easy to drive), with
-- no prompt of its own; a gas price that crosses, with one.
local RSI = [[
alerts.rule{ name = "rsi", label = "RSI(14)", mode = "level", directions = { "up", "down" },
             threshold = { min = 0, max = 100, default = 70, decimals = 1 }, on = { "close" },
             value = function(c) return c.close end }
]]
local GAS = [[
alerts.rule{ name = "gas", label = "Gas price", unit = "gwei", mode = "cross",
             threshold = { min = 1, max = 1000, default = 30, decimals = 0,
                           prompt = "Alert when gas crosses how many gwei?" },
             value = function(c) return c.close end }
]]

local tg
local chat = 700
local function last(c) local t = tg.texts(c) return t[#t] end
local function say(c, text) tg.message{ chat = c, text = text } spec.advance(2) return last(c) end
local function press(c, data) tg.press{ chat = c, data = data, message_id = 1 } spec.advance(2) return last(c) end
local function buttons(c)
  local out = {}
  local sent = tg.sent(c)
  for _, row in ipairs(sent[#sent].params.reply_markup.inline_keyboard) do
    for _, b in ipairs(row) do out[#out + 1] = b.text end
  end
  return out
end
local function presets_of(u) return spec.call(function(x) return alerts.presets(x) end, u) end

local function setup(rules)
  local files = {
    ["commands/start.lua"] = read("scripts/commands/start.lua"),
    ["commands/preset.lua"] = read("scripts/commands/preset.lua"),
    ["commands/status.lua"] = read("scripts/commands/status.lua"),
    ["rules/move.lua"] = read("scripts/rules/move.lua"),
    ["lib/presets.lua"] = read("scripts/lib/presets.lua"),
    ["lib/alertfmt.lua"] = read("scripts/lib/alertfmt.lua"),
  }
  for name, src in pairs(rules) do files["rules/" .. name] = src end
  assert(spec.use_scripts(files))
  tg = spec.telegram()
  spec.ranking{ "BTCUSDT", "ETHUSDT", "SOLUSDT" }
  chat = chat + 1
  return chat
end

-- /preset new, named, up to the step after the name
local function named(c, name)
  say(c, "/preset new")
  return say(c, name or "P")
end

describe("/preset with several rules", function()
  it("asks which alert, by label, only when more than one rule is live", function()
    local c = setup({})
    assert.matches("Which pairs%?", named(c))   -- the move rule alone: no question
    c = setup({ ["rsi.lua"] = RSI, ["gas.lua"] = GAS })
    assert.matches("Which alert%?", named(c))
    local b = buttons(c)
    assert.same({ "« Back", "Cancel" }, { b[4], b[5] })
    b = { b[1], b[2], b[3] }
    table.sort(b)
    assert.same({ "Candle move", "Gas price", "RSI(14)" }, b)
    press(c, "preset:rule:nosuch")
    assert.equals("That button no longer does anything.", tg.answers()[1])
    assert.matches("Name the preset", press(c, "preset:back:rule"))
    say(c, "P")
    assert.matches("Which pairs%?", press(c, "preset:rule:move"))
    assert.matches("Which alert%?", press(c, "preset:back:pairs"))
  end)

  it("asks the threshold in the chosen rule's range and unit, refusing others with a sentence", function()
    local c = setup({ ["rsi.lua"] = RSI, ["gas.lua"] = GAS })
    named(c)
    press(c, "preset:rule:rsi")
    press(c, "preset:pairs:top100")
    press(c, "preset:tf:1h")
    local q = press(c, "preset:tf:done")
    assert.equals("RSI(14): alert at which level? Send a number from 0 to 100, e.g. 70.", q)
    assert.equals("RSI(14) goes from 0 to 100; send a number in that range. Or /cancel.", say(c, "150"))
    assert.matches("Send a plain number, like 70", say(c, "high"))
    assert.matches("Send a plain number", say(c, "-5"))   -- (the range starts at 0)
    -- a level: at or above / at or below, nothing else; one trigger: not asked
    assert.equals("Alert when it is…", say(c, "70.04"))
    assert.same({ "At or above", "At or below", "« Back", "Cancel" }, buttons(c))
    press(c, "preset:dir:both")
    assert.equals("That button no longer does anything.", tg.answers()[1])
    local summary = press(c, "preset:dir:up")   -- (one trigger: not asked)
    assert.matches("Alert: RSI(14)", summary, 1, true)
    assert.matches("Alert when RSI(14) is at or above 70, once the candle has closed", summary, 1, true)
    assert.is_nil(summary:find("70%", 1, true))
    assert.matches("Saved", press(c, "preset:save"))
    local p = presets_of(c)[1]
    assert.same({ "rsi", 70, "up", "close", 0 }, { p.rule, p.threshold, p.direction, p.trigger, p.min_volume })
    -- /status speaks the rule's unit
    local st = say(c, "/status")
    assert.matches("P: top 100 by volume, 1h, RSI(14) at or above 70 at the close", st, 1, true)
  end)

  it("offers a cross rule's own directions and triggers, with its prompt and unit", function()
    local c = setup({ ["rsi.lua"] = RSI, ["gas.lua"] = GAS })
    named(c, "Gas")
    press(c, "preset:rule:gas")
    press(c, "preset:pairs:top100")
    press(c, "preset:tf:5m")
    assert.equals("Alert when gas crosses how many gwei?", press(c, "preset:tf:done"))
    assert.equals("Gas price goes from 1 gwei to 1000 gwei; send a number in that range. Or /cancel.",
                  say(c, "0"))
    assert.equals("Which crossings?", say(c, "25 gwei"))
    assert.same({ "Either way", "Crosses above", "Crosses below", "« Back", "Cancel" }, buttons(c))
    assert.equals("When?", press(c, "preset:dir:down"))
    assert.same({ "As soon as it happens", "Only when the candle closes", "« Back", "Cancel" }, buttons(c))
    local summary = press(c, "preset:trig:forming")
    assert.matches("Alert when Gas price crosses below 25 gwei, as soon as it happens", summary, 1, true)
    assert.matches("Saved", press(c, "preset:save"))
    assert.equals(25, presets_of(c)[1].threshold)
  end)

  it("asks a rule's settings, one step each, and edits them from the page", function()
    local c = setup({ ["ema_cross.lua"] = read("scripts/rules/ema_cross.lua") })
    named(c, "Golden")
    local q = press(c, "preset:rule:ema_cross")
    assert.matches("The fast EMA's period, in candles%?", q)
    assert.equals("Send a plain number, like 9. Or /cancel.", say(c, "fast"))
    assert.equals("The fast EMA's period goes from 2 to 500; send a number in that range. Or /cancel.",
                  say(c, "1"))
    assert.matches("The slow EMA's period%?", say(c, "50"))
    assert.matches("Which pairs%?", say(c, "200"))
    press(c, "preset:pairs:top100")
    press(c, "preset:tf:4h")
    press(c, "preset:tf:done")
    say(c, "0")
    press(c, "preset:dir:up")
    local summary = press(c, "preset:trig:close")
    assert.matches("Alert when EMA cross (50, 200) crosses above 0%", summary, 1, true)
    assert.matches("Saved", press(c, "preset:save"))
    local p = presets_of(c)[1]
    assert.same({ fast = 50, slow = 200 }, p.params)
    -- the page's edit menu offers each setting; a fast period above the slow
    -- one is refused with the rule's sentence
    press(c, "preset:edit:" .. p.id)
    local b = buttons(c)
    assert.is_truthy(table.concat(b, "|"):find("The slow EMA's period", 1, true))
    press(c, "preset:field:" .. p.id .. ":param2")
    local confirm = say(c, "30")
    assert.matches("EMA cross (50, 30)", confirm, 1, true)
    assert.matches("Not saved: The fast EMA's period must be below the slow one's",
                   press(c, "preset:save"), 1, true)
    assert.same({ fast = 50, slow = 200 }, presets_of(c)[1].params)
  end)

  it("keeps the chosen rule's draft across a reload", function()
    local c = setup({ ["rsi.lua"] = RSI, ["gas.lua"] = GAS })
    named(c)
    press(c, "preset:rule:rsi")
    press(c, "preset:pairs:top100")
    press(c, "preset:tf:1h")
    press(c, "preset:tf:done")
    assert(spec.reload())
    assert.equals("Alert when it is…", say(c, "30"))
    press(c, "preset:dir:down")
    press(c, "preset:save")
    local p = presets_of(c)[1]
    assert.same({ "rsi", 30, "down" }, { p.rule, p.threshold, p.direction })
  end)

  it("changes a preset's rule from its page, asking again what the new rule needs", function()
    local c = setup({ ["rsi.lua"] = RSI, ["gas.lua"] = GAS })
    local id = spec.call(function(u)
      return alerts.save{ user_id = u, name = "M", pairs = "top", top_n = 10, intervals = { "1h" }, threshold = 2 }
    end, c)
    press(c, "preset:edit:" .. id)
    assert.same({ "Name", "Alert", "Pairs", "Timeframes", "Threshold", "Direction", "Trigger", "Min. volume", "Chart", "« Back" },
                buttons(c))
    assert.matches("Which alert%?", press(c, "preset:field:" .. id .. ":rule"))
    -- a move's 2 % means nothing as an RSI level, and "both" is not an RSI direction
    assert.matches("RSI%(14%): alert at which level", press(c, "preset:rule:rsi"))
    assert.equals("Alert when it is…", say(c, "75"))
    local summary = press(c, "preset:dir:up")
    assert.matches("Alert when RSI(14) is at or above 75, once the candle has closed", summary, 1, true)
    press(c, "preset:save")
    local p = spec.call(function(x) return alerts.get(x) end, id)
    assert.same({ "rsi", 75, "up", "close", 10 }, { p.rule, p.threshold, p.direction, p.trigger, p.top_n })
    -- the RSI preset's menu has no Direction-less Trigger: it has one trigger only
    press(c, "preset:edit:" .. id)
    assert.same({ "Name", "Alert", "Pairs", "Timeframes", "Threshold", "Direction", "Min. volume", "Chart", "« Back" },
                buttons(c))
  end)

  it("says so when a preset's rule is gone after a reload, and lets another be chosen", function()
    local c = setup({ ["rsi.lua"] = RSI })
    local id = spec.call(function(u)
      return alerts.save{ user_id = u, name = "R", rule = "rsi", pairs = "top", top_n = 10, intervals = { "1h" },
                          threshold = 30, direction = "down", trigger = "close" }
    end, c)
    spec.remove("rules/rsi.lua")
    assert(spec.reload())
    local page = press(c, "preset:show:" .. id)
    assert.matches('Alert rule "rsi" is no longer available', page, 1, true)
    assert.matches("R: top 10 by volume, 1h, rule &quot;rsi&quot;, which is gone", say(c, "/status"), 1, true)
    press(c, "preset:edit:" .. id)
    assert.matches("The alert \"rsi\" is no longer available. Choose another one",
                   press(c, "preset:field:" .. id .. ":threshold"), 1, true)
    assert.same({ "Candle move", "« Back", "Cancel" }, buttons(c))
    assert.matches("moves by how many percent", press(c, "preset:rule:move"))
    local summary = say(c, "3")
    assert.matches("Alert when a candle moves down by 3.00% or more, once it has closed", summary, 1, true)
    assert.matches("Saved", press(c, "preset:save"))
    assert.equals("move", spec.call(function(x) return alerts.get(x) end, id).rule)
    assert.equals(0, spec.errors("commands/preset.lua") + spec.errors("commands/status.lua"))
  end)
end)

describe("/preset minimum 24 h volume", function()
  it("is an optional step of the wizard, refused with a sentence, and edited from the page", function()
    local c = setup({})
    named(c)
    press(c, "preset:pairs:top100")
    press(c, "preset:tf:5m")
    press(c, "preset:tf:done")
    say(c, "2")
    press(c, "preset:dir:both")
    assert.matches("Minimum 24 h volume: none\n\nSave it?", press(c, "preset:trig:forming"), 1, true)
    assert.same({ "Save", "Minimum 24 h volume…", "Chart with each alert…", "« Back", "Cancel" }, buttons(c))
    local q = press(c, "preset:ask:volume")
    assert.matches("Send the minimum volume in USDT, like 5M, 250k or 1000000, or tap No minimum.", q, 1, true)
    assert.same({ "No minimum", "« Back", "Cancel" }, buttons(c))
    for _, bad in ipairs({ "lots", "-5", "5X", "1e6", "0x10", "5..5M", "5,5,5" }) do
      assert.equals("Send the minimum 24 h volume in USDT as a number, like 5M, 250k or 1000000. " ..
                    "Or tap No minimum, or /cancel.", say(c, bad), bad)
    end
    assert.matches("more than any pair trades", say(c, "2000B"))
    assert.matches("Save it?", press(c, "preset:back:volume"), 1, true)
    assert.matches("When%?", press(c, "preset:back:confirm"))   -- (the optional step is not on the way back)
    press(c, "preset:trig:forming")
    press(c, "preset:ask:volume")
    assert.matches("24 h volume of 1.5M USDT or more", say(c, "1,5 m"), 1, true)
    press(c, "preset:save")
    local p = presets_of(c)[1]
    assert.equals(1.5e6, p.min_volume)
    -- on the page and edited there
    assert.matches("24 h volume of 1.5M USDT or more", press(c, "preset:show:" .. p.id), 1, true)
    press(c, "preset:edit:" .. p.id)
    assert.matches("Now: 1.5M", press(c, "preset:field:" .. p.id .. ":volume"), 1, true)
    assert.matches("24 h volume of 250k USDT or more", say(c, "250k"), 1, true)
    press(c, "preset:save")
    assert.equals(250000, presets_of(c)[1].min_volume)
    -- edited again: the "No minimum" button and other ways to write it
    local function edit(answer)
      press(c, "preset:edit:" .. p.id)
      press(c, "preset:field:" .. p.id .. ":volume")
      if answer == "none" then press(c, "preset:vol:none") else say(c, answer) end
      press(c, "preset:save")
      return presets_of(c)[1].min_volume
    end
    assert.equals(1e6, edit("1000000"))
    assert.equals(0, edit("none"))
    assert.equals(1e6, edit("1,000,000 USDT"))
    assert.equals(0, edit("0"))
  end)
end)

describe("/preset pair lists", function()
  it("shows every pair of the largest list on the confirm step and the page, within 4096 characters", function()
    local c = setup({})
    local max = math.min(spec.call(function() return alerts.limits().pairs_per_preset end), 1000)
    -- the longest names a symbol may have (23 characters)
    local names = {}
    for i = 1, max do names[i] = string.format("%s%04dUSDT", string.rep("X", 15), i) end
    spec.ranking(names)
    named(c, string.rep("n", 64))
    press(c, "preset:pairs:list")
    local before = #tg.sent(c)
    say(c, table.concat(names, " "))
    press(c, "preset:tf:5m")
    press(c, "preset:tf:done")
    say(c, "2")
    press(c, "preset:dir:both")
    press(c, "preset:trig:forming")
    press(c, "preset:ask:volume")
    say(c, "5M")
    spec.advance(60)   -- (a long list takes several messages, paced per chat)
    local function check(from)
      local seen, text = {}, {}
      for i = from, #tg.sent(c) do
        local t = tg.sent(c)[i].text
        assert.is_true(utf8.len(t) <= 4096, "a message of " .. utf8.len(t) .. " characters")
        text[#text + 1] = t
      end
      local all = table.concat(text, "\n")
      for _, n in ipairs(names) do seen[#seen + 1] = all:find(n, 1, true) and n or nil end
      assert.equals(#names, #seen)
      assert.is_nil(all:find("and %d+ more"))
    end
    local confirm_at = #tg.sent(c)
    while not tg.sent(c)[confirm_at].text:find("Save it?", 1, true) do confirm_at = confirm_at - 1 end
    assert.is_true(confirm_at > before)
    check(confirm_at)
    press(c, "preset:save")
    local id = presets_of(c)[1].id
    local n = #tg.sent(c)
    tg.message{ chat = c, text = "/preset" }
    spec.advance(2)
    press(c, "preset:show:" .. id)
    spec.advance(60)
    local from = n + 1
    while tg.sent(c)[from] and not tg.sent(c)[from].text:find("Timeframes", 1, true) do from = from + 1 end
    check(from)
  end)
end)

describe("alert texts in the rule's words", function()
  it("say a level alert's level and value in the rule's unit", function()
    local c = setup({ ["rsi.lua"] = RSI })
    spec.call(function(u)
      return alerts.save{ user_id = u, name = "Overbought", rule = "rsi", pairs = "manual", symbols = { "ETHUSDT" },
                          intervals = { "1m" }, threshold = 70, direction = "up", trigger = "close" }
    end, c)
    local t0 = (spec.now() // 60000 + 1) * 60000
    spec.advance((t0 - spec.now()) / 1000)
    spec.candle{ symbol = "ETHUSDT", interval = "1m", open_time = t0, open = 69, close = 71.43, closed = true,
                 event_time = t0 + 59000 }
    spec.advance(3)
    local a = last(c)
    assert.matches("🟣 <b>ETHUSDT</b> 1m RSI(14) at or above <b>70</b> → 71.43 (closed)", a, 1, true)
    assert.matches("Overbought · ", a, 1, true)
    assert.is_nil(a:find("%", 1, true))
  end)

  it("say a cross in past words, and keep a percent move's text as it was", function()
    setup({ ["gas.lua"] = GAS })
    local r = spec.eval([[
      local f = require("alertfmt").format
      local candle = { open = 20, close = 31.25, closed = false, price_decimals = 2, quote_volume = 1500 }
      local function a(t)
        t.candle, t.symbol, t.interval, t.presets = candle, "ETHUSDT", "1h", { "Gas" }
        return (f(t))
      end
      return a{ rule = "gas", label = "Gas price", unit = "gwei", mode = "cross", level = 30, value = 31.26,
                move = 31.26, direction = "up", decimals = 0 },
             a{ rule = "gas", label = "Gas price", unit = "gwei", mode = "cross", level = 30, value = 28,
                move = 28, direction = "down", decimals = 0 },
             a{ rule = "move", label = "Candle move", unit = "%", mode = "move", level = 2, value = 56.25,
                move = 56.25, direction = "up", decimals = 2 }
    ]])
    assert.is_true(r.ok, r.err)
    assert.matches("🟣 <b>ETHUSDT</b> 1h Gas price crossed above <b>30 gwei</b> → 31.3 gwei\n", r.results[1], 1, true)
    assert.matches("crossed below <b>30 gwei</b> → 28 gwei", r.results[2], 1, true)
    assert.matches('^🟢 <b>ETHUSDT</b> 1h <b>%+56.25%%</b>\n20.00 → 31.25 · vol 1.5K USDT\nGas · <a href=', r.results[3])
  end)
end)

describe("/preset chart with each alert", function()
  it("is an optional step, saved with the preset, shown on its page and edited there", function()
    local c = setup({})
    named(c)
    press(c, "preset:pairs:top100")
    press(c, "preset:tf:5m")
    press(c, "preset:tf:done")
    say(c, "2")
    press(c, "preset:dir:both")
    local confirm = press(c, "preset:trig:forming")
    assert.is_nil(confirm:find("A chart follows each alert", 1, true))
    assert.matches("Now: text only.", press(c, "preset:ask:chart"), 1, true)
    assert.same({ "Yes, with a chart", "Text only", "« Back", "Cancel" }, buttons(c))
    assert.matches("A chart follows each alert\n\nSave it?", press(c, "preset:chart:on"), 1, true)
    press(c, "preset:save")
    local p = presets_of(c)[1]
    assert.is_true(p.chart)
    assert.matches("A chart follows each alert", press(c, "preset:show:" .. p.id), 1, true)
    press(c, "preset:edit:" .. p.id)
    assert.matches("Now: with a chart.", press(c, "preset:field:" .. p.id .. ":chart"), 1, true)
    press(c, "preset:chart:off")
    press(c, "preset:save")
    assert.is_false(presets_of(c)[1].chart)
    -- (a forged value is refused, the draft untouched)
    press(c, "preset:edit:" .. p.id)
    press(c, "preset:field:" .. p.id .. ":chart")
    press(c, "preset:chart:maybe")
    press(c, "preset:save")
    assert.is_false(presets_of(c)[1].chart)
  end)
end)
