#!/usr/bin/env bash
# The stand-in Bybit (tests/fakes/fake_bybit) itself, with curl and a
# minimal WebSocket client: the v5 REST answers and refusals, the IP limit,
# subscribe acks and refusals, linear's pong, the client ping it insists
# on, kline pushes (several candles in one data[] with --batch).  The Bybit
# feed tests trust it; this checks it says what Bybit's docs say.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/bybit.bash"
start_bybit --symbols 5 --tick-ms 100 --ping-window-s 3 --ip-limit 40 --ban-s 2 --batch ||
  { fail "the stand-in starts"; finish; exit 1; }
pass "--port 0: it prints the port it listens on"

# ---- REST ----
a=$(bybit "/v5/market/instruments-info?category=linear&limit=2")
is "$(jget "$a" retCode)|$(jget "$a" retMsg)|$(jget "$a" result.category)" "0|OK|linear" "instruments: retCode 0, OK"
is "$(jget "$a" result.list.0.symbol)|$(jget "$a" result.list.0.status)|$(jget "$a" result.list.0.contractType)|$(jget "$a" result.list.0.quoteCoin)" \
  "BTCUSDT|Trading|LinearPerpetual|USDT" "a USDT perpetual, Trading"
cursor=$(jget "$a" result.nextPageCursor)
like "$cursor" '.' "a page of limit=2 of 5 has a next page"
names="$(jget "$a" result.list.0.symbol) $(jget "$a" result.list.1.symbol)"
while [ -n "$cursor" ]; do
  a=$(bybit "/v5/market/instruments-info?category=linear&limit=2&cursor=$cursor")
  for i in 0 1; do n=$(jget "$a" "result.list.$i.symbol"); [ "$n" != "<none>" ] && names="$names $n"; done
  cursor=$(jget "$a" result.nextPageCursor)
done
is "$names" "BTCUSDT ETHUSDT S002USDT S003USDT S004USDT" "following nextPageCursor lists every symbol once"
is "$(jget "$(bybit "/v5/market/instruments-info?category=spot")" retCode)" 10001 "another category: retCode 10001"
fake_bybit_delist() { bybit "/control/delist?value=$1" >/dev/null; }
fake_bybit_delist S004USDT
unlike "$(bybit "/v5/market/instruments-info?category=linear")" S004USDT "a delisted symbol is not listed (Trading only by default)"

t=$(bybit "/v5/market/tickers?category=linear")
is "$(jget "$t" result.list.0.symbol)" BTCUSDT "tickers: one per symbol"
like "$(jget "$t" result.list.1.turnover24h)" '^[0-9]+\.[0-9]+$' "turnover24h, a decimal string"

k=$(bybit "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=3")
is "$(jget "$k" retCode)|$(jget "$k" result.symbol)" "0|BTCUSDT" "kline: retCode 0 and the symbol"
t0=$(jget "$k" result.list.0.0); t1=$(jget "$k" result.list.1.0); t2=$(jget "$k" result.list.2.0)
is "$((t0 - t1))|$((t1 - t2))" "60000|60000" "three rows, newest first"
like "$(jget "$k" result.list.0)" '^\["[0-9]+","[0-9.]+","[0-9.]+","[0-9.]+","[0-9.]+","[0-9.]+","[0-9.]+"\]$' \
  "[start, open, high, low, close, volume, turnover], all strings"
like "$(cat "$T/bybit.log")" "klines BTCUSDT 1 limit=3 rows=3 first=$t2 last=$t0" "each kline answer is logged"
k=$(bybit "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&start=$t2&end=$t1&limit=1000")
is "$(jget "$k" result.list.0.0)|$(jget "$k" result.list.1.0)|$(jget "$k" result.list.2)" "$t1|$t2|<none>" \
  "start and end bound the rows"
is "$(jget "$(bybit "/v5/market/kline?category=linear&symbol=NOPE&interval=1")" retCode)" 10001 "an unknown symbol: 10001"
is "$(jget "$(bybit "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1m")" retCode)" 10001 "Binance's interval name: 10001"
is "$(jget "$(bybit "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=1001")" retCode)" 10001 "limit over 1000: 10001"
bybit "/control/rest_fail?value=1&code=10006" >/dev/null
r=$(bybit "/v5/market/tickers?category=linear")
is "$(jget "$r" retCode)|$(jget "$r" retMsg)" "10006|Too many visits!" "a refusal on command: 10006"

