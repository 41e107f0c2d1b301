#!/usr/bin/env bash
# /rate through the real binary, the stand-in Telegram and the stand-in
# rate sources (tests/fakes/fake_rates.c: Rapira, APILayer, open.er-api.com):
# the flow step by step and the one-line form, each sum checked against
# Python's decimal; the state across a kill -9; Rapira going down -> the
# last good rate with its age, the breaker open in /metrics; APILayer's key
# sent in its header and never in the log, /metrics or /health.
. "$(dirname "$0")/lib.bash"
C=71
KEY="k-e2e-5ecret-7731"

"$PWD/$CW_BUILD/tests/fakes/fake_rates" --port 0 --key "$KEY" > "$T/rates.log" 2>&1 &
RATES_PID=$!
trap 'kill $RATES_PID 2>/dev/null; cleanup' EXIT
wait_for 10 grep -q 'listening on port' "$T/rates.log" || { fail "the stand-in sources start"; finish; exit 1; }
RATES="http://127.0.0.1:$(grep -o 'port [0-9]*' "$T/rates.log" | awk '{print $2}')"
rates_post() { curl -s --max-time 5 -d "$2" "$RATES$1"; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }" \
  "rate = { enabled = true, rapira_url = '$RATES/open/market/rates',
            fiat_url = '$RATES/exchangerates_data/latest', fallback_url = '$RATES/v6/latest/USD',
            timeout = 2, ttl = 30, breaker_failures = 2, breaker_pause = 5 }"
rates_post /control/rates '{"ask":"95.2051","bid":"94.8949","fiat":{"RUB":"90.4512","THB":"32.0871"}}' >/dev/null
export APILAYER_KEY="$KEY"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

