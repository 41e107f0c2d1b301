#!/usr/bin/env bash
# A rule's history = n against the stand-in exchange: the bot keeps more
# closed candles than exchange.history when a live rule reads more, fetches
# them at start-up, and fetches the older ones at once when a reload's
# rule asks for still more.
. tests/e2e/lib.bash

# logs "TAG SYMBOL n=#history" whenever the count it sees changes (state
# is the rule's memory per symbol and interval); a preset of it watches
# every pair (a rule is computed only where one does) and never fires
rule() {
  write_script rules/deep.lua "alerts.rule{ name = 'deep', history = $2, on = { 'forming' },
  value = function(candle, history, state)
    if state.n ~= #history then
      state.n = #history
      log.info('$1 %s %s n=%d oldest_open=%d', candle.symbol, candle.interval, #history,
               #history > 0 and history[#history].open_time or 0)
    end
  end }
  host.on_start(function()
    if #alerts.presets(1) == 0 then
      assert(alerts.save{ user_id = 1, name = 'watch', rule = 'deep', pairs = 'top', top_n = 10,
                          intervals = { '1m' }, threshold = 99 })
    end
  end)"
}

start_fake --symbols 2 || { fail "the stand-in starts"; finish; exit 1; }
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 10, intervals = { '1m' } }" "log = { level = 'info' }"
rule deep 25
start_bot || { fail "the bot starts"; finish; exit 1; }

wait_for 30 grep -qE 'deep [A-Z0-9]+ 1m n=25 ' "$T/log" \
  && pass "a rule reading 25 candles sees 25 at start-up (exchange.history is 10)" \
  || fail "a rule reading 25 candles sees 25 at start-up (exchange.history is 10)" "$(grep -E 'deep|history|rules' "$T/log" | tail -5)"
like "$(cat "$T/log")" "26 closed candles are kept per pair and timeframe \\(was 10\\)" \
  "the store grew at go-live, saying so"
bad=$(grep -E 'deep [A-Z0-9]+ 1m n=' "$T/log" | grep -vE 'n=(0|25) ' | head -1)
is "$bad" "" "never more than the rule's n"
# the oldest candle it sees is 25 minutes before the newest closed one
oldest=$(grep -oE 'deep [A-Z0-9]+ 1m n=25 oldest_open=[0-9]+' "$T/log" | head -1 | sed 's/.*=//')
now_ms=$(json_num "$(fake /control/stats)" market_ms)
age=$(( (now_ms - oldest) / 60000 ))
[ "$age" -ge 25 ] && [ "$age" -le 28 ] && pass "the oldest is about 25 minutes old ($age)" \
  || fail "the oldest is about 25 minutes old" "$age minutes"

rule deeper 40
wait_for 20 grep -qE 'deeper [A-Z0-9]+ 1m n=40 ' "$T/log" \
  && pass "after a reload raising history to 40, the older candles are fetched at once" \
  || fail "after a reload raising history to 40, the older candles are fetched at once" "$(grep -E 'deep|fetching' "$T/log" | tail -5)"
like "$(cat "$T/log")" "fetching 41 closed candles per stream for the rules \\(had 26\\)" "saying so"
for s in $(grep -oE 'deeper [A-Z0-9]+ 1m n=40' "$T/log" | awk '{print $2}' | sort -u); do n=$((${n:-0} + 1)); done
is "${n:-0}" 2 "for both pairs"
stop_bot

# A reload right after start-up, while the connections are still being
# subscribed: the older candles are fetched all the same.
rule deep 25
start_bot || { fail "the bot starts again"; finish; exit 1; }
rule early 60
wait_for 20 grep -qE 'early [A-Z0-9]+ 1m n=60 ' "$T/log" \
  && pass "a reload raising history during start-up gets its older candles too" \
  || fail "a reload raising history during start-up gets its older candles too" "$(grep -E 'deep|early|fetching|kept' "$T/log" | tail -6)"
stop_bot
finish
