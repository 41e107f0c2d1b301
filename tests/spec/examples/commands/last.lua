-- /last SYMBOL [INTERVAL]: the last closed candle of a pair (docs/scripting.md).
bot.command("last", "The last closed candle of a pair", function(ctx)
  local symbol, interval = ctx.args:upper():match("^%s*(%w+)%s*(%w*)")
  if not symbol then
    return ctx:reply("Which pair? For example: /last BTCUSDT 5m")
  end
  interval = interval ~= "" and interval:lower() or "1m"
  local c = candles.last(symbol, interval, 1)[1]
  if not c then
    return ctx:reply(bot.fmt("No closed %s candle of %s yet.", interval, symbol))
  end
  local move = (c.close - c.open) / c.open * 100
  ctx:reply(bot.fmt("<b>%s</b> %s closed at %s (%+.2f%%)", symbol, interval,
                    string.format("%." .. c.price_decimals .. "f", c.close), move))
end)
