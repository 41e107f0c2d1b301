# Rotation before the exchange's 24-hour cut: make-before-break, no gap,
# nothing twice, and not counted as a failure.
. tests/e2e/lib.bash

start_fake --symbols 2 || { fail "the stand-in starts"; finish; exit 1; }
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 10, rotate_after = 2, intervals = { '1m' } }" "log = { level = 'debug' }"
start_bot || { fail "the bot starts"; finish; exit 1; }
max_conns=0
for _ in $(seq 1 60); do   # about 9 s, sampling the stand-in's open connections
  n=$(json_num "$(fake /control/stats)" connections)
  [ "${n:-0}" -gt "$max_conns" ] && max_conns=$n
  sleep 0.15
done
rot=$(json_num "$(get /health)" rotations)
if [ "${rot:-0}" -ge 2 ]; then pass "the connection replaced itself ($rot times)"; else fail "the connection replaced itself" "$(get /health)"; fi
like "$(cat "$T/log")" 'connection [0-9]+ closed \(replaced\)' "each old connection closed only once its replacement was live"
is "$max_conns" 2 "never more than the old and the new connection at once"
is "$(json_num "$(get /health)" reconnects)" 0 "rotations are not counted as failures"
dups=$(grep -o 'closed BTCUSDT 1m [0-9]*' "$T/log" | sort | uniq -d | wc -l)
is "$dups" 0 "no closed candle twice while connections overlapped"
stop_bot
finish
