# The live feed against the stand-in exchange: subscriptions within the
# limits, malformed frames, dropped / stalled / cut / rotated connections,
# a several-minute gap, listings and delistings — and the candles the bot
# holds compared with the exchange's truth.
. tests/e2e/lib.bash

start_fake --symbols 20 --ping-s 2 || { fail "the stand-in starts"; finish; exit 1; }
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    streams_per_connection = 50, stale_after = 2, history = 30, universe_refresh = 1,
    rotate_after = 3600 }" "log = { level = 'debug' }"
start_bot || { fail "the bot starts"; finish; exit 1; }

wait_for 30 live3 && pass "three connections are live" || fail "three connections are live" "$(get /health)"
like "$(get /health)" '"by_connection":\{"[0-9]+":\{"state":"open","live":true,"streams":[0-9]+,"ms_since_data":[0-9]+\}' \
  "/health shows each connection: state, live, streams, time since data"
# streams per stand-in connection, sorted ("24,48,48")
split_is() { [ "$(stream_split)" = "$1" ]; }
stats=$(fake /control/stats)
is "$(stream_split)" "24,48,48" "120 streams split 48/48/24 under a limit of 50 per connection"
is "$(json_num "$stats" kicked_streams)" 0 "no connection went over the stream limit"
is "$(json_num "$stats" kicked_rate)" 0 "no connection went over 10 messages a second"
wait_for 20 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '\"history_done\":120'" \
  && pass "warm start loaded history for all 120 streams" || fail "warm start loaded history for all 120 streams" "$(get /health)"
like "$(get /health)" '"exchange":\{"status":"ok"' "then /health reports the exchange ok"

# Garbage from the exchange: dropped, counted per reason, process healthy.
fake "/control/malformed?value=6" >/dev/null
dropped_ok() { h=$(get /health); for r in invalid_json bad_number unknown_symbol stream_mismatch oversize; do
  [ "$(json_num "$h" "$r")" -ge 1 ] 2>/dev/null || return 1; done; }
wait_for 10 dropped_ok && pass "malformed frames are dropped and counted by reason" || fail "malformed frames are dropped and counted by reason" "$(get /health)"
is "$(status_of /health)" 200 "and the bot stays healthy"
metrics_dropped() { get /metrics | awk '/^candlewatch_candle_messages_dropped_total\{/ {s += $NF} END {print s + 0}'; }
same_drops() { [ "$(health_dropped "$(get /health)")" = "$(metrics_dropped)" ]; }
wait_for 10 same_drops && pass "/health's drops summed (as make bench prints them) are the frames /metrics counts dropped" \
  || fail "/health's drops summed are the frames /metrics counts dropped" "$(health_dropped "$(get /health)") vs $(metrics_dropped)"
like "$(cat "$T/log")" 'dropped 1 frame\(s\) \(invalid_json\)' "drops are logged with their reason"

# Connections killed, silent, cut: each comes back.
reconnects() { json_num "$(get /health)" reconnects; }
fake /control/drop >/dev/null
wait_for 15 sh -c "[ \$(curl -s http://127.0.0.1:$PORT/health | grep -o '\"reconnects\":[0-9]*' | cut -d: -f2) -ge 3 ]" \
  && pass "dropped connections reconnect" || fail "dropped connections reconnect" "$(get /health)"
wait_for 20 live3 && pass "and are live again" || fail "and are live again"
fake "/control/stall?value=5" >/dev/null
wait_for 15 grep -q 'no data for' "$T/log" && pass "a silent connection is detected as stale" || fail "a silent connection is detected as stale"
wait_for 30 live3 && pass "and replaced by a live one" || fail "and replaced by a live one" "$(get /health)"
before=$(reconnects)
fake /control/cut >/dev/null
wait_for 15 sh -c "[ \$(curl -s http://127.0.0.1:$PORT/health | grep -o '\"reconnects\":[0-9]*' | cut -d: -f2) -gt $before ]" \
  && pass "a 24-hour style cut is survived" || fail "a 24-hour style cut is survived"
wait_for 20 live3 || true

# A gap of several minutes while disconnected.
fake /control/drop >/dev/null
fake "/control/jump?value=420000" >/dev/null
sleep 1
wait_for 30 live3 && pass "after a 7-minute gap the connections are live" || fail "after a 7-minute gap the connections are live"
sleep 3

# A listing and a delisting, without disturbing the other connections.
total_before=$(json_num "$(fake /control/stats)" connections_total)
fake "/control/list?value=NEWUSDT" >/dev/null
wait_for 15 split_is "30,48,48"
is "$(stream_split)" "30,48,48" "a new listing is subscribed (6 more streams)"
is "$(json_num "$(fake /control/stats)" connections_total)" "$total_before" "without reconnecting anything"
fake "/control/delist?value=NEWUSDT" >/dev/null
wait_for 15 split_is "24,48,48"
is "$(stream_split)" "24,48,48" "a delisting is unsubscribed"

# Truth: what the bot holds equals the exchange's candles, gap included.
write_script probe.lua "host.on_start(function()
  for _, iv in ipairs({ '1m', '5m', '15m' }) do
    local mine = candles.last('BTCUSDT', iv, 30)
    local body = http.get('$FAKE/fapi/v1/klines?symbol=BTCUSDT&interval=' .. iv ..
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
    log.info('TRUTH %s %d of %d equal, %d gaps', iv, same, #mine, gaps)
  end
end)"
wait_for 15 grep -q 'TRUTH 15m' "$T/log"
for iv in 1m 5m 15m; do
  like "$(grep "TRUTH $iv " "$T/log" | tail -1)" "TRUTH $iv 30 of 30 equal, 0 gaps" "the last 30 closed $iv candles equal the exchange's, with no gap"
done
dups=$(grep -o 'closed BTCUSDT 1m [0-9]*' "$T/log" | sort | uniq -d | wc -l)
is "$dups" 0 "no closed candle was emitted twice across all of it"
backfilled=$(grep -c 'closed BTCUSDT 1m [0-9]* backfill' "$T/log")
if [ "$backfilled" -ge 36 ]; then pass "the gap's candles came from REST, marked as backfilled ($backfilled)"; else fail "the gap's candles came from REST" "$backfilled"; fi

stop_bot
is "$?" 0 "the bot stops cleanly"
finish
