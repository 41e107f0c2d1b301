#!/usr/bin/env bash
# exchange.intervals with 6h and 1d, end to end: the feed streams them from
# the stand-in exchange and loads their history, the candle store holds
# them, /preset offers exactly the configured timeframes, and a 6h preset
# built there fires when the recorded day's first 6h candle closes, with
# the move the recording says; candlewatch replay builds 6h and 1d candles
# from 1m rows.
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
DAY=1662336000000   # the recording's first minute: 2022-09-05T00:00Z
C=42

start_fake --symbols 1 --replay "BTCUSDT=$CSV" --speed 60 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
# /held IV: how many closed candles of BTCUSDT the store holds, and whether one is forming
cat > "$T/scripts/commands/held.lua" <<'LUA'
bot.command("held", "closed and forming BTCUSDT candles of an interval", function(ctx)
  ctx:reply(string.format("held %s: %d closed, %s", ctx.args, #candles.last("BTCUSDT", ctx.args, 10),
                          candles.forming("BTCUSDT", ctx.args) and "forming" or "none forming"))
end)
LUA
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m', '6h', '1d' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
out=$("$CW_BIN" check --config "$T/config.lua" 2>&1); rc=$?
is "$rc" 0 "check accepts exchange.intervals with 6h and 1d"
# truth: the moves of the CSV's 6h and 1d candles of at least 1 %, at their close
truth_close() {   # MS NAME
  awk -F, -v ms="$1" -v iv="$2" 'function out() { m = (c - o) / o * 100; a = m < 0 ? -m : m
      if (a >= 1) printf "%s %s %+.2f%%\n", strftime("%Y-%m-%dT%H:%MZ", int(cur / 1000), 1), iv, m }
    $1 ~ /^[0-9]/ { b = int($1 / ms) * ms; if (b != cur) { if (o) out(); cur = b; o = $2 } c = $5 }
    END { out() }' "$CSV"
}
want="$(truth_close 21600000 6h)
$(truth_close 86400000 1d)"
got=$("$CW_BIN" replay --config "$T/config.lua" "$CSV" \
      --preset "pairs=BTCUSDT intervals=6h,1d threshold=1 trigger=close" 2>"$T/err" | awk '{print $1, $3, $4}')
[ "$(printf '%s\n' "$want" | grep -c .)" = 2 ] && is "$got" "$want" "replay: the 6h and 1d candles built from the 1m rows close as the CSV says" \
  || fail "the 6h and 1d truths have a candle each" "$want"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

streams() { stream_split | tr , '\n' | awk '{s += $1} END {print s + 0}'; }
wait_for 15 test "$(streams)" = 3
is "$(streams)" 3 "the stand-in serves the bot 3 streams: BTCUSDT 1m, 6h and 1d"
# held IV: asks, and the answer says 5 closed and one forming (asked again
# while the history is still loading)
held() { local before; before=$(sent_count $C); say $C "/held $1"; answered $C "$before" 5
  tg_texts $C | tail -1 | grep -q "held $1: 5 closed, forming"; }
for iv in 6h 1d; do
  wait_for 20 held $iv \
    && pass "$iv: the store holds the 5 candles of history (exchange.history) and the forming one" \
    || fail "$iv: the store holds the 5 candles of history and the forming one" "$(tg_texts $C | grep "held $iv")"
done

# step say|press TEXT|DATA: one step of the chat, waiting for the bot's answer
step() {
  local before; before=$(sent_count $C)
  "$1" $C "$2"
  answered $C "$before" 10
  sleep 0.2
}
step say /preset; step press preset:new; step say "Six hours"; step press preset:pairs:list; step say BTCUSDT
offered=$(tg "/control/sent?chat=$C" | grep -o 'preset:tf:[0-9a-z]*' | grep -v 'preset:tf:done' | sort -u | paste -sd' ' -)
is "$offered" "preset:tf:1d preset:tf:1m preset:tf:6h" "/preset offers the configured timeframes: 1m, 6h and 1d"
step press preset:tf:6h; step press preset:tf:done; step say 1; step press preset:dir:both
step press preset:trig:close; step press preset:save
said $C '^Saved' 10 && pass "a 6h preset is built through /preset" || fail "a 6h preset is built through /preset" "$(tg_texts $C | tail -3)"

# to a minute before the first 6h candle closes (the hours skipped are
# history, not news); it closes live a second later
fake "/control/jump?value=$((DAY + 6 * 3600000 - 60000 - $(market_ms)))" >/dev/null
truth=$(awk -F, '$1 ~ /^[0-9]/ && $1 < '$((DAY + 6 * 3600000))' { if (!o) o = $2; c = $5 }
  END { printf "%+.2f%%\\\\n%.2f → %.2f\n", (c - o) / o * 100, o, c }' "$CSV")
said $C "BTCUSDT 6h" 20 && pass "the 6h candle's alert arrives" || fail "the 6h candle's alert arrives" "$(tg_texts $C | tail -3)"
alert=$(tg_texts $C | grep 'BTCUSDT 6h')
like "$alert" "BTCUSDT 6h ${truth%%\\*}" "it says the 6h candle's move, as the recording's first 6 hours give it (${truth%%\\*})"
like "$alert" "${truth#*n}" "from its open to its close (${truth#*n})"
is "$(printf '%s\n' "$alert" | grep -c .)" 1 "once"
# the stand-in's long klines are its 1m rows summed (by the hour, cached)
kline() { fake "/fapi/v1/klines?symbol=BTCUSDT&interval=$1&startTime=$2&limit=1" | tr -d '[]"' | cut -d, -f2-6; }
rows() {   # FROM TO: open,high,low,close,volume of the CSV's rows in [FROM, TO)
  awk -F, -v from="$1" -v to="$2" '$1 ~ /^[0-9]/ && $1 >= from && $1 < to { if (!n++) { o = $2; h = $3; l = $4 }
    if ($3 + 0 > h + 0) h = $3; if ($4 + 0 < l + 0) l = $4; c = $5; v += $6 }
    END { printf "%.2f,%.2f,%.2f,%.2f,%.3f\n", o, h, l, c, v }' "$CSV"
}
is "$(kline 6h $DAY)" "$(rows $DAY $((DAY + 6 * 3600000)))" "the stand-in's 6h kline is the recording's first 6 hours"
is "$(kline 1d $((DAY - 86400000)))" "$(rows $DAY $((DAY + 86400000)))" \
  "its 1d kline of the day before is the whole recording (which repeats)"
stop_bot
finish
