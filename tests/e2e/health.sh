# The bot starts with the shipped scripts, answers /health, idles at ~0% CPU
# and stops cleanly on SIGTERM.
. tests/e2e/lib.bash

write_config
rm -rf "$T/scripts" && cp -r scripts "$T/scripts"
start_bot || { fail "the bot starts"; finish; exit 1; }
pass "the bot starts with the shipped scripts"

body=$(get /health)
like "$body" '^\{"status":"ok"' "/health says ok"
like "$body" '"loop":\{"status":"ok"\}' "/health has the loop"
like "$body" '"store":\{"status":"ok","db_bytes":[1-9][0-9]*,"last_commit_ms":[0-9]+\}' \
  "/health has the store, its size and last commit"
like "$body" '"scripts":\{"status":"ok","generation":1,"scripts":[1-9][0-9]*,"errors":0\}' \
  "/health has the scripts, their generation, count and errors"
is "$(status_of /health)" 200 "/health answers 200"
is "$(status_of /nowhere)" 404 "an unknown path answers 404"
like "$(curl -s -i --max-time 5 "http://127.0.0.1:$PORT/health")" 'content-type: application/json' "/health is JSON"
# a HEAD answer has headers only (regression: the 405 to HEAD had a body)
out=$(raw_http 'HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n')
like "$out" '^HTTP/1\.1 [0-9]{3} ' "HEAD /health is answered"
is "${out#*$'\r\n\r\n'}" "<closed>" "and the answer has no body"

# Idle means idle: CPU ticks used over two seconds stay near zero.
ticks() { awk '{print $14 + $15}' "/proc/$BOT_PID/stat"; }
t0=$(ticks); sleep 2; t1=$(ticks)
used=$((t1 - t0))
diag "CPU ticks used while idle for 2 s: $used"
if [ "$used" -le 20 ]; then pass "an idle bot uses ~0% CPU"; else fail "an idle bot uses ~0% CPU" "ticks: $used"; fi

stop_bot
is "$?" 0 "SIGTERM stops the bot with exit status 0"
like "$(cat "$T/log")" 'SIGTERM: stopping' "the stop is logged"
finish
