#!/usr/bin/env bash
# candlewatch replay prints every message the alert engine sends, digests
# included: a chat's pause that ended (kept in the database with the
# alerts it held) comes out as one digest line, as the bot would send it.
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
echo "return { database = '$T/bot.db', exchange = { enabled = false } }" > "$T/config.lua"

"$CW_BIN" replay --config "$T/config.lua" "$CSV" >/dev/null 2>"$T/err"
is "$?" 0 "a first replay makes the database"
# chat 7 was paused until long ago, and 3 alerts were held meanwhile
sqlite3 "$T/bot.db" "INSERT INTO kv (scope, key, value, updated_at) VALUES ('alerts.pause', '7',
  '{\"until\":1,\"count\":3,\"lines\":[\"BTCUSDT 1m +0.53%\",\"BTCUSDT 5m -0.61%\"]}', 0)"
out=$("$CW_BIN" replay --config "$T/config.lua" "$CSV" 2>"$T/err"); rc=$?
is "$rc" 0 "the replay runs"
is "$(printf '%s\n' "$out" | grep -c '^digest chat 7: 3 held')" 1 "the ended pause's digest reaches the backtest's printer, once"
like "$out" "BTCUSDT 1m \\+0.53%, BTCUSDT 5m -0.61%, … and 1 more" "with the held alerts' lines"
is "$(sqlite3 "$T/bot.db" "SELECT count(*) FROM kv WHERE scope = 'alerts.pause'")" 0 "and the pause is over"
finish
