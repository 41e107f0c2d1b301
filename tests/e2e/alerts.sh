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
# step say|press TEXT|DATA: one step of the chat, waiting for the bot's answer
step() {
  local before; before=$(sent_count $C)
  "$1" $C "$2"
  answered $C "$before" 10
  sleep 0.2   # (a handler may send more than one thing)
}
make_preset() {   # NAME PAIRS-BUTTON [LIST]
  step say /preset; step press preset:new; step say "$1"
  if [ "$2" = list ]; then step press preset:pairs:list; step say "$3"; else step press preset:pairs:top100; fi
  step press preset:tf:1m; step press preset:tf:done; step say 0.1; step press preset:dir:both
  step press preset:trig:close; step press preset:save
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
said_times $C 'BTCUSDT 1m' 3 40 \
  || fail "alerts arrive" "$(tg_texts $C | tail -5)"
# kill -9 right after an alert went out (a second to let its send finish:
# only a message in flight at the crash may be sent twice, by design)
sleep 1
kill_bot
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
