#!/usr/bin/env bash
# SIGTERM with work under way, against the stand-in Telegram: updates stop
# being taken, what the outbox can send within shutdown_timeout goes out,
# the rest stays for the next start (nothing lost, and at most the message
# in flight at the cut is sent twice), and the exit status is 0.
. "$(dirname "$0")/lib.bash"
C=55

start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
cat > "$T/scripts/commands/burst.lua" <<'LUA'
bot.command("burst", "/burst N P: sends P1 .. PN", function(ctx)
  local n, p = ctx.args:match("(%d+) (%a+)")
  for i = 1, tonumber(n) do ctx:reply(p .. i) end
end)
LUA
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }" "shutdown_timeout = 2"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in"; finish; exit 1; }
nums() { tg_texts $C | grep -o "^$1[0-9]*" ; }

# a few messages: all of them go out before the bot exits
say $C "/burst 2 a"
said $C '^a1' 10
stop_bot
is "$?" 0 "SIGTERM with two messages queued: exit status 0"
is "$(nums a | sort | tr '\n' ' ')" "a1 a2 " "both went out before the exit"
like "$(cat "$T/log")" 'the outbox is empty' "the log says the outbox was flushed"

# many (one a second to one chat): the deadline cuts, the rest waits
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log"
say $C "/burst 12 b"
said $C '^b1' 10
kill -TERM "$BOT_PID"; wait "$BOT_PID"; rc=$?; BOT_PID=""
is "$rc" 0 "SIGTERM with twelve messages queued: exit status 0"
like "$(cat "$T/log")" 'shutdown_timeout reached: 0 handlers cut short, [0-9]+ messages kept in the outbox' \
  "the log says what was kept for the next start"
sent=$(nums b | wc -l)
[ "$sent" -lt 12 ] && pass "the deadline cut the flush ($sent of 12 sent)" || fail "the deadline cut the flush"
start_bot || exit 1
all12() { [ "$(nums b | sort -u | wc -l)" -ge 12 ]; }
wait_for 40 all12 && pass "after a restart the rest arrives: nothing is lost" \
  || fail "after a restart the rest arrives" "$(nums b | tr '\n' ' ')"
dups=$(( $(nums b | wc -l) - $(nums b | sort -u | wc -l) ))
diag "messages sent twice across the stop: $dups"
[ "$dups" -le 1 ] && pass "at most the message in flight is sent twice" || fail "at most one duplicate" "$dups"
stop_bot
finish
