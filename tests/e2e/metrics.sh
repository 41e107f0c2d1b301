#!/usr/bin/env bash
# GET /metrics with the real binary, the stand-in exchange and the stand-in
# Telegram: valid Prometheus text (every sample after its family's TYPE,
# counters named _total, label values quoted), the families the operator
# needs, values that move with what happened (frames, Bot API calls by
# method and result, the latency histograms), scripts' own metrics, and no
# bot token anywhere in it.
. "$(dirname "$0")/lib.bash"
C=77

start_fake --symbols 3 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
cat > "$T/scripts/commands/count.lua" <<'LUA'
local pings = metrics.counter("pings", "Pings answered.")
local last = metrics.gauge("last_ping_chat")
bot.command("ping", "answers pong", function(ctx)
  pings:inc()
  last:set(ctx.chat.id)
  ctx:reply("pong")
end)
LUA
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

say $C "/ping"
said $C 'pong' 10 || fail "/ping is answered"
# frames flowing, on a live connection
wait_for 30 sh -c "curl -s 'http://127.0.0.1:$PORT/metrics' | grep -q '^candlewatch_websocket_connections_live{venue=.binance_usdm.} [1-9]'" \
  && pass "live connections are shown" || fail "live connections are shown"

m=$(get /metrics)
is "$(status_of /metrics)" 200 "/metrics answers 200"
like "$(curl -s -i --max-time 5 "http://127.0.0.1:$PORT/metrics")" 'content-type: text/plain; version=0.0.4' \
  "in the Prometheus text format"

# the format: every line a comment or "name{labels} value"; a TYPE before
# each family's samples; counters end in _total; histograms have +Inf
bad=$(printf '%s\n' "$m" | awk '
  /^# TYPE / { type[$3] = $4; next }
  /^# HELP / { next }
  /^$/ { next }
  {
    if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eE]+(Inf|NaN)?$/) { print "bad line: " $0; next }
    name = $0; sub(/[{ ].*/, "", name)
    fam = name
    if (!(fam in type)) { sub(/_(bucket|sum|count)$/, "", fam) }
    if (!(fam in type)) { print "no TYPE for " name; next }
    if (type[fam] == "counter" && fam !~ /_total$/) print "counter without _total: " fam
  }')
is "$bad" "" "every line is valid exposition text"
for f in candlewatch_build_info candlewatch_start_time_seconds candlewatch_resident_memory_bytes \
         candlewatch_candle_messages_received_total candlewatch_candle_messages_dropped_total \
         candlewatch_candles_closed_total candlewatch_candles_backfilled_total \
         candlewatch_websocket_connections candlewatch_websocket_reconnects_total \
         candlewatch_rule_evaluations_total candlewatch_script_errors_total candlewatch_alerts_fired_total \
         candlewatch_alerts_sent_total candlewatch_telegram_requests_total \
         candlewatch_telegram_rate_limited_total candlewatch_telegram_queue_depth \
         candlewatch_telegram_queue_oldest_seconds candlewatch_update_reply_seconds \
         candlewatch_frame_alert_seconds candlewatch_sqlite_commit_seconds candlewatch_lua_memory_bytes \
         candlewatch_telegram_retracted_total candlewatch_admin_messages_total candlewatch_admin_emails_total \
         candlewatch_loop_turn_seconds candlewatch_loop_turn_max_seconds candlewatch_sqlite_commit_max_seconds; do
  printf '%s\n' "$m" | grep -q "^# TYPE $f " || fail "family $f is there"
done
pass "every family the operator needs is there"
like "$m" 'candlewatch_telegram_requests_total\{method="getUpdates",result="ok"\} [1-9]' "long polls are counted"
like "$m" 'candlewatch_telegram_requests_total\{method="sendMessage",result="ok"\} [1-9]' "sends are counted by method and result"
like "$m" 'candlewatch_update_reply_seconds_count [1-9]' "update-to-reply latency is observed"
like "$m" 'candlewatch_sqlite_commit_seconds_count [1-9]' "commits are timed"
like "$m" 'candlewatch_loop_turn_seconds_count [1-9]' "loop turns are timed"
like "$m" 'candlewatch_loop_turn_max_seconds [0-9.e-]*[1-9]' "the longest recent loop turn is shown"
like "$m" 'candlewatch_candle_messages_received_total [1-9]' "frames are counted"
like "$m" 'candlewatch_script_pings_total 1' "a script's counter is there, as it counted"
like "$m" "candlewatch_script_last_ping_chat $C" "a script's gauge is there, as it was set"
like "$m" 'candlewatch_lua_memory_bytes [1-9]' "Lua memory is shown"
unlike "$m" "$TG_TOKEN" "the bot token is not in /metrics"
unlike "$m" ' (NaN|[+-]?Inf)$' "no sample is NaN or infinite"

stop_bot
finish
