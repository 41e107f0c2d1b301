#!/usr/bin/env bash
# Alerts on Bybit's pairs end to end: the real binary on the Bybit stand-in
# (its clock 30x) beside the Binance one, and the stand-in Telegram; a user
# builds a preset of bybit:BTCUSDT through /preset; each 1m candle that
# closes 0.1 % or more from its open arrives, named bybit:BTCUSDT with
# Bybit's chart, and is the stand-in's own candle (checked against
# /v5/market/kline); Binance's BTCUSDT, moving too, sends nothing.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/bybit.bash"
C=42

start_bybit --symbols 2 --speed 30 || { fail "the Bybit stand-in starts"; finish; exit 1; }
start_fake --symbols 2 || { fail "the Binance stand-in starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }" \
  "bybit = { enabled = true, ws_url = '$BYBIT_WS', rest_url = '$BYBIT', intervals = { '1m' } }" \
  "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }
by_live() { [ "$(jget "$(get /health)" components.bybit.live)" = 1 ]; }
wait_for 30 by_live || fail "the Bybit feed is live" "$(get /health)"

step() {
  local before; before=$(sent_count $C)
  "$1" $C "$2"
  answered $C "$before" 10
  sleep 0.2
}
step say /preset; step press preset:new; step say "Bybit BTC"
step press preset:pairs:list; step say "bybit:btc"
step press preset:tf:1m; step press preset:tf:done; step say 0.1; step press preset:dir:both
step press preset:trig:close; step press preset:save
like "$(tg_texts $C | grep '^Saved' | tail -1)" 'Saved' "a preset of bybit:BTCUSDT is built through /preset"

said_times $C 'bybit:BTCUSDT 1m' 2 60 && pass "alerts on bybit:BTCUSDT arrive" \
  || fail "alerts on bybit:BTCUSDT arrive" "$(tg_texts $C | tail -5)"
stop_bot
texts=$(tg_texts $C)
unlike "$(printf '%s\n' "$texts" | grep -v 'bybit:BTCUSDT' | grep 'BTCUSDT 1m')" . "Binance's BTCUSDT, not in the preset, sends nothing"
like "$(tg "/control/sent?chat=$C")" 'https://www.bybit.com/trade/usdt/BTCUSDT' "the chart link is Bybit's"
# every alert's "O → C" is a closed 1m candle of the stand-in that moved 0.1 % or more
k=$(bybit "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=1000")
truth=$(printf '%s' "$k" | perl -MJSON::PP -0ne 'for my $r (@{decode_json($_)->{result}{list}}) {
  my $m = abs(($r->[4] - $r->[1]) / $r->[1] * 100); print 0 + $r->[1], " ", 0 + $r->[4], "\n" if $m >= 0.1 }')
pairs=$(printf '%s\n' "$texts" | grep -o '[0-9.]* → [0-9.]*' | sed 's/ → / /' | perl -lane 'print 0 + $F[0], " ", 0 + $F[1]')
n=$(printf '%s\n' "$pairs" | grep -c .)
missing=$(printf '%s\n' "$pairs" | while read -r o c; do printf '%s\n' "$truth" | grep -qx "$o $c" || echo "$o $c"; done)
is "$missing" "" "each of the $n alerts is one of the stand-in's candles that moved 0.1 % or more"
finish
