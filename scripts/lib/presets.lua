-- Presets as users read them: one-line and detailed descriptions in the
-- words and unit of the preset's rule, and the parsing of what users type
-- in the /preset flow.
local presets = {}

-- How each rule mode words its directions: the buttons, and the condition
-- in a sentence.  (For a level, "up" is at or above, "down" at or below.)
local DIRECTIONS = {
  move = { both = "Up or down", up = "Up", down = "Down" },
  level = { both = "Either side", up = "At or above", down = "At or below" },
  cross = { both = "Either way", up = "Crosses above", down = "Crosses below" },
}
presets.DIRECTIONS = DIRECTIONS

local QUESTIONS = { move = "Which moves?", level = "Alert when it is…", cross = "Which crossings?" }

-- The live rules, by name (alerts.rules() lists them in declaration order).
function presets.rule(name)
  for _, r in ipairs(alerts.rules()) do
    if r.name == (name or "move") then return r end
  end
end

-- The rule's label with the preset's settings: "EMA cross (50, 200)".
function presets.label(p, rule)
  if not rule or not rule.params or #rule.params == 0 then return rule and rule.label end
  local v = {}
  for i, q in ipairs(rule.params) do
    v[i] = presets.num((p.params or {})[q.name] or q.default, q.decimals)
  end
  return rule.label .. " (" .. table.concat(v, ", ") .. ")"
end

-- The question for the rule's setting q (its prompt, or its range).
function presets.param_prompt(q)
  if q.prompt and q.prompt ~= "" then return bot.fmt("%s", q.prompt) end
  return bot.fmt("%s? Send a number from %s to %s, e.g. %s.", q.label, presets.num(q.min, q.decimals),
                 presets.num(q.max, q.decimals), presets.num(q.default, q.decimals))
end

-- A setting typed by the user: a number in q's range, rounded to its
-- decimals; nil, why otherwise.
function presets.parse_param(text, q)
  local s = text:gsub("%s", ""):gsub(",", ".")
  local _, points = s:gsub("%.", "")
  local v = s:match("^%-?[%d.]+$") and points <= 1 and tonumber(s)
  if not v then
    return nil, bot.fmt("Send a plain number, like %s.", presets.num(q.default, q.decimals))
  end
  local scale = 10 ^ q.decimals
  v = math.floor(v * scale + 0.5) / scale
  if v < q.min or v > q.max then
    return nil, bot.fmt("%s goes from %s to %s; send a number in that range.", q.label,
                        presets.num(q.min, q.decimals), presets.num(q.max, q.decimals))
  end
  return v
end

-- Today's percent move: its texts stay exactly as they were.
local function classic(rule)
  return rule == nil or (rule.mode == "move" and rule.unit == "%")
end
presets.classic = classic

-- 70 -> "70", 2.5 -> "2.5", 1e6 -> "1000000": at most `decimals` places,
-- no trailing zeros, never an exponent.
function presets.num(v, decimals)
  local s = string.format("%." .. math.max(0, math.min(decimals or 2, 8)) .. "f", v)
  if s:find("%.") then s = s:gsub("0+$", ""):gsub("%.$", "") end
  if s == "-0" then s = "0" end
  return s
end

-- A threshold with the rule's unit: "2.50%" for a percent move (as
-- always), "70" for an RSI level, "3×", "30 gwei".
function presets.amount(v, rule)
  if classic(rule) then return string.format("%.2f%%", v or 0) end
  local s = presets.num(v or 0, rule.threshold.decimals)
  local unit = rule.unit or ""
  if unit == "" then return s end
  if utf8.len(unit) == 1 and not unit:find("%w") then return s .. unit end   -- (%, ×: no space)
  return s .. " " .. unit
end

