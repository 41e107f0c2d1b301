# Bybit linear against its stand-in (tests/fakes/fake_bybit): the symbol
# list over pages of instruments-info (nextPageCursor); subscribe
# requests of at most 10 topics, acked; the client's ping every 20 s (the
# stand-in cuts a client that does not ping); history and gap repair from
# /v5/market/kline (newest first, 1000 rows a request); bad frames dropped
# and counted; reconnects; symbols qualified bybit:BTCUSDT; and the candles
# the bot holds compared with the stand-in's truth.
. tests/e2e/lib.bash
. tests/e2e/bybit.bash

start_bybit --symbols 6 --ping-window-s 25 --page-size 4 || { fail "the Bybit stand-in starts"; finish; exit 1; }
# history 1100: more than Bybit's 1000 rows a request; 12 topics a
# connection: two subscribe requests each (10 + 2)
write_config "exchange = { enabled = false, history = 1100 }" \
  "bybit = { enabled = true, ws_url = '$BYBIT_WS', rest_url = '$BYBIT',
    streams_per_connection = 12, stale_after = 10, universe_refresh = 1, intervals = { '1m', '5m' } }" \
  "log = { level = 'debug' }"
start_bot || { fail "the bot starts"; finish; exit 1; }

by_live() { [ "$(jget "$(get /health)" components.bybit.live)" = "$1" ]; }
wait_for 30 by_live 1 && pass "Bybit: the connection is live (12 topics, 12 a connection)" \
  || fail "Bybit: the connection is live" "$(get /health)"
st=$(bybit /control/stats)
is "$(jget "$st" topics_per_connection)" "[12]" "the stand-in holds all 12 topics (6 symbols listed over two pages of instruments)"
is "$(json_num "$st" refused_args)|$(json_num "$st" refused_topics)" "0|0" "no subscribe refused (at most 10 topics each, all valid)"
h=$(get /health)
is "$(jget "$h" components.bybit.venue)" bybit_linear "/health's bybit entry names its venue"
like "$(get /metrics)" 'candlewatch_websocket_connections\{venue="bybit_linear"\} 1' "/metrics counts Bybit's connection under its venue label"
like "$(cat "$T/log")" 'closed bybit:BTCUSDT 1m' "Bybit's candles are bybit:BTCUSDT's"
by_warm() { [ "$(grep -c '^klines .* limit=1000 ' "$T/bybit.log")" -ge 12 ]; }
wait_for 30 by_warm && pass "history of 1100 fetched 1000 rows at a time" || fail "history fetched 1000 rows at a time" "$(tail -3 "$T/bybit.log")"
is "$(grep '^klines ' "$T/bybit.log" | grep -o 'limit=[0-9]*' | cut -d= -f2 | sort -n | tail -1 | awk '$1 > 1000')" "" \
  "no kline request asks for more than 1000 rows"

# The client's ping: past the stand-in's 25 s window the connection stays.
sleep 27
st=$(bybit /control/stats)
[ "$(json_num "$st" pings)" -ge 1 ] && is "$(json_num "$st" kicked_ping)|$(json_num "$st" connections_total)" "0|1" \
  "the bot pings (every 20 s): after 27 s its connection was never cut" || fail "the bot pings" "$st"

# Garbage: dropped and counted by reason.
bybit "/control/malformed?value=6" >/dev/null
dropped_ok() { h=$(get /health); for r in invalid_json bad_number unknown_symbol stream_mismatch bad_time; do
  [ "$(json_num "$h" "$r")" -ge 1 ] 2>/dev/null || return 1; done; }
wait_for 10 dropped_ok && pass "malformed Bybit pushes are dropped and counted by reason (a bad entry beside a good one too)" \
  || fail "malformed Bybit pushes are dropped and counted by reason" "$(get /health)"
metrics_dropped() { get /metrics | awk '/^candlewatch_candle_messages_dropped_total\{/ {s += $NF} END {print s + 0}'; }
same_drops() { [ "$(health_dropped "$(get /health)")" = "$(metrics_dropped)" ]; }
wait_for 10 same_drops && pass "/health's drops summed are the frames /metrics counts dropped" \
  || fail "/health's drops summed are the frames /metrics counts dropped" "$(health_dropped "$(get /health)") vs $(metrics_dropped)"

# A gap of several minutes while disconnected; then a cut.
reconnects() { jget "$(get /health)" components.bybit.reconnects; }
gap_from=$(wc -l < "$T/log")
bybit /control/drop >/dev/null
bybit "/control/jump?value=420000" >/dev/null
wait_for 15 sh -c "[ \$(curl -s http://127.0.0.1:$PORT/health | perl -MJSON::PP -0ne 'print decode_json(\$_)->{components}{bybit}{reconnects}') -ge 1 ]" \
  && pass "a dropped connection reconnects" || fail "a dropped connection reconnects" "$(get /health)"
wait_for 30 by_live 1 && pass "and is live again after a 7-minute gap" || fail "and is live again" "$(get /health)"
before=$(reconnects)
bybit /control/cut >/dev/null
wait_for 15 sh -c "[ \$(curl -s http://127.0.0.1:$PORT/health | perl -MJSON::PP -0ne 'print decode_json(\$_)->{components}{bybit}{reconnects}') -gt $before ]" \
  && pass "a cut (close frame) is survived" || fail "a cut is survived"
