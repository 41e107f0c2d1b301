#!/usr/bin/env bash
# candlewatch replay and the data it is given: every row read exactly or
# reported as FILE:LINE (exit 2), files of several intervals in time order,
# candles with a missing last row, --preset values, and the files named.
. "$(dirname "$0")/lib.bash"
FIX=tests/fixtures/klines
BTC=$FIX/um_BTCUSDT-1m-2022-09-05.csv
PRESET="pairs=BTCUSDT intervals=1m threshold=0.15"

# replay FILE... : the alert lines in $out, messages in $T/err, the status in $rc
replay() { "$CW_BIN" replay "$@" >"$T/out" 2>"$T/err"; rc=$?; out=$(cat "$T/out"); }
replay "$BTC" --preset "$PRESET"; base=$out
[ "$(printf '%s\n' "$base" | grep -c .)" -ge 10 ] && pass "the plain file gives alerts to compare with" \
  || fail "the plain file gives alerts to compare with" "$base"

# --- rows that are not what they seem: refused, naming file and line
mkdir -p "$T/d"
bad() {   # NAME LINE SED-EXPRESSION EXPECTED-MESSAGE
  local f="$T/d/um_BTCUSDT-1m-2022-09-05.csv"
  sed "$3" "$BTC" > "$f"
  replay "$f" --preset "$PRESET"
  is "$rc" 2 "$1: refused (exit 2)"
  like "$(cat "$T/err")" "^candlewatch replay: $f:$2: $4" "$1: the message names the file, line $2 and what is wrong"
}
bad "a price N/A" 101 '101s/^\([0-9]*\),[^,]*,/\1,N\/A,/' 'open "N/A" is not a price'
bad "an empty price" 102 '102s/^\(\([^,]*,\)\{4\}\)[^,]*,/\1,/' 'close "" is not a price'
bad "a line of text" 50 '50i this line is not a kline' '"this line is not a kline" is not a kline row'
bad "a NUL line" 60 '60s/.*/\x00\x00\x00/' 'a NUL byte'
bad "a row cut short" 70 '70s/,[^,]*,[^,]*,[^,]*,[^,]*$//' '8 fields where the header has 12'
bad "a timestamp in the wrong unit" 80 '80s/^\([0-9]*\)000,/\1,/' 'open_time [0-9]+ is in seconds, the rows above in milliseconds'
bad "a row twice" 91 '90p' 'open_time [0-9]+ \(ms\) is not after the row above'
cp -r scripts "$T/"; write_config
out=$(: | timeout 60 "$CW_BIN" console --config "$T/config.lua" --replay "$T/d/um_BTCUSDT-1m-2022-09-05.csv" --speed max 2>&1); rc=$?
is "$rc" 2 "console --replay refuses the same file (exit 2)"
like "$out" "candlewatch console: $T/d/um_BTCUSDT-1m-2022-09-05.csv:91: " "naming its file and line"

# --- valid CSV in other shapes: the same alerts as the plain file
quoted="$T/q/um_BTCUSDT-1m-2022-09-05.csv"; mkdir -p "$T/q"
sed 's/[^,]*/"&"/g' "$BTC" > "$quoted"
replay "$quoted" --preset "$PRESET"
is "$out" "$base" "quoted fields: the same alerts"
is "$rc" 0 "and exit 0"
secs="$T/s/um_BTCUSDT-1m-2022-09-05.csv"; mkdir -p "$T/s"
awk -F, -v OFS=, '$1 ~ /^[0-9]/ { $1 = substr($1, 1, 10); $7 = substr($7, 1, 10) } 1' "$BTC" > "$secs"
replay "$secs" --preset "$PRESET"
is "$out" "$base" "times in seconds: the same alerts, on 2022-09-05"
# the header decides the columns: close first, open_time last, names spelled otherwise
reord="$T/r/um_BTCUSDT-1m-2022-09-05.csv"; mkdir -p "$T/r"
awk -F, -v OFS=, 'NR == 1 { print "Close,Open,High,Low,Volume,Quote Asset Volume,Number of Trades,Open Time"; next }
                  { print $5, $2, $3, $4, $6, $8, $9, $1 }' "$BTC" > "$reord"
replay "$reord" --preset "$PRESET"
is "$out" "$base" "a header with its columns reordered: the same alerts"

