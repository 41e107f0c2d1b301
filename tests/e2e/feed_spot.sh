# Binance spot beside Binance USDⓈ-M, each against its own stand-in (the
# spot one enforcing spot's paths, weights, 5 messages a second and 1000
# klines a request): two feeds in one process, symbols qualified by venue
# ("spot:BTCUSDT"), per-venue /health and /metrics, and spot's own gap
# repair and reconnects compared with the spot stand-in's truth.
. tests/e2e/lib.bash

start_fake --spot --symbols 8 --ping-s 2 || { fail "the spot stand-in starts"; finish; exit 1; }
SPOT=$FAKE SPOT_PORT=$FAKE_PORT SPOT_PID=$FAKE_PID
mv "$T/fake.log" "$T/spot.log"   # (it keeps writing there: the next stand-in's is fake.log)
trap 'kill "$SPOT_PID" 2>/dev/null; cleanup' EXIT
start_fake --symbols 4 || { fail "the futures stand-in starts"; finish; exit 1; }
spot() { curl -s --max-time 5 "$SPOT$1"; }

# history 1100: more than spot's 1000 rows a request (futures take 1500);
# 1m alone, so that the stand-ins serve it quickly
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    stale_after = 10, history = 1100, intervals = { '1m' } }" \
  "spot = { enabled = true, ws_url = 'ws://127.0.0.1:$SPOT_PORT', rest_url = '$SPOT',
    streams_per_connection = 4, stale_after = 10, universe_refresh = 1, intervals = { '1m' } }" \
  "log = { level = 'debug' }"
start_bot || { fail "the bot starts"; finish; exit 1; }

spot_live() { [ "$(jget "$(get /health)" components.spot.live)" = "$1" ]; }
usdm_live() { [ "$(jget "$(get /health)" components.exchange.live)" = 1 ]; }
wait_for 30 spot_live 2 && pass "spot: two connections are live (8 streams, 4 a connection)" \
  || fail "spot: two connections are live" "$(get /health)"
wait_for 30 usdm_live && pass "and the USDⓈ-M feed beside it" || fail "and the USDⓈ-M feed beside it" "$(get /health)"
spot_stats=$(spot /control/stats)
is "$(json_num "$spot_stats" kicked_rate)" 0 "no spot connection went over 5 messages a second"
is "$(json_num "$spot_stats" kicked_streams)" 0 "nor over its stream limit"
is "$(json_num "$(fake /control/stats)" connections_total)" 1 "the futures stand-in saw only the futures feed"
h=$(get /health)
is "$(jget "$h" components.spot.venue)" binance_spot "/health's spot entry names its venue"
is "$(jget "$h" components.exchange.symbols)" 4 "each venue's ranking is its own (futures: 4)"
wait_for 20 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '\"symbols\":8'" \
  && pass "(spot: 8)" || fail "(spot: 8)" "$(get /health)"
m=$(get /metrics)
like "$m" 'candlewatch_websocket_connections\{venue="binance_spot"\} 2' "/metrics counts spot's connections under its venue label"
like "$m" 'candlewatch_websocket_connections\{venue="binance_usdm"\} 1' "and USDⓈ-M's under its own"
like "$(cat "$T/log")" 'closed spot:BTCUSDT 1m' "spot's candles are spot:BTCUSDT's"
like "$(cat "$T/log")" 'closed BTCUSDT 1m' "and futures' BTCUSDT's, a different series"
# spot's REST: its own paths (the futures ones answer 404 there), weights
# and limits (the stand-in logs each klines answer)
spot_warm() { [ "$(grep -c '^klines .* weight=2 ' "$T/spot.log")" -ge 8 ]; }
wait_for 20 spot_warm
n=$(grep -c '^klines .* weight=2 ' "$T/spot.log")
if [ "$n" -ge 8 ]; then pass "spot's history came from /api/v3/klines at weight 2 ($n requests)"; else fail "spot's history came from /api/v3/klines" "$(tail -3 "$T/spot.log")"; fi
is "$(grep '^klines ' "$T/spot.log" | grep -o 'limit=[0-9]*' | cut -d= -f2 | sort -n | tail -1 | awk '$1 > 1000')" "" \
  "no spot klines request asks for more than 1000 rows"