wait_for 30 by_live 1 || true
sleep 3

# A refusal (retCode 10006, HTTP 200): the request is made again after a pause.
bybit "/control/rest_fail?value=1&code=10006" >/dev/null
bybit "/control/list?value=NEWUSDT" >/dev/null
wait_for 20 grep -q 'pausing requests' "$T/log" && pass "Too many visits (10006): REST pauses" || fail "Too many visits (10006): REST pauses"
wait_for 20 sh -c "grep -q '^klines NEWUSDT 1 ' '$T/bybit.log'" && pass "then goes on (a listing's history fetched)" || fail "then goes on"

# Truth: the candles the bot holds equal the stand-in's, gap included.
write_script probe.lua "host.on_start(function()
  for _, iv in ipairs({ '1m', '5m' }) do
    local biv = iv == '1m' and '1' or '5'
    local mine = candles.last('bybit:BTCUSDT', iv, 30)
    local body = http.get('$BYBIT/v5/market/kline?category=linear&symbol=BTCUSDT&interval=' .. biv ..
                          '&start=' .. mine[#mine].open_time .. '&end=' .. mine[1].open_time .. '&limit=' .. #mine)
    local rows = json.decode(body).result.list
    local same, gaps = 0, 0
    for i, row in ipairs(rows) do   -- newest first, like mine
      local c = mine[i]
      if c and c.open_time == tonumber(row[1]) and c.open == tonumber(row[2]) and c.high == tonumber(row[3])
         and c.low == tonumber(row[4]) and c.close == tonumber(row[5]) and c.volume == tonumber(row[6]) then
        same = same + 1
      end
    end
    for i = 2, #mine do
      if mine[i - 1].open_time - mine[i].open_time ~= mine[1].close_time - mine[1].open_time + 1 then gaps = gaps + 1 end
    end
    log.info('TRUTH %s %d of %d equal, %d gaps', iv, same, #mine, gaps)
    -- decimals: the instrument's priceScale, though Bybit trims zeros
    local info = json.decode(http.get('$BYBIT/v5/market/instruments-info?category=linear&limit=1000'))
    local scale
    for _, s in ipairs(info.result.list) do
      if s.symbol == 'BTCUSDT' then scale = tonumber(s.priceScale) end
    end
    local off = 0
    for _, c in ipairs(mine) do
      if c.price_decimals ~= scale then off = off + 1 end
    end
    log.info('DECIMALS %s %d of %d off priceScale %s', iv, off, #mine, tostring(scale))
  end
end)"
wait_for 15 grep -q 'TRUTH 5m' "$T/log"
for iv in 1m 5m; do
  like "$(grep "TRUTH $iv " "$T/log" | tail -1)" "TRUTH $iv 30 of 30 equal, 0 gaps" "the last 30 closed $iv candles equal the stand-in's, with no gap"
done
for iv in 1m 5m; do
  like "$(grep "DECIMALS $iv " "$T/log" | tail -1)" "DECIMALS $iv 0 of 30 off priceScale [0-9]" \
    "every $iv candle (backfilled and live) shows the instrument's priceScale decimals, though the prices are printed without trailing zeros"
done
dups=$(grep -o 'closed bybit:BTCUSDT 1m [0-9]*' "$T/log" | sort | uniq -d | wc -l)
is "$dups" 0 "no closed candle was emitted twice"
backfilled=$(tail -n +"$gap_from" "$T/log" | grep -c 'closed bybit:BTCUSDT 1m [0-9]* backfill')
if [ "$backfilled" -ge 6 ]; then pass "the 7-minute gap's 1m candles came from REST, marked as backfilled ($backfilled)"; else fail "the gap's candles came from REST" "$backfilled"; fi
stop_bot
is "$?" 0 "the bot stops cleanly"

# Every Bybit interval (11: more than the 10 topics a request takes), and
# the IP limit's 403: a ban of 10 minutes, nothing sent meanwhile.
stop_bybit
start_bybit --symbols 2 --ip-limit 3 --ban-s 1000 || { fail "the stand-in starts again"; finish; exit 1; }
write_config "exchange = { enabled = false }" \
  "bybit = { enabled = true, ws_url = '$BYBIT_WS', rest_url = '$BYBIT',
    intervals = { '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d' } }"
start_bot || { fail "the bot starts"; finish; exit 1; }
wait_for 30 by_live 1
# (the subscribe requests are paced: the last may follow the connection)
all_topics() { [ "$(jget "$(bybit /control/stats)" topics_per_connection)" = "[22]" ]; }
wait_for 15 all_topics
st=$(bybit /control/stats)
is "$(jget "$st" topics_per_connection)|$(json_num "$st" refused_args)" "[22]|0" \
  "11 intervals of 2 symbols: 22 topics, each request within 10"
wait_for 10 grep -q 'REST 403 (rate limit): pausing requests for 600 s' "$T/log" \
  && pass "a 403 (the IP limit) pauses REST for 10 minutes" || fail "a 403 pauses REST for 10 minutes" "$(grep REST "$T/log" | tail -3)"
n403=$(json_num "$(bybit /control/stats)" rest_403)
sleep 3
is "$(json_num "$(bybit /control/stats)" rest_403)" "$n403" "and nothing is sent meanwhile"
stop_bot
finish