-- The buttons of the direction step, in the rule's order: {{value, label}}.
function presets.direction_choices(rule)
  local words = DIRECTIONS[rule.mode] or DIRECTIONS.move
  local out = {}
  for _, d in ipairs(rule.directions) do out[#out + 1] = { d, words[d] or d } end
  return out
end

function presets.direction_question(rule)
  return QUESTIONS[rule.mode] or QUESTIONS.move
end

local TRIGGERS_MOVE = { forming = "As soon as it crosses", close = "Only when the candle closes" }
local TRIGGERS = { forming = "As soon as it happens", close = "Only when the candle closes" }

function presets.trigger_choices(rule)
  local words = classic(rule) and TRIGGERS_MOVE or TRIGGERS
  local out = {}
  for _, t in ipairs(rule.on) do out[#out + 1] = { t, words[t] or t } end
  return out
end

-- 5000000 -> "5M", 250000 -> "250k", 1500000 -> "1.5M": USDT volumes.
function presets.volume_text(v)
  if v >= 1e9 then return presets.num(v / 1e9, 2) .. "B" end
  if v >= 1e6 then return presets.num(v / 1e6, 2) .. "M" end
  if v >= 1e3 then return presets.num(v / 1e3, 2) .. "k" end
  return presets.num(v, 0)
end

function presets.pairs_text(p, full)
  if p.pairs == "top" then
    local on = p.venue and p.venue ~= "binance" and (" on " .. (presets.VENUES[p.venue] or p.venue)) or ""
    return "top " .. p.top_n .. " by volume" .. on
  end
  local s = p.symbols or {}
  if full or #s <= 4 then return table.concat(s, ", ") end
  return table.concat({ s[1], s[2], s[3] }, ", ") .. " and " .. (#s - 3) .. " more"
end

local dir_words = { both = "up or down", up = "up", down = "down" }

-- "up or down 2.50% as it happens", "RSI(14) at or above 70 at the close":
-- the condition in a few words (for /status).
local function short_condition(p, rule)
  local when = p.trigger == "close" and "at the close" or "as it happens"
  if classic(rule) then
    return string.format("%s %s %s", dir_words[p.direction] or "?", presets.amount(p.threshold, rule), when)
  end
  local words = DIRECTIONS[rule.mode] or DIRECTIONS.move
  return string.format("%s %s %s %s", presets.label(p, rule), (words[p.direction] or "?"):lower(),
                       presets.amount(p.threshold, rule), when)
end

-- "Majors: top 100 by volume, 5m 15m, up or down 2.50% as it happens" (HTML, escaped)
function presets.line(p)
  local rule = presets.rule(p.rule)
  local cond = (rule or p.rule == nil or p.rule == "move") and short_condition(p, rule)
               or string.format('rule "%s", which is gone', p.rule)
  local vol = (p.min_volume or 0) > 0 and (", 24 h volume ≥ " .. presets.volume_text(p.min_volume)) or ""
  return bot.fmt("%s%s: %s, %s, %s%s", p.active == false and "⏸ " or "", p.name,
    presets.pairs_text(p), table.concat(p.intervals or {}, " "), cond, vol)
end

-- The condition as a sentence: "Alert when a candle moves up by 2.50% or
-- more, once it has closed", "Alert when RSI(14) crosses above 70, ...".
function presets.condition(p, rule)
  if not rule then
    return bot.fmt('Alert rule "%s" is no longer available: choose another alert for this preset.',
                   p.rule or "?")
  end
  if classic(rule) then
    return bot.fmt("Alert when a candle moves %s by %s or more, %s", dir_words[p.direction] or "?",
      presets.amount(p.threshold, rule), p.trigger == "close" and "once it has closed" or "as soon as it crosses")
  end
  local when = p.trigger == "close" and "once the candle has closed" or "as soon as it happens"
  local t = presets.amount(p.threshold, rule)
  local what
  if rule.mode == "move" then
    what = string.format("moves %s by %s or more", dir_words[p.direction] or "?", t)
  elseif rule.mode == "cross" and p.direction == "both" then
    what = string.format("crosses %s either way", t)
  elseif rule.mode == "level" and p.direction == "both" then
    what = string.format("is at or above, or at or below, %s", t)
  else
    what = string.format("%s %s", ((DIRECTIONS[rule.mode] or {})[p.direction] or "?"):lower(), t)
    if rule.mode == "level" then what = "is " .. what end
  end
  return bot.fmt("Alert when %s %s, %s", presets.label(p, rule), what, when)
end

-- Telegram takes 4096 characters a message; the page keeps room for what
-- the caller adds ("Save it?").
local PAGE_MAX, MSG_MAX = 3900, 4096

-- The pairs, as many messages of at most 4096 characters as they need.
local function pair_messages(p)
  local out, cur, first, n = {}, {}, 1, #p.symbols
  local len = 0
  local function flush(last)
    local head = bot.fmt("Pairs of <b>%s</b> (%d–%d of %d):\n", p.name, first, last, n)
    out[#out + 1] = head .. table.concat(cur, ", ")
    cur, len, first = {}, 0, last + 1
  end
  for i, s in ipairs(p.symbols) do
    s = bot.fmt("%s", s)   -- (the exchange's names, but HTML all the same)
    if len + utf8.len(s) + 2 > MSG_MAX - 200 then flush(i - 1) end
    cur[#cur + 1] = s
    len = len + utf8.len(s) + 2
  end
  if #cur > 0 then flush(n) end
  return out
end

-- The preset page (and the confirm step): every field, every pair.  A
-- list too long for one message goes in the messages returned second.
function presets.details(p, stats)
  local rule = presets.rule(p.rule)
  local lines = {
    bot.fmt("<b>%s</b>%s", p.name, p.active == false and " (paused)" or ""),
    bot.fmt("Pairs: %s", presets.pairs_text(p, true)),
    bot.fmt("Timeframes: %s", table.concat(p.intervals or {}, ", ")),
  }
  if rule and #alerts.rules() > 1 then lines[#lines + 1] = bot.fmt("Alert: %s", presets.label(p, rule)) end
  lines[#lines + 1] = presets.condition(p, rule)
  lines[#lines + 1] = (p.min_volume or 0) > 0
    and bot.fmt("Only pairs with a 24 h volume of %s USDT or more", presets.volume_text(p.min_volume))
    or "Minimum 24 h volume: none"
  if p.chart then lines[#lines + 1] = "A chart follows each alert" end
  if stats then
    lines[#lines + 1] = bot.fmt("Alerts: %d today, %d in 7 days%s", stats.today, stats.week,
      stats.last and (", last " .. os.date("!%Y-%m-%d %H:%M UTC", stats.last // 1000)) or "")
  end
  local text = table.concat(lines, "\n")
  if utf8.len(text) <= PAGE_MAX then return text, {} end
  local extra = pair_messages(p)
  lines[2] = bot.fmt("Pairs: %d, listed in the message%s below", #p.symbols, #extra > 1 and "s" or "")
  return table.concat(lines, "\n"), extra
end

-- "2.5", "2,5 %", "+3" -> 2.5, 2.5, 3 (with a rule whose range goes below
-- zero, "-5" too), rounded to the rule's decimals; nil, why for anything
-- else: plain decimals only (tonumber would take 0x10, 1e3, inf).
function presets.parse_threshold(text, rule)
  rule = rule or { unit = "%", mode = "move", threshold = { min = 0.1, max = 100, default = 2.5, decimals = 2 } }
  local th = rule.threshold
  local s = text:gsub("%s", ""):gsub(",", "."):gsub("^%+", "")
  if rule.unit ~= "" and s:sub(-#rule.unit):lower() == rule.unit:lower() then s = s:sub(1, -#rule.unit - 1) end
  local neg = th.min < 0 and s:match("^%-") and true
  if neg then s = s:sub(2) end
  local _, points = s:gsub("%.", "")
  local v = not s:find("[^%d.]") and points <= 1 and tonumber(s)
  if not v then
    if classic(rule) then
      return nil, bot.fmt("Send the percent as a plain number, like %s (digits and one decimal point).",
                          presets.num(th.default, th.decimals))
    end
    return nil, bot.fmt("Send a plain number, like %s (digits%s and one decimal point).",
                        presets.num(th.default, th.decimals), th.min < 0 and ", a minus sign" or "")
  end
  if neg then v = -v end
  local scale = 10 ^ th.decimals
  v = math.floor(v * scale + 0.5) / scale
  if v < th.min or v > th.max then
    if classic(rule) then
      return nil, bot.fmt("The threshold is from %s to %s percent.", presets.num(th.min, th.decimals),
                          presets.num(th.max, th.decimals))
    end
    return nil, bot.fmt("%s goes from %s to %s; send a number in that range.", rule.label,
                        presets.amount(th.min, rule), presets.amount(th.max, rule))
  end
  return v
end

-- The step's question, from the rule: its own prompt, or one made of its
-- label, unit and range.
function presets.threshold_prompt(rule)
  local th = rule.threshold
  if th.prompt and th.prompt ~= "" then return bot.fmt("%s", th.prompt) end
  local range = bot.fmt("Send a number from %s to %s, e.g. %s.", presets.amount(th.min, rule),
                        presets.amount(th.max, rule), presets.num(th.default, th.decimals))
  if rule.mode == "move" then
    return bot.fmt("Alert when %s moves by how much?", rule.label) .. " " .. range
  end
  return bot.fmt("%s: alert at which level?", rule.label) .. " " .. range
end

local VOLUME_MAX = 1e12
local SUFFIX = { k = 1e3, m = 1e6, b = 1e9 }

-- "5M", "250k", "1,000,000", "1.5m USDT" -> 5e6, 2.5e5, 1e6, 1.5e6; "0"
-- -> 0 (no minimum); nil, why for anything else.
function presets.parse_volume(text)
  local s = text:lower():gsub("%s", ""):gsub("_", ""):gsub("usdt$", ""):gsub("^%$", "")
  local groups = s:gsub("%a$", "")
  local lead = groups
  while lead:match(",%d%d%d$") do lead = lead:sub(1, -5) end
  if lead ~= groups and lead:match("^%d%d?%d?$") then
    s = s:gsub(",", "")   -- (1,000,000: thousands)
  else
    s = s:gsub(",", ".")
  end
  local digits, suffix = s:match("^([%d.]+)(%a?)$")
  local _, points = (digits or ""):gsub("%.", "")
  local v = digits and points <= 1 and tonumber(digits)
  if not v or (suffix ~= "" and not SUFFIX[suffix]) then
    return nil, "Send the minimum 24 h volume in USDT as a number, like 5M, 250k or 1000000."
  end
  v = v * (SUFFIX[suffix] or 1)
  if v > VOLUME_MAX then return nil, "That is more than any pair trades; send at most 1000B." end
  return math.floor(v + 0.5)
end

-- The venues' names for people, and the prefix of their symbols (any
-- case in; "futures" and "usdm" are other names for Binance futures).
presets.VENUES = { binance = "Binance futures", spot = "Binance spot", bybit = "Bybit futures" }
local PREFIX = { binance = "", futures = "", usdm = "", spot = "spot:", bybit = "bybit:" }

local MISPLACED = "Write a pair on another exchange as bybit:BTCUSDT or spot:BTCUSDT."

-- One pair of a list: ("binance", "btc") -> "BTCUSDT", ("bybit", "eth")
-- -> "bybit:ETHUSDT".
local function one_symbol(venue, word)
  local name = word:upper()
  if not name:match("USDT$") and not name:match("USD_") then name = name .. "USDT" end
  return PREFIX[venue] .. name
end

-- "btcusdt, ETH SOLUSDT bybit:btc" -> {"BTCUSDT", "ETHUSDT", "SOLUSDT",
-- "bybit:BTCUSDT"}: a bare base gets USDT; venue ("spot", "bybit"; default
-- binance) is the exchange of the words without one; a word before a colon
-- names the next one's exchange.  nil, why when empty, too many or a venue
-- that is none.  (One pass of the plain word pattern, the byte after each
-- word looked at: a pattern taking the colon in is too costly for the guard
-- on long text, and so is a find per word.)
function presets.parse_symbols(text, max, venue)
  local out, seen, named = {}, {}, nil
  for word, after in text:gmatch("([%w_]+)()") do
    if text:sub(after, after) == ":" then
      if named then return nil, MISPLACED end
      named = word
    else
      if named and not PREFIX[named:lower()] then
        return nil, "There is no exchange \"" .. named .. "\" here: use bybit: or spot: before a pair, or nothing for Binance futures."
      end
      local sym = one_symbol(named and named:lower() or venue or "binance", word)
      named = nil
      if not seen[sym] then
        seen[sym] = true
        out[#out + 1] = sym
      end
    end
  end
  if named then return nil, MISPLACED end
  if #out == 0 then return nil, "Send pair names, like BTCUSDT ETHUSDT." end
  if #out > max then return nil, "A list has at most " .. max .. " pairs; you sent " .. #out .. "." end
  return out
end
return presets
