-- /chart SYMBOL [TF]: the pair's last closed candles as a picture (candles,
-- volume, the last close tagged), with a caption: the pair, the timeframe,
-- the last price and the change over the picture.  A picture is drawn once
-- per (pair, timeframe, last closed candle, theme): other chats asking the
-- same get Telegram's file_id for it (bot.send_photo's key), no new upload.
-- Drawing costs CPU: a chat draws at most one picture every RENDER_GAP_S.
-- /chart theme dark|light: the user's theme (store scope chart.theme).
local A = require("pair_args")

local CANDLES = 120
local RENDER_GAP_S = 10
local THEMES = { dark = true, light = true }

local last_render = {}   -- chat -> host.clock() of its last drawing
local renders = 0

local function usage()
  return "Send a pair and, if you like, a timeframe: <code>/chart BTCUSDT 4h</code> (1h when " ..
         "left out). <code>/chart theme light</code> or <code>dark</code> sets the colours."
end

local function theme_of(user)
  local t = store.get("chart.theme", tostring(user))
  return THEMES[t] and t or "dark"
end

local function set_theme(ctx, word)
  local t = word and word:lower()
  if not THEMES[t] then
    return ctx:reply(bot.fmt("Your charts are %s. Send <code>/chart theme light</code> or " ..
                             "<code>/chart theme dark</code> to change.", theme_of(ctx.user.id)))
  end
  store.set("chart.theme", tostring(ctx.user.id), t ~= "dark" and t or nil)
  ctx:reply(bot.fmt("Your charts are %s from now on.", t))
end

local function price(v, dp) return string.format("%." .. math.min(dp or 8, 12) .. "f", v) end

-- "<b>BTCUSDT 1h</b> · 65000.10 · +1.23% over 120 candles, to the 14:00 UTC close"
local function caption(symbol, interval, list)
  local last, first = list[1], list[#list]
  local change = first.open > 0 and (last.close - first.open) / first.open * 100 or 0
  local day = interval:match("[dw]$") and "%b %d" or "%H:%M"
  return bot.fmt("<b>%s %s</b> · %s · %s%.2f%% over %d candles, to the %s UTC close", symbol,
                 interval, price(last.close, last.price_decimals), change >= 0 and "+" or "",
                 change, #list, os.date("!" .. day, last.close_time // 1000 + 1))
end

-- nil when the chat may draw now, else the seconds to wait
local function must_wait(chat)
  local now, t = host.clock(), last_render[chat]
  if t and now - t < RENDER_GAP_S then return math.ceil(RENDER_GAP_S - (now - t)) end
  renders = renders + 1
  if renders % 1000 == 0 then   -- forget chats that drew long ago
    for c, at in pairs(last_render) do
      if now - at >= RENDER_GAP_S then last_render[c] = nil end
    end
  end
  last_render[chat] = now
end

local function draw(symbol, interval, list, theme)
  return chart.render{ width = 800, height = 500, theme = theme, candles = list,
                       title = symbol .. " · " .. interval,
                       subtitle = string.format("last %d candles, UTC", #list) }
end

bot.command("chart", "A pair's chart, e.g. /chart BTCUSDT 4h", function(ctx)
  local args = A.split(ctx.args)
  if not args then return ctx:reply(usage()) end
  if args[1]:lower() == "theme" then return set_theme(ctx, args[2]) end
  local symbol, interval = A.parse(args, "chart")
  if not symbol then return ctx:reply(interval) end
  local list = candles.last(symbol, interval, CANDLES)
  if #list == 0 then
    return ctx:reply(bot.fmt("No closed %s candle of %s yet: the feed has not brought one. " ..
                             "Try again in a moment.", interval, symbol))
  end
  local theme = theme_of(ctx.user.id)
  local key = string.format("chart:%s:%s:%d:%s", symbol, interval, list[1].open_time, theme)
  local text = caption(symbol, interval, list)
  if bot.photo_id(key) then return ctx:reply_photo({ key = key }, text) end
  local wait = must_wait(ctx.chat.id)
  if wait then
    return ctx:reply(string.format("One new chart every %d seconds, please: try again in %d s.",
                                   RENDER_GAP_S, wait))
  end
  local png, err = draw(symbol, interval, list, theme)
  if not png then return ctx:reply("The chart could not be drawn: " .. bot.escape(err)) end
  local ok, why = ctx:reply_photo({ png = png, key = key }, text)
  if not ok then ctx:reply("The chart could not be sent: " .. bot.escape(why)) end
end)
