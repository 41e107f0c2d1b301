#!/usr/bin/env bash
# make bench: frames through a real loopback WebSocket from the stand-in
# exchange into the bot (lws client -> parser -> candle store), at a high
# rate and at the real feed's rate.  Prints numbers; asserts nothing.
cd "$(dirname "$0")/../.." || exit 1
export CW_BUILD=${CW_BUILD:-build} CW_BIN=${CW_BIN:-./candlewatch}
. tests/e2e/lib.bash >/dev/null

HIGH=${HIGH_RATE:-500000}
REAL=${REAL_RATE:-10000}
SECS=${BENCH_SECONDS:-10}
start_fake --symbols 400 --weight-limit 100000000 --ping-s 100000 >/dev/null || exit 1
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 1, rest_weight_limit = 100000000, stale_after = 60 }"
start_bot >/dev/null || { echo "the bot did not start"; exit 1; }
wait_for 60 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '\"history_done\":2400'" || {
  echo "history did not load"; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$BOT_PID/stat"; }
received() { json_num "$(get /health)" received; }
dropped() { health_dropped "$(get /health)"; }
measure() {   # RATE -> prints one line
  fake "/control/rate?value=$1" >/dev/null
  sleep 2   # settle
  local r0 t0 s0 r1 t1 s1 hz
  r0=$(received); t0=$(ticks); s0=$(json_num "$(fake /control/stats)" frames_sent)
  sleep "$SECS"
  r1=$(received); t1=$(ticks); s1=$(json_num "$(fake /control/stats)" frames_sent)
  hz=$(getconf CLK_TCK)
  LAST_RATE=$(( (r1 - r0) / SECS ))
  LAST_CPU=$(awk -v t=$((t1 - t0)) -v s="$SECS" -v hz="$hz" 'BEGIN {printf "%.1f", 100 * t / (s * hz)}')
  echo "offered $1/s: received $LAST_RATE messages/s, sent $(( (s1 - s0) / SECS ))/s," \
       "bot CPU $LAST_CPU% of one core"
}
echo "loopback WebSocket, 400 symbols x 6 intervals over 3 connections, ${SECS} s per run:"
measure "$HIGH"
high=$LAST_RATE
measure "$REAL"
real_cpu=$LAST_CPU
backpressure=$(json_num "$(fake /control/stats)" load_backpressure)
echo "frames dropped by the bot: $(dropped); stand-in slices held back by a slow reader: $backpressure"
echo "target >= 500000 messages/s sustained: $([ "$high" -ge 500000 ] && echo met || echo "MISSED ($high)")"
echo "target: the real feed's $REAL/s under 2% of a core: $(awk -v c="$real_cpu" 'BEGIN {exit !(c < 2)}' && echo met || echo "MISSED (${real_cpu}%)")"
stop_bot