# --- files of several intervals over the same hours: in time order, the
# clock never ahead of the candle played, so nothing is "late"
# agg MS: the fixture's 1m rows as rows of MS milliseconds
agg() {
  awk -F, -v ms="$1" 'function out() { if (cur != "") printf "%.0f,%s,%s,%s,%s,%.3f,%.0f,%.5f,%d,0,0,0\n", cur, o, h, l, c, v, cur + ms - 1, q, n }
    NR == 1 { print; next }
    { b = int($1 / ms) * ms
      if (b != cur) { out(); cur = b; o = $2; h = $3; l = $4; v = q = n = 0 }
      if ($3 + 0 > h + 0) h = $3; if ($4 + 0 < l + 0) l = $4; c = $5; v += $6; q += $8; n += $9 }
    END { out() }' "$BTC"
}
mkdir -p "$T/m"
agg 300000 > "$T/m/um_BTCUSDT-5m-2022-09-05.csv"
agg 3600000 > "$T/m/um_BTCUSDT-1h-2022-09-05.csv"
replay "$BTC" "$T/m/um_BTCUSDT-1h-2022-09-05.csv" "$T/m/um_BTCUSDT-5m-2022-09-05.csv" --preset "$PRESET"
is "$out" "$base" "1m, 5m and 1h files of one day: the 1m alerts are the 1m file's alone"
like "$(cat "$T/err")" " 0 late," "none withheld as late"
for p in "intervals=5m threshold=0.3" "intervals=1h threshold=0.5"; do
  replay "$BTC" --preset "pairs=BTCUSDT $p"; alone=$out
  replay "$BTC" "$T/m/um_BTCUSDT-1h-2022-09-05.csv" "$T/m/um_BTCUSDT-5m-2022-09-05.csv" --preset "pairs=BTCUSDT $p"
  [ -n "$alone" ] && is "$out" "$alone" "$p: with the 5m and 1h files too, the alerts built from the 1m rows, once" \
    || fail "$p: the 1m file alone gives alerts"
done
# the ranking (top:N) counts those trades once: ETH, a copy of the day with
# 1.5 times BTC's quote volume, outranks BTC's 1m and 1h files together
awk -F, -v OFS=, 'NR > 1 { $8 = $8 * 1.5 } 1' "$BTC" > "$T/m/um_ETHUSDT-1m-2022-09-05.csv"
replay "$BTC" "$T/m/um_BTCUSDT-1h-2022-09-05.csv" "$T/m/um_ETHUSDT-1m-2022-09-05.csv" \
  --preset "pairs=top:1 intervals=1m threshold=0.15"
is "$(printf '%s\n' "$out" | awk '{print $2}' | sort -u)" "ETHUSDT" "top:1 is the pair with the most quote volume, a day counted once"

# --- a longer candle whose last row is missing closes when a later row arrives
ETH=$FIX/um_ETHUSDT-1h-2022-08-24.csv
gap="$T/g/um_ETHUSDT-1h-2022-08-24.csv"; mkdir -p "$T/g"
sed 5d "$ETH" > "$gap"   # 03:00: the 4 h candle of 00:00 lacks its last hour
want=$(awk -F, '$1 ~ /^[0-9]/ { b = int($1 / 14400000) * 14400000
         if (b != cur) { if (cur) emit(); cur = b; o = $2 } c = $5 }
       function emit() { m = (c - o) / o * 100; a = m < 0 ? -m : m
         if (a >= 0.1) printf "%s %+.2f%%\n", strftime("%Y-%m-%dT%H:%MZ", int(cur / 1000), 1), m }
       END { emit() }' "$gap")
replay "$gap" --preset "pairs=ETHUSDT intervals=4h threshold=0.1 trigger=close"
is "$(printf '%s\n' "$out" | awk '{print $1, $4}')" "$want" "4h candles closed from hourly rows, the one missing its last row too"
# --- --preset values and files that cannot be used: a message naming them (exit 2)
refused() {   # NAME ERE ARGS...
  local name=$1 want=$2; shift 2
  "$CW_BIN" replay "$@" >/dev/null 2>"$T/err"; rc=$?
  is "$rc" 2 "$name: refused (exit 2)"
  like "$(grep 'candlewatch replay' "$T/err")" "$want" "$name: the message says what is wrong"
}
refused "trigger=closed" 'trigger=closed: use forming or close' "$BTC" --preset "$PRESET trigger=closed"
refused "direction=Up" 'direction=Up: use both, up or down' "$BTC" --preset "$PRESET direction=Up"
refused "threshold=abc" 'threshold=abc is not a number' "$BTC" --preset "pairs=BTCUSDT threshold=abc"
refused "no threshold" 'give a threshold' "$BTC" --preset "pairs=BTCUSDT"
refused "pairs=top:x" 'pairs=top:x: N in top:N is a whole number' "$BTC" --preset "pairs=top:x threshold=1"
refused "intervals=1x" 'intervals: "1x" is not a timeframe' "$BTC" --preset "intervals=1x threshold=1"
refused "intervals=1d, not watched" 'intervals: 1d is not in the config.s exchange.intervals \(1m,5m,15m,30m,1h,4h\)' \
  "$BTC" --preset "intervals=1d threshold=1"
