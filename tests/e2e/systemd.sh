#!/usr/bin/env bash
# Under systemd: the unit file verifies; the bot speaks the notify protocol
# (READY=1 once serving, STOPPING=1 on SIGTERM) and feeds the watchdog from
# its loop, at half the interval asked for, so a loop that stops turning
# (here: a stopped process) stops feeding it.  A stand-in notify socket
# (tests/tools/notify_listen) records what the bot sends.
. "$(dirname "$0")/lib.bash"

if command -v systemd-analyze >/dev/null; then
  sed -e "s|/usr/bin/candlewatch|$(realpath "$CW_BIN")|" -e "/^User=\|^Group=/d" \
    deploy/candlewatch.service > "$T/candlewatch.service"
  out=$(systemd-analyze verify "$T/candlewatch.service" 2>&1 | grep -v "Documentation\|file:///usr/share/doc\|man candlewatch(1)")
  is "$out" "" "systemd-analyze verifies deploy/candlewatch.service"
else
  pass "# SKIP systemd-analyze is not installed"
fi
missing=""
for key in 'Type=notify' 'Restart=always' 'StartLimitBurst=' 'WatchdogSec=' 'NoNewPrivileges=yes' \
           'ProtectSystem=strict' 'ReadWritePaths=/var/lib/candlewatch' 'User=candlewatch'; do
  grep -q "^$key" deploy/candlewatch.service || missing="$missing $key"
done
is "$missing" "" "the unit restarts, limits restarts, watches, and runs hardened as its own user"

write_config
cp -r scripts "$T/"
"$CW_BUILD/tests/tools/notify_listen" "$T/notify.sock" 20 > "$T/notify.out" &
LISTEN_PID=$!
wait_for 5 test -S "$T/notify.sock"
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 start_bot || { fail "the bot starts"; finish; exit 1; }
wait_for 5 grep -q 'READY=1' "$T/notify.out" && pass "READY=1 once serving" || fail "READY=1 once serving"
fed2() { [ "$(grep -c 'WATCHDOG=1' "$T/notify.out")" -ge 2 ]; }
wait_for 5 fed2 && pass "the watchdog is fed again and again (every 200 ms asked)" \
  || fail "the watchdog is fed again and again" "$(cat "$T/notify.out")"
kill -STOP "$BOT_PID"; sleep 1; before=$(grep -c 'WATCHDOG=1' "$T/notify.out"); sleep 1
after=$(grep -c 'WATCHDOG=1' "$T/notify.out"); kill -CONT "$BOT_PID"
is "$after" "$before" "a loop that stops turning stops feeding the watchdog"
fed_more() { [ "$(grep -c 'WATCHDOG=1' "$T/notify.out")" -gt "$after" ]; }
wait_for 5 fed_more && pass "and feeds it again when it turns" || fail "and feeds it again when it turns"
stop_bot
is "$?" 0 "SIGTERM stops the bot with exit status 0"
wait_for 3 grep -q 'STOPPING=1' "$T/notify.out" && pass "STOPPING=1 on SIGTERM" || fail "STOPPING=1 on SIGTERM"
kill "$LISTEN_PID" 2>/dev/null; wait "$LISTEN_PID" 2>/dev/null
finish
