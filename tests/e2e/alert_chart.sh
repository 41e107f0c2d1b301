#!/usr/bin/env bash
# Charts after alerts, with the real binary, the stand-in exchange replaying
# a real day and the stand-in Telegram: two chats whose presets ask for a
# chart at the same threshold, and one whose preset does not.  Each alert's
# text comes first and its picture after it; the picture is an 800x500 PNG;
# it is uploaded once for both chats (the second gets the file_id); the
# chat without the option gets text only; a chat that blocked the bot
# holds up no one.
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv

start_fake --symbols 1 --replay "BTCUSDT=$CSV" --speed 60 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 130, intervals = { '1m' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

step() {   # CHAT say|press TEXT|DATA: one step, waiting for the bot's answer
  local before; before=$(sent_count "$1")
  "$2" "$1" "$3"
  answered "$1" "$before" 10
  sleep 0.2
}
make_preset() {   # CHAT CHART(on|off)
  step "$1" say /preset; step "$1" press preset:new; step "$1" say "Watch"
  step "$1" press preset:pairs:list; step "$1" say BTCUSDT
  step "$1" press preset:tf:1m; step "$1" press preset:tf:done; step "$1" say 0.1
  step "$1" press preset:dir:both; step "$1" press preset:trig:close
  if [ "$2" = on ]; then step "$1" press preset:ask:chart; step "$1" press preset:chart:on; fi
  step "$1" press preset:save
}
make_preset 50 on
make_preset 51 on
make_preset 52 on
make_preset 53 off
like "$(tg_texts 51)" 'A chart follows each alert' "the preset says a chart follows each alert"
# chat 50 (the first the alerts go to) blocks the bot: its pictures are
# dropped and the others' go on
tg_post /control/block '{"chat":50}' >/dev/null
# (the replay runs while the presets are made: what came before the block
# is not counted)
photos() { tg "/control/sent?chat=$1" | grep -o '"method":"sendPhoto"' | wc -l; }
b50=$(photos 50) b51=$(photos 51) b52=$(photos 52) bup=$(json_num "$(tg /control/stats)" uploads)
fake "/control/jump?value=$((290 * 60000))" >/dev/null

photos_at_least() { [ $(($(photos "$1") - b51)) -ge "$2" ] && [ $(($(photos "$3") - b52)) -ge "$2" ]; }
wait_for 60 photos_at_least 51 3 52 || fail "pictures arrive in both chats" "$(tg_texts 51 | tail -5)" "$(tail -5 "$T/log")"
sleep 3   # (the last pictures' sends finish)
m=$(get /metrics)
like "$m" 'candlewatch_alert_charts_total\{outcome="drawn"\} [1-9]' "/metrics counts the charts drawn"
like "$m" 'candlewatch_alert_chart_sends_total\{how="file_id"\} [1-9]' "and the pictures sent by file_id"
if stop_bot; then pass "the bot stops cleanly (renders and uploads under way ended)"
else fail "the bot stops cleanly" "$(tail -20 "$T/log")"; fi

p51=$(($(photos 51) - b51)) p52=$(($(photos 52) - b52))
pass "pictures arrive: $p51 and $p52"
is "$(photos 53)" 0 "the chat whose preset does not ask for charts gets none"
is "$(($(photos 50) - b50))" 0 "the chat that blocked the bot gets none"
like "$m" 'candlewatch_alert_charts_total\{outcome="dropped"\} [1-9]' "its pictures are counted as dropped"
uploads=$(($(json_num "$(tg /control/stats)" uploads) - bup))
ok_upl=$([ "$uploads" -ge 1 ] && [ $((uploads * 2)) -le $((p51 + p52 + 1)) ] && echo yes)
is "$ok_upl" yes "each picture is uploaded once for the two chats ($uploads uploads, $((p51 + p52)) pictures)"
like "$(tg "/control/sent?chat=52")$(tg "/control/sent?chat=51")" '"uploaded":false' "the other chat gets it by file_id"
# in each chat, every picture comes after an alert text not yet followed by
# one (a message may hold several alerts, merged)
order_ok() {
  tg_texts "$1" | awk '/^\[photo\]/ { if (alerts <= photos) bad = 1; photos++; next }
                       { alerts += gsub(/BTCUSDT 1m/, "&") } END { exit bad }'
}
order_ok 51 && order_ok 52 && pass "each picture follows its alert's text" \
  || fail "each picture follows its alert's text" "$(tg_texts 51 | tail -8)"
like "$(tg_texts 51 | grep '^\[photo\]' | head -1)" 'BTCUSDT 1m · Candle move [+-]0\.10%' "the caption names the pair, the timeframe and the threshold"
id=$(tg "/control/sent?chat=51" | grep -o '"file_id":"[^"]*"' | head -1 | cut -d'"' -f4)
curl -s --max-time 5 "$TG/control/photo?file_id=$id" -o "$T/chart.png"
is "$(head -c 24 "$T/chart.png" | xxd -p | tr -d '\n' | cut -c1-16,25-32,33-48)" \
   "89504e470d0a1a0a4948445200000320000001f4" "the picture is an 800x500 PNG"
finish