# (the stand-in Telegram's texts are without their tags)
# py EXPR: Python's decimal, independent of the bot (D = Decimal, U = ROUND_HALF_UP, W = ROUND_DOWN)
py() { python3 -c "from decimal import Decimal as D, ROUND_HALF_UP as U, ROUND_DOWN as W
q = lambda d, p, m: d.quantize(D(1).scaleb(-p), rounding=m)
print($1)"; }

wait_for 10 sh -c "curl -s '$RATES/control/stats' | grep -q '\"apilayer\":{\"calls\":[1-9]'" \
  || fail "the preloader asks the sources at start" "$(curl -s "$RATES/control/stats")"
like "$(ask say /rate)" '^What does the client give\?' "/rate asks what the client gives"
like "$(ask press rate:give:RUB)" 'What do they get\?' "then what they get"
like "$(ask press rate:get:USD)" 'margin in percent' "then the margin"
like "$(ask say 2,5%)" 'How much RUB' "then the amount"
r=$(ask say '10 000,50')
base=$(py "q(D('90.4512'), 2, U)")
final=$(py "q(q(D('90.4512'), 2, U) * D('102.5') / 100, 2, U)")
sum=$(py "'{:,}'.format(q(D('10000.50') / q(q(D('90.4512'), 2, U) * D('102.5') / 100, 2, U), 2, W)).replace(',', ' ')")
like "$r" "Base rate: $base RUB per USD \\(APILayer, [0-9]+ s old\\)" "the base rate from APILayer, with its age"
like "$r" "Final rate: $final RUB per USD" "the final rate, as Python's decimal makes it"
like "$r" "The client gets: $sum USD" "the sum, as Python's decimal makes it ($sum)"

# USDT -> THB through RUB: bid x THB / RUB
r=$(ask say '/rate 2 500 USDT THB 1.5')
base=$(py "q(D('94.8949') * D('32.0871') / D('90.4512'), 2, U)")
sum=$(py "'{:,}'.format(q(D(2500) * q(D('$base') * D('98.5') / 100, 2, U), 2, W)).replace(',', ' ')")
like "$r" "Base rate: $base THB per USDT \\(Rapira \\+ APILayer" "the one-line form's cross rate through RUB"
like "$r" "The client gets: $sum THB" "and its sum ($sum)"
like "$r" "Path: USDT → RUB \\(Rapira's bid\\) → THB" "the result names the cross path"

# a calculation survives a crash mid-way
ask say /rate >/dev/null; ask press rate:give:USDT >/dev/null; ask press rate:get:RUB >/dev/null; ask say 1 >/dev/null
kill_bot
start_bot || exit 1
r=$(ask say 100)
sum=$(py "'{:,}'.format(q(D(100) * q(q(D('94.8949'), 2, U) * 99 / 100, 2, U), 2, W)).replace(',', ' ')")
like "$r" "The client gets: $sum RUB" "after a kill -9 the calculation goes on where it was"

# Rapira goes down: the last good rate with its age; the breaker opens
rates_post /control/fault '{"source":"rapira","kind":"status","status":503}' >/dev/null
wait_for 45 sh -c "curl -s 'http://127.0.0.1:$PORT/metrics' | grep -q '^candlewatch_script_rate_rapira_breaker 2'" \
  && pass "Rapira failing: its breaker opens (/metrics)" \
  || fail "Rapira failing: its breaker opens (/metrics)" "$(get /metrics | grep rate_)"
r=$(ask say '/rate 1000 RUB USDT 0')
like "$r" "Base rate: $(py "q(D('95.2051'), 2, U)") RUB per USDT \\(Rapira, [0-9]+ s old; the source is not answering: its last rate\\)" \
  "the result still answers, from the last good rate, saying how old"
like "$(get /metrics)" 'candlewatch_script_rate_rapira_errors_total [1-9]' "the errors are counted"
like "$(get /metrics)" 'candlewatch_script_rate_apilayer_latency_seconds_count [1-9]' "each source's latency is a histogram"
like "$(get /metrics)" 'candlewatch_script_rate_cache_hits_total [1-9]' "cache hits are counted"
rates_post /control/fault '{"clear":true}' >/dev/null
wait_for 30 sh -c "curl -s 'http://127.0.0.1:$PORT/metrics' | grep -q '^candlewatch_script_rate_rapira_breaker 0'" \
  && pass "back: the breaker closes after its pause" || fail "back: the breaker closes after its pause"

# the key: in APILayer's header only, never in the log, /metrics or /health
like "$(curl -s "$RATES/control/stats")" '"apilayer":\{"calls":[1-9][0-9]*,"ok":[1-9]' "APILayer took the key (its header)"
like "$(curl -s "$RATES/control/stats")" '"key_in_query":0' "the key never in a URL"
unlike "$(get /metrics; get /health)" "$KEY" "the key is not in /metrics or /health"
stop_bot
unlike "$(cat "$T/log")" "$KEY" "the key is in no log line"
unlike "$(grep -i 'error' "$T/log" | grep -v 'rate: Rapira' )" 'rate' "no script error from /rate"

# the console demo (no token): /rate from the sample rates kept in scripts/lib/rate_recorded.lua
printf "return { database = '$T/demo.db', scripts = '$T/scripts', http = { listen = '127.0.0.1:0' },
  exchange = { enabled = false }, rate = { enabled = true } }\n" > "$T/demo.lua"
ask_rub=$(grep -o '"USDT/RUB"[^}]*"askPrice":[0-9.]*' scripts/lib/rate_recorded.lua | grep -o '[0-9.]*$')
out=$(printf '/rate 10 000 RUB USDT 2.5\n' | timeout 30 "$CW_BIN" console --config "$T/demo.lua" 2>"$T/demo.err")
sum=$(py "q(D(10000) / q(q(D('$ask_rub'), 2, U) * D('102.5') / 100, 2, U), 2, W)")
like "$out" "Base rate: $(py "q(D('$ask_rub'), 2, U)") RUB per USDT \\(Rapira sample" "the console demo answers /rate from the sample rates"
like "$out" "The client gets: $sum USDT" "with the sum Python's decimal gives ($sum)"
finish
