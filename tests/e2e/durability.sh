# kill -9 in the middle of writes: the database opens, passes its integrity
# check, and holds every write a handler saw committed.
. tests/e2e/lib.bash

write_config
# Each tick first logs the committed count it reads, then writes count + 1.
# A handler's writes are committed when it returns, so a logged value was
# committed before it was logged.
write_script counter.lua 'timer.every(0.01, function()
  local n = store.get("e2e", "n") or 0
  log.info("committed %d", n)
  store.set("e2e", "n", n + 1)
  for i = 1, 20 do store.set("e2e", "blob" .. i, string.rep(tostring(n), 200)) end
end)'

rounds=5
for round in $(seq 1 $rounds); do
  start_bot || { fail "round $round: the bot starts"; break; }
  wait_for 10 grep -q 'committed [1-9]' "$T/log"
  sleep "0.$((RANDOM % 5 + 1))"
  kill_bot
  last=$(grep -o 'committed [0-9]*' "$T/log" | tail -1 | awk '{print $2}')
  out=$("$DBCHECK" "$T/bot.db" e2e n)
  stored=$(printf '%s\n' "$out" | sed -n 's/^value: //p')
  like "$out" '^integrity: ok' "round $round: integrity_check is ok after kill -9"
  if [ -n "$stored" ] && [ -n "$last" ] && [ "$stored" -ge "$last" ]; then
    pass "round $round: every write seen committed is there (logged $last, stored $stored)"
  else
    fail "round $round: every write seen committed is there" "logged: $last" "stored: $stored"
  fi
done

start_bot && like "$(get /health)" '"store":\{"status":"ok"[,}]' "the bot starts again on the database"
stop_bot
finish
