#!/usr/bin/env bash
# candlewatch replay against the truth computed from the CSV itself: a real
# day of BTCUSDT 1m, presets on 1m and on 5m (built from the 1m rows).
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv

# The path a row's forming candle takes: open, low, high, close when it
# rose (close >= open), open, high, low, close when it fell.
PATH_AWK='function path(   up) { up = $5 + 0 >= $2 + 0
  p[1] = $2; p[2] = up ? $4 : $3; p[3] = up ? $3 : $4; p[4] = $5 }
function when(t) { return strftime("%Y-%m-%dT%H:%MZ", int(t / 1000), 1) }'
# truth: 1m candles whose |close - open| / open reaches the threshold
truth_1m_close() {
  awk -F, -v thr="$1" "$PATH_AWK"'
  $1 ~ /^[0-9]/ { m = ($5 - $2) / $2 * 100; a = m < 0 ? -m : m
    if (a >= thr) printf "%s %+.2f%%\n", when($1), m }' "$CSV"
}
# truth: 1m candles whose price reached the threshold anywhere on its path;
# the first price that did fires
truth_1m_forming() {
  awk -F, -v thr="$1" "$PATH_AWK"'
  $1 ~ /^[0-9]/ { path()
    for (i = 1; i <= 4; i++) { m = (p[i] - $2) / $2 * 100; a = m < 0 ? -m : m
      if (a >= thr) { printf "%s %+.2f%%\n", when($1), m; break } } }' "$CSV"
}
# truth: 5m candles (from 1m rows) whose price reached the threshold from
# the bucket open anywhere on the rows' paths; the first price that did fires
truth_5m_forming() {
  awk -F, -v thr="$1" "$PATH_AWK"'
  $1 ~ /^[0-9]/ { b = int($1 / 300000) * 300000; path()
    if (b != cur) { cur = b; open = $2; done = 0 }
    for (i = 1; i <= 4 && !done; i++) { m = (p[i] - open) / open * 100; a = m < 0 ? -m : m
      if (a >= thr) { done = 1; printf "%s %+.2f%%\n", when(b), m } } }' "$CSV"
}
# truth: 5m candles (from 1m rows) whose close is the threshold from their open
truth_5m_close() {
  awk -F, -v thr="$1" "$PATH_AWK"'
  function out() { m = (c - open) / open * 100; a = m < 0 ? -m : m
    if (a >= thr) printf "%s %+.2f%%\n", when(cur), m }
  $1 ~ /^[0-9]/ { b = int($1 / 300000) * 300000
    if (b != cur) { if (cur) out(); cur = b; open = $2 } c = $5 }
  END { out() }' "$CSV"
}
replayed() {
  "$CW_BIN" replay "$CSV" --preset "pairs=BTCUSDT intervals=$1 threshold=$2 direction=both ${3:-}" 2>"$T/err" |
    awk '{print $1, $4}'
}

# no move within a hair of a threshold: float and awk would be free to differ
near=$(awk -F, '$1 ~ /^[0-9]/ { b = int($1 / 300000) * 300000; if (b != cur) { cur = b; open = $2 }
       for (i = 2; i <= 5; i++) { m = ($i - $2) / $2 * 100; a = m < 0 ? -m : m
         if ((a > 0.1499 && a < 0.1501) || (a > 0.2499 && a < 0.2501)) n++
         m = ($i - open) / open * 100; a = m < 0 ? -m : m; if (a > 0.2999 && a < 0.3001) n++ } }
       END { print n + 0 }' "$CSV")
is "$near" 0 "no move of the fixture lies on a threshold's edge"

count() { printf '%s' "$1" | grep -c .; }
for thr in 0.25 0.15; do
  want=$(truth_1m_forming $thr); got=$(replayed 1m $thr)
  [ -n "$want" ] || fail "the 1m truth at $thr % is not empty"
  is "$got" "$want" "1m at $thr %, forming: the replay fires exactly the $(count "$want") candles whose path reached it"
  want=$(truth_1m_close $thr); got=$(replayed 1m $thr trigger=close)
  is "$got" "$want" "1m at $thr %, close: exactly the $(count "$want") candles whose close did"
done
[ "$(count "$(truth_1m_forming 0.15)")" -gt "$(count "$(truth_1m_close 0.15)")" ] &&
  pass "at 0.15 %, lows and highs reach the threshold on more candles than closes do" ||
  fail "at 0.15 %, lows and highs reach the threshold on more candles than closes do"
want=$(truth_5m_forming 0.3); got=$(replayed 5m 0.3)
[ -n "$want" ] && is "$got" "$want" "5m built from 1m at 0.3 %, forming: exactly the $(count "$want") candles the CSV says" \
  || fail "the 5m truth is not empty" "no 5m move reaches 0.3 %"
want=$(truth_5m_close 0.3); got=$(replayed 5m 0.3 trigger=close)
[ -n "$want" ] && is "$got" "$want" "5m built from 1m at 0.3 %, close: exactly the $(count "$want") candles the CSV says" \
  || fail "the 5m close truth is not empty" "no 5m close reaches 0.3 %"
like "$(cat "$T/err")" "replayed 1440 klines" "every row was replayed"

out=$("$CW_BIN" replay "$CSV" --preset "pairs=NOPEUSDT threshold=1" 2>&1); rc=$?
is "$rc" 2 "a preset naming a pair the files lack is refused (exit 2)"
like "$out" "Unknown pairs: NOPEUSDT" "naming it"
write_config   # (without --preset, the config's database: not one in the working directory)
out=$("$CW_BIN" replay --config "$T/config.lua" /nonexistent/BTCUSDT-1m-x.csv 2>&1); rc=$?
is "$rc" 2 "a missing file is refused (exit 2)"
like "$out" "cannot open" "saying so"
finish
