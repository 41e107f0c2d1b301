#!/usr/bin/env bash
# make bench: a burst of alerts for 10,000 chats through the real binary
# and the stand-in Telegram (paid broadcast, 1,000 messages/s).  Prints
# the drain time against chats / rate; asserts nothing.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.bash
N=${BURST_CHATS:-10000}
RATE=1000
start_tg --paid-rate $RATE || exit 1
mkdir -p "$T/scripts/commands"
write_script commands/burst.lua '
bot.command("burst", "Alerts for chats 1..n", function(ctx)
  for chat = 1, tonumber(ctx.args) do bot.alert(chat, "<b>BTCUSDT</b> +3.1% on 5m", chat % 10) end
end, { admin = true })'
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', paid_broadcast = true }" "admins = { 999999 }"
start_bot || exit 1
wait_for 10 grep -q 'signed in' "$T/log" || { echo "the bot did not sign in"; exit 1; }
# the admin's start notice goes first: out of the measurement
wait_for 10 sh -c "curl -s '$TG/control/texts?chat=999999' | grep -q started"
tg_post /control/reset '{}' >/dev/null
tg_post /control/message "{\"chat\":999999,\"text\":\"/burst $N\"}" >/dev/null
wait_for 300 sh -c "[ \$(curl -s '$TG/control/stats' | grep -o '\"sent\":[0-9]*' | cut -d: -f2) -ge $N ]"
stats=$(tg /control/stats)
first=$(json_num "$stats" first_send_ms); last=$(json_num "$stats" last_send_ms)
drain=$(( last - first )); ideal=$(( N * 1000 / RATE ))
echo "telegram burst: $N chats at $RATE/s: drained in $drain ms (ideal $ideal ms), 429s: $(json_num "$stats" rejected_429), sent: $(json_num "$stats" sent)"
if [ "$drain" -le $(( ideal * 105 / 100 )) ] && [ "$(json_num "$stats" rejected_429)" = 0 ]; then
  echo "target: drain within 5% of chats / rate with no 429: met"
else
  echo "target: drain within 5% of chats / rate with no 429: MISSED"
fi
stop_bot
