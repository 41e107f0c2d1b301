#!/usr/bin/env bash
# candlewatch console: a scripted chat through the real scripts, with a
# replay running; it leaves at the end of input once the bot is done.  The
# demo's /gas (a simulated day) and its alert flow's first buttons; /chart's
# picture written to a file.
. "$(dirname "$0")/lib.bash"
cp -r scripts "$T/"
# the flow below makes a candle-move preset: with that rule alone, /preset
# skips "Which alert?" (the choice is wizard.sh's and wizard_spec's)
find "$T/scripts/rules" -name '*.lua' ! -name move.lua -delete
write_config
export TMPDIR="$T"   # (where the console writes /chart's pictures)
session='/start\n/preset\n2\nMine <b>\n1\n2\n7\n0.5\n1\n2\n1\n/preset\n/why BTCUSDT 1m\n/chart BTCUSDT 1m\n'   # (1 is the demo preset)
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
# /chart: the picture is written to a file, its path shown, then the caption
pic=$(printf '%s\n' "$out" | sed -n 's/^bot (picture \(.*\))$/\1/p' | head -1)
if [ -n "$pic" ] && [ "$(head -c 8 "$pic" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]; then
  pass "/chart writes its picture to a PNG file and shows the path"
else fail "/chart writes its picture to a PNG file and shows the path" "$out"; fi
like "$out" "bot: BTCUSDT 1m · $last · [+-][0-9.]+% over 120 candles" "and the caption"
unlike "$(cat "$T/err")" "error" "nothing went wrong on the way"
# /gas in the demo (`make run` without a token): the simulated day, then a
# button pressed by its number.  Typed through a FIFO, each line once the
# answer it needs is shown (a number presses the last message's buttons).
rm -f "$T"/bot.db*
write_config "gas = { enabled = true }"
mkfifo "$T/fifo"
exec 3<>"$T/fifo"   # (read-write: opening it does not wait for the reader)
"$CW_BIN" console --config "$T/config.lua" --replay tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv \
  --speed max < "$T/fifo" > "$T/gas.out" 2> "$T/gas.err" 3>&- &
con=$!
# a link planted where a picture might be written: never followed
echo "not to be overwritten" > "$T/victim"
for n in $(seq 1 60); do ln -s "$T/victim" "$T/candlewatch-console-$con-$n.png"; done
wait_for 30 grep -q "the replay has ended" "$T/gas.out"
wait_for 30 grep -q "gas readings and .* gas alerts loaded; polling a simulated series" "$T/gas.err"
echo /gas >&3
wait_for 30 grep -q "24 h to now" "$T/gas.out"
out=$(cat "$T/gas.out")
like "$out" "bot: ⛽ Gas on Ethereum at [0-9]{2}:[0-9]{2} UTC" "/gas answers in the demo"
like "$out" "Safe [0-9.]+ · Standard [0-9.]+ · Fast [0-9.]+ · Base fee [0-9.]+ gwei" "with the lanes"
like "$out" "24 h, standard: low [0-9.]+ at [0-9]{2}:[0-9]{2}, average [0-9.]+, high [0-9.]+ at [0-9]{2}:[0-9]{2}" \
  "the simulated day's low, average and high"
like "$out" "(▁|▂|▃|▄|▅|▆|▇|█){12,} \(24 h to now\)" "a sparkline of the day"
like "$out" "From a simulation \(console demo\)" "saying where the readings come from"
new=$(sed -n 's/.*\[\([0-9]*\)\] ➕ New alert.*/\1/p' "$T/gas.out" | tail -1)
like "$new" "^[0-9]+$" "a numbered New alert button"
echo "$new" >&3
wait_for 30 grep -q "Which gas price?" "$T/gas.out"
out=$(sed -n '/Which gas price?/,$p' "$T/gas.out")
like "$out" "Which gas price\?" "pressing it starts the alert flow"
like "$out" "\[[0-9]+\] Fast " "which offers the lanes as buttons"
fast=$(printf '%s\n' "$out" | sed -n 's/.*\[\([0-9]*\)\] Fast .*/\1/p' | tail -1)
echo "$fast" >&3
wait_for 30 grep -q "Alert when Fast gas goes" "$T/gas.out"
like "$(cat "$T/gas.out")" "Alert when Fast gas goes" "and a lane's button leads on to below or above"
echo "/chart BTCUSDT 1m" >&3
wait_for 30 grep -q "^bot (picture " "$T/gas.out"
pic=$(sed -n 's/^bot (picture \(.*\))$/\1/p' "$T/gas.out" | head -1)
is "$(cat "$T/victim")" "not to be overwritten" "a picture is never written through a planted link"
if [ -f "$pic" ] && [ ! -L "$pic" ] && [ "$(stat -c %a "$pic")" = 600 ]; then
  pass "but to a new file of its own, readable by its user only"
else fail "a picture's own file" "$pic: $(ls -l "$pic" 2>&1)"; fi
exec 3>&-   # the end of input: the console leaves
wait_for 30 sh -c "! kill -0 $con" || kill -9 "$con"   # (never a hung test)
wait "$con"; rc=$?
is "$rc" 0 "the console leaves at the end of input"
unlike "$(cat "$T/gas.err")" "error" "nothing went wrong on the way"

# a replay at real-ish speed does not keep the end of input (Ctrl-D) waiting
out=$(echo /help | timeout 20 "$CW_BIN" console --config "$T/config.lua" \
        --replay tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv --speed 1 2>/dev/null); rc=$?
is "$rc" 0 "with a timed replay, the end of input leaves at once"
like "$out" "/help - List the commands" "after answering"
finish
