#!/usr/bin/env bash
# Alerts end to end with the real binary, the stand-in exchange replaying a
# real day (BTCUSDT 1m, 60x) and the stand-in Telegram: a user builds two
# presets through /preset; each closed candle that moves enough arrives
# once, as the recording says, naming both presets; kill -9 right after an
# alert sends no duplicate.
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
C=42

start_fake --symbols 1 --replay "BTCUSDT=$CSV" --speed 60 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

count() { tg_texts $C | grep -c .; }
# the message the buttons are on: the last one sent or edited (answers have no message: 0)
last_mid() { tg "/control/sent?chat=$C" | grep -o '"message_id":[1-9][0-9]*' | tail -1 | cut -d: -f2; }
# say TEXT / press DATA: one step of the chat, waiting for the bot's answer
say() {
  local before; before=$(tg "/control/sent?chat=$C" | grep -o '"seq"' | wc -l)
  tg_post /control/message "{\"chat\":$C,\"text\":\"$1\"}" >/dev/null
  wait_for 10 sh -c "[ \$(curl -s '$TG/control/sent?chat=$C' | grep -o '\"seq\"' | wc -l) -gt $before ]"
  sleep 0.2   # (a handler may send more than one thing)
}
press() {
  local before; before=$(tg "/control/sent?chat=$C" | grep -o '"seq"' | wc -l)
  tg_post /control/callback "{\"chat\":$C,\"data\":\"$1\",\"message_id\":$(last_mid)}" >/dev/null
  wait_for 10 sh -c "[ \$(curl -s '$TG/control/sent?chat=$C' | grep -o '\"seq\"' | wc -l) -gt $before ]"
  sleep 0.2
}
make_preset() {   # NAME PAIRS-BUTTON [LIST]
  say /preset; press preset:new; say "$1"
  if [ "$2" = list ]; then press preset:pairs:list; say "$3"; else press preset:pairs:top100; fi
  press preset:tf:1m; press preset:tf:done; say 0.1; press preset:dir:both; press preset:trig:close
  press preset:save
}
make_preset "Close watch" list BTCUSDT
make_preset "Top movers" top
saved2() { [ "$(tg_texts $C | grep -c '^Saved')" = 2 ]; }
wait_for 10 saved2 && pass "two presets are built through /preset" \
  || fail "two presets are built through /preset" "$(tg_texts $C | tail -3)"
# on to the busy hours of the recording (the bot repairs the gap; what
# closed meanwhile is history, not news)
fake "/control/jump?value=$((290 * 60000))" >/dev/null

# alerts: "O → C" pairs in the texts, checked against the recording
wait_for 40 sh -c "[ \$(curl -s '$TG/control/texts?chat=$C' | grep -c 'BTCUSDT 1m') -ge 3 ]" \
  || fail "alerts arrive" "$(tg_texts $C | tail -5)"
# kill -9 right after an alert went out (a second to let its send finish:
# only a message in flight at the crash may be sent twice, by design)
sleep 1
kill -9 "$BOT_PID"; wait "$BOT_PID" 2>/dev/null; BOT_PID=""
before_kill=$(tg_texts $C | grep -c 'BTCUSDT 1m')
start_bot || exit 1
sleep 15
stop_bot

alerts=$(tg_texts $C | grep 'BTCUSDT 1m')
pairs=$(printf '%s\n' "$alerts" | grep -o '[0-9.]* → [0-9.]*' | sed 's/ → / /')
total=$(printf '%s\n' "$pairs" | grep -c .)
[ "$total" -gt "$before_kill" ] && pass "alerts keep coming after kill -9 and a restart ($before_kill, then $total)" \
  || fail "alerts keep coming after kill -9 and a restart" "$before_kill then $total"
is "$(printf '%s\n' "$pairs" | sort | uniq -d | grep -c .)" 0 "no candle was alerted twice, across the kill"
# every alert is a recorded 1m candle that closed 0.1 % or more from its open
truth=$(awk -F, '$1 ~ /^[0-9]/ { m = ($5 - $2) / $2 * 100; a = m < 0 ? -m : m
          if (a >= 0.1) printf "%.2f %.2f\n", $2, $5 }' "$CSV")
wrong=$(printf '%s\n' "$pairs" | grep -cvxF "$truth")
is "$wrong" 0 "each of the $total alerts is a recorded candle that moved 0.1 % or more"
# (the first alerts may predate the second preset)
like "$(printf '%s\n' "$alerts" | tail -1)" 'Close watch, Top movers · chart$' "an alert names both presets: one message per candle, not two"
like "$(printf '%s\n' "$alerts" | head -1)" '^(🟢|🔴) BTCUSDT 1m [+-][0-9]+\.[0-9]{2}% \(closed\)' "the alert reads: marker, pair, timeframe, signed move"
finish
