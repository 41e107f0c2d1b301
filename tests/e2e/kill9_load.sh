#!/usr/bin/env bash
# kill -9 at random moments, 20 times in a row, under load: the stand-in
# exchange streams every symbol at a high rate with alerts flowing to a
# chat, while a user sends notes that the bot acknowledges only after
# saving them.  After each kill the database passes its integrity check;
# at the end every acknowledged note is there exactly once (no update was
# handled twice), and the alerts duplicated across the kills are counted
# (at most the message in flight at each kill may go out twice).
. "$(dirname "$0")/lib.bash"
U=31   # the user with notes
C=32   # the chat with alerts
KILLS=${KILLS:-20}

start_fake --symbols 40 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
cat > "$T/scripts/commands/note.lua" <<'LUA'
-- /note X: appended to the user's list; acknowledged once saved (a
-- handler's writes are committed when it returns, before the reply goes)
bot.command("note", "keeps a note", function(ctx)
  local notes = store.get("notes", tostring(ctx.user.id)) or {}
  notes[#notes + 1] = ctx.args
  store.set("notes", tostring(ctx.user.id), notes)
  ctx:reply("saved " .. ctx.args)
end)
bot.command("notes", "lists the notes", function(ctx)
  local notes = store.get("notes", tostring(ctx.user.id)) or {}
  ctx:reply("notes: " .. table.concat(notes, " "))
end)
host.on_start(function()
  if #alerts.presets(32) == 0 then
    assert(alerts.save{ user_id = 32, chat_id = 32, name = "all", pairs = "top", top_n = 100,
                        intervals = { "1m" }, threshold = 0.1 })
  end
end)
LUA
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 5, intervals = { '1m' } }" "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 1 }"

n=0; bad_integrity=0
for k in $(seq 1 $KILLS); do
  start_bot || { fail "round $k: the bot starts"; break; }
  # a few notes per round, some acknowledged before the kill, some not
  for j in 1 2 3; do
    n=$((n + 1))
    tg_post /control/message "{\"chat\":$U,\"text\":\"/note $n\"}" >/dev/null
    sleep "0.$((RANDOM % 3))"
  done
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 "$BOT_PID"; wait "$BOT_PID" 2>/dev/null; BOT_PID=""
  "$DBCHECK" "$T/bot.db" | grep -q '^integrity: ok' || bad_integrity=$((bad_integrity + 1))
done
is "$bad_integrity" 0 "after each of $KILLS kills -9 the database passes its integrity check"

start_bot || { finish; exit 1; }
acked() { tg_texts $U | sed -n 's/^saved //p' | sort -un; }
# every note sent is eventually handled (the unhandled ones wait in
# Telegram's queue or the inbox), so wait for all of them
all_acked() { [ "$(acked | wc -l)" -ge "$n" ]; }
wait_for 60 all_acked || diag "acknowledged $(acked | wc -l) of $n"
tg_post /control/message "{\"chat\":$U,\"text\":\"/notes\"}" >/dev/null
wait_for 15 sh -c "curl -s '$TG/control/texts?chat=$U' | grep -q '^notes:'"
list=$(tg_texts $U | grep '^notes:' | tail -1 | sed 's/^notes: //' | tr ' ' '\n' | grep .)
missing=$(comm -23 <(acked) <(printf '%s\n' "$list" | sort -un) | tr '\n' ' ')
is "$missing" "" "every acknowledged note is kept"
is "$(printf '%s\n' "$list" | sort -n | uniq -d | tr '\n' ' ')" "" "no note was saved twice (no update handled twice)"
alerts=$(tg_texts $C | grep -o '^[^ ]* [A-Z0-9]*USDT 1m [+-][0-9.]*%' | sort)
dup=$(printf '%s\n' "$alerts" | uniq -d | grep -c .)
diag "alerts: $(printf '%s\n' "$alerts" | grep -c .), sent twice across $KILLS kills: $dup"
[ "$(printf '%s\n' "$alerts" | grep -c .)" -gt 0 ] && pass "alerts flowed meanwhile" || fail "alerts flowed meanwhile"
[ "$dup" -le "$KILLS" ] && pass "at most the message in flight at each kill went out twice ($dup)" \
  || fail "at most one duplicate per kill" "$dup"
stop_bot
finish
