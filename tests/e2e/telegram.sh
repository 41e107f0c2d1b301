#!/usr/bin/env bash
# The Telegram side of the real binary against the stand-in Bot API:
# a flow interrupted by kill -9, updates never handled twice, the outbox
# surviving kill -9, 429 storms and 5xx failures, a blocked chat, HTML
# escaping.
. "$(dirname "$0")/lib.bash"

start_tg || { fail "the stand-in Telegram starts" "$(cat "$T/tg.log")"; finish; exit 1; }
cp -r scripts/commands "$T/scripts/" 2>/dev/null || mkdir -p "$T/scripts/commands"
cp -r scripts/lib "$T/scripts/"
write_script commands/test.lua '
bot.command("new", "Start a test flow", function(ctx)
  ctx:go("ask.name")
  ctx:reply("Name?")
end)
bot.step("ask.name", function(ctx)
  ctx:finish()
  ctx:reply(bot.fmt("Saved %s.", ctx.text))
end)
-- counts how often each update is handled, durably, with the reply
bot.command("count", "Count handlings", function(ctx)
  local key = tostring(ctx.update_id)
  local n = (store.get("handled", key) or 0) + 1
  store.set("handled", key, n)
  ctx:reply("update " .. key .. " handled " .. n .. " time(s)")
end)
-- alerts for chats from..to: what the alert engine will do
bot.command("alerts", "Queue test alerts", function(ctx)
  local from, to, tag = ctx.args:match("^(%d+) (%d+) (%S+)$")
  for chat = tonumber(from), tonumber(to) do
    bot.alert(chat, "<b>" .. tag .. "</b> alert for " .. chat, chat % 7)
  end
  ctx:reply("queued")
end, { admin = true })
-- three alerts for one chat at once: merged into one message
bot.command("burst", "Queue merged alerts", function(ctx)
  local chat, tag = ctx.args:match("^(%d+) (%S+)$")
  for i = 1, 3 do bot.alert(tonumber(chat), tag .. " part " .. i, i) end
  ctx:reply("queued")
end, { admin = true })'
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }" "admins = { 1 }"

has_text() { tg_texts "$1" | grep -qF -- "$2"; }

start_bot || exit 1
if wait_for 20 grep -q 'signed in as @candlewatch_test_bot' "$T/log"; then
  pass "the bot signs in with getMe"
else
  fail "the bot signs in with getMe" "$(tail -5 "$T/log")"
fi
wait_for 5 sh -c "curl -s '$TG/control/stats' | grep -q '\"command\":\"new\"'"
like "$(tg /control/stats)" '"command":"start"' "the command menu is set from the scripts (setMyCommands)"
unlike "$(tg /control/stats)" '"command":"reload"' "operator commands stay out of the menu"

# --- a flow interrupted by kill -9 continues after restart
say 10 /new
wait_for 20 has_text 10 "Name?" && pass "a flow starts" || fail "a flow starts" "$(tg_texts 10)"
kill_bot
start_bot || exit 1
say 10 "Ann"
if wait_for 15 has_text 10 "Saved Ann."; then
  pass "after kill -9 the flow continues where it was"
else
  fail "after kill -9 the flow continues where it was" "$(tg_texts 10)" "$(tail -20 "$T/log")"
fi

# --- no update handled twice, across kill -9 in the middle of a stream of them
# (one chat each: a chat's replies are paced at one a second)
for c in $(seq 100 129); do say "$c" /count; done
sleep 0.3
kill_bot
for c in $(seq 130 139); do say "$c" /count; done
start_bot || exit 1
all_counted() { for c in $(seq 100 139); do has_text "$c" "handled" || return 1; done; }
wait_for 60 all_counted && pass "all 40 updates were handled across the kill" \
  || fail "all 40 updates were handled across the kill" "$(tg /control/stats)"
twice=0
for c in $(seq 100 139); do tg_texts "$c" | grep -q 'handled [2-9] time' && twice=$((twice + 1)); done
is "$twice" 0 "none of them was handled twice"

# --- the outbox survives kill -9
tg_post /control/fail '{"status":502,"count":100000,"method":"sendMessage"}' >/dev/null
say 1 "/alerts 20 29 outbox"
sleep 1.5
kill_bot
tg_post /control/fail '{"status":502,"count":0}' >/dev/null
tg_post /control/reset '{}' >/dev/null
start_bot || exit 1
delivered() { for c in $(seq 20 29); do has_text "$c" "outbox" || return 1; done; }
if wait_for 30 delivered; then
  pass "alerts queued while Telegram failed are delivered after kill -9 and restart"
else
  fail "alerts queued while Telegram failed are delivered after kill -9 and restart" \
       "$(for c in $(seq 20 29); do echo "$c: $(tg_texts $c)"; done)"
