# Real recorded klines through the whole path: the stand-in replays
# BTCUSDT 1m of 2022-09-05 (data.binance.vision) at 60x speed; the closed
# candles the bot holds must equal the recording, and its 5m candles the
# recording's minutes aggregated.
. tests/e2e/lib.bash

CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
start_fake --symbols 1 --replay "BTCUSDT=$CSV" --speed 60 || { fail "the stand-in replays"; finish; exit 1; }
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 3, intervals = { '1m', '5m' } }"
start_bot || { fail "the bot starts"; finish; exit 1; }
sleep 16   # 16 recorded minutes
write_script probe.lua "host.on_start(function()
  for _, iv in ipairs({ '1m', '5m' }) do
    for _, c in ipairs(candles.last('BTCUSDT', iv, 20)) do
      log.info('ROW %s %d %.2f %.2f %.2f %.2f %.3f', iv, c.open_time, c.open, c.high, c.low, c.close, c.volume)
    end
  end
end)"
wait_for 10 grep -q 'ROW 5m' "$T/log"
# the recording, and its 5-minute aggregation, as "iv t o h l c v" lines
awk -F, '$1 ~ /^[0-9]/ { printf "1m %.0f %.2f %.2f %.2f %.2f %.3f\n", $1, $2, $3, $4, $5, $6
  b = sprintf("%.0f", int($1 / 300000) * 300000)
  if (!(b in o)) { o[b] = $2; h[b] = $3; l[b] = $4; order[++n] = b }
  if ($3 > h[b]) h[b] = $3; if ($4 < l[b]) l[b] = $4; c[b] = $5; v[b] += $6 }
  END { for (i = 1; i <= n; i++) { b = order[i]; printf "5m %.0f %.2f %.2f %.2f %.2f %.3f\n", b, o[b], h[b], l[b], c[b], v[b] } }' \
  "$CSV" > "$T/truth"
grep -o 'ROW .*' "$T/log" | sed 's/^ROW //' > "$T/mine"
for iv in 1m 5m; do
  total=$(grep -c "^$iv " "$T/mine")
  same=$(grep "^$iv " "$T/mine" | grep -cxFf "$T/truth")
  if [ "$total" -ge 3 ] && [ "$same" = "$total" ]; then
    pass "all $total closed $iv candles the bot holds equal the recording"
  else
    fail "the closed $iv candles equal the recording" "equal: $same of $total" "$(grep "^$iv " "$T/mine" | grep -vxFf "$T/truth" | head -3)"
  fi
done
stop_bot
finish
