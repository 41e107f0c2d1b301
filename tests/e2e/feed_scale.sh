# The real shape: about 400 perpetuals x 6 intervals = 2,400 streams at the
# default 1,024 streams per connection; and REST rate limits obeyed.
. tests/e2e/lib.bash

start_fake --symbols 400 --tick-ms 2000 --weight-limit 1000000 || { fail "the stand-in starts"; finish; exit 1; }
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 2, rest_weight_limit = 1000000 }"
# the first requests meet a 429 and then a 418 with Retry-After: 1
fake "/control/rest_fail?value=1&status=429&retry_after=1" >/dev/null
start_bot || { fail "the bot starts"; finish; exit 1; }
wait_for 60 live3 && pass "2,400 streams: three connections live" || fail "2,400 streams: three connections live" "$(get /health)"
settled() { [ "$(stream_split)" = "360,1020,1020" ]; }
wait_for 15 settled   # the SUBSCRIBEs go out at 5 a second
is "$(stream_split)" "360,1020,1020" "split 1020/1020/360 under the 1024-stream limit"
stats=$(fake /control/stats)
is "$(json_num "$stats" kicked_streams)" 0 "no connection went over 1024 streams"
is "$(json_num "$stats" kicked_rate)" 0 "no connection went over 10 messages a second"
like "$(cat "$T/log")" 'REST 429 \(rate limit\): pausing requests for 1 s' "a 429 pauses REST for Retry-After"
fake "/control/rest_fail?value=1&status=418&retry_after=1" >/dev/null
wait_for 90 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '\"history_done\":2400'" \
  && pass "history for all 2,400 streams loads despite the 429" || fail "history for all 2,400 streams loads" "$(get /health)"
stop_bot
finish
