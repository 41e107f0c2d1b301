#!/usr/bin/env bash
# Exchange and Telegram faults in one run, while alerts flow and a user
# saves notes: the exchange drops its connections, stalls, sends garbage,
# refuses REST with 429 (at start) and skips a whole day; Telegram answers 429 storms
# and 5xx, hangs, and a user blocks the bot.  /health says so while it lasts
# and is ok after.  Nothing is lost: every 1m candle that closed 0.1 % or
# more from its open (the stand-in's own klines) reached the chat exactly
# once, except those inside the skipped day (history, not news); every
# acknowledged note is kept; and the bot kept to both services' limits (no
# 429 or 418 of its own making, never over Telegram's rates, no
# subscription flood).
. "$(dirname "$0")/lib.bash"
C=61   # the chat with alerts
B=62   # a chat that blocks the bot
U=63   # a user with notes

start_fake --symbols 16 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
use_notes
cat > "$T/scripts/commands/faults.lua" <<'LUA'
host.on_start(function()
  for _, chat in ipairs({ 61, 62 }) do
    if #alerts.presets(chat) == 0 then
      assert(alerts.save{ user_id = chat, chat_id = chat, name = "all", pairs = "top", top_n = 100,
                          intervals = { "1m" }, threshold = 0.1, trigger = "close" })
    end
  end
end)
LUA
# the exchange answers the first REST requests with 429 (the bot's history
# loading at start meets them)
fake "/control/rest_fail?value=4&status=429&retry_after=2" >/dev/null
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' }, stale_after = 3 }" \
  "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 1 }"
start_bot || { finish; exit 1; }
START_MS=$(market_ms)
status() { get /health | grep -o '"status":"[a-z]*"' | head -1 | cut -d'"' -f4; }
wait_for 30 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '^{\"status\":\"ok\"'" \
  || fail "the bot is healthy before the faults" "$(get /health)"
T0=$(( ($(market_ms) / 60000 + 1) * 60000 ))   # candles from the next minute on count
note=0
say_note() { note=$((note + 1)); say $U "/note $note"; }
# a whole minute of candles closes before the faults
wait_for 90 market_past $((T0 + 63000))
said $C 'USDT 1m' 30 || diag "no alert before the faults"
say_note

# ---- the faults, all at once ----
tg_post /control/block "{\"chat\":$B}" >/dev/null
tg_post /control/fail '{"status":429,"retry_after":3,"count":6,"method":"sendMessage"}' >/dev/null
tg_post /control/fail '{"status":502,"count":6}' >/dev/null
tg_post /control/fail '{"hang":true,"count":2}' >/dev/null
fake "/control/malformed?value=200" >/dev/null
fake /control/drop >/dev/null
say_note
seen=""; tg_seen=""
for i in $(seq 1 16); do
  seen="$seen $(status)"
  tg_seen="$tg_seen $(get /health | grep -o '"telegram":{"status":"[a-z]*"' | cut -d'"' -f6)"
  sleep 0.5
done
like "$tg_seen" 'degraded' "Telegram's part of /health was degraded during its 429s and 5xx"
fake "/control/stall?value=8" >/dev/null
for i in $(seq 1 16); do seen="$seen $(status)"; sleep 0.5; done
say_note
# a day without data (a long outage): the bot repairs its history, and
# what closed meanwhile is history, not news
JUMP_FROM=$(market_ms)
fake "/control/jump?value=86400000" >/dev/null
JUMP_TO=$(( JUMP_FROM + 86400000 ))
for i in $(seq 1 10); do seen="$seen $(status)"; sleep 0.5; done
like "$seen" 'degraded|failing' "/health was not ok while the faults lasted ($(printf '%s\n' $seen | sort | uniq -c | tr -s ' \n' ' '))"
unlike "$(get /health)" 'ok","reason":"' "(a reason is given for what is not ok)"