sleep 5.1   # a fresh 5 s window
# (one curl for all 42, on one connection: well inside the 5 s window even on a busy machine)
urls=(); for i in $(seq 1 42); do urls+=(-o /dev/null "$BYBIT/v5/market/tickers?category=linear"); done
codes=$(curl -s -w '%{http_code}\n' "${urls[@]}" | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')
is "$codes" "200:40 403:2 " "over 40 requests in 5 s (--ip-limit): 403"
is "$(bybit "/v5/market/tickers?category=linear")" "403, access too frequent" "the 403 says access too frequent"
sleep 2.2
is "$(jget "$(bybit "/v5/market/tickers?category=linear")" retCode)" 0 "served again once the ban (--ban-s) is over"

# ---- WebSocket ----
eleven=$(for i in 1 3 5 15 30 60 120 240 360 720 D; do printf '"kline.%s.BTCUSDT",' "$i"; done)
out=$(ws_session 1.5 --ping-every 0.5 \
  "{\"req_id\":\"1\",\"op\":\"subscribe\",\"args\":[${eleven%,}]}" \
  '{"req_id":"2","op":"subscribe","args":["kline.1.BTCUSDT","kline.1m.ETHUSDT"]}' \
  '{"req_id":"3","op":"subscribe","args":["kline.1.BTCUSDT","kline.5.ETHUSDT"]}')
is "$(printf '%s\n' "$out" | head -1)" open "the linear stream opens"
like "$out" '< \{"success":false,"ret_msg":"args size >10","conn_id":"[^"]+","req_id":"1","op":"subscribe"\}' \
  "eleven topics in one request: refused, args size >10"
like "$out" '"success":false,"ret_msg":"Params Error","conn_id":"[^"]+","req_id":"2"' "a bad topic: Params Error"
like "$out" '< \{"success":true,"ret_msg":"","conn_id":"[^"]+","req_id":"3","op":"subscribe"\}' "a good request: acked, req_id echoed"
like "$out" '< \{"success":true,"ret_msg":"pong","conn_id":"[^"]+","req_id":"p1","op":"ping"\}' "a ping: linear's pong"
like "$out" '< \{"topic":"kline.5.ETHUSDT","data":\[\{"start":[0-9]+,"end":[0-9]+,"interval":"5","open":"[0-9.]+","close":"[0-9.]+","high":"[0-9.]+","low":"[0-9.]+","volume":"[0-9.]+","turnover":"[0-9.]+","confirm":false,"timestamp":[0-9]+\}\],"ts":[0-9]+,"type":"snapshot"\}' \
  "kline pushes in Bybit's layout"
unlike "$(printf '%s\n' "$out" | grep 'kline.1.ETHUSDT')" . "nothing of a refused request was taken"
is "$(printf '%s\n' "$out" | tail -1)" timeout "a client that pings stays connected"

out=$(ws_session 5 '{"req_id":"1","op":"subscribe","args":["kline.1.BTCUSDT"]}')
is "$(printf '%s\n' "$out" | tail -1)" eof "a client that never pings is cut off (--ping-window-s 3)"
like "$(bybit /control/stats)" '"kicked_ping":[1-9]' "and counted"

# a candle closing: the closed one and the new one in one push (--batch)
now=$(jget "$(bybit /control/stats)" market_ms)
bybit "/control/jump?value=$((60000 - now % 60000 - 4000))" >/dev/null   # 4 s before a minute ends
out=$(ws_session 6 --ping-every 1 '{"req_id":"1","op":"subscribe","args":["kline.1.BTCUSDT"]}')
like "$out" '"data":\[\{[^]]*"confirm":true[^]]*\},\{[^]]*"confirm":false' "--batch: a closed candle and the next in one data[]"

is "$(ws_session 1 | head -1)" open "(the stream path)"

# a connection's topics: at most 21,000 characters of "args"
stop_bybit
start_bybit --symbols 200 || fail "the stand-in starts with 200 symbols"
reqs=()
for s in $(seq 2 199); do
  a=""; for i in 1 3 5 15 30 60 120 240 360 720; do a="$a\"kline.$i.S$(printf %03d "$s")USDT\","; done
  reqs+=("{\"req_id\":\"$s\",\"op\":\"subscribe\",\"args\":[${a%,}]}")
done
out=$(ws_session 3 --ping-every 1 "${reqs[@]}")
acked=$(printf '%s\n' "$out" | grep -c '"success":true,"ret_msg":"",')
refused=$(printf '%s\n' "$out" | grep -c '"ret_msg":"args length over 21000"')
# (each topic "kline.N.SnnnUSDT" is 16 to 18 characters, 19 to 21 quoted with its comma)
[ "$acked" -ge 95 ] && [ "$acked" -le 110 ] && [ $((acked + refused)) -eq 198 ] &&
  pass "past 21,000 characters of topics a subscribe is refused ($acked acked, $refused refused)" ||
  fail "past 21,000 characters of topics a subscribe is refused" "$acked acked, $refused refused"
is "$(python3 tests/e2e/wsclient.py "ws://127.0.0.1:$BYBIT_PORT/v5/public/spot" 1 | cut -c1-7)" refused \
  "another category's stream is not served"
finish
