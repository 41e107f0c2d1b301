#!/usr/bin/env bash
# Gas alerts (issue 16) through the real binary, the stand-in Telegram and
# the stand-in gas oracle and node (tests/fakes/fake_gas): a user sets
# "fast below 10" with the buttons and a typed level; the fast lane crosses
# it: one alert, and none while it hovers around the level; after kill -9
# the alert and the 24 h history are still there and nothing is sent
# twice; back above and down again: a second alert, also when the bot is
# killed while that reading is on its way.  Etherscan refusing the
# key: the admins are told once, the RPC node takes over and /gas says so.
# The key never reaches the log; the bot stays within Etherscan's 3 calls
# a second.  (A poll every 15 s, the least gas.interval allows: ~3 min.)
. "$(dirname "$0")/lib.bash"
KEY=e2e-SECRET-gas-key-4f7c1a
A=4100   # the admin's chat
C=4101   # a user

start_gas --key "$KEY" --block-ms 0 || { fail "the stand-in gas oracle starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }" "admins = { $A }" \
  "gas = { enabled = true, interval = 15, timeout = 3, etherscan_url = '$GAS/v2/api', rpc_url = '$GAS/rpc' }"

# lanes FAST [N]: every lane moves with the fast one (standard = fast - 1, as
# /gas's 24 h line is the standard lane's), as N blocks (20: the node's
# eth_feeHistory window holds only these)
lanes() { perl -e 'my ($f, $n) = @ARGV; printf "{\"safe\":%s,\"propose\":%s,\"fast\":%s,\"base\":%s,\"blocks\":%d}",
  $f - 2, $f - 1, $f, $f - 2.5, $n' "$1" "${2:-20}"; }
set_fast() { gas_post /control/series "$(lanes "$1")" >/dev/null; }
stat() { jget "$(curl -s --max-time 5 "$GAS/control/stats")" "$1"; }
stat_at_least() { [ "$(stat "$1")" -ge "$2" ]; }
# after_polls N: waits until N more readings were asked of Etherscan since now
# (counted from now: a call answered before a change made now does not count)
after_polls() { local n; n=$(stat etherscan.calls); wait_slow $((20 * $1 + 10)) stat_at_least etherscan.calls $((n + $1)); }
# wait_slow SECONDS COMMAND...: as wait_for, but asking every 0.5 s (the bot
# polls every 15 s: no need to spend the shared cores on curl and perl)
wait_slow() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ "$SECONDS" -lt "$end" ] || return 1; sleep 0.5; done
}
alerts() { texts_matching $C 'Gas: Fast below 10 gwei'; }
# low_of: the day's low (of the standard lane, and when) in the /gas text on stdin
low_of() { grep -o '24 h, standard: low [0-9.]* at [0-9:]*'; }

# start_gas_bot: the bot, with the key in the environment
start_gas_bot() { ETHERSCAN_API_KEY=$KEY start_bot; }

set_fast 12
start_gas_bot || { finish; exit 1; }
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }
wait_slow 30 stat_at_least etherscan.ok 1 || fail "the bot reads Etherscan" "$(tail -5 "$T/log")"

# ---- /gas and a new alert through the buttons ----
like "$(ask say /gas)" 'Fast 12 · Base fee 9.5 gwei.*From Etherscan, block [0-9]+' "/gas shows the lanes and the source"
like "$(ask press gasalert:new)" '^Which gas price' "➕ New alert asks the lane"
like "$(ask press gasalert:lane:fast)" '^Alert when Fast gas goes' "then below or above"
like "$(ask press gasalert:dir:below)" '^Fast below how many gwei\? It is 12 now' "then the level, saying the lane now"
like "$(ask say 'ten')" '^Send the level in gwei as a number' "a level that is no number: a sentence saying what to send"
like "$(ask say '10')" 'Fast below 10 gwei. At most one alert per how long' "a typed level, then the quiet period"
like "$(ask press gasalert:quiet:0)" '^Saved: Fast below 10 gwei\. You are told when it crosses' "saved, armed"
is "$(alerts)" 0 "(no alert yet: fast is 12)"

# ---- a crossing: one alert; hovering: no more ----
set_fast 9.37
wait_slow 45 shows $C 'Gas: Fast below 10 gwei' && pass "the fast lane crossing 10 sends an alert" \
  || fail "an alert on the crossing" "$(tg_texts $C | tail -3)"
like "$(tg_texts $C | grep 'Gas: Fast below 10 gwei' | head -1)" 'Fast is 9\.37 gwei now.*From Etherscan' \
  "saying the lane's value and the source"
