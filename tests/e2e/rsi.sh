#!/usr/bin/env bash
# RSI alerts end to end, through the real binary and both stand-ins: a user
# picks "RSI(14)" in /preset, level 70, up, at the close.  The stand-in
# exchange (40 synthetic symbols, 60x) falls steadily, so RSI stays low;
# every stream's history is fetched at the store's depth (exchange.history
# is 30), and the one series the preset's rule reads once more, as deep as
# RSI needs, without going over the stand-in's REST weight limit; RSI warms
# from it; then the price rises and the alert comes for the first candle
# whose RSI, recomputed here from the stand-in's closes (Wilder, seeded
# from the first row the bot was served), reaches 70, with that value.
# A SIGHUP reload that keeps the rule keeps the warm indicators: no history
# is fetched again, and the next crossing alerts at once, with the value
# of the same series.
. "$(dirname "$0")/lib.bash"
C=45
LIMIT=100   # the stand-in's REST weight a minute (Binance's 2400, scaled to 40 symbols)

start_fake --symbols 40 --speed 60 --volatility 0.2 --weight-limit $LIMIT \
  || { fail "the stand-in exchange starts"; finish; exit 1; }
# the market's clock a day back (the bot's own clock stays ahead of the
# exchange's, as with Binance), then five hours of a steady fall
fake "/control/jump?value=-86400000" >/dev/null
fake "/control/trend?value=-5" >/dev/null
fake "/control/jump?value=$((300 * 60000))" >/dev/null
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
# the candle-move rule and RSI's: the history is as deep as RSI(14) needs
find "$T/scripts/rules" -name '*.lua' ! -name move.lua ! -name rsi.lua -delete
# (test only: the shipped formatter, logging each RSI alert's value in full
# and its candle; and /rsi, what the bot holds now, through alerts.indicators)
mv "$T/scripts/lib/alertfmt.lua" "$T/scripts/lib/alertfmt_shipped.lua"
write_script lib/alertfmt.lua 'local shipped = require("alertfmt_shipped")
local M = setmetatable({}, { __index = shipped })
function M.format(a)
  if a.rule == "rsi" then
    log.info("rsi alert: open %d value %.17g", math.tointeger(a.candle.open_time), a.value)
  end
  return shipped.format(a)
end
return M'
write_script commands/rsiprobe.lua 'bot.command("rsi", "RSI now (test)", function(ctx)
  for _, i in ipairs(alerts.indicators("BTCUSDT", "1m")) do
    if i.name == "rsi(14)" then
      return ctx:reply(i.values and string.format("rsi(14) %.6f", i.values[1]) or "rsi(14) not warm")
    end
  end
  ctx:reply("rsi(14) not kept")
end)'
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 30, intervals = { '1m' }, rest_weight_limit = $LIMIT, late_alert_max = 1800 }" \
  "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
# (late_alert_max: 30 minutes of the market are 30 s here; a loaded
# machine's pause of a few seconds must not make a crossing old news.
# history: the candles a series takes again from the store when its
# history comes late, 30 s of this market)
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

ask say /preset >/dev/null
ask press preset:new >/dev/null
like "$(ask say 'RSI 70')" '^Which alert\?' "/preset asks which alert"
like "$(tg "/control/sent?chat=$C")" '"RSI\(14\)"' "RSI(14) is offered"
ask press preset:rule:rsi >/dev/null
ask press preset:pairs:list >/dev/null
ask say BTCUSDT >/dev/null
ask press preset:tf:1m >/dev/null
like "$(ask press preset:tf:done)" '^At which RSI level\?' "the rule's own question for the level"
ask say 70 >/dev/null
ask press preset:dir:up >/dev/null
like "$(ask press preset:trig:close)" 'Save it\?' "then the summary"
ask press preset:save >/dev/null
said $C '^Saved RSI 70' 10 && pass "the preset is saved" || fail "the preset is saved" "$(tg_texts $C | tail -2)"
saved_ms=$(market_ms)

# warm before the rise: the bot holds an RSI, and it is low
rsi_now() { ask say /rsi | grep -o 'rsi(14) .*'; }
warm() { rsi_now | grep -q '^rsi(14) [0-9]'; }
wait_for 20 warm && pass "RSI(14) is warm from the history ($(rsi_now))" \
  || fail "RSI(14) is warm from the history" "$(rsi_now)" "$(grep -E 'klines|history' "$T/log" | tail -5)"
# ten more minutes of the fall: no alert
quiet_to=$(( $(market_ms) + 10 * 60000 ))
wait_for 30 market_past $quiet_to
is "$(texts_matching $C 'RSI(14) crossed')" 0 "no RSI alert while the price falls"

# the rise
up_ms=$(market_ms)
fake "/control/trend?value=30" >/dev/null
said $C 'RSI(14) crossed above' 60 || fail "an RSI alert comes once the price rises" "$(tg_texts $C | tail -3)"
first=$(tg_texts $C | grep 'RSI(14) crossed above' | head -1)
like "$first" '^🟣 BTCUSDT 1m RSI\(14\) crossed above 70 → [0-9]+(\.[0-9]+)? \(closed\)' \
  "the alert reads: pair, timeframe, RSI(14) crossed above 70 → value (closed)"

