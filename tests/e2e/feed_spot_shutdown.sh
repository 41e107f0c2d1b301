# Binance spot's serverShutdown: the connection is replaced at once,
# make-before-break (as before the 24-hour cut), so that the server's close
# a few seconds later loses nothing: no reconnect counted, no candle from
# REST after it, no gap and nothing twice in spot's candles.
. tests/e2e/lib.bash

start_fake --spot --symbols 2 --speed 20 || { fail "the spot stand-in starts"; finish; exit 1; }
write_config "exchange = { enabled = false }" \
  "spot = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT', rest_url = '$FAKE',
    stale_after = 30, intervals = { '1m' } }" \
  "log = { level = 'debug' }"
start_bot || { fail "the bot starts"; finish; exit 1; }
spot_live() { [ "$(jget "$(get /health)" components.spot.live)" = 1 ]; }
warm() { [ "$(grep -c 'closed spot:BTCUSDT 1m [0-9]* live' "$T/log")" -ge 2 ]; }
wait_for 30 spot_live && pass "spot's connection is live" || fail "spot's connection is live" "$(get /health)"
wait_for 30 warm || true
lines=$(wc -l < "$T/log")

# the server says it is going away, and goes 3 s later
fake "/control/shutdown?value=3000" >/dev/null
replaced() { grep -q 'closed (replaced)' "$T/log"; }
wait_for 15 replaced && pass "the old connection was closed by the bot, replaced" \
  || fail "the old connection was closed by the bot, replaced" "$(tail -5 "$T/log")"
like "$(cat "$T/log")" 'replacing itself .*serverShutdown' "the log says why"
sleep 8   # (more than 2 candles of market time at 20x)
wait_for 10 spot_live
h=$(get /health)
is "$(jget "$h" components.spot.reconnects)" 0 "no connection was lost: the server's close came after the switch"
if [ "$(jget "$h" components.spot.rotations)" -ge 1 ]; then pass "counted as a rotation"; else fail "counted as a rotation" "$h"; fi
after=$(tail -n +"$lines" "$T/log")
is "$(printf '%s\n' "$after" | grep -c 'closed spot:BTCUSDT 1m [0-9]* backfill')" 0 "no candle after it had to come from REST"
opens=$(grep -o 'closed spot:BTCUSDT 1m [0-9]*' "$T/log" | awk '{print $4}' | sort -n)
gaps=$(printf '%s\n' "$opens" | awk 'NR > 1 && $1 - p != 60000 { g++ } { p = $1 } END { print g + 0 }')
is "$gaps" 0 "no gap in spot:BTCUSDT's closed candles across it"
is "$(printf '%s\n' "$opens" | uniq -d | wc -l)" 0 "and no candle twice"
stop_bot
finish
