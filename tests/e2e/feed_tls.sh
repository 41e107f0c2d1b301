# The real endpoints are TLS-only: wss and https with a certificate
# authority generated here, given to the bot through tls.ca_file.
. tests/e2e/lib.bash

if ! command -v openssl >/dev/null; then fail "openssl is installed (make deps)"; finish; exit 1; fi
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=candlewatch test CA" \
  -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/srv.key" -out "$T/srv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$T/ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
  -extfile "$T/ext" -out "$T/srv.pem" >/dev/null 2>&1
start_fake --symbols 3 --cert "$T/srv.pem" --key "$T/srv.key" || { fail "the TLS stand-in starts"; finish; exit 1; }
write_config "exchange = { enabled = true, ws_url = 'wss://127.0.0.1:$FAKE_PORT/market',
    rest_url = 'https://127.0.0.1:$FAKE_PORT', history = 5, intervals = { '1m', '5m' } }" \
  "tls = { ca_file = '$T/ca.pem' }"
start_bot || { fail "the bot starts"; finish; exit 1; }
wait_for 30 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '\"history_done\":6'" \
  && pass "https: history loaded over TLS" || fail "https: history loaded over TLS" "$(get /health)"
wait_for 30 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '\"live\":1'" \
  && pass "wss: the stream is live over TLS" || fail "wss: the stream is live over TLS" "$(get /health)"
stop_bot

# without the CA the bot refuses the unknown certificate
write_config "exchange = { enabled = true, ws_url = 'wss://127.0.0.1:$FAKE_PORT/market',
    rest_url = 'https://127.0.0.1:$FAKE_PORT', history = 5, intervals = { '1m' } }"
start_bot
wait_for 15 grep -q 'exchangeInfo failed (SSL certificate problem' "$T/log" && pass "an untrusted certificate is refused" \
  || fail "an untrusted certificate is refused" "$(tail -5 "$T/log")"
stop_bot
finish
