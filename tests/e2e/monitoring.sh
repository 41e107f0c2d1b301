#!/usr/bin/env bash
# deploy/'s Grafana dashboard and Prometheus rules against the real /metrics:
# the real bot (feed from the stand-in exchange replaying a real day,
# the stand-in Telegram, gas on) serves traffic until its histograms have
# samples (an alert, a reply, commits); then every metric name that the
# dashboard's and the rules' expressions use must be one /metrics serves,
# and the dashboard must be valid JSON with a datasource on every panel and
# queries promtool parses.
. "$(dirname "$0")/lib.bash"
CSV=tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv
DASH=deploy/grafana/candlewatch.json
RULES=deploy/prometheus/candlewatch.rules.yml
NAMES="python3 tests/prometheus/names.py"
C=42

is "$($NAMES dashboard "$DASH")" "" "the dashboard is valid JSON; every panel has a query, the \${datasource} datasource and the \$job/\$instance filter"

python3 deploy/grafana/make_dashboard.py | cmp -s - "$DASH" && pass "the dashboard is what deploy/grafana/make_dashboard.py writes" \
  || fail "the dashboard is what deploy/grafana/make_dashboard.py writes" "run it: python3 deploy/grafana/make_dashboard.py > $DASH"
# every query parses: promtool reads them as recording rules
$NAMES asrules "$DASH" > "$T/dashboard.rules.yml"
out=$(promtool check rules "$T/dashboard.rules.yml" 2>&1) && pass "every dashboard query is valid PromQL" \
  || fail "every dashboard query is valid PromQL" "$out"

start_fake --symbols 1 --replay "BTCUSDT=$CSV" --speed 60 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }" \
  "gas = { enabled = true, sources = { 'rpc' }, rpc_url = '$FAKE/no-rpc' }"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

# a preset that alerts on every 0.1 % move of BTCUSDT 1m, then the busy hours
step() {
  local before; before=$(sent_count $C)
  "$1" $C "$2"
  answered $C "$before" 10
  sleep 0.2
}
step say /preset; step press preset:new; step say "Every move"
step press preset:pairs:list; step say BTCUSDT
step press preset:tf:1m; step press preset:tf:done; step say 0.1; step press preset:dir:both
step press preset:trig:close; step press preset:save
fake "/control/jump?value=$((290 * 60000))" >/dev/null
said $C 'BTCUSDT 1m' 40 || fail "an alert arrives" "$(tg_texts $C | tail -3)"

get /metrics > "$T/metrics"
m=$(cat "$T/metrics")
for h in candlewatch_frame_alert_seconds candlewatch_update_reply_seconds candlewatch_sqlite_commit_seconds; do
  like "$m" "${h}_count [1-9]" "$h has samples"
done

missing=$($NAMES check "$T/metrics" "$DASH" "$RULES" 2>"$T/used")
is "$missing" "" "every metric name the dashboard and the rules use is served by /metrics"
used=$(grep -o '^[0-9]*' "$T/used")
[ "${used:-0}" -ge 40 ] && pass "the expressions were read ($used names)" \
  || fail "the expressions were read" "$(cat "$T/used")"
# the check itself: a misspelled name in the dashboard is reported
sed 's/candlewatch_telegram_queue_depth/candlewatch_telegram_queue_dept/' "$DASH" > "$T/bad.json"
like "$($NAMES check "$T/metrics" "$T/bad.json" "$RULES" 2>/dev/null)" '^candlewatch_telegram_queue_dept$' \
  "a name /metrics does not serve is reported"
# and one the rules misspell
sed 's/candlewatch_lua_memory_bytes/candlewatch_lua_mem_bytes/' "$RULES" > "$T/bad.yml"
like "$($NAMES check "$T/metrics" "$DASH" "$T/bad.yml" 2>/dev/null)" '^candlewatch_lua_mem_bytes$' \
  "a name the rules misspell is reported"
# and a panel without a datasource
python3 -c "import json,sys; d=json.load(open('$DASH')); d['panels'][1].pop('datasource'); json.dump(d, sys.stdout)" > "$T/nods.json"
like "$($NAMES dashboard "$T/nods.json")" 'datasource is not' "a panel without a datasource is reported"

stop_bot
finish
