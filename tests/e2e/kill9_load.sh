#!/usr/bin/env bash
# kill -9 at random moments, 20 times in a row, under load: the stand-in
# exchange streams every symbol with alerts flowing to a chat, a user sends
# notes that the bot acknowledges only after saving them, and another
# builds presets through /preset, step by step, killed in mid-step.  After
# each kill the database passes its integrity check.  At the end: every
# acknowledged note is there exactly once (no update was handled twice);
# every preset the bot said it saved is there exactly once; every 1m candle
# that closed 0.1 % or more from its open (the stand-in's own klines)
# reached the alert chat, and every alert is such a candle; the alerts sent
# twice are counted (only the message in flight at each kill may be).
. "$(dirname "$0")/lib.bash"
U=31   # the user with notes
C=32   # the chat with alerts
P=33   # the user building presets
KILLS=${KILLS:-20}

start_fake --symbols 40 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
use_notes
cat > "$T/scripts/commands/kill9.lua" <<'LUA'
host.on_start(function()
  if #alerts.presets(32) == 0 then
    assert(alerts.save{ user_id = 32, chat_id = 32, name = "all", pairs = "top", top_n = 100,
                        intervals = { "1m" }, threshold = 0.1, trigger = "close" })
  end
end)
LUA
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 1 }"

# /preset, one step at a time: step K sends the K-th input of the flow
# that builds preset "pN" (N = K / 10 + 1)
STEPS=("say /preset" "press preset:new" "say p" "press preset:pairs:top100" "press preset:tf:1m"
       "press preset:tf:done" "say 0.5" "press preset:dir:both" "press preset:trig:close"
       "press preset:save")
step=0; step_before=""
send_step() {
  local what=${STEPS[step % 10]}
  step_before=$(sent_count $P)
  case $what in
    "say p") say $P "p$((step / 10 + 1))" ;;
    say*) say $P "${what#say }" ;;
    press*) press $P "${what#press }" ;;
  esac
  step=$((step + 1))
}
T0=$(( ($(market_ms) / 60000 + 1) * 60000 ))   # candles from the next minute on count
n=0; bad_integrity=0; unanswered=0
for k in $(seq 1 $KILLS); do
  start_bot || { fail "round $k: the bot starts"; break; }
  # the step a kill interrupted is answered after the restart
  if [ -n "$step_before" ]; then answered $P "$step_before" || unanswered=$((unanswered + 1)); fi
  send_step; answered $P "$step_before" || unanswered=$((unanswered + 1))
  # a few notes per round, some acknowledged before the kill, some not
  for j in 1 2 3; do
    n=$((n + 1))
    say $U "/note $n"
    sleep "0.$((RANDOM % 3))"
  done
  send_step   # killed while it is handled, or just after
  sleep "0.$((RANDOM % 9 + 1))"
  kill_bot
  "$DBCHECK" "$T/bot.db" | grep -q '^integrity: ok' || bad_integrity=$((bad_integrity + 1))
done
is "$bad_integrity" 0 "after each of $KILLS kills -9 the database passes its integrity check"

start_bot || { finish; exit 1; }
acked() { tg_texts $U | sed -n 's/^saved //p' | sort -un; }
# every note sent is eventually handled (the unhandled ones wait in
# Telegram's queue or the inbox), so wait for all of them
all_acked() { [ "$(acked | wc -l)" -ge "$n" ]; }
wait_for 60 all_acked || diag "acknowledged $(acked | wc -l) of $n"
say $U "/notes"
said $U '^notes:'
list=$(tg_texts $U | grep '^notes:' | tail -1 | sed 's/^notes: //' | tr ' ' '\n' | grep .)
missing=$(comm -23 <(acked) <(printf '%s\n' "$list" | sort -un) | tr '\n' ' ')
is "$missing" "" "every acknowledged note is kept"
is "$(printf '%s\n' "$list" | sort -n | uniq -d | tr '\n' ' ')" "" "no note was saved twice (no update handled twice)"
answered $P "$step_before" || unanswered=$((unanswered + 1))
is "$unanswered" 0 "every /preset step was answered, across the kills"
say $P "/mypresets"
said $P '^presets:'
saved=$(tg_texts $P | sed -n 's/^Saved \(p[0-9]*\)\. .*/\1/p' | sort | tr '\n' ' ')
have=$(tg_texts $P | grep '^presets:' | tail -1 | sed 's/^presets: //' | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
[ -n "$saved" ] && pass "presets were built through /preset during the kills ($saved)" \
  || fail "presets were built through /preset during the kills" "$(tg_texts $P | tail -3)"
is "$have" "$saved" "every preset the bot said it saved is there, once"

# alerts against the truth: candles that closed until a minute after the
# last start (their alerts have had time to go)
wait_for 90 market_past $(( ($(market_ms) / 60000 + 1) * 60000 + 5000 ))
T1=$(( $(market_ms) / 60000 * 60000 ))
wait_for 30 sh -c "curl -s http://127.0.0.1:$PORT/metrics | grep -q '^candlewatch_telegram_queue_depth 0$'"
truth=$(kline_moves "$T0" "$T1")
real=$(kline_moves "$((T0 - 600000))" "$((T1 + 60000))")
got=$(alert_moves $C | sort)
diag "candles that closed 0.1 % or more away: $(printf '%s\n' "$truth" | grep -c .); alerts: $(printf '%s\n' "$got" | grep -c .)"
[ "$(printf '%s\n' "$truth" | grep -c .)" -ge 10 ] || fail "enough candles to judge (10)" "$truth"
is "$(comm -23 <(printf '%s\n' "$truth") <(printf '%s\n' "$got" | sort -u) | tr '\n' ';')" "" \
  "no alert was lost: every candle that moved 0.1 % reached the chat"
is "$(comm -13 <(printf '%s\n' "$real") <(printf '%s\n' "$got" | sort -u) | tr '\n' ';')" "" \
  "and every alert is such a candle"
dup=$(printf '%s\n' "$got" | uniq -d | grep -c .)
diag "alerts sent twice across $KILLS kills: $dup"
[ "$dup" -le "$KILLS" ] && pass "at most the message in flight at each kill went out twice ($dup)" \
  || fail "at most one duplicate per kill" "$dup"
stop_bot
finish