gas_post /control/script '{"steps":['"$(lanes 10.2),$(lanes 9.8),$(lanes 10.3)"'],"advance":"call"}' >/dev/null
after_polls 4 || fail "the bot keeps polling" "$(stat etherscan)"
is "$(alerts)" 1 "hovering around the level (10.2, 9.8, 10.3: never past 10.5) sends no more"

# ---- kill -9 and restart: the alert and the history are still there ----
before=$(ask say /gas | low_of)
kill_bot; cat "$T/log" >> "$T/logs"   # (start_bot starts a new log)
set_fast 10.4   # (still within the margin; above every reading so far)
start_gas_bot || { finish; exit 1; }
after_polls 1 || fail "the restarted bot polls" "$(tail -5 "$T/log")"
sleep 1   # (the reading is in memory before /gas reads it)
now=$(ask say /gas)
like "$now" 'Standard 9\.4 ·' "/gas after the restart shows the new reading"
like "$before" 'low [0-9.]+ at' "(the low before the kill: $before)"
is "$(printf '%s' "$now" | low_of)" "$before" "after kill -9, /gas shows the same 24 h low: the history was kept"
like "$(ask press gas:list)" 'Fast below 10 gwei' "and the alert is still there"
after_polls 1
is "$(alerts)" 1 "nothing was sent twice"

# ---- back above the margin, down again: a second alert, even with a
# kill -9 while the poll that reads it waits for its answers ----
set_fast 11
after_polls 1
faults=$(stat etherscan.faults)
gas_post /control/fault '{"source":"etherscan","kind":"delay","delay_ms":8000,"count":1}' >/dev/null
gas_post /control/fault '{"source":"rpc","kind":"delay","delay_ms":8000,"count":1}' >/dev/null
set_fast 9.4
wait_slow 30 stat_at_least etherscan.faults $((faults + 1)) || fail "the bot polls" "$(stat etherscan)"
kill_bot; cat "$T/log" >> "$T/logs"   # (start_bot starts a new log)
is "$(alerts)" 1 "(killed while the crossing reading was on its way: no alert yet)"
gas_post /control/fault '{"clear":true}' >/dev/null
start_gas_bot || { finish; exit 1; }
wait_slow 45 texts_at_least $C 'Gas: Fast below 10 gwei' 2 && pass "back above 10.5 and below 10 again: a second alert, after the restart" \
  || fail "a second alert" "$(tg_texts $C | tail -3)"
after_polls 1
is "$(alerts)" 2 "(and only one)"

# ---- Etherscan refuses the key: the admins are told once, the RPC node takes over ----
gas_post /control/fault '{"source":"etherscan","kind":"error","text":"Invalid API Key"}' >/dev/null
set_fast 9.6
wait_slow 45 shows $A 'Etherscan refuses the gas API key' && pass "Etherscan's Invalid API Key tells the admins" \
  || fail "the admins are told" "$(tg_texts $A)"
wait_slow 45 stat_at_least rpc.methods.eth_feeHistory 1 && pass "the RPC node is asked instead" \
  || fail "the RPC fallback" "$(stat rpc)"
after_polls 2
is "$(texts_matching $A 'refuses the gas API key')" 1 "the admins are told once, not at every poll"
like "$(ask say /gas)" 'Fast 9\.6 · .*From the RPC node' "/gas shows the node's lanes and names the source"
unlike "$(tg_texts $C)" 'Invalid API Key|refuses' "users are not told"
is "$(alerts)" 2 "a change of source sends no alert"

# ---- the key and the rate ----
m=$(get /metrics)
like "$m" 'gas_readings' "(/metrics has the gas scripts' metrics)"
unlike "$m" "$KEY" "the key is not in /metrics"
stop_bot && pass "the bot stops cleanly (status 0)" || fail "the bot stops cleanly" "$(tail -5 "$T/log")"
cat "$T/log" >> "$T/logs"
is "$(grep -c 'etherscan failed: Invalid API Key' "$T/log")" 1 "Etherscan's error is logged once, with its text"
is "$(grep -cF "$KEY" "$T/logs")" 0 "the key never appears in the bot's log (three runs)"
errs=$(grep -E ' error +scripts:' "$T/logs" | head -3)
[ -z "$errs" ] && pass "no script failed (three runs)" || fail "no script failed" "$errs"
is "$(stat etherscan.rate_limited)/$(stat etherscan.invalid_key)" "0/0" "Etherscan never refused the bot for its rate or key"
max=$(stat etherscan.max_per_s)
[ "$max" -le 3 ] && pass "the bot's calls stayed within 3 a second (at most $max)" || fail "within 3 calls a second" "$max"
finish
