-- A pair and a timeframe as users type them ("/chart btc 4h", "/chart 4h
-- BTCUSDT"), checked against what the bot streams, with the short reply
-- for what is wrong: split, then parse (symbol_of, interval_of).  `cmd`
-- names the command in the examples; opts.near = false: no near names
-- suggested for an unknown symbol (/why's replies).
local M = {}

M.BINANCE = { "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d" }
local QUOTES = { "USDT", "USDC" }   -- "btc" means BTCUSDT when only one of these is watched

function M.list_text(t) return table.concat(t, ", ") end

-- What the user typed, shown back: at most 24 characters.
function M.shown(s)
  if utf8.len(s) and utf8.len(s) > 24 then return s:sub(1, utf8.offset(s, 25) - 1) .. "…" end
  return s
end

-- Edit distance of two short words, giving up past `max` (nil then).
local function distance(a, b, max)
  if math.abs(#a - #b) > max then return nil end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur, best = { [0] = i }, i
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      best = math.min(best, cur[j])
    end
    if best > max then return nil end
    prev = cur
  end
  return prev[#b] <= max and prev[#b] or nil
end

-- Up to three streamed symbols near w (a typo, a missing quote), nearest first.
function M.near(w, symbols)
  local found = {}
  for _, s in ipairs(symbols) do
    local d = distance(w, s, 2)
    if not d and #w >= 3 and s:sub(1, #w) == w then d = 3 end
    if d then found[#found + 1] = { s = s, d = d } end
  end
  table.sort(found, function(x, y) return x.d < y.d or (x.d == y.d and x.s < y.s) end)
  local out = {}
  for i = 1, math.min(3, #found) do out[i] = found[i].s end
  return out
end

-- A pair's name, plain or qualified by its venue ("spot:BTCUSDT").
local function pair_word(w) return w:match("^[%w_]+$") or w:match("^%a+:[%w_]+$") end

-- "btcusdt", "btc", "Spot:btc" -> "BTCUSDT", "spot:BTCUSDT" among the
-- streamed symbols; nil, why
function M.symbol_of(word, cmd, opts)
  local venue, rest = word:match("^(%a+):([%w_]+)$")
  local prefix = venue and (venue:lower() .. ":") or ""
  if prefix == "binance:" or prefix == "futures:" then prefix = "" end
  local w = prefix .. (rest or word):upper()
  local symbols = candles.symbols()
  local have = {}
  for _, s in ipairs(symbols) do have[s] = true end
  if pair_word(w) then
    if have[w] then return w end
    local found = {}
    for _, q in ipairs(QUOTES) do
      if have[w .. q] then found[#found + 1] = w .. q end
    end
    if #found == 1 then return found[1] end
    if #found > 1 then
      return nil, bot.fmt("%s could be %s. Send the whole pair, e.g. <code>/%s %s 1h</code>.",
                          M.shown(w), table.concat(found, " or "), cmd, found[1])
    end
    local near = #w <= 24 and not (opts and opts.near == false) and M.near(w, symbols) or {}
    if #near > 0 then
      return nil, bot.fmt("I don't watch %s. Did you mean %s? E.g. <code>/%s %s 1h</code>.",
                          w, table.concat(near, ", "), cmd, near[1])
    end
  end
  return nil, bot.fmt("I don't watch %s. Try e.g. <code>/%s BTCUSDT 1h</code>.",
                      M.shown(pair_word(w) and w or word), cmd)
end

-- "1H", "4h" -> "4h" when watched; nil, why
function M.interval_of(word, watched, symbol, cmd)
  local w = word:lower()
  for _, iv in ipairs(watched) do
    if iv == w then return iv end
  end
  for _, iv in ipairs(M.BINANCE) do
    if iv == w then
      return nil, bot.fmt("I don't watch %s candles. Timeframes watched: %s.", iv, M.list_text(watched))
    end
  end
  return nil, bot.fmt("%s is not a timeframe. Timeframes watched: %s, e.g. <code>/%s %s %s</code>.",
                      M.shown(word), M.list_text(watched), cmd, symbol, watched[1] or "1h")
end

-- ctx.args -> { word [, word] } with a timeframe given first put second,
-- or nil when there are none or more than two words.
function M.split(text)
  local raw = (text or ""):gsub("^%s+", ""):gsub("%s+$", "")
  local args = { raw:match("^(%S+)%s+(%S+)$") }   -- (disjoint: linear in a long word)
  if #args == 0 then args = { raw:match("^(%S+)$") } end
  if #args == 0 then return nil end
  for _, iv in ipairs(M.BINANCE) do
    if #args == 2 and args[1]:lower() == iv then
      args[1], args[2] = args[2], args[1]
      break
    end
  end
  return args
end

-- The pair and timeframe of args (1h, or the first watched, when left
-- out): symbol, interval, or nil, why.
function M.parse(args, cmd, opts)
  local watched = alerts.limits().intervals
  local symbol, why = M.symbol_of(args[1], cmd, opts)
  if not symbol then return nil, why end
  if args[2] then
    local interval, bad = M.interval_of(args[2], watched, symbol, cmd)
    if not interval then return nil, bad end
    return symbol, interval
  end
  for _, iv in ipairs(watched) do
    if iv == "1h" then return symbol, "1h" end
  end
  return symbol, watched[1] or "1h"
end

return M
