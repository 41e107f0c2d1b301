#!/usr/bin/env bash
# candlewatch replay --preset "rule=NAME ...": any live rule backtested on
# a real day of BTCUSDT 1m, against the truth computed from the CSV itself:
# the README's level rule (close vs its 20-candle average, using history)
# and its cross rule (the close crossing a price); an unknown rule refused.
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
write_config
cp -r scripts/. "$T/scripts/"
cp tests/spec/examples/rules/above_average.lua tests/spec/examples/rules/price_cross.lua "$T/scripts/rules/"

# truth: closes at least thr % above the average of the 20 closes before
# (summed newest first, as the rule does)
truth_avg() {
  awk -F, -v thr="$1" '$1 ~ /^[0-9]/ {
    if (n >= 20) {
      s = 0; for (j = n - 1; j >= n - 20; j--) s += c[j]
      a = s / 20; v = ($5 - a) / a * 100
      if (v >= thr) printf "%s %.2f%%\n", strftime("%Y-%m-%dT%H:%MZ", int($1 / 1000), 1), v
    }
    c[n++] = $5
  }' "$CSV"
}
# truth: closes at or above p whose previous close was below it
truth_cross() {
  awk -F, -v p="$1" '$1 ~ /^[0-9]/ {
    if (n++ && prev < p && $5 >= p) printf "%s %.8f\n", strftime("%Y-%m-%dT%H:%MZ", int($1 / 1000), 1), $5
    prev = $5
  }' "$CSV"
}
replayed() {
  "$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "$1" 2>"$T/err" | awk '{print $1, $4}'
}

near=$(awk -F, '$1 ~ /^[0-9]/ { if (n >= 20) { s = 0; for (j = n - 1; j >= n - 20; j--) s += c[j]
       v = ($5 - s / 20) / (s / 20) * 100; if (v > 0.2999 && v < 0.3001) k++ } c[n++] = $5 }
       END { print k + 0 }' "$CSV")
is "$near" 0 "no value of the fixture lies on the threshold's edge"
want_avg=$(truth_avg 0.3)
got=$(replayed "rule=above_average pairs=BTCUSDT intervals=1m threshold=0.3 direction=up trigger=close")
[ -n "$want_avg" ] && is "$got" "$want_avg" "the level rule fires exactly the $(printf '%s' "$want_avg" | grep -c .) closes the CSV says" \
  || fail "the level truth is not empty"
line=$("$CW_BIN" replay --config "$T/config.lua" "$CSV" \
       --preset "rule=above_average pairs=BTCUSDT intervals=1m threshold=0.3 direction=up" 2>/dev/null | head -1)
like "$line" "^[0-9T:-]+Z BTCUSDT 1m [0-9]+\\.[0-9]{2}% above_average up 0\\.30 chat 1: backtest$" \
  "each alert names the rule, its value and the level (the trigger: the rule's only one)"

out=$("$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "rule=nosuch threshold=1" 2>&1); rc=$?
is "$rc" 2 "an unknown rule is refused (exit 2)"
like "$out" 'rule=nosuch: there is no such rule' "naming it"
like "$out" 'the live rules are: .*move' "and listing the live ones"
like "$out" 'above_average' "(all of them)"
out=$("$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "rule=above_average direction=up" 2>&1); rc=$?
is "$rc" 2 "a rule's preset without a threshold is refused (exit 2)"
like "$out" 'give a threshold for above_average \(Close vs 20-candle average\): from -50 to 50 %' \
  "asking for it in the rule's words"
out=$("$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "rule=above_average threshold=1" 2>&1); rc=$?
is "$rc" 2 "a level rule's preset without a direction is refused (exit 2)"
like "$out" 'rule=above_average goes up or down: add direction=up or direction=down' "saying which to add"

# The database's presets: each line in its preset's rule's words.
"$CW_BIN" replay --config "$T/config.lua" "$CSV" >/dev/null 2>"$T/err"
sqlite3 "$T/bot.db" "INSERT INTO presets (id, user_id, chat_id, updated_ms, name, rule, pairs,
  symbols, intervals, threshold, direction, trigger) VALUES
  (1, 7, 7, 0, 'Moves', 'move', 'manual', 'BTCUSDT', '1m', 0.15, 'both', 'forming'),
  (2, 8, 8, 0, 'Breakout', 'above_average', 'manual', 'BTCUSDT', '1m', 0.3, 'up', 'close')"
out=$("$CW_BIN" replay --config "$T/config.lua" "$CSV" 2>"$T/err")
is "$(printf '%s\n' "$out" | grep ' chat 8: ' | awk '{print $1, $4}')" "$want_avg" \
  "a database preset of the level rule fires as the --preset did"
like "$(printf '%s\n' "$out" | grep ' chat 8: ' | head -1)" "1m [0-9.]+% above_average up 0\\.30 chat 8: Breakout$" \
  "its lines name the rule"
like "$(printf '%s\n' "$out" | grep ' chat 7: ' | head -1)" "1m [-+][0-9.]+% chat 7: Moves$" \
  "the move preset's lines stay as they were"

want=$(truth_cross 19800)
got=$(replayed "rule=price_cross pairs=BTCUSDT intervals=1m threshold=19800 direction=up")
name="the cross rule fires exactly the $(printf '%s' "$want" | grep -c .) up-crossings of 19800 the CSV says"
if [ -n "$want" ] && [ "$got" = "$want" ]; then pass "$name"; else fail "$name" "got $(printf '%s' "$got" | grep -c .) lines"; fi
finish
