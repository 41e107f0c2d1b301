# Start-up failures are clear and harmless: a corrupt or unwritable
# database is named and left untouched; a busy port is named; a database
# from a newer candlewatch is refused.
. tests/e2e/lib.bash

write_config
head -c 8192 /dev/urandom > "$T/bot.db"
sum_before=$(cksum < "$T/bot.db")
out=$("$CW_BIN" run --config "$T/config.lua" 2>&1); rc=$?
is "$rc" 1 "a corrupt database stops start-up with status 1"
like "$out" "database $T/bot.db: .*not a database" "the message names the file and the problem"
is "$(cksum < "$T/bot.db")" "$sum_before" "the corrupt file is not overwritten"
ls "$T"/bot.db-wal >/dev/null 2>&1 && fail "no WAL file is created beside it" || pass "no WAL file is created beside it"

rm -f "$T/bot.db"
mkdir -p "$T/ro"
chmod 555 "$T/ro"
sed -i "s|database = '[^']*'|database = '$T/ro/sub/bot.db'|" "$T/config.lua"
out=$("$CW_BIN" run --config "$T/config.lua" 2>&1); rc=$?
is "$rc" 1 "a database that cannot be created stops start-up with status 1"
like "$out" "database $T/ro/sub/bot.db: cannot open" "naming the file"

write_config
start_bot || fail "the bot starts"
first_port=$PORT
HTTP_PORT=$first_port write_config
sed -i "s|bot.db|other.db|" "$T/config.lua"
out=$("$CW_BIN" run --config "$T/config.lua" 2>&1); rc=$?
is "$rc" 1 "a busy http.listen port stops start-up with status 1"
like "$out" "http.listen: cannot listen on 127.0.0.1:$first_port" "naming the address"
stop_bot

# a database written by a newer release is refused, not altered
"$DBCHECK" "$T/bot.db" --set-version 99 >/dev/null
HTTP_PORT=0 write_config
out=$("$CW_BIN" run --config "$T/config.lua" 2>&1); rc=$?
is "$rc" 1 "a database from a newer candlewatch stops start-up"
like "$out" "schema version 99, newer than this candlewatch understands" "saying why"
like "$("$DBCHECK" "$T/bot.db" --get-version)" "^version: 99$" "and it is left as it was"
finish
