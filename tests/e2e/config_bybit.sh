# config.lua's bybit section: what Bybit cannot do is refused by key with
# exit status 2 (its keys' types are checked as every section's are).
. tests/e2e/lib.bash
mkdir -p "$T/scripts"
check_with() {   # check_with BYBIT_FIELDS -> sets out, rc
  printf '%s\n' "return { database = '$T/x.db', scripts = '$T/scripts', bybit = { $1 } }" > "$T/c.lua"
  out=$("$CW_BIN" check --config "$T/c.lua" 2>&1)
  rc=$?
}
check_with "enabled = true, intervals = { '1m', '8h' }"
is "$rc" 2 "an interval Bybit does not have exits with status 2"
like "$out" "key 'bybit.intervals': Bybit has no 8h" "the message names the key and the interval"
check_with "streams_per_connection = 601"
is "$rc" 2 "more topics a connection than Bybit takes exits with status 2"
like "$out" "key 'bybit.streams_per_connection': at most 600" "naming the key and the limit"
check_with "enabled = true, intervals = { '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d' }, streams_per_connection = 600"
is "$rc" 0 "every interval Bybit has, 600 topics a connection: fine ($out)"
check_with "intervals = { 'D' }"
is "$rc" 2 "Bybit's own interval names are not config's"
like "$out" "key 'bybit.intervals'" "(naming the key)"
finish
