#!/usr/bin/env bash
# candlewatch replay with the shipped indicator rules, on a real day of
# BTCUSDT 1m, against an independent computation from the CSV itself
# (python): rsi crossing 70 and ema_cross with chosen periods fire at
# exactly the candles where Wilder's RSI(14) and the two EMAs say, once
# each is warm (the book's warm-up: 202 candles for RSI(14), EMA(n):
# n + ln 1e-6 / ln(1 - 2/(n+1))); a setting the rule lacks is refused.
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
write_config
cp -r scripts/. "$T/scripts/"

# truth KIND ARGS: "time value" of each crossing, as replay prints them
truth() {
  python3 - "$CSV" "$@" <<'PY'
import csv, math, sys, time
path, kind = sys.argv[1], sys.argv[2]
rows = [r for r in csv.reader(open(path)) if r[0].isdigit()]
t = [int(r[0]) for r in rows]
c = [float(r[4]) for r in rows]
def ema(n):
    out, v, a = [None] * len(c), sum(c[:n]) / n, 2 / (n + 1)
    out[n - 1] = v
    for i in range(n, len(c)):
        v = a * c[i] + (1 - a) * v
        out[i] = v
    return out
def warm_ema(n):
    return n + int(math.floor(math.log(1e-6) / math.log1p(-2 / (n + 1)))) + 1
def rsi(n=14):
    out = [None] * len(c)
    g = sum(max(c[i] - c[i - 1], 0) for i in range(1, n + 1)) / n
    l = sum(max(c[i - 1] - c[i], 0) for i in range(1, n + 1)) / n
    out[n] = 100 - 100 / (1 + g / l)
    for i in range(n + 1, len(c)):
        d = c[i] - c[i - 1]
        g = (g * (n - 1) + max(d, 0)) / n
        l = (l * (n - 1) + max(-d, 0)) / n
        out[i] = 100 - 100 / (1 + g / l)
    return out
if kind == "rsi":
    level, v, warm = float(sys.argv[3]), rsi(), 202
else:
    fast, slow = int(sys.argv[3]), int(sys.argv[4])
    ef, es = ema(fast), ema(slow)
    warm, level = max(warm_ema(fast), warm_ema(slow)), 0.0
    v = [None if es[i] is None or ef[i] is None else (ef[i] - es[i]) / es[i] * 100
         for i in range(len(c))]
for i in range(warm, len(c)):   # (candle i + 1 is the warm-up's count: i - 1 is warm)
    if v[i - 1] < level <= v[i]:
        print(time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(t[i] // 1000)))
PY
}
replayed() {
  "$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "$1" 2>"$T/err" | awk '{print $1}'
}

want=$(truth rsi 70)
got=$(replayed "rule=rsi pairs=BTCUSDT intervals=1m threshold=70 direction=up trigger=close")
is "$([ "$(printf '%s' "$want" | grep -c .)" -ge 3 ] && echo yes)" yes "the day has RSI(14) crossings above 70 ($(printf '%s' "$want" | grep -c .))"
is "$got" "$want" "rsi: replay fires at exactly the crossings of Wilder's RSI(14)"
line=$("$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "rule=rsi pairs=BTCUSDT intervals=1m threshold=70 direction=up trigger=close" 2>/dev/null | head -1)
like "$line" "BTCUSDT 1m [0-9.]+ rsi up 70" "an alert line names the rule, its value and the level"

want=$(truth ema 7 25)
got=$(replayed "rule=ema_cross fast=7 slow=25 pairs=BTCUSDT intervals=1m threshold=0 direction=up trigger=close")
is "$([ "$(printf '%s' "$want" | grep -c .)" -ge 3 ] && echo yes)" yes "the day has EMA 7 / 25 crosses ($(printf '%s' "$want" | grep -c .))"
is "$got" "$want" "ema_cross fast=7 slow=25: replay fires at exactly the crossings of the two EMAs"

"$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "rule=ema_cross speed=3 threshold=0 direction=up" >/dev/null 2>"$T/err"
is "$?" 2 "a setting the rule lacks: exit status 2"
like "$(cat "$T/err")" 'unknown key "speed" \(.*fast, slow\)' "naming the key and the rule's settings"
"$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "rule=ema_cross fast=1 threshold=0 direction=up" >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "fast EMA's period is a number from 2 to 500" "a setting out of range: its range"
finish
