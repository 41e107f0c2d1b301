#!/usr/bin/env bash
# Admin diagnostics with the real binary and both stand-ins: the admins
# hear that the bot started; that market data is down (once it has been
# down for admin.feed_down_after) and when it has cleared; that a script
# keeps failing (with the error); and, after kill -9, that the previous run
# did not end cleanly.  Users hear none of it.
. "$(dirname "$0")/lib.bash"
A=9001   # the admin's chat
U=9002   # a user

start_fake --symbols 2 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
cat > "$T/scripts/commands/boom.lua" <<'LUA'
bot.command("boom", "fails", function(ctx) error("kaboom <here>") end)
LUA
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' }, stale_after = 2 }" \
  "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }" \
  "admins = { $A }" "admin = { feed_down_after = 3 }"
start_bot || exit 1
admin() { tg_texts $A; }
said $A 'candlewatch started' \
  && pass "admins hear that the bot started" || fail "admins hear that the bot started" "$(admin)"

fake "/control/stall?value=20" >/dev/null
said $A 'Market data' 30 \
  && pass "a feed down longer than admin.feed_down_after is reported" || fail "the feed outage is reported" "$(admin)"
like "$(admin)" '⚠️ Market data' "as a warning with the reason"
said $A 'Market data: cleared' 60 \
  && pass "and its end is reported" || fail "the feed's recovery is reported" "$(admin)"
is "$(admin | grep -c '⚠️ Market data')" 1 "one warning for one outage (not one per check)"

say $U "/boom"
said $A 'Script errors' \
  && pass "a failing script is reported" || fail "a failing script is reported" "$(admin)"
like "$(admin)" 'kaboom <here>' "with its error (escaped for HTML, shown as written)"
unlike "$(tg_texts $U)" 'kaboom|Market data|started' "users hear none of it"
like "$(grep kaboom "$T/log" | head -1)" 'scripts: \[update [0-9]+\] .*kaboom' "the error's log line names the update it handled"

kill_bot
start_bot || exit 1
said $A 'restarted' \
  && pass "after kill -9 the admins hear the last run did not end cleanly" \
  || fail "a restart after kill -9 is reported" "$(admin)"
stop_bot
start_bot || exit 1
said_times $A 'candlewatch started' 2 \
  && pass "after a clean stop, a plain start" || fail "a start after a clean stop" "$(admin)"
is "$(admin | grep -c 'restarted')" 1 "(not a crash)"
stop_bot
finish