is "$(grep -c '^klines .* limit=1000 ' "$T/spot.log")" 8 "a history of 1100 is fetched 1000 rows at a time from spot"
is "$(grep -c '^klines .* limit=1101 ' "$T/fake.log")" 4 "and in one request of 1101 from futures"

# A gap of several minutes while spot is disconnected; then a cut.
reconnects() { jget "$(get /health)" components.spot.reconnects; }
spot /control/drop >/dev/null
spot "/control/jump?value=420000" >/dev/null
wait_for 15 sh -c "[ \$(curl -s http://127.0.0.1:$PORT/health | perl -MJSON::PP -0ne 'print decode_json(\$_)->{components}{spot}{reconnects}') -ge 2 ]" \
  && pass "dropped spot connections reconnect" || fail "dropped spot connections reconnect" "$(get /health)"
wait_for 30 spot_live 2 && pass "and are live again after a 7-minute gap" || fail "and are live again after a 7-minute gap" "$(get /health)"
usdm_live && pass "the futures feed was not disturbed" || fail "the futures feed was not disturbed"
before=$(reconnects)
spot /control/cut >/dev/null
wait_for 15 sh -c "[ \$(curl -s http://127.0.0.1:$PORT/health | perl -MJSON::PP -0ne 'print decode_json(\$_)->{components}{spot}{reconnects}') -gt $before ]" \
  && pass "a 24-hour style cut is survived" || fail "a 24-hour style cut is survived"
wait_for 30 spot_live 2 || true
sleep 3

# Truth: the spot candles the bot holds equal the spot stand-in's, gap included.
write_script probe.lua "host.on_start(function()
  for _, iv in ipairs({ '1m' }) do
    local mine = candles.last('spot:BTCUSDT', iv, 30)
    local body = http.get('$SPOT/api/v3/klines?symbol=BTCUSDT&interval=' .. iv ..
                          '&startTime=' .. mine[#mine].open_time .. '&limit=' .. #mine)
    local rows = json.decode(body)
    local same, gaps = 0, 0
    for i, row in ipairs(rows) do
      local c = mine[#mine - i + 1]
      if c and c.open_time == row[1] and c.open == tonumber(row[2]) and c.high == tonumber(row[3])
         and c.low == tonumber(row[4]) and c.close == tonumber(row[5]) and c.volume == tonumber(row[6]) then
        same = same + 1
      end
    end
    for i = 2, #mine do
      if mine[i - 1].open_time - mine[i].open_time ~= mine[1].close_time - mine[1].open_time + 1 then gaps = gaps + 1 end
    end
    log.info('TRUTH %s %s %d of %d equal, %d gaps', mine[1].symbol, iv, same, #mine, gaps)
  end
end)"
wait_for 15 grep -q 'TRUTH spot:BTCUSDT 1m' "$T/log"
for iv in 1m; do
  like "$(grep "TRUTH spot:BTCUSDT $iv " "$T/log" | tail -1)" "TRUTH spot:BTCUSDT $iv 30 of 30 equal, 0 gaps" \
    "the last 30 closed spot $iv candles equal spot's, with no gap"
done
backfilled=$(grep -c 'closed spot:BTCUSDT 1m [0-9]* backfill' "$T/log")
if [ "$backfilled" -ge 36 ]; then pass "the gap's spot candles came from spot's REST ($backfilled)"; else fail "the gap's spot candles came from REST" "$backfilled"; fi
dups=$(grep -o 'closed spot:BTCUSDT 1m [0-9]*' "$T/log" | sort | uniq -d | wc -l)
is "$dups" 0 "no closed spot candle was emitted twice"

stop_bot
is "$?" 0 "the bot stops cleanly"
finish
