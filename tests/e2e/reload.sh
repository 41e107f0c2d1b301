# Hot reload of the running bot: a good edit is live quickly, a broken edit
# keeps the old code serving and reports file:line, a removed script's
# timers stop, SIGHUP reloads, and handlers reach HTTP through curl on the
# same loop as the server.
. tests/e2e/lib.bash

write_config "log = { level = 'debug' }"
write_script tick.lua 'timer.every(0.05, function() log.info("tick v1") end)'
start_bot || { fail "the bot starts"; finish; exit 1; }
wait_for 10 grep -q 'tick v1' "$T/log" && pass "a script's timer runs" || fail "a script's timer runs"

t0=$(date +%s%N)
write_script tick.lua 'timer.every(0.05, function() log.info("tick v2") end)'
if wait_for 10 grep -q 'tick v2' "$T/log"; then
  diag "edit to live: $(( ($(date +%s%N) - t0) / 1000000 )) ms (settle delay 150 ms)"
  pass "an edit saved with a rename is live without a restart"
else
  fail "an edit saved with a rename is live without a restart"
fi
sleep 0.3
n1=$(grep -c 'tick v1' "$T/log")
sleep 0.3
is "$(grep -c 'tick v1' "$T/log")" "$n1" "the old generation's timer has stopped"

write_script broken.lua 'timer.every(1, function()
  local x = = 2
end)'
wait_for 10 grep -q 'broken.lua:2:' "$T/log" && pass "a broken edit is reported with file:line" \
  || fail "a broken edit is reported with file:line" "$(tail -5 "$T/log")"
like "$(get /health)" '"scripts":\{"status":"degraded","reason":"[^"]*broken.lua:2:' "/health shows scripts degraded with the reason"
is "$(status_of /health)" 200 "degraded is still HTTP 200"
c1=$(grep -c 'tick v2' "$T/log"); sleep 0.3
c2=$(grep -c 'tick v2' "$T/log")
if [ "$c2" -gt "$c1" ]; then pass "the old code keeps serving after a broken edit"; else fail "the old code keeps serving after a broken edit"; fi

rm "$T/scripts/broken.lua"
wait_for 10 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '\"scripts\":{\"status\":\"ok\"[,}]'" \
  && pass "removing the broken file brings scripts back to ok" || fail "removing the broken file brings scripts back to ok"

rm "$T/scripts/tick.lua"
wait_for 10 sh -c "grep -q 'generation [0-9]* live (file change): 0 scripts' '$T/log'" || true
sleep 0.2
c1=$(grep -c 'tick v2' "$T/log"); sleep 0.3
is "$(grep -c 'tick v2' "$T/log")" "$c1" "a removed script's timer stops"

gen_before=$(grep -c 'generation [0-9]* live' "$T/log")
kill -HUP "$BOT_PID"
wait_for 10 grep -q 'live (SIGHUP)' "$T/log" && pass "SIGHUP reloads" || fail "SIGHUP reloads"

# A handler waits on an HTTP request (curl multi on the loop) to the bot's
# own /health (lws on the same loop): neither blocks the other.
write_script probe.lua "host.on_start(function()
  local body, status = http.get('http://127.0.0.1:$PORT/health')
  log.info('probe got %s %s', tostring(status), tostring(body and body:sub(1, 16)))
end)"
wait_for 10 grep -q 'probe got 200 {"status":' "$T/log" && pass "a handler's http.get is answered on the same loop" \
  || fail "a handler's http.get is answered on the same loop" "$(grep probe "$T/log")"

stop_bot
is "$?" 0 "the bot stops cleanly after reloads"
finish
