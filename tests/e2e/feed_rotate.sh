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
# make-before-break: "N is live: closing M" comes before "M closed (replaced)"
order_ok=1
for m in $(grep -o 'closing connection [0-9]*' "$T/log" | awk '{print $3}'); do
  live_line=$(grep -n "is live: closing connection $m\$" "$T/log" | head -1 | cut -d: -f1)
  closed_line=$(grep -n "connection $m closed (replaced)" "$T/log" | head -1 | cut -d: -f1)
  [ -n "$live_line" ] && [ -n "$closed_line" ] && [ "$live_line" -lt "$closed_line" ] || order_ok=0
done
is "$order_ok" 1 "each old connection closed only after its replacement was live"
if [ "$max_conns" -le 2 ]; then pass "never more than the old and the new connection at once ($max_conns seen)"; else fail "never more than two connections at once" "$max_conns"; fi
is "$(json_num "$(get /health)" reconnects)" 0 "rotations are not counted as failures"
dups=$(grep -o 'closed BTCUSDT 1m [0-9]*' "$T/log" | sort | uniq -d | wc -l)
is "$dups" 0 "no closed candle twice while connections overlapped"
stop_bot
finish
