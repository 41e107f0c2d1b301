#!/usr/bin/env bash
# The other shipped indicator rules backtested on a real day of BTCUSDT
# 1m (trigger=close), against an independent computation from the CSV
# (python): macd_cross, macd_zero, atr_move, bb_break and volume_spike fire
# at exactly the candles their indicators say, from the candle their
# warm-up allows (MACD(12,26,9): 211 candles; ATR(14): 201, and the rule
# reads the ATR before the candle; Bollinger(20): 20; volume ratio: 21).
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
write_config
cp -r scripts/. "$T/scripts/"

# truth RULE THRESHOLD: the times of the candles that fire, and "edge" when
# a value lies within 1e-9 of the threshold (the comparison would be luck)
truth() {
  python3 - "$CSV" "$@" <<'PY'
import csv, sys, time
path, rule, thr = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = [r for r in csv.reader(open(path)) if r[0].isdigit()]
t = [int(r[0]) for r in rows]
o, h, l, c, v = ([float(r[k]) for r in rows] for k in (1, 2, 3, 4, 5))
N = len(c)
def ema(xs, n, first=0):
    out, a = [None] * N, 2 / (n + 1)
    x = sum(xs[first:first + n]) / n
    out[first + n - 1] = x
    for i in range(first + n, N):
        x = a * xs[i] + (1 - a) * x
        out[i] = x
    return out
def macd():
    e12, e26 = ema(c, 12), ema(c, 26)
    line = [None if e26[i] is None else e12[i] - e26[i] for i in range(N)]
    sig = ema([x or 0 for x in line], 9, 25)
    return line, sig
def atr(n=14):
    tr = [h[0] - l[0]] + [max(h[i] - l[i], abs(h[i] - c[i - 1]), abs(l[i] - c[i - 1]))
                          for i in range(1, N)]
    out, x = [None] * N, sum(tr[:n]) / n
    out[n - 1] = x
    for i in range(n, N):
        x = (x * (n - 1) + tr[i]) / n
        out[i] = x
    return out
val, warm, cross = [None] * N, 0, False
if rule in ("macd_cross", "macd_zero"):
    line, sig = macd()
    warm, cross = 210, True
    for i in range(33, N):
        val[i] = ((line[i] - sig[i]) if rule == "macd_cross" else line[i]) / c[i] * 100
elif rule == "atr_move":
    a = atr()
    warm = 201   # the ATR of the candles before, warm after 201 of them
    for i in range(14, N):
        val[i] = (c[i] - o[i]) / a[i - 1]
elif rule == "bb_break":
    warm = 19
    for i in range(19, N):
        w = c[i - 19:i + 1]
        m = sum(w) / 20
        sd = (sum((x - m) ** 2 for x in w) / 20) ** 0.5
        val[i] = (c[i] - m) / (2 * sd) if sd > 0 else None
elif rule == "volume_spike":
    warm = 20
    for i in range(20, N):
        val[i] = v[i] / (sum(v[i - 20:i]) / 20)
for i in range(warm, N):
    x = val[i]
    if x is None:
        continue
    if abs(x - thr) < 1e-9:
        print("edge")
    p = val[i - 1] if cross and i > warm else None
    if (x >= thr and (p is not None and p < thr)) if cross else x >= thr:
        print(time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(t[i] // 1000)))
PY
}
replayed() {
  "$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "rule=$1 pairs=BTCUSDT intervals=1m threshold=$2 direction=up trigger=close" 2>"$T/err" | awk '{print $1}'
}

for case in "macd_cross 0" "macd_zero 0" "atr_move 2" "bb_break 1" "volume_spike 3"; do
  set -- $case
  want=$(truth "$1" "$2")
  n=$(printf '%s' "$want" | grep -c .)
  unlike "$want" edge "$1: no value of the fixture lies on the threshold $2"
  is "$([ "$n" -ge 2 ] && echo yes)" yes "$1: the day has candles that fire ($n)"
  is "$(replayed "$1" "$2")" "$want" "$1 threshold=$2: replay fires at exactly those candles"
done

# rsi_signal needs 6h candles and 100 days of them: a generated series
# (a steep climb, a flat stretch, steady losses: RSI under 29 while EMA 50
# still rises), its truth computed the same way
SIX="$T/ADAUSDT-6h-gen.csv"
python3 - "$SIX" <<'PY'
import math, sys
t0, c = 1640995200000, []
with open(sys.argv[1], "w") as f:
    for k in range(1, 461):
        x = 50 + 2 * k + 0.5 * math.sin(k) if k <= 400 else (c[399] + 0.2 * (k % 2) if k < 440 else c[438] - 1.5 * (k - 439))
        c.append(x)
        o = c[-2] if len(c) > 1 else x
        t = t0 + (k - 1) * 21600000
        f.write("%d,%.4f,%.4f,%.4f,%.4f,100,%d,5000000,10,50,2500000,0\n"
                % (t, o, max(o, x) + 1, min(o, x) - 1, x, t + 21599999))
PY
want=$(python3 - "$SIX" <<'PY'
import csv, sys, time
rows = list(csv.reader(open(sys.argv[1])))
t, c = [int(r[0]) for r in rows], [float(r[4]) for r in rows]
def rsi(k):
    g = sum(max(c[i] - c[i - 1], 0) for i in range(1, 15)) / 14
    l = sum(max(c[i - 1] - c[i], 0) for i in range(1, 15)) / 14
    for i in range(15, k + 1):
        d = c[i] - c[i - 1]
        g, l = (g * 13 + max(d, 0)) / 14, (l * 13 + max(-d, 0)) / 14
    return 100 - 100 / (1 + g / l) if l else 100
def ema(k, n=50):
    v = sum(c[:n]) / n
    for i in range(n, k + 1):
        v = 2 / (n + 1) * c[i] + (1 - 2 / (n + 1)) * v
    return v
def value(k):
    r, e1, e0 = rsi(k), ema(k), ema(k - 1)
    if (r <= 50 and e1 <= e0) or (r > 50 and e1 >= e0):
        return 50
    return r
for i in range(397, len(c)):   # EMA(50) warm at 396 candles, and the one before
    if value(i - 1) > 29 >= value(i):
        print(time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(t[i] // 1000)))
PY
)
write_config "exchange = { enabled = false, intervals = { '6h' } }"
cp -r scripts/. "$T/scripts/"
got=$("$CW_BIN" replay --config "$T/config.lua" "$SIX" --preset "rule=rsi_signal pairs=ADAUSDT intervals=6h threshold=29 direction=down trigger=close" 2>"$T/err" | awk '{print $1}')
is "$(printf '%s' "$want" | grep -c .)" 1 "rsi_signal: the generated series has one long setup"
is "$got" "$want" "rsi_signal: replay fires the long setup at exactly that 6h candle"
finish
