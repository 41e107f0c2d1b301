#!/usr/bin/env bash
# The disk fills up, then the file system turns read-only, while the bot
# runs (a preloaded shim, tests/fakes/faultfs.c, fails the database's
# writes with ENOSPC or EROFS).  The bot keeps serving what it can: alerts
# still go out, commands that save nothing still answer.  What it cannot
# save it does not claim to have saved: the user hears it did not go
# through.  /health and the admins report the database failing, and its
# recovery once the disk is back; nothing that was acknowledged is lost,
# across a restart and a kill -9.
. "$(dirname "$0")/lib.bash"
A=41   # the admin
U=42   # a user with notes
C=43   # the chat with alerts

start_fake --symbols 20 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
use_notes
cat > "$T/scripts/commands/diskfault.lua" <<'LUA'
-- a preset through the alert engine: its memory must follow the database
bot.command("watch", "alerts on one pair", function(ctx)
  local id, err = alerts.save{ user_id = ctx.user.id, chat_id = ctx.chat.id, name = ctx.args,
                               pairs = "manual", symbols = { ctx.args }, intervals = { "1m" },
                               threshold = 0.1 }
  ctx:reply(id and ("watching " .. ctx.args) or ("not watching: " .. tostring(err)))
end)
-- what the alert engine holds in memory for a chat's pause and quiet hours
bot.command("held", "pause and quiet hours", function(ctx)
  local q = alerts.quiet(ctx.chat.id)
  ctx:reply("held: " .. tostring((alerts.paused(ctx.chat.id))) .. " quiet: " .. (q and (q.from .. "-" .. q.to) or "none"))
end)
host.on_start(function()
  if #alerts.presets(43) == 0 then
    assert(alerts.save{ user_id = 43, chat_id = 43, name = "all", pairs = "top", top_n = 100,
                        intervals = { "1m" }, threshold = 0.1 })
  end
end)
LUA
mkdir -p "$T/db"
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 1 }" \
  "database = '$T/db/bot.db'" "admins = { $A }"
CTL="$T/faultfs.ctl"
export FAULTFS_DIR="$T/db" FAULTFS_CTL="$CTL"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
PRELOAD="$PWD/$CW_BUILD/tests/fakes/faultfs.so"

health() { curl -s "http://127.0.0.1:$PORT/health"; }
health_code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health"; }
alerts_now() { texts_matching $C 'USDT 1m'; }
NOT_SAVED='did not go through'

LD_PRELOAD="$PRELOAD" start_bot || { finish; exit 1; }
say $U "/note one"
said $U '^saved one' && pass "before the fault a note is saved" || fail "a note is saved" "$(tg_texts $U)"
said_times $C 'USDT 1m' 1 30 \
  || diag "no alerts yet"

for fault in enospc erofs; do
  echo "$fault" > "$CTL"
  say $U "/note lost-$fault"
  said $U "$NOT_SAVED" && pass "$fault: the user hears that the note did not go through" \
    || fail "$fault: the user hears the note was not saved" "$(tg_texts $U)"
  unlike "$(tg_texts $U)" "saved lost-$fault" "$fault: and is never told it was saved"
  wait_for 10 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/health)\" = 503 ]" \
    && pass "$fault: /health says failing (503)" || fail "$fault: /health fails" "$(health)"
  like "$(health)" '"store":\{"status":"failing"' "$fault: with the store named as the reason"
  before=$(texts_matching $U "$NOT_SAVED")
  say $U "/watch ETHUSDT"
  said_times $U "$NOT_SAVED" $((before + 1)) \
    && pass "$fault: a new preset is refused the same way" || fail "$fault: the preset is refused" "$(tg_texts $U)"
  before=$(texts_matching $U "$NOT_SAVED")
  say $U "/stop"
  say $U "/quiet 23:00-07:00 UTC+2"
  said_times $U "$NOT_SAVED" $((before + 2)) \
    && pass "$fault: /stop and /quiet are refused the same way" || fail "$fault: /stop, /quiet refused" "$(tg_texts $U)"
  before=$(texts_matching $U '^held: nil quiet: none$')
  say $U "/held"
  said_times $U '^held: nil quiet: none$' $((before + 1)) \
    && pass "$fault: and their pause and quiet hours are not in memory either" \
    || fail "$fault: the refused pause is forgotten" "$(tg_texts $U | tail -3)"
  say $U "/notes"
  said $U '^notes: one$' && pass "$fault: a command that saves nothing still answers" \
    || fail "$fault: /notes answers" "$(tg_texts $U)"
  a0=$(alerts_now)
  # (each candle alerts once: the next may be a minute away)
  said_times $C 'USDT 1m' $((a0 + 1)) 90 \
    && pass "$fault: alerts still go out" || fail "$fault: alerts still go out" "$a0 before, $(alerts_now) now"
  : > "$CTL"
  wait_for 15 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/health)\" = 200 ]" \
    && pass "$fault: once the disk is back /health is ok again" || fail "$fault: /health recovers" "$(health)"
done
said $A 'Database' \
  && pass "the admins were told the database failed" || fail "the admins hear of it" "$(tg_texts $A)"
said $A 'Database</b>: cleared\|Database: cleared' \
  && pass "and that it recovered" || fail "the admins hear it recovered" "$(tg_texts $A)"

say $U "/note two"
said $U '^saved two' && pass "after the fault notes are saved again" || fail "saved again" "$(tg_texts $U)"
say $U "/watch BTCUSDT"
said $U '^watching BTCUSDT' || fail "a preset is saved after the fault" "$(tg_texts $U)"
say $U "/mypresets"
said $U '^presets: ' || fail "/mypresets answers"
is "$(tg_texts $U | grep '^presets: ' | tail -1)" "presets: BTCUSDT" \
  "the presets refused during the fault are not in memory either"

# a restart, then a kill -9 in a fault, then a start on a healthy disk
stop_bot
LD_PRELOAD="$PRELOAD" start_bot || { finish; exit 1; }
echo enospc > "$CTL"
say $U "/note lost-again"
said_times $U "$NOT_SAVED" 9 \
  || diag "no answer to the note on a full disk: $(tg_texts $U)"
kill_bot
: > "$CTL"
like "$("$DBCHECK" "$T/db/bot.db")" '^integrity: ok' "after a kill -9 on a full disk the database is intact"
start_bot || { finish; exit 1; }
n0=$(texts_matching $U '^notes:')
say $U "/notes"
said_times $U '^notes:' $((n0 + 1)) \
  || diag "$(tg_texts $U)"
is "$(tg_texts $U | grep '^notes:' | tail -1)" "notes: one two" \
  "after restarts every acknowledged note is there, and none that was refused"
is "$(texts_matching $U "$NOT_SAVED")" 9 \
  "no update was handled twice (each refused one answered once, none again after the restarts)"
like "$(health)" '"store":\{"status":"ok"' "the store is ok on a healthy disk"
stop_bot
finish