tg_post /control/fail '{"clear":true}' >/dev/null
wait_for 90 sh -c "curl -s http://127.0.0.1:$PORT/health | grep -q '^{\"status\":\"ok\"'" \
  && pass "/health is ok again once the faults are over" || fail "/health recovers" "$(get /health)"
say_note

# calm until two candles closed after the jump, then everything sent
wait_for 180 market_past $(( (JUMP_TO / 60000 + 2) * 60000 + 3000 ))
T1=$(( $(market_ms) / 60000 * 60000 ))   # candles closed before this minute
sleep 5
wait_for 60 sh -c "curl -s http://127.0.0.1:$PORT/metrics | grep -q '^candlewatch_telegram_queue_depth 0$'" \
  || diag "the queue did not drain: $(get /metrics | grep queue_depth)"

# ---- nothing lost ----
truth=$( { kline_moves "$T0" "$JUMP_FROM"; kline_moves "$JUMP_TO" "$T1"; } | sort -u)
# (any candle of the run, the ones around the start and the gap included:
# a candle that closed within exchange.late_alert_max (120 s) before the
# jump's end is news, as the bot's history request after the gap may bring
# it in that time)
real=$( { kline_moves "$((START_MS - 600000))" "$((JUMP_FROM + 60000))"
          kline_moves "$((JUMP_TO - 180000))" "$((T1 + 60000))"; } | sort -u)
got=$(alert_moves $C | sort)
missing=$(comm -23 <(printf '%s\n' "$truth") <(printf '%s\n' "$got" | sort -u))
bogus=$(comm -13 <(printf '%s\n' "$real") <(printf '%s\n' "$got" | sort -u))
diag "candles that closed 0.1 % or more away, outside the gap: $(printf '%s\n' "$truth" | grep -c .); alerts delivered: $(printf '%s\n' "$got" | grep -c .)"
[ "$(printf '%s\n' "$truth" | grep -c .)" -ge 10 ] || fail "enough candles to judge (10)" "$truth"
is "$missing" "" "every candle that moved 0.1 % reached the chat, through all the faults"
is "$bogus" "" "and every alert is such a candle"
is "$(printf '%s\n' "$got" | uniq -d | grep -c .)" 0 "none reached it twice"
say $U "/notes"
said $U '^notes:'
acked=$(tg_texts $U | sed -n 's/^saved //p' | sort -n | tr '\n' ' ')
kept=$(tg_texts $U | grep '^notes:' | tail -1 | sed 's/^notes: //' | tr ' ' '\n' | sort -n | tr '\n' ' ')
is "$kept" "$acked" "every acknowledged note is kept, once"
is "$(echo "$acked" | wc -w)" "$note" "and every note was acknowledged"

# ---- limits kept ----
stats=$(tg /control/stats)
is "$(json_num "$stats" rejected_429)" "$(( 6 ))" "Telegram's only 429s were the injected ones (none of the bot's making)"
[ "$(json_num "$stats" max_global_per_s)" -le 30 ] && pass "never over 30 messages a second" \
  || fail "never over 30 messages a second" "$(json_num "$stats" max_global_per_s)"
like "$(get /health)" '"blocked_chats":1' "the chat that blocked the bot is marked inactive"
fstats=$(fake /control/stats)
is "$(json_num "$fstats" rest_418)" 0 "no 418 from the exchange: the bot waited after each 429"
is "$(json_num "$fstats" kicked_rate)" 0 "never over the exchange's message rate"
like "$(get /health)" '"dropped":\{[^}]*[1-9]' "the garbage frames were dropped and counted"
h=$(get /health)
is "$(json_num "$h" history_done)" "$(json_num "$h" history_requests)" "the history was loaded in full after the 429s"
[ "$(json_num "$h" rest_429)" -ge 4 ] && pass "the bot met the 429s ($(json_num "$h" rest_429))" \
  || fail "the bot met the injected 429s" "$(json_num "$h" rest_429)"
stop_bot
finish
