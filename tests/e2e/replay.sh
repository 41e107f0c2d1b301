#!/usr/bin/env bash
# candlewatch replay against the truth computed from the CSV itself: a real
# day of BTCUSDT 1m, presets on 1m and on 5m (built from the 1m rows).
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv

# truth: 1m candles whose |close - open| / open reaches the threshold
truth_1m() {
  awk -F, -v thr="$1" '$1 ~ /^[0-9]/ {
    m = ($5 - $2) / $2 * 100; a = m < 0 ? -m : m
    if (a >= thr) printf "%s %+.2f%%\n", strftime("%Y-%m-%dT%H:%MZ", int($1 / 1000), 1), m
  }' "$CSV"
}
# truth: 5m candles (from 1m rows) whose move from the bucket open reaches
# the threshold at any minute's close; the first minute that does fires
truth_5m() {
  awk -F, -v thr="$1" '$1 ~ /^[0-9]/ {
    b = int($1 / 300000) * 300000
    if (b != cur) { cur = b; open = $2; done = 0 }
    m = ($5 - open) / open * 100; a = m < 0 ? -m : m
    if (!done && a >= thr) { done = 1; printf "%s %+.2f%%\n", strftime("%Y-%m-%dT%H:%MZ", int(b / 1000), 1), m }
  }' "$CSV"
}
replayed() {
  "$CW_BIN" replay "$CSV" --preset "pairs=BTCUSDT intervals=$1 threshold=$2 direction=both" 2>"$T/err" |
    awk '{print $1, $4}'
}

# no move within a hair of a threshold: float and awk would be free to differ
near=$(awk -F, '$1 ~ /^[0-9]/ { m = ($5 - $2) / $2 * 100; a = m < 0 ? -m : m;
       if ((a > 0.1499 && a < 0.1501) || (a > 0.4999 && a < 0.5001)) n++ } END { print n + 0 }' "$CSV")
is "$near" 0 "no 1m move of the fixture lies on a threshold's edge"

for thr in 0.5 0.15; do
  want=$(truth_1m $thr); got=$(replayed 1m $thr)
  is "$got" "$want" "1m at $thr %: the replay fires exactly the $(printf '%s' "$want" | grep -c .) candles the CSV says"
done
want=$(truth_5m 0.3); got=$(replayed 5m 0.3)
[ -n "$want" ] && is "$got" "$want" "5m built from 1m at 0.3 %: exactly the $(printf '%s' "$want" | grep -c .) candles the CSV says" \
  || fail "the 5m truth is not empty" "no 5m move reaches 0.3 %"
like "$(cat "$T/err")" "replayed 1440 klines" "every row was replayed"

out=$("$CW_BIN" replay "$CSV" --preset "pairs=NOPEUSDT threshold=1" 2>&1); rc=$?
is "$rc" 2 "a preset naming a pair the files lack is refused (exit 2)"
like "$out" "Unknown pairs: NOPEUSDT" "naming it"
write_config   # (without --preset, the config's database: not one in the working directory)
out=$("$CW_BIN" replay --config "$T/config.lua" /nonexistent/BTCUSDT-1m-x.csv 2>&1); rc=$?
is "$rc" 2 "a missing file is refused (exit 2)"
like "$out" "cannot open" "saying so"
finish
