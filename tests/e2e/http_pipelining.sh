# Pipelined requests (several in one write, any mix of methods, no secret
# needed) are answered or dropped cleanly: the bot keeps serving /health
# and stops on SIGTERM (regression: a request with a body pipelined behind
# another left the loop spinning inside libwebsockets for good). Each
# answer closes its connection; a client making requests one after the
# other still gets every answer.
. tests/e2e/lib.bash

write_config
start_bot || { fail "the bot starts"; finish; exit 1; }

get_=$'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'
head_=$'HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n'
post_=$'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'
posth=$'POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'
getb_=$'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'
put_=$'PUT /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'
post0=$'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'

wedged=0
check() {   # check NAME DATA: sends DATA in one write (skipped once the bot is wedged)
  [ "$wedged" = 1 ] && return
  local out code
  out=$(raw_http "$2")
  like "$out" '^HTTP/1\.1 [0-9]{3} ' "$1: the first request is answered"
  like "$out" '<closed>$' "$1: and the connection is closed"
  code=$(status_of /health)
  is "$code" 200 "$1: /health still answers"
  [ "$code" = 200 ] || { wedged=1; fail "the bot is wedged: the other mixes are not tried"; }
}
check "GET + POST" "$get_$post_"
check "POST + POST" "$post_$post_"
check "GET + GET" "$get_$get_"
check "HEAD + GET" "$head_$get_"
check "POST to a route + GET" "$posth$get_"
check "GET with a body + POST" "$getb_$post_"
check "PUT + POST + GET" "$put_$post_$get_"
check "empty POST + POST" "$post0$post_"
check "GET + POST with half a body" "$get_${post_%?}"
many=""; for i in $(seq 30); do many+="$get_$post_"; done
check "30 x (GET + POST)" "$many"

# a client that makes requests one after the other gets every answer
out=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} ' --max-time 5 "http://127.0.0.1:$PORT/health" \
        "http://127.0.0.1:$PORT/metrics" "http://127.0.0.1:$PORT/health")
is "$out" "200 200 200 " "sequential requests from one client are all answered"
like "$(curl -s -i --max-time 5 "http://127.0.0.1:$PORT/health")" 'connection: close' \
     "an answer says the connection closes"

# (a wedged bot ignores SIGTERM: it is killed after 20 s, and fails here)
kill -TERM "$BOT_PID"
( for i in $(seq 200); do sleep 0.1; done; kill -9 "$BOT_PID" ) >/dev/null 2>&1 &
watchdog=$!
wait "$BOT_PID"
is "$?" 0 "SIGTERM stops the bot with exit status 0"
kill "$watchdog" 2>/dev/null; BOT_PID=""
finish
