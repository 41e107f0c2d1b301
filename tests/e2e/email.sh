#!/usr/bin/env bash
# Admin diagnostics by e-mail, against the stand-in SMTP server
# (tests/fakes/fake_smtp.c) with STARTTLS required, a login, and a first
# delivery refused with 451: the bot retries, every recipient gets a plain
# text mail with an encoded subject, and it still reaches the admins while
# Telegram refuses every sendMessage.  The password never shows; a config
# without the addresses it needs is refused by key.
. "$(dirname "$0")/lib.bash"
A=51   # the admin on Telegram
PASS='smtp-pass-7f3c91e2'

mkdir -p "$T/spool"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -days 1 -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 \
  || { fail "a test certificate is made"; finish; exit 1; }
"$PWD/$CW_BUILD/tests/fakes/fake_smtp" --port 0 --spool "$T/spool" --user bot --password "$PASS" \
  --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --require-tls --fail 1 > "$T/smtp.log" 2>&1 &
SMTP_PID=$!
trap 'kill $SMTP_PID 2>/dev/null; cleanup' EXIT
wait_for 10 grep -q 'listening on port' "$T/smtp.log" || { fail "the stand-in SMTP server starts"; finish; exit 1; }
SMTP_PORT=$(grep -o 'port [0-9]*' "$T/smtp.log" | awk '{print $2}')

start_fake --symbols 2 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' }, stale_after = 2 }" \
  "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 1 }" \
  "tls = { ca_file = '$T/cert.pem' }" "admins = { $A }" "admin = { feed_down_after = 3 }" \
  "email = { server = 'localhost', port = $SMTP_PORT, user = 'bot', password = os.getenv('SMTP_PASSWORD'),
    from = 'bot@example.com', to = { 'ops@example.com', 'oncall@example.com' } }"
mails() { ls "$T/spool" | grep -c '\.eml$'; }

SMTP_PASSWORD=$PASS start_bot || { finish; exit 1; }
wait_for 30 sh -c "ls '$T/spool' | grep -q '\.eml$'" \
  && pass "the start-up notice is e-mailed (after a 451, retried)" || fail "the start-up notice is e-mailed" "$(cat "$T/smtp.log")"
like "$(cat "$T/smtp.log")" 'refused DATA: 451' "the first delivery was refused"
like "$(grep -c 'e-mail to the admins failed' "$T/log")" '^1$' "the failure is logged once and retried"
m1="$T/spool/000001.eml"
like "$(cat "$m1")" 'X-Envelope-To: <ops@example.com>' "mailed to the first recipient"
like "$(cat "$m1")" 'X-Envelope-To: <oncall@example.com>' "and to the second"
like "$(cat "$m1")" 'Subject: =\?UTF-8\?B\?' "the subject is an encoded word (it has an emoji)"
subject=$(sed -n 's/^Subject: =?UTF-8?B?\([^?]*\)?=.*/\1/p' "$m1" | base64 -d 2>/dev/null)
like "$subject" 'candlewatch on .*: ▶️ candlewatch started' "which decodes to the notice, tags dropped"
like "$(cat "$m1")" 'Content-Type: text/plain; charset=utf-8' "the body is plain UTF-8 text"
unlike "$(sed -n '/^\r*$/,$p' "$m1")" '<b>' "without HTML tags"

# Telegram refuses every message now; the feed goes down: e-mail still tells
tg_post /control/fail '{"status":500,"count":100000,"method":"sendMessage"}' >/dev/null
fake "/control/stall?value=30" >/dev/null
wait_for 40 sh -c "grep -l 'Market data' '$T/spool/'*.eml >/dev/null 2>&1" \
  && pass "with Telegram failing, the feed outage still reaches the admins by e-mail" \
  || fail "the outage is e-mailed" "$(cat "$T/smtp.log")"
unlike "$(tg_texts $A)" 'Market data' "(Telegram really delivered nothing)"
like "$(curl -s "http://127.0.0.1:$PORT/metrics")" 'candlewatch_admin_emails_total\{result="sent"\} [1-9]' \
  "/metrics counts the e-mails"
unlike "$(cat "$T/log" "$T/smtp.log" "$T/spool/"*.eml; curl -s "http://127.0.0.1:$PORT/metrics")" "$PASS" \
  "the SMTP password appears in no log, mail or metric"
stop_bot

run_with() {   # run_with EMAIL_TABLE -> out, rc
  printf 'return { database = "%s/x.db", scripts = "%s/scripts", email = %s }\n' "$T" "$T" "$1" > "$T/c.lua"
  out=$("$CW_BIN" run --config "$T/c.lua" 2>&1); rc=$?
}
run_with "{ server = 'localhost', to = { 'ops@example.com' } }"
is "$rc" 2 "an e-mail server without a sender exits with status 2"
like "$out" "key 'email.from'" "naming the key"
run_with "{ server = 'localhost', from = 'bot@example.com', to = { 'ops@example.com>\\r\\nRCPT TO:<x@y' } }"
like "$out" "key 'email.to': .* is not an e-mail address" "an address that would inject SMTP commands is refused"
run_with "{ server = 'localhost', from = 'bot@example.com', to = { 'ops@example.com' }, user = 'bot' }"
like "$out" "key 'email.password'" "a login without a password is refused, naming email.password"
run_with "{ server = 'localhost', tls = 'ssl' }"
like "$out" "key 'email.tls' must be \"starttls\", \"implicit\" or \"none\"" "an unknown TLS mode is refused"
finish
