#!/usr/bin/env bash
# The /preset wizard with two rules live, through the real binary and the
# stand-in Telegram and exchange (BTCUSDT 1m of a real day, 60x): a user
# picks the level rule, is refused a threshold and a volume with a
# sentence, gets only that rule's directions, and the preset fires with
# alerts in the rule's words and unit; /status says the same.  And the
# pair list of the largest preset a config allows fits Telegram's messages.
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
C=43

start_fake --symbols 1 --replay "BTCUSDT=$CSV" --speed 60 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
write_script rules/price.lua 'alerts.rule{ name = "price", label = "Price", unit = "USDT", mode = "level",
  directions = { "up", "down" }, on = { "close" },
  threshold = { min = 0, max = 10000000, default = 20000, decimals = 2 },
  value = function(c) return c.close end }'
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

ask say /preset >/dev/null
ask press preset:new >/dev/null
like "$(ask say 'Above 1')" '^Which alert\?' "with two rules live, /preset asks which alert"
like "$(tg "/control/sent?chat=$C")" 'Candle move.*Price|Price.*Candle move' "the rules are offered by their labels"
ask press preset:rule:price >/dev/null
ask press preset:pairs:list >/dev/null
ask say BTCUSDT >/dev/null
ask press preset:tf:1m >/dev/null
like "$(ask press preset:tf:done)" '^Price: alert at which level\? Send a number from 0 USDT to 10000000 USDT' \
  "the threshold is asked in the rule's range and unit"
like "$(ask say 20000000)" 'Price goes from 0 USDT to 10000000 USDT; send a number in that range' \
  "a threshold out of the rule's range is refused with a sentence"
is "$(ask say '1 USDT')" 'Alert when it is…' "then the level rule's directions"
unlike "$(tg "/control/sent?chat=$C" | grep -o '"text":"[^"]*"' | tail -6)" 'Up or down' "no direction the rule lacks is offered"
like "$(ask press preset:dir:up)" 'Save it\?' "one trigger: not asked; then the summary"
like "$(ask press preset:ask:volume)" 'minimum volume in USDT' "whose button asks the minimum 24 h volume"
like "$(ask say lots)" '^Send the minimum 24 h volume in USDT as a number' "a volume that is not one is refused with a sentence"
like "$(ask press preset:vol:none)" 'Alert when Price is at or above 1 USDT, once the candle has closed' "the summary speaks the rule's words"
ask press preset:save >/dev/null
said $C '^Saved Above 1' 10 && pass "the preset is saved" || fail "the preset is saved" "$(tg_texts $C | tail -2)"
say $C /status   # (alerts may come first: the recording plays already)
said $C 'Above 1: BTCUSDT, 1m, Price at or above 1 USDT at the close' 10 && pass "/status says it in the rule's unit" \
  || fail "/status says it in the rule's unit" "$(tg_texts $C | grep -v BTCUSDT | tail -2)"

fake "/control/jump?value=$((290 * 60000))" >/dev/null
said $C 'BTCUSDT 1m Price' 40 || fail "alerts of the level rule arrive" "$(tg_texts $C | tail -5)"
stop_bot
alert=$(tg_texts $C | grep 'BTCUSDT 1m Price' | head -1)   # (one line: "\n" inside)
like "$alert" '^🟣 BTCUSDT 1m Price at or above 1 USDT → [0-9]+(\.[0-9]+)? USDT \(closed\)' \
  "an alert reads in the rule's words: pair, timeframe, label, level, value, unit"
# the value is the candle's close, as the rule says
# (the message may merge several alerts: the first alert's own close)
first=${alert%% · *}
close=${first##* → }
value=$(printf '%s\n' "$alert" | sed -n 's/^[^→]*→ \([0-9.]*\) USDT.*/\1/p')
is "$(awk -v a="$close" -v b="$value" 'BEGIN { print (a - b < 0.01 && b - a < 0.01) ? "same" : a " vs " b }')" same \
  "the value shown is the candle's close"

# the largest list a config may allow (alerts.save takes 1000 pairs): the
# pages stay within Telegram's 4096 characters and show every pair
printf 'return { limits = { pairs_per_preset = 1000 } }\n' > "$T/big.lua"
out=$("$CW_BIN" spec --config "$T/big.lua" tests/spec/wizard_spec.lua 2>&1)
like "$(printf '%s\n' "$out" | grep 'pair lists')" '^ok ' "1000 pairs: every one shown, in messages of 4096 characters at most"
unlike "$out" '^not ok' "the wizard's specs pass with that config too"
finish
