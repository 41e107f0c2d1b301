#!/usr/bin/env bash
# Webhook mode: setWebhook with a secret at start, the secret checked on
# every request (401 without it), updates handled; and back to long
# polling with deleteWebhook.
. "$(dirname "$0")/lib.bash"

start_tg || { fail "the stand-in Telegram starts" "$(cat "$T/tg.log")"; finish; exit 1; }
mkdir -p "$T/scripts"
cp -r scripts/commands scripts/lib "$T/scripts/"
SECRET="s3cret-Token_1"
# a free port for the bot: the webhook URL must name it before start (if
# another test takes it meanwhile, try another)
started=0
for attempt in 1 2 3 4 5; do
  for HTTP_PORT in $(shuf -i 20000-60000 -n 20); do
    (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null || break
  done
  write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', webhook_url = 'http://127.0.0.1:$HTTP_PORT/telegram', webhook_secret = '$SECRET' }"
  if start_bot; then started=1; break; fi
  [ -n "$BOT_PID" ] && kill -9 "$BOT_PID" 2>/dev/null; BOT_PID=""
done
[ "$started" = 1 ] || { fail "the bot starts on a free port" "$(tail -5 "$T/log")"; finish; exit 1; }
wait_for 20 grep -q 'webhook set' "$T/log" && pass "the webhook is set at start" \
  || fail "the webhook is set at start" "$(tail -5 "$T/log")"
like "$(tg /bot$TG_TOKEN/getWebhookInfo)" "\"url\":\"http://127.0.0.1:$HTTP_PORT/telegram\"" \
     "Telegram knows the webhook URL"

update='{"update_id":900,"message":{"message_id":1,"date":0,"text":"/help","from":{"id":70,"first_name":"W"},"chat":{"id":70,"type":"private"}}}'
post() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' "$@" \
           -d "$update" "http://127.0.0.1:$HTTP_PORT/telegram"; }
is "$(post)" 401 "a request without the secret token gets 401"
is "$(post -H 'X-Telegram-Bot-Api-Secret-Token: wrong')" 401 "a wrong secret token gets 401"
is "$(post -H "X-Telegram-Bot-Api-Secret-Token: ${SECRET}x")" 401 "a longer one too"
sleep 0.5
is "$(tg_texts 70)" "" "refused requests are not handled"
is "$(post -H "X-Telegram-Bot-Api-Secret-Token: $SECRET")" 200 "the right secret token gets 200"
said 70 'Commands' 20 \
  && pass "and the update is handled" || fail "and the update is handled" "$(tail -5 "$T/log")"
is "$(post -H "X-Telegram-Bot-Api-Secret-Token: $SECRET")" 200 "the same update again is accepted"
sleep 0.5
is "$(tg_texts 70 | grep -c Commands)" 1 "but not handled twice"
like "$(get /health)" '"webhook_refused":3' "/health counts the refused requests"

# other methods are answered once and their bodies ignored (regression:
# a PUT got two responses, the second from its body handled as a POST)
put_update='{"update_id":901,"message":{"message_id":2,"date":0,"text":"/help","from":{"id":73,"first_name":"P"},"chat":{"id":73,"type":"private"}}}'
out=$(curl -s -i --max-time 5 -X PUT -H "X-Telegram-Bot-Api-Secret-Token: $SECRET" -d "$put_update" \
        "http://127.0.0.1:$HTTP_PORT/telegram")
is "$(printf '%s' "$out" | grep -c '^HTTP/1.1')" 1 "a PUT with a body gets exactly one response"
like "$out" "^HTTP/1.1 405" "and it is 405"
sleep 0.5
is "$(tg_texts 73)" "" "and its body is not handled"
chunked='{"update_id":902,"message":{"message_id":3,"date":0,"text":"/help","from":{"id":74,"first_name":"C"},"chat":{"id":74,"type":"private"}}}'
code=$(printf '%s' "$chunked" | curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Transfer-Encoding: chunked' \
         -H "X-Telegram-Bot-Api-Secret-Token: $SECRET" -H 'Content-Type: application/json' --data-binary @- \
         "http://127.0.0.1:$HTTP_PORT/telegram")
is "$code" 411 "a chunked POST is refused plainly, not handled as empty (Telegram sends a length)"

tg_post /control/message '{"chat":71,"text":"/start","first_name":"Hook"}' >/dev/null
said 71 'Hello, Hook' 20 \
  && pass "Telegram's own webhook deliveries are handled" \
  || fail "Telegram's own webhook deliveries are handled" "$(tg /control/stats)"

stop_bot
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
start_bot || exit 1
wait_for 20 grep -q 'switching back from the webhook' "$T/log" \
  && pass "without webhook_url the bot deletes the webhook" \
  || fail "without webhook_url the bot deletes the webhook" "$(tail -5 "$T/log")"
tg_post /control/message '{"chat":72,"text":"/start","first_name":"Poll"}' >/dev/null
said 72 'Hello, Poll' 20 \
  && pass "and long polling takes over" || fail "and long polling takes over" "$(tail -5 "$T/log")"
stop_bot

# a token Telegram refuses stops start-up with a message, never the token
write_config "telegram = { token = '999:WRONG-token', api_url = '$TG' }"
out=$(timeout 10 "$CW_BIN" run --config "$T/config.lua" 2>&1); rc=$?
is "$rc" 1 "a refused bot token stops the bot (exit 1)"
like "$out" "Telegram refused the bot token .*check BOT_TOKEN" "with a message saying so"
unlike "$out" "WRONG-token" "without printing the token"
grep -q "$TG_TOKEN\|$SECRET" "$T/log" && fail "no secret in the log" "$(grep -n "$SECRET" "$T/log" | head -3)" \
  || pass "neither the token nor the webhook secret appears in the log"
finish
