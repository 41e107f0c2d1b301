# A runaway script is stopped within its instruction budget in a real run:
# an xpcall whose message handler spins (it used to run with hooks off once
# the limit struck) does not hang `candlewatch check` or a hot reload, and
# the old generation keeps serving.
. tests/e2e/lib.bash

SPIN='xpcall(function() while true do end end, function() while true do end end)'

write_config "lua = { instruction_limit = 1000000 }" "log = { level = 'debug' }"
write_script fine.lua 'timer.every(0.05, function() log.info("tick") end)'
write_script spin.lua "$SPIN"
out=$(timeout 30 "$CW_BIN" check --config "$T/config.lua" 2>&1); rc=$?
is "$rc" 1 "check ends and reports the runaway top level (124: it hung)"
like "$out" "scripts/spin.lua:1: instruction limit of 1000000 exceeded" "naming file:line and the limit"

rm "$T/scripts/spin.lua"
start_bot || { fail "the bot starts"; finish; exit 1; }
wait_for 10 grep -q 'tick' "$T/log" && pass "a script runs" || fail "a script runs"
write_script spin.lua "$SPIN"
wait_for 30 grep -q 'spin.lua:1: instruction limit' "$T/log" \
  && pass "a reload with the runaway fails, naming it" \
  || fail "a reload with the runaway fails, naming it" "$(tail -5 "$T/log")"
like "$(get /health)" '"scripts":\{"status":"degraded","reason":"[^"]*spin.lua:1: instruction limit' \
  "/health answers and shows the reason"
c1=$(grep -c 'tick' "$T/log"); sleep 0.3
c2=$(grep -c 'tick' "$T/log")
if [ "$c2" -gt "$c1" ]; then pass "the old generation keeps serving"; else fail "the old generation keeps serving"; fi
stop_bot
is "$?" 0 "the bot stops cleanly"
finish
