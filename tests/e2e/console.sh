#!/usr/bin/env bash
# candlewatch console: a scripted chat through the real scripts, with a
# replay running; it leaves at the end of input once the bot is done.
. "$(dirname "$0")/lib.bash"
cp -r scripts "$T/"
# the flow below makes a candle-move preset: with that rule alone, /preset
# skips "Which alert?" (the choice is wizard.sh's and wizard_spec's)
find "$T/scripts/rules" -name '*.lua' ! -name move.lua -delete
write_config
session='/start\n/preset\n2\nMine <b>\n1\n2\n7\n0.5\n1\n2\n1\n/preset\n/why BTCUSDT 1m\n'   # (1 is the demo preset)
printf "$session" > "$T/in"
# from a file, and through a pipe: both are scripted sessions
out=$(timeout 60 "$CW_BIN" console --config "$T/config.lua" \
        --replay tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv --speed max < "$T/in" 2>"$T/err"); rc=$?
is "$rc" 0 "a session read from a file ends by itself"
rm -f "$T"/bot.db*
out=$(printf "$session" | timeout 60 "$CW_BIN" console --config "$T/config.lua" \
        --replay tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv --speed max 2>"$T/err"); rc=$?
is "$rc" 0 "the console leaves by itself at the end of input"
like "$out" "bot: Hello, you!" "/start is answered"
like "$out" "\\[2\\] ➕ New preset" "buttons are shown numbered"
like "$out" "Which timeframes" "a number presses a button"
like "$out" "Saved Mine <b>\\. Alerts start now" "a preset is created through the flow, its name shown as typed"
like "$out" "\\[2\\] Mine <b>" "and listed"
like "$out" "BTCUSDT (1m|5m) [+-][0-9.]+%" "the replay's alerts for the demo preset are shown"
like "$out" "the replay has ended \\(1440 klines\\)" "the whole replay ran"
last=$(tail -1 tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv | cut -d, -f5 | sed 's/0*$//; s/\.$//')
like "$out" "bot: BTCUSDT 1m $last, the close of the 23:59 UTC candle" "/why answers with the price of the last kline"
unlike "$(cat "$T/err")" "error" "nothing went wrong on the way"
# a replay at real-ish speed does not keep the end of input (Ctrl-D) waiting
out=$(echo /help | timeout 20 "$CW_BIN" console --config "$T/config.lua" \
        --replay tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv --speed 1 2>/dev/null); rc=$?
is "$rc" 0 "with a timed replay, the end of input leaves at once"
like "$out" "/help - List the commands" "after answering"
finish
