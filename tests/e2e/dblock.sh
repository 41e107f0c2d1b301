#!/usr/bin/env bash
# Another process holds the database's write lock for a while (a backup
# tool, an operator's sqlite3 shell): the bot cannot record what arrives,
# but it still answers; what it could not save it does not claim to have
# saved; once the lock is gone everything works again.
. "$(dirname "$0")/lib.bash"
U=71

start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
use_notes
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 1 }"
start_bot || { finish; exit 1; }

say $U "/note one"
said $U '^saved one' || fail "a note is saved" "$(tg_texts $U)"

"$DBCHECK" "$T/bot.db" --lock 15 > "$T/lock.out" &
LOCK_PID=$!
wait_for 5 grep -q '^locked' "$T/lock.out" || fail "the test takes the lock" "$(cat "$T/lock.out")"
say $U "/notes"
said $U '^notes: one$' 40 && pass "an update that arrives while the database is locked is still answered" \
  || fail "an update is answered while the database is locked" "$(tg_texts $U)"
wait "$LOCK_PID"
say $U "/note two"
said $U '^saved two' 30 && pass "once the lock is gone notes are saved again" || fail "saved again" "$(tg_texts $U)"
say $U "/notes"
said $U '^notes: one two$' && pass "nothing acknowledged was lost" || fail "the notes are kept" "$(tg_texts $U)"
like "$("$DBCHECK" "$T/bot.db")" '^integrity: ok' "the database is intact"
stop_bot
finish