refused "--preset with no value" '--preset needs a value, like --preset "pairs=' "$BTC" --preset
refused "--speed with no value" '--speed needs a value' "$BTC" --speed
mkdir -p "$T/dir/um_BTCUSDT-1m-2022-09-05.csv"
refused "a directory named like a kline file" "$T/dir/um_BTCUSDT-1m-2022-09-05.csv: a directory; name the kline files in it" \
  "$T/dir/um_BTCUSDT-1m-2022-09-05.csv" --preset "$PRESET"
: > "$T/um_ETHUSDT-1m-2022-09-05.csv"
refused "an empty file next to a good one" "$T/um_ETHUSDT-1m-2022-09-05.csv: no klines in it \(it is empty\)" \
  "$BTC" "$T/um_ETHUSDT-1m-2022-09-05.csv" --preset "$PRESET"
head -1 "$BTC" > "$T/um_LTCUSDT-1m-2022-09-05.csv"
refused "a file with only a header" "um_LTCUSDT-1m-2022-09-05.csv: no klines in it \(only a header\)" \
  "$T/um_LTCUSDT-1m-2022-09-05.csv" "$BTC" --preset "$PRESET"
refused "the same file twice" "the candle opening at [0-9]+ \(ms\) is also in $BTC:2" "$BTC" "$BTC" --preset "$PRESET"
# --- prices shown with the decimals the file's prices carry (a spot file
# writes 1983.55000000: 8 written, 2 carried)
SPOT=$FIX/spot_ETHUSDT-1m-2022-08-14.csv
dp=$(awk -F, '{ for (i = 2; i <= 5; i++) { n = split($i, p, "."); d = p[2]; sub(/0+$/, "", d)
       if (length(d) > m) m = length(d) } } END { print m + 0 }' "$SPOT")
is "$dp" 2 "the spot file's prices carry 2 decimals"
prices=$(: | timeout 60 "$CW_BIN" console --config "$T/config.lua" --replay "$SPOT" --speed max 2>/dev/null |
         grep -o '[0-9.]* → [0-9.]* ·')
[ -n "$prices" ] && pass "the console shows the replay's alerts with their prices" || fail "the console shows the replay's alerts with their prices"
is "$(printf '%s\n' "$prices" | grep -Evc "^[0-9]+\.[0-9]{$dp} → [0-9]+\.[0-9]{$dp} ·$")" 0 \
   "every price in them has the $dp decimals the file's prices carry"
# --- a spot file from 2025 on (data.binance.vision writes microseconds
# there) replays as spot's pair: the same alerts, named spot:ETHUSDT
USPOT="$T/spot_ETHUSDT-1m-2025-01-01.csv"
awk -F, -v OFS=, -v CONVFMT=%.0f -v OFMT=%.0f '{ $1 = $1 * 1000 + 1735689600000000 - 1660435200000000; $7 = $7 * 1000 + 999 + 1735689600000000 - 1660435200000000; print }' "$SPOT" > "$USPOT"
replay "$SPOT" --preset "pairs=spot:ETHUSDT intervals=1m threshold=0.15"; ms_out=$out
is "$rc" 0 "a spot file replays (exit 0)"
like "$ms_out" "spot:ETHUSDT 1m" "its alerts name the spot pair"
replay "$USPOT" --preset "pairs=spot:ETHUSDT intervals=1m threshold=0.15"
is "$rc" 0 "a 2025 spot file in microseconds replays too" 
is "$(printf '%s\n' "$out" | grep -c 'spot:ETHUSDT')" "$(printf '%s\n' "$ms_out" | grep -c 'spot:ETHUSDT')" \
  "with as many alerts as the same rows in milliseconds"
replay "$SPOT" --preset "pairs=ETHUSDT intervals=1m threshold=0.15"
is "$rc" 2 "the plain name is Binance futures' pair, not in a spot replay (exit 2)"
# --- top N of a venue: top:spot:N (any case), as the store's "top:spot";
# top:N stays Binance futures' ranking, empty in a spot-only replay
replay "$SPOT" --preset "pairs=top:spot:5 intervals=1m threshold=0.15"
is "$rc" 0 "pairs=top:spot:5 replays a spot file (exit 0)"
is "$out" "$ms_out" "with the alerts of the spot pair named"
replay "$SPOT" --preset "pairs=top:Spot:5 intervals=1m threshold=0.15"
is "$out" "$ms_out" "the venue in any case"
replay "$SPOT" "$BTC" --preset "pairs=top:binance:5 intervals=1m threshold=0.15"
is "$(printf '%s\n' "$out" | awk '{print $2}' | sort -u)" "BTCUSDT" "top:binance:N is Binance futures' own top N beside spot's file"
replay "$SPOT" "$BTC" --preset "pairs=top:5 intervals=1m threshold=0.15"
is "$(printf '%s\n' "$out" | awk '{print $2}' | sort -u)" "BTCUSDT" "and so is top:N, as before"
refused "pairs=top:kraken:5" 'pairs=top:kraken:5: "kraken" is no venue' "$SPOT" --preset "pairs=top:kraken:5 threshold=1"
finish