# a reload that keeps the rule: the indicators stay warm (no history is
# fetched again), and the next crossing alerts
fetched=$(grep -c '^klines BTCUSDT 1m' "$T/fake.log")
kill -HUP "$BOT_PID"
wait_for 10 grep -q 'live (SIGHUP)' "$T/log" && pass "SIGHUP reloads" || fail "SIGHUP reloads"
reload_ms=$(market_ms)
fake "/control/trend?value=-30" >/dev/null
wait_for 30 market_past $(( reload_ms + 20 * 60000 ))
fake "/control/trend?value=30" >/dev/null
said_times $C 'RSI(14) crossed above' 2 60 \
  || fail "after the reload, the next crossing alerts" "$(tg_texts $C | tail -3)"
# every stream's history was fetched once at the store's depth (30 closed
# candles and the forming one: weight 1), and only BTCUSDT 1m, the series
# the rule reads, as deep as RSI needs (202 and the forming one: weight 2)
wait_for 70 grep -q 'history complete' "$T/log" || diag "$(grep history "$T/log")"
store=$(grep -c '^klines .* limit=31 weight=1' "$T/fake.log")
is "$store" 40 "every stream's history is fetched once, at the store's depth"
deep=$(grep '^klines .* limit=203 weight=2' "$T/fake.log" | cut -d' ' -f2,3 | sort | uniq -c | awk '{print $2, $3, $1}')
is "$deep" "BTCUSDT 1m 1" "only the series the rule reads is fetched as deep as RSI needs, once" \
  "$(grep -E ' warn | error ' "$T/log" | tail -5)"

stop_bot
is "$(grep -c '^klines BTCUSDT 1m' "$T/fake.log")" "$fetched" "no history was fetched again for the reload"

# the REST weight: under the stand-in's limit all along
stats=$(fake /control/stats)
is "$(json_num "$stats" rest_429)/$(json_num "$stats" rest_418)" 0/0 \
  "the bot's REST weight stayed under the stand-in's limit (no 429, no 418)"

# RSI recomputed from the stand-in's closes, seeded where the bot's series
# was: the first row of the last full history of BTCUSDT 1m it was served
# before the first alert
seed=$(grep '^klines BTCUSDT 1m' "$T/fake.log" | awk '{ split($6, r, "="); split($7, f, "=") }
         r[2] >= 203 { s = f[2] } END { print s }')
rows=""
for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do   # (the test's requests count as weight too)
  rows=$(fake "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=$seed&limit=1500")
  [[ $rows == *'"code"'* ]] || break
  sleep 5
done
# "OPEN RSI" per closed candle once RSI has a value
printf '%s' "$rows" | tr '[' '\n' | awk -F'"' 'NF > 8 { split($1, a, ","); print a[1], $8 }' >"$T/closes"
awk 'NR == 1 { prev = $2; next }
     { ch = $2 - prev; prev = $2; g = ch > 0 ? ch : 0; l = ch < 0 ? -ch : 0; n++
       if (n <= 14) { G += g; L += l; if (n < 14) next; G /= 14; L /= 14 }
       else { G = (G * 13 + g) / 14; L = (L * 13 + l) / 14 }
       r = (G + L > 0) ? 100 * G / (G + L) : 50; printf "%s %.17g\n", $1, r }' "$T/closes" >"$T/rsi"
grep 'rsi alert: open' "$T/log" | sed 's/.*open \([0-9]*\) value \([0-9.e+-]*\).*/\1 \2/' >"$T/alerts"
diag "seed $seed, $(wc -l <"$T/closes") closes; alerts (open value): $(tr '\n' ' ' <"$T/alerts")"
# the crossings a preset saved at saved_ms must alert: candles closed after
# it, RSI below 70 before and at or above 70 after; the alerts are those,
# in order, none missed and none before
crossings=$(awk -v from="$saved_ms" '{ if (prev != "" && $1 + 60000 > from && prev < 70 && $2 >= 70) print $1
                                        prev = $2 }' "$T/rsi")
got=$(cut -d' ' -f1 "$T/alerts")
is "$(printf '%s\n' "$got" | paste -sd' ')" "$(printf '%s\n' "$crossings" | head -n "$(printf '%s\n' "$got" | grep -c .)" | paste -sd' ')" \
  "the alerts are for the candles where RSI recomputed here crosses 70, and none before"
first_open=$(printf '%s\n' "$got" | head -1)
[ -n "$first_open" ] && [ "$first_open" -ge "$up_ms" ] && pass "the first crossing came with the rise" \
  || fail "the first crossing came with the rise" "alert at $first_open, rise from $up_ms"
after=$(printf '%s\n' "$got" | awk -v r="$reload_ms" '$1 >= r' | head -1)
[ -n "$after" ] && pass "the first crossing after the reload alerted (RSI was still warm)" \
  || fail "the first crossing after the reload alerted" "alerts at $(printf '%s ' $got), reload at $reload_ms"
# each alert's value is RSI recomputed here, to 1e-6 relative
while read -r open value; do
  want=$(awk -v o="$open" '$1 == o { print $2 }' "$T/rsi")
  is "$(awk -v a="$value" -v b="$want" 'BEGIN { d = a - b; d = d < 0 ? -d : d
        print (b != "" && d <= 1e-6 * b) ? "same" : a " vs " b }')" same \
    "the alert of the candle at $open has RSI $value, as recomputed"
done <"$T/alerts"
# and the alert says it: rounded to two places, at or above 70
shown=$(printf '%s\n' "$first" | sed -n 's/.*crossed above 70 → \([0-9.]*\) (closed).*/\1/p')
want=$(awk -v o="$(head -1 "$T/alerts" | cut -d' ' -f1)" '$1 == o { printf "%.2f", $2 }' "$T/rsi")
is "$(awk -v s="$shown" 'BEGIN { printf "%.2f", s }')" "$want" "the first alert shows that value ($shown)"
finish
