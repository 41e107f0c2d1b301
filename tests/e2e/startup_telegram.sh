#!/usr/bin/env bash
# A start that cannot reach Telegram fails (status 1) and leaves nothing
# for the admins: "candlewatch started" is queued only once the bot signed
# in.  After two failed starts (a network outage at boot under
# Restart=always), the good start tells the admins once, and that the
# previous run stopped with an error.
. "$(dirname "$0")/lib.bash"
A=9101   # the admin's chat

start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
# a port nothing listens on: Telegram cannot be reached
write_config "telegram = { token = '$TG_TOKEN', api_url = 'http://127.0.0.1:9', poll_timeout = 2 }" \
  "admins = { $A }"
for i in 1 2; do
  out=$(timeout 60 "$CW_BIN" run --config "$T/config.lua" 2>&1); rc=$?
  is "$rc" 1 "a start that cannot reach Telegram exits with status 1 ($i)"
done
like "$out" 'cannot reach Telegram' "and says why"

write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }" "admins = { $A }"
start_bot || { fail "the bot starts"; finish; exit 1; }
told() { [ -n "$(tg_texts $A)" ] && [ "$(json_num "$(get /health)" queue_depth)" = 0 ]; }
wait_for 20 told && pass "the admins are told of the start" || fail "the admins are told of the start" "$(tg_texts $A)"
is "$(tg_texts $A | grep -c 'candlewatch')" 1 "once: nothing was queued by the failed starts"
like "$(tg_texts $A)" 'previous run stopped with an error \(exit status 1' "saying the previous run failed"
unlike "$(tg_texts $A)" 'crash' "(not a crash)"
stop_bot
start_bot || { fail "the bot starts again"; finish; exit 1; }
said_times $A 'candlewatch' 2 20 \
  && pass "after a clean stop, the next start is told too" || fail "the next start is told" "$(tg_texts $A)"
is "$(tg_texts $A | grep -c 'previous run')" 1 "as a plain start: the clean stop was recorded"
stop_bot
finish
