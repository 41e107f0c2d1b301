#!/usr/bin/env bash
# A market-wide move: alerts for 2,000 chats at once, in paid-broadcast
# mode.  The stand-in enforces Telegram's limits; it must see no 429 and
# every chat must get its alert.  (The drain time is measured by make
# bench, tests/bench/telegram_burst.sh: no timing is asserted here.)
. "$(dirname "$0")/lib.bash"
N=${BURST_CHATS:-2000}

start_tg --paid-rate 1000 || { fail "the stand-in Telegram starts" "$(cat "$T/tg.log")"; finish; exit 1; }
mkdir -p "$T/scripts/commands"
write_script commands/burst.lua '
bot.command("burst", "Alerts for chats 1..n", function(ctx)
  for chat = 1, tonumber(ctx.args) do
    bot.alert(chat, "<b>BTCUSDT</b> +3.1% on 5m", chat % 10)
    bot.alert(chat, "<b>ETHUSDT</b> +2.4% on 5m", chat % 10)
  end
end, { admin = true })
bot.command("replies", "n replies to chat 7", function(ctx)
  for i = 1, tonumber(ctx.args) do bot.send(7, "reply " .. i) end
end, { admin = true })'
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', paid_broadcast = true }" "admins = { 999999 }"
start_bot || exit 1
wait_for 10 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }
say 999999 "/burst $N"
# (the admin also gets the bot's start notice: one more chat, one more message)
sent() { [ "$(json_num "$(tg /control/stats)" sent)" -ge "$((N + 1))" ]; }
wait_for 120 sent && pass "$N alerts were sent" || fail "$N alerts were sent" "$(tg /control/stats)"
stats=$(tg /control/stats)
is "$(json_num "$stats" rejected_429)" 0 "the stand-in answered no 429"
is "$(json_num "$stats" chats)" "$((N + 1))" "every chat got a message"
is "$(json_num "$stats" sent)" "$((N + 1))" "one message each: the two alerts of a chat were merged"
like "$(tg_texts 17)" 'BTCUSDT.*ETHUSDT' "a merged message holds both alerts, in order"
like "$(get /health)" '"merged_alerts":'"$N" "/health counts the merged alerts"
# one chat: 8 replies that cannot be merged; the stand-in allows 3 in any 3 s
say 999999 "/replies 8"
replies() { [ "$(tg_texts 7 | grep -c '^reply ')" -ge 8 ]; }
wait_for 60 replies && pass "8 replies to one chat were sent" || fail "8 replies to one chat were sent" "$(tg /control/stats)"
is "$(json_num "$(tg /control/stats)" rejected_429)" 0 "no 429 for one chat's replies either"
stop_bot
finish
