#!/usr/bin/env bash
# REST against a server that closes the connection after each answer
# without saying so: the bot loads the whole history and no request fails
# (a request that meets a connection just closed under it, or is closed
# unanswered, is retried once on a fresh one).
. "$(dirname "$0")/lib.bash"

start_fake --symbols 40 --close-each || { fail "the stand-in starts"; finish; exit 1; }
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    streams_per_connection = 200, history = 30 }" "log = { level = 'debug' }"
fake "/control/rest_drop?value=1" >/dev/null   # and one is closed with no answer at all
start_bot || { fail "the bot starts"; finish; exit 1; }
total() { json_num "$(get /health)" history_requests; }
done_all() { h=$(get /health); [ "$(json_num "$h" history_requests)" -gt 0 ] && \
  [ "$(json_num "$h" history_done)" = "$(json_num "$h" history_requests)" ]; }
wait_for 60 done_all && pass "the history loads in full ($(total) requests)" \
  || fail "the history loads in full" "$(get /health)"
n=$(grep -c "REST .* failed" "$T/log")
[ "$n" = 0 ] && pass "no REST request failed" || fail "no REST request failed" "$n, e.g. $(grep -m3 "REST .* failed" "$T/log")"
[ "$(grep -c "trying once more on a new one" "$T/log")" -ge 1 ] \
  && pass "the request closed unanswered went again on a new connection" \
  || fail "the request closed unanswered went again on a new connection" "$(grep -m3 'REST' "$T/log")"
stop_bot
finish
