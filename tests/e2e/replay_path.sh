#!/usr/bin/env bash
# candlewatch replay walks each row as the prices its forming candle passed
# through: open -> low -> high -> close for a rising row (close >= open),
# open -> high -> low -> close for a falling one.  Hand-built rows whose low
# or high reaches a threshold that their close does not: a forming preset
# fires on them, at the extreme's move, in the path's order; a close preset
# sees only the closes; a 5m candle built from 1m rows runs from its own
# open through its rows' lows and highs.
. "$(dirname "$0")/lib.bash"
mkdir -p "$T/k"
CSV="$T/k/um_TESTUSDT-1m-2024-01-01.csv"
t0=1704067200000   # 2024-01-01T00:00Z
row() {   # MINUTE OPEN HIGH LOW CLOSE
  local t=$((t0 + $1 * 60000))
  echo "$t,$2,$3,$4,$5,10,$((t + 59999)),1000,5,0,0,0"
}
{
  echo "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
  row 0 100 100.5 99.5 100.2    # quiet
  row 1 100 101 96.9 100.5      # rising: its low is -3.10 %, its close +0.50 %
  row 2 100 103.2 99 99.5       # falling: its high is +3.20 %, its close -0.50 %
  row 3 100 103.5 96.5 101      # rising: low (-3.50 %) before high (+3.50 %)
  row 4 100 103.5 96.5 99       # falling: high (+3.50 %) before low (-3.50 %)
  row 5 100 104 99.9 103.1      # rising: high +4.00 %, close +3.10 %
  row 6 103.1 103.3 96 102      # from the 5m open (100): low -4.00 %; its own: -6.89 %
} > "$CSV"
write_config "exchange = { enabled = false, intervals = { '1m', '5m' } }"
cp -r scripts/. "$T/scripts/"
# a rule reading the candle's high and low: they grow along the path
cat > "$T/scripts/rules/range.lua" <<'LUA'
alerts.rule{
  name = "range", label = "Candle range", unit = "%", mode = "level", directions = { "up" },
  threshold = { min = 0, max = 100, default = 5, decimals = 2, prompt = "How wide?" },
  on = { "forming" },
  value = function(candle) return (candle.high - candle.low) / candle.open * 100 end,
}
LUA
# and one reading its volume: the row's, spread along the path
cat > "$T/scripts/rules/vol.lua" <<'LUA'
alerts.rule{
  name = "vol", label = "Volume", unit = "", mode = "level", directions = { "up" },
  threshold = { min = 0, max = 1000, default = 5, decimals = 2, prompt = "How much?" },
  on = { "forming" },
  value = function(candle) return candle.volume end,
}
LUA
replayed() {
  "$CW_BIN" replay --config "$T/config.lua" "$CSV" --preset "pairs=TESTUSDT $1" 2>"$T/err" |
    awk '{print substr($1, 12, 5), $3, $4}'
}
nl='
'
is "$(replayed "intervals=1m threshold=3 direction=down trigger=forming")" \
   "00:01 1m -3.10%${nl}00:03 1m -3.50%${nl}00:04 1m -3.50%${nl}00:06 1m -6.89%" \
   "forming, down 3 %: the rows whose low reached it, at the low's move"
is "$(replayed "intervals=1m threshold=3 direction=up trigger=forming")" \
   "00:02 1m +3.20%${nl}00:03 1m +3.50%${nl}00:04 1m +3.50%${nl}00:05 1m +4.00%" \
   "forming, up 3 %: the rows whose high reached it, at the high's move"
is "$(replayed "intervals=1m threshold=3 direction=both trigger=forming")" \
   "00:01 1m -3.10%${nl}00:02 1m +3.20%${nl}00:03 1m -3.50%${nl}00:04 1m +3.50%${nl}00:05 1m +4.00%${nl}00:06 1m -6.89%" \
   "forming, both: once a candle, the first extreme on the path (a rising row's low, a falling row's high)"
is "$(replayed "intervals=1m threshold=3 direction=both trigger=close")" \
   "00:05 1m +3.10%" \
   "close: only the closes count, as before"
# a 5m candle from the 1m rows: moves from its own open (100), through the
# rows' lows and highs as they came
is "$(replayed "intervals=5m threshold=3 direction=down trigger=forming")" \
   "00:00 5m -3.10%${nl}00:05 5m -4.00%" \
   "5m forming, down 3 %: from the 5m open, at the first row's low that reached it"
is "$(replayed "intervals=5m threshold=3 direction=both trigger=forming")" \
   "00:00 5m -3.10%${nl}00:05 5m +4.00%" \
   "5m forming, both: the first extreme of the 5m candle's path"
# high and low as far as the path went: row 3's range is 3.50 % at its low,
# 7.00 % only at its high; the 5m candle keeps its first row's high (100.5)
is "$(replayed "rule=range intervals=1m threshold=3")" \
   "00:01 1m 3.10%${nl}00:02 1m 3.20%${nl}00:03 1m 3.50%${nl}00:04 1m 3.50%${nl}00:05 1m 4.10%${nl}00:06 1m 7.08%" \
   "a forming candle's high and low are the path's so far, not the row's"
is "$(replayed "rule=range intervals=5m threshold=3")" \
   "00:00 5m 3.60%${nl}00:05 5m 4.10%" \
   "a 5m forming candle's high and low: its rows' so far"
# truth: each row's volume (10) spread along its path by the distance the
# price went; the first point with 5 or more fires
truth_vol() {
  awk -F, '$1 ~ /^[0-9]/ { up = $5 + 0 >= $2 + 0; p[1] = $2; p[2] = up ? $4 : $3; p[3] = up ? $3 : $4; p[4] = $5
    total = 0; for (i = 2; i <= 4; i++) total += (p[i] > p[i - 1] ? p[i] - p[i - 1] : p[i - 1] - p[i])
    w = 0; for (i = 2; i <= 4; i++) { w += (p[i] > p[i - 1] ? p[i] - p[i - 1] : p[i - 1] - p[i])
      v = i == 4 ? $6 : $6 * w / total; if (v >= 5) { printf "%s 1m %.2f\n", strftime("%H:%M", int($1 / 1000), 1), v; break } } }' "$CSV"
}
want=$(truth_vol)
is "$(replayed "rule=vol intervals=1m threshold=5")" "$want" \
   "a forming candle's volume grows along the path (the row's at its close), not the whole row's at its open"
like "$want" "^00:01 1m 9.35$" "(row 1: 10 × 7.2 / 7.7 at its high)"
like "$(cat "$T/err")" "replayed 7 klines" "every row was replayed"
finish
