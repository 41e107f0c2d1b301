# The stand-in Bybit (tests/fakes/fake_bybit) for the e2e tests; sourced
# after lib.bash.
# shellcheck shell=bash

# start_bybit [options]: sets BYBIT_PID, BYBIT_PORT, BYBIT (REST base) and
# BYBIT_WS (the linear public stream's URL)
start_bybit() {
  "$PWD/$CW_BUILD/tests/fakes/fake_bybit" --port 0 "$@" > "$T/bybit.log" 2>&1 &
  BYBIT_PID=$!
  wait_for 10 grep -q 'listening on port' "$T/bybit.log" || { diag "$(cat "$T/bybit.log")"; return 1; }
  BYBIT_PORT=$(grep -o 'port [0-9]*' "$T/bybit.log" | awk '{print $2}')
  BYBIT="http://127.0.0.1:$BYBIT_PORT"
  BYBIT_WS="ws://127.0.0.1:$BYBIT_PORT/v5/public/linear"
}
stop_bybit() { [ -n "${BYBIT_PID:-}" ] && kill "$BYBIT_PID" 2>/dev/null; BYBIT_PID=""; }
trap 'stop_bybit; cleanup' EXIT
bybit() { curl -s --max-time 5 "$BYBIT$1"; }
# ws_session SECONDS [--ping-every S] [MESSAGE ...]: what a client on the
# linear stream sees (tests/e2e/wsclient.py)
ws_session() { python3 "$PWD/tests/e2e/wsclient.py" "$BYBIT_WS" "$@"; }
