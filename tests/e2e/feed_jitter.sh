#!/usr/bin/env bash
# Reconnect jitter differs per process: two bots that lose the exchange
# together do not retry on the same schedule (rand() was never seeded, so
# every process backed off 0.8, 2.3, 3.4, 6.4 s ...).
. "$(dirname "$0")/lib.bash"

start_fake --symbols 2 || { fail "the stand-in starts"; finish; exit 1; }
# REST answers; the stream endpoint is a port nothing listens on
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:9/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }"
cp "$T/config.lua" "$T/config2.lua"
sed -i "s|$T/bot.db|$T/bot2.db|" "$T/config2.lua"
"$CW_BIN" run --config "$T/config2.lua" > "$T/log2" 2>&1 &
BOT2_PID=$!
start_bot || { fail "the bot starts"; kill "$BOT2_PID"; finish; exit 1; }
delays() { grep -o 'connection 1: reconnecting in [0-9.]* s' "$1" | head -3 | awk '{print $5}' | paste -sd' ' -; }
three() { [ "$(delays "$T/log" | wc -w)" -ge 3 ] && [ "$(delays "$T/log2" | wc -w)" -ge 3 ]; }
wait_for 30 three && pass "both bots back off from the missing exchange" \
  || fail "both bots back off from the missing exchange" "$(tail -3 "$T/log")" "$(tail -3 "$T/log2")"
a=$(delays "$T/log"); b=$(delays "$T/log2")
[ "$a" != "$b" ] && pass "on different schedules ($a / $b)" || fail "on different schedules" "both: $a"
kill -TERM "$BOT2_PID"; wait "$BOT2_PID"
stop_bot
finish
