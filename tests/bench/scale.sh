#!/usr/bin/env bash
# make bench: many users through the real binary, against the stand-in
# exchange (400 symbols x 6 intervals, an update per stream every 250 ms:
# ~10,000 frames/s, the real feed's rate; a calm market, --volatility 0.05,
# where no candle moves 0.5 % until the move below) and the stand-in
# Telegram (paid broadcast).  For each size (SCALE_USERS, default "10000 100000"):
#   - a database of USERS x 3 presets, written as the bot's own rows (the
#     schema is the one the binary creates): per user one "top N" preset
#     (N = 10, 20, 50 or 100) and two manual lists of 50 pairs, 2 of the 6
#     timeframes each, 0.5 .. 5 %, both directions, on the forming candle;
#   - start-up: from the process's start to /health's first answer, to
#     /health answering 200, and to the first frame counted;
#   - peak RSS (VmHWM from /proc) once the feed is live, the history
#     loaded and the loop quiet (start-up and steady state);
#   - a market-wide move (at the sizes in SCALE_MOVE_AT, default 100000):
#     the stand-in moves every price SCALE_MOVE_PCT % (10) at once; for
#     SCALE_WINDOW_S seconds (20) /metrics is read every second: the
#     longest loop turn and the longest SQLite commit
#     (candlewatch_loop_turn_max_seconds, candlewatch_sqlite_commit_max_seconds:
#     each the longest of the last 10-20 s) and the alerts fired; when the
#     loop cannot answer, their histograms once it does (up to 120 s);
#     then the peak RSS again, with the move's first seconds.
# Each number is printed with its goal and met / MISSED; nothing is asserted.
cd "$(dirname "$0")/../.." || exit 1
export CW_BUILD=${CW_BUILD:-build} CW_BIN=${CW_BIN:-./candlewatch}
. tests/e2e/lib.bash
SIZES=${SCALE_USERS:-"10000 100000"}
MOVE_AT=${SCALE_MOVE_AT:-100000}   # the sizes that also get the move (it takes the longest)
MOVE=${SCALE_MOVE_PCT:-10}
WINDOW=${SCALE_WINDOW_S:-20}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g ? "met" : "MISSED") }'; }
metric() { printf '%s\n' "$1" | awk -v n="$2" '$1 == n { print $2; exit }'; }
hwm_mb() { awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$BOT_PID/status"; }

# make_db USERS: $T/bot.db with the schema the binary writes, then the presets
make_db() {
  rm -f "$T"/bot.db*
  write_config
  start_bot >/dev/null || { echo "scale: the bot did not start on an empty database"; exit 1; }
  stop_bot
  python3 - "$T/bot.db" "$1" <<'PY'
import random, sqlite3, sys
db, users = sys.argv[1], int(sys.argv[2])
syms = ["BTCUSDT", "ETHUSDT"] + ["S%03dUSDT" % i for i in range(2, 400)]
ivs = ["1m", "5m", "15m", "30m", "1h", "4h"]
rng = random.Random(14)
rows = []
for u in range(1, users + 1):
    for k in range(3):
        top = k == 0
        two = rng.sample(ivs, 2)
        rows.append((u, u, 1, "p%d" % (k + 1), "move", "top" if top else "manual",
                     rng.choice([10, 20, 50, 100]) if top else 0,
                     "" if top else " ".join(rng.sample(syms, 50)),
                     " ".join(x for x in ivs if x in two),
                     round(rng.uniform(0.5, 5.0), 2), "both", "forming", 0, 1, 1))
con = sqlite3.connect(db)
con.executemany("INSERT INTO presets (user_id, chat_id, updated_ms, name, rule, pairs, top_n, "
                "symbols, intervals, threshold, direction, trigger, min_volume, active, created_ms) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
con.commit()
con.close()
PY
}

# start_timed: the bot on $T/config.lua; sets BOT_PID, PORT, and T_ANY,
# T_OK, T_DATA: ms from its start to /health's first answer, first 200, and
# the first frame counted (or "none")
start_timed() {
  : > "$T/log"
  local t0 t_any="" t_ok="" t_data="" code
  t0=$(now_ms)
  "$CW_BIN" run --config "$T/config.lua" >> "$T/log" 2>&1 &
  BOT_PID=$!
  PORT=$HTTP_PORT
  while { [ -z "$t_data" ] || [ -z "$t_ok" ]; } && [ $(( $(now_ms) - t0 )) -lt 180000 ] &&
        kill -0 "$BOT_PID" 2>/dev/null; do
    : > "$T/health"
    code=$(curl -s -o "$T/health" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/health")
    [ "$code" != 000 ] && [ -z "$t_any" ] && t_any=$(( $(now_ms) - t0 ))
    [ "$code" = 200 ] && [ -z "$t_ok" ] && t_ok=$(( $(now_ms) - t0 ))
    [ -z "$t_data" ] && [ "$(json_num "$(cat "$T/health")" received)" -gt 0 ] 2>/dev/null &&
      t_data=$(( $(now_ms) - t0 ))
    sleep 0.02
  done
  T_ANY=${t_any:-none} T_OK=${t_ok:-none} T_DATA=${t_data:-none}
}

# hist_range BEFORE AFTER NAME: "LO HI" (seconds): between the two /metrics
# texts, histogram NAME counted values over LO and none over HI (+Inf: no bound)
hist_range() {
  { printf '%s\n' "$1" | sed 's/^/B /'; printf '%s\n' "$2" | sed 's/^/A /'; } | awk -v n="$3" '
    $2 ~ "^" n "_bucket" { match($2, /le="[^"]*"/); le = substr($2, RSTART + 4, RLENGTH - 5)
                           c[$1, le] = $3; if ($1 == "A") les[le] = 1 }
    END { all = c["A", "+Inf"] - c["B", "+Inf"]; lo = 0; hi = "+Inf"
          for (le in les) if (le != "+Inf") {
            over = all - (c["A", le] - c["B", le])
            if (over > 0 && le + 0 > lo) lo = le + 0
            if (over == 0 && (hi == "+Inf" || le + 0 < hi)) hi = le + 0 }
          print lo, hi }'
}

# range_verdict HI: a histogram's upper bound against 50 ms
range_verdict() {
  awk -v h="$1" 'BEGIN { print (h != "+Inf" && h <= 0.025 ? "met" : h == 0.1 ? "not told: between 25 and 100 ms" : "MISSED") }'
}

quiet() { awk -v v="$(metric "$(get /metrics)" candlewatch_loop_turn_max_seconds)" 'BEGIN { exit !(v != "" && v < 0.05) }'; }
history_done() { [ "$(json_num "$(get /health)" history_done)" = 2400 ]; }

run_size() {   # USERS
  local users=$1 up wait_s
  HTTP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  make_db "$users"
  write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
      history = 2, rest_weight_limit = 1000000 }" \
    "telegram = { token = '$TG_TOKEN', api_url = '$TG', paid_broadcast = true }"
  start_timed
  local t_any=$T_ANY t_ok=$T_OK t_data=$T_DATA
  echo "$users users x 3 presets ($(( users * 3 )) presets: 1 top-N + 2 lists of 50 pairs each):"
  if [ "$t_data" = none ]; then
    echo "  the bot did not start or saw no market data:"; tail -5 "$T/log" | sed 's/^/    /'
    kill_bot 2>/dev/null; return
  fi
  echo "  start-up: /health first answered after $t_any ms, answered 200 after $t_ok ms," \
       "first market data after $t_data ms"
  # serving: /health says nothing is failing, and the market data flows
  up=$t_data; [ "$t_ok" = none ] && up=none; [ "$t_ok" != none ] && [ "$t_ok" -gt "$up" ] && up=$t_ok
  [ "$t_ok" = none ] && cp "$T/health" "$T/health.first"
  echo "  start-up to serving (/health 200 and market data): $up ms (goal <= 2000 ms:" \
       "$([ "$up" = none ] && echo "MISSED: /health not 200 in 180 s: $(head -c 300 "$T/health.first")" || verdict "$up" 2000))"
  wait_for 20 history_done || echo "  (the history (2 candles a stream) was not loaded after 20 s more)"
  wait_s=$SECONDS
  wait_for 15 quiet
  local m0 fired0 turn=0 commit=0 m v mlast=""
  m0=$(curl -s --max-time 60 "http://127.0.0.1:$PORT/metrics")
  local hwm0 t_move rss_goal
  hwm0=$(hwm_mb)
  if [ -z "$(metric "$m0" candlewatch_sqlite_commit_max_seconds)" ]; then
    echo "  settled (after $(( SECONDS - wait_s )) s): /metrics got no answer in 60 s"
  else
    echo "  settled (after $(( SECONDS - wait_s )) s): the longest loop turn of" \
         "the last 10-20 s $(awk -v s="$(metric "$m0" candlewatch_loop_turn_max_seconds)" 'BEGIN { printf "%.0f", s * 1000 }') ms," \
         "alerts fired so far $(metric "$m0" candlewatch_alerts_fired_total)"
  fi
  fired0=$(metric "$m0" candlewatch_alerts_fired_total)
  rss_goal=512; [ "$users" -le 10000 ] && rss_goal=64
  if [[ " $MOVE_AT " != *" $users "* ]]; then
    echo "  peak RSS (VmHWM) of start-up and steady state: $hwm0 MB (goal <= $rss_goal MB:" \
         "$(verdict "$hwm0" "$rss_goal")) (no move at this size: SCALE_MOVE_AT=\"$MOVE_AT\")"
    kill_bot
    return
  fi
  t_move=$SECONDS
  fake "/control/move?value=$MOVE" >/dev/null
  # the window in wall time, and a last read: each gauge keeps a turn or
  # commit for 10 to 20 s after it ended (a busy loop answers late: a read
  # waits up to 60 s, and tells the longest of the 10-20 s before it)
  local t_end=$(( SECONDS + WINDOW )) last="" took slowest=0 reads=0 unanswered=0 blocked="" errs=""
  while [ -z "$last" ]; do
    [ "$SECONDS" -ge "$t_end" ] && last=1 || sleep 1
    : > "$T/metrics"
    took=$(curl -s -o "$T/metrics" -w '%{time_total}' --max-time 60 "http://127.0.0.1:$PORT/metrics") ||
      errs+=" curl:$?"
    slowest=$(awk -v a="$slowest" -v b="${took:-0}" 'BEGIN { print (b > a ? b : a) }')
    m=$(cat "$T/metrics")
    # (a read cut short by the timeout is not an answer)
    if ! printf '%s\n' "$m" | grep -q '^candlewatch_sqlite_commit_max_seconds '; then
      unanswered=$((unanswered + 1)); [ -n "$last" ] && blocked=1; continue
    fi
    reads=$((reads + 1))
    mlast=$m
    v=$(metric "$m" candlewatch_loop_turn_max_seconds); turn=$(awk -v a="$turn" -v b="$v" 'BEGIN { print (b > a ? b : a) }')
    v=$(metric "$m" candlewatch_sqlite_commit_max_seconds); commit=$(awk -v a="$commit" -v b="$v" 'BEGIN { print (b > a ? b : a) }')
  done
  local fired hwm turn_ms commit_ms
  hwm=$(hwm_mb)
  echo "  peak RSS (VmHWM) of start-up and steady state: $hwm0 MB (goal <= $rss_goal MB:" \
       "$(verdict "$hwm0" "$rss_goal")); with the move's first seconds: $hwm MB ($(verdict "$hwm" "$rss_goal"))"
  local reads_s="/metrics read $reads times in $(( SECONDS - t_move )) s, $unanswered not answered${errs:+ ($errs )}"
  if [ -z "$mlast" ] || [ -n "$blocked" ]; then
    # the histograms keep every turn and commit: read once the loop answers
    local t_wait=$SECONDS turns commits
    # (a body cut short, curl 18, is what a loop of multi-second turns sends)
    local late="" rc=0
    while [ $(( SECONDS - t_wait )) -lt 120 ]; do
      late=$(curl -s --max-time 60 "http://127.0.0.1:$PORT/metrics"); rc=$?
      [ -n "$(metric "$late" candlewatch_sqlite_commit_max_seconds)" ] && break
      late=""; sleep 2
    done
    if [ -z "$late" ]; then
      echo "  the move: $reads_s, and none $(( SECONDS - t_wait )) s later (curl: $rc; the bot" \
           "$(kill -0 "$BOT_PID" 2>/dev/null && echo runs || echo "is gone: $(tail -2 "$T/log")")):" \
           "longest loop turn and commit not read (MISSED)"
      kill_bot
      return
    fi
    local lo hi tv cv
    read -r lo hi <<< "$(hist_range "$m0" "$late" candlewatch_loop_turn_seconds)"
    turns="over $lo s, at most $hi s"; tv=$(range_verdict "$hi")
    read -r lo hi <<< "$(hist_range "$m0" "$late" candlewatch_sqlite_commit_seconds)"
    commits="over $lo s, at most $hi s"; cv=$(range_verdict "$hi")
    echo "  every price moves $MOVE %: $reads_s; answered $(( SECONDS - t_wait )) s later:" \
         "$(awk -v a="$(metric "$late" candlewatch_alerts_fired_total)" -v b="$fired0" 'BEGIN { printf "%d", a - b }')" \
         "alerts fired by then"
    echo "  longest loop turn during the move, by the histogram: $turns (goal <= 50 ms: $tv)"
    echo "  longest SQLite commit during the move, by the histogram: $commits (goal <= 50 ms: $cv)"
    kill_bot
    return
  fi
  fired=$(awk -v a="$(metric "$mlast" candlewatch_alerts_fired_total)" -v b="$fired0" 'BEGIN { printf "%d", a - b }')
  turn_ms=$(awk -v s="$turn" 'BEGIN { printf "%.0f", s * 1000 }')
  commit_ms=$(awk -v s="$commit" 'BEGIN { printf "%.0f", s * 1000 }')
  echo "  every price moves $MOVE %: $fired alerts fired by the last read of /metrics" \
       "(queued for Telegram: $(metric "$mlast" candlewatch_telegram_queue_depth)); $reads_s," \
       "the slowest answer $(awk -v s="$slowest" 'BEGIN { printf "%.0f", s * 1000 }') ms"
  echo "  longest loop turn during the move: $turn_ms ms (goal <= 50 ms: $(verdict "$turn_ms" 50))"
  echo "  longest SQLite commit during the move: $commit_ms ms (goal <= 50 ms: $(verdict "$commit_ms" 50))"
  kill_bot
}

rm -rf "$T/scripts"; cp -r scripts "$T/"   # the bot's own scripts (its rule, its alert text)
start_fake --symbols 400 --tick-ms 250 --weight-limit 100000000 --volatility 0.05 || { echo "scale: the stand-in exchange did not start"; exit 1; }
start_tg --paid-rate 1000 || { echo "scale: the stand-in Telegram did not start"; exit 1; }
for users in $SIZES; do run_size "$users"; done