fi

# --- merged alerts survive kill -9 as the one message they were (each
# alert is a row of the outbox; the restart merges them again)
tg_post /control/fail '{"status":502,"count":100000,"method":"sendMessage"}' >/dev/null
say 1 "/burst 60 merged"
sleep 1.5
kill_bot
tg_post /control/fail '{"status":502,"count":0}' >/dev/null
tg_post /control/reset '{}' >/dev/null
start_bot || exit 1
if wait_for 30 has_text 60 "merged part"; then
  sleep 1   # (a second message, if any, would come now)
  is "$(tg_texts 60 | wc -l)" 1 "three merged alerts queued before kill -9 arrive as one message after the restart"
  like "$(tg_texts 60)" 'merged part 3.*merged part 2.*merged part 1' "holding all three, bigger first"
else
  fail "merged alerts queued before kill -9 arrive after the restart" "$(tg_texts 60)" "$(tail -5 "$T/log")"
fi

# --- a 429 storm: retry_after is obeyed and nothing is lost
tg_post /control/reset '{}' >/dev/null
tg_post /control/fail '{"status":429,"count":3,"retry_after":2,"method":"sendMessage"}' >/dev/null
t0=$(date +%s%N)
say 1 "/alerts 30 34 storm"
delivered429() { for c in $(seq 30 34); do has_text "$c" "storm" || return 1; done; }
if wait_for 30 delivered429; then pass "after a 429 storm every alert arrives"; else fail "after a 429 storm every alert arrives" "$(tg /control/stats)"; fi
waited=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$waited" -ge 2000 ] && pass "retry_after (2 s) was waited out (${waited} ms)" \
                      || fail "retry_after (2 s) was waited out" "delivered after ${waited} ms"
like "$(get /health)" '"rate_limited_429":[1-9]' "/health counts the 429s"

# --- 5xx: retried with backoff, nothing lost
tg_post /control/fail '{"status":500,"count":4,"method":"sendMessage"}' >/dev/null
say 1 "/alerts 40 41 fivexx"
if wait_for 30 sh -c "curl -s '$TG/control/texts?chat=40' | grep -q fivexx && curl -s '$TG/control/texts?chat=41' | grep -q fivexx"; then
  pass "alerts survive 5xx answers"
else
  fail "alerts survive 5xx answers" "$(tg /control/stats)"
fi

# --- a blocked chat: alerts stop, /start brings them back
tg_post /control/block '{"chat":50}' >/dev/null
say 1 "/alerts 50 50 first"
wait_for 20 grep -q 'chat 50 is inactive' "$T/log" && pass "a 403 marks the chat inactive" \
  || fail "a 403 marks the chat inactive" "$(tail -5 "$T/log")"
before=$(json_num "$(tg /control/stats)" rejected_403)
say 1 "/alerts 50 50 second"
sleep 1
is "$(json_num "$(tg /control/stats)" rejected_403)" "$before" "no more sends to a chat that blocked the bot"
tg_post /control/unblock '{"chat":50}' >/dev/null
say 50 /start
say 1 "/alerts 50 50 third"
wait_for 20 has_text 50 "third" && pass "after /start its alerts flow again" \
  || fail "after /start its alerts flow again" "$(tg_texts 50)"
unlike "$(tg_texts 50)" "second" "what came while blocked was not queued up"

# --- HTML in what users control is escaped
tg_post /control/message '{"chat":60,"text":"/start","first_name":"<b>Eve</b> & <i"}' >/dev/null
if wait_for 20 has_text 60 "Hello, <b>Eve</b> & <i!"; then
  pass "a name with HTML in it is shown as typed"
else
  fail "a name with HTML in it is shown as typed" "$(tg_texts 60)"
fi
is "$(json_num "$(tg /control/stats)" rejected_400)" 0 "Telegram never refused the bot's HTML"

# --- updates that arrive while no script can load wait for a good one
# (regression: they were acknowledged and thrown away)
stop_bot
write_script commands/broken.lua 'bot.command("broken", "x", function() end'
start_bot || exit 1
say 80 /help
sleep 1
is "$(tg_texts 80)" "" "with no scripts live, an update is not answered yet"
rm "$T/scripts/commands/broken.lua"
wait_for 15 has_text 80 "Commands" && pass "and is handled once a reload succeeds" \
  || fail "and is handled once a reload succeeds" "$(tail -5 "$T/log")"

grep -q "$TG_TOKEN" "$T/log" && fail "the token never appears in the log" "$(grep -n "$TG_TOKEN" "$T/log" | head -3)" \
  || pass "the token never appears in the log"
stop_bot
finish
