-- /status: the user's presets at a glance, what they add up to, and
-- whether market data is flowing.
local P = require("presets")

bot.command("status", "Your presets, subscriptions and the market feed", function(ctx)
  local list = alerts.presets(ctx.user.id)
  local active = 0
  local lines = {}
  for _, p in ipairs(list) do
    if p.active then active = active + 1 end
    local st = alerts.stats(p.id)
    local last = st and st.last and os.date("!%m-%d %H:%M UTC", st.last // 1000) or "none yet"
    lines[#lines + 1] = P.line(p) .. bot.fmt(" · last alert: %s", last)
  end
  local symbols = candles.symbols()
  local streaming = #symbols
  local head = bot.fmt("<b>%d of %d presets active</b>, %d pair × timeframe subscriptions.",
                       active, #list, alerts.subscriptions(ctx.user.id))
  local feed = streaming > 0 and bot.fmt("Market data: %d pairs streaming.", streaming)
                             or "Market data: not streaming right now; alerts resume when it is back."
  local venues = candles.venues()
  if #venues > 1 then   -- each exchange on its own: one may be down while another streams
    local count = {}
    for _, s in ipairs(symbols) do
      local v = s:match("^(%a+):") or "binance"
      count[v] = (count[v] or 0) + 1
    end
    local parts = {}
    for _, v in ipairs(venues) do
      parts[#parts + 1] = count[v] and bot.fmt("%s %d %s", P.VENUES[v] or v, count[v],
                                               count[v] == 1 and "pair" or "pairs")
                                   or bot.fmt("%s not streaming", P.VENUES[v] or v)
    end
    feed = "Market data: " .. table.concat(parts, ", ") .. "."
  end
  if #list == 0 then
    return ctx:reply(head .. "\n" .. feed .. "\n\nCreate a preset with /preset.")
  end
  ctx:reply(head .. "\n\n" .. table.concat(lines, "\n") .. "\n\n" .. feed)
end)
