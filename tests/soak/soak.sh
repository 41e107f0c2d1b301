#!/usr/bin/env bash
# make soak: the real binary for an hour (SOAK_SECONDS) at the real feed's
# rate from the stand-in exchange, with thousands of users (SOAK_USERS, a
# preset each) getting alerts through the stand-in Telegram and some of
# them chatting meanwhile.  Every SOAK_SAMPLE seconds it prints resident
# memory, open file descriptors, Lua memory and the work done; at the end it
# compares the curve after warm-up (the first fifth) with its end and says
# whether each stayed flat, with the numbers.  Exit 1 when one grew.
cd "$(dirname "$0")/../.." || exit 1
export CW_BUILD=${CW_BUILD:-build} CW_BIN=${CW_BIN:-./candlewatch}
. tests/e2e/lib.bash >/dev/null

SECS=${SOAK_SECONDS:-3600}
SAMPLE=${SOAK_SAMPLE:-60}
USERS=${SOAK_USERS:-5000}
# the real feed: 400 pairs x 6 timeframes, each stream updated every 250 ms
# (about 9,600 frames a second), a live market whose candles close
SYMBOLS=${SOAK_SYMBOLS:-400}

start_fake --symbols "$SYMBOLS" --tick-ms 250 --weight-limit 100000000 >/dev/null || exit 1
start_tg --paid-rate 1000 >/dev/null || exit 1
cp -r scripts "$T/"
cat > "$T/scripts/commands/soak.lua" <<LUA
-- $USERS simulated users, a preset each: the top 20 or 50 pairs, on one
-- or two timeframes, with thresholds from 0.3 to 2 %
host.on_start(function()
  for u = 1, $USERS do
    if #alerts.presets(u) == 0 then
      local ivs = u % 3 == 0 and { "1m", "5m" } or { u % 2 == 0 and "1m" or "5m" }
      assert(alerts.save{ user_id = u, chat_id = u, name = "soak", pairs = "top",
                          top_n = u % 2 == 0 and 20 or 50, intervals = ivs,
                          threshold = 0.3 + (u % 18) / 10 })
    end
  end
end)
LUA
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 50, rest_weight_limit = 100000000 }" \
  "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 5, paid_broadcast = true }" \
  "limits = { presets_per_user = 10 }"
start_bot >/dev/null || { echo "the bot did not start"; cat "$T/log"; exit 1; }

metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n {print $2; exit}'; }
# users chatting: a command every half second from a random user
( while sleep 0.5; do
    tg_post /control/message "{\"chat\":$((RANDOM % USERS + 1)),\"text\":\"/status\"}" >/dev/null
  done ) &
CHAT_PID=$!
trap 'kill $CHAT_PID 2>/dev/null; cleanup' EXIT

echo "soak: ${SECS} s, $USERS users, the stand-in exchange with $SYMBOLS pairs x 6 timeframes every 250 ms, a sample every ${SAMPLE} s"
printf '%6s %8s %5s %9s %10s %9s %9s %8s\n' t_s rss_mb fds lua_kb frames/s alerts tg_sent queue
n=0; start=$(date +%s); f_prev=0
while :; do
  sleep "$SAMPLE"
  kill -0 "$BOT_PID" 2>/dev/null || { echo "the bot died"; tail -20 "$T/log"; exit 1; }
  t=$(( $(date +%s) - start ))
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$BOT_PID/status")
  fds=$(ls "/proc/$BOT_PID/fd" | wc -l)
  lua=$(metric candlewatch_lua_memory_bytes | awk '{printf "%d", $1 / 1024}')
  frames=$(get /health | grep -o '"received":[0-9]*' | head -1 | cut -d: -f2)
  alerts=$(metric candlewatch_alerts_sent_total)
  tg_sent=$(json_num "$(tg /control/stats)" sent)
  queue=$(metric candlewatch_telegram_queue_depth)
  printf '%6d %8s %5d %9d %10d %9.0f %9s %8.0f\n' "$t" "$rss" "$fds" "$lua" \
    $(( (${frames:-0} - f_prev) / SAMPLE )) "${alerts:-0}" "${tg_sent:-0}" "${queue:-0}"
  f_prev=${frames:-0}
  RSS[n]=$rss; FDS[n]=$fds; LUA[n]=$lua; n=$((n + 1))
  [ "$t" -ge "$SECS" ] && break
done
kill $CHAT_PID 2>/dev/null

# after warm-up (the first fifth): the median of its first three samples
# against the median of the last three
med3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
w=$(( n / 5 )); [ $((n - w)) -lt 6 ] && w=0
if [ $((n - w)) -lt 6 ]; then echo "too few samples to judge a trend ($n)"; stop_bot; exit 0; fi
verdict=0
judge() {   # NAME UNIT BOUND_ABS BOUND_REL(%) FIRST LAST
  local grew ok
  grew=$(awk -v a="$5" -v b="$6" 'BEGIN {printf "%.1f", b - a}')
  ok=$(awk -v a="$5" -v b="$6" -v abs="$3" -v rel="$4" 'BEGIN {print (b - a <= abs + a * rel / 100) ? 1 : 0}')
  if [ "$ok" = 1 ]; then
    echo "$1: flat ($5 -> $6 $2 after warm-up; bound +$3 $2 +$4%)"
  else
    echo "$1: GREW ($5 -> $6 $2 after warm-up, +$grew $2; bound +$3 $2 +$4%)"; verdict=1
  fi
}
judge "resident memory" MB 8 5 "$(med3 "${RSS[@]:$w:3}")" "$(med3 "${RSS[@]: -3}")"
judge "file descriptors" "" 2 0 "$(med3 "${FDS[@]:$w:3}")" "$(med3 "${FDS[@]: -3}")"
judge "Lua memory" KB 1024 10 "$(med3 "${LUA[@]:$w:3}")" "$(med3 "${LUA[@]: -3}")"
echo "errors logged: $(grep -c ' error ' "$T/log")"
stop_bot
exit $verdict
