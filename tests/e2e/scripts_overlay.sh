# config `scripts` as a search path (the Debian package's
# "/etc/candlewatch/scripts:/usr/share/candlewatch/scripts"): a file of the
# first folder shadows the same relative path in the second, lib modules
# included; both folders are watched; a missing folder or a malformed path
# is named.
. tests/e2e/lib.bash

mkdir -p "$T/etc/lib" "$T/share/lib" "$T/share/rules"
# shipped: two scripts and a lib module; the operator's copy of one of each
printf '%s\n' 'local m = require("fmt"); host.on_start(function() log.info("ping " .. m.tag) end)' > "$T/share/ping.lua"
printf '%s\n' 'host.on_start(function() log.info("shipped pong") end)' > "$T/share/rules/pong.lua"
printf '%s\n' 'return { tag = "shipped-fmt" }' > "$T/share/lib/fmt.lua"
printf '%s\n' 'host.on_start(function() log.info("edited pong") end)' > "$T/etc/pong.lua.tmp"
mkdir -p "$T/etc/rules" && mv "$T/etc/pong.lua.tmp" "$T/etc/rules/pong.lua"
printf '%s\n' 'return { tag = "edited-fmt" }' > "$T/etc/lib/fmt.lua"

write_config "log = { level = 'debug' }" "scripts = '$T/etc:$T/share'"
out=$("$CW_BIN" check --config "$T/config.lua" 2>&1)
is "$?" 0 "check passes with two scripts folders"
start_bot || { fail "the bot starts"; finish; exit 1; }
wait_for 10 grep -q 'ping ' "$T/log"
wait_for 10 grep -q ' pong' "$T/log"
like "$(grep -o 'generation 1 live ([^)]*): [0-9]* scripts' "$T/log")" ': 2 scripts$' \
  "a shadowed file loads once (2 scripts: ping.lua and rules/pong.lua)"
grep -q 'edited pong' "$T/log" && pass "the first folder's rules/pong.lua shadows the shipped one" \
  || fail "the first folder's rules/pong.lua shadows the shipped one" "$(grep pong "$T/log")"
unlike "$(cat "$T/log")" 'shipped pong' "the shadowed file does not run"
grep -q 'ping edited-fmt' "$T/log" && pass "require finds the first folder's lib module" \
  || fail "require finds the first folder's lib module" "$(grep ping "$T/log")"

# an edit in the second folder reloads too; removing the override brings
# the shipped file back
printf '%s\n' 'host.on_start(function() log.info("ping v2") end)' > "$T/share/.ping.swp"
mv "$T/share/.ping.swp" "$T/share/ping.lua"
wait_for 10 grep -q 'ping v2' "$T/log" && pass "an edit in the second folder is live without a restart" \
  || fail "an edit in the second folder is live without a restart"
rm "$T/etc/rules/pong.lua"
wait_for 10 grep -q 'shipped pong' "$T/log" && pass "removing the override brings the shipped file back" \
  || fail "removing the override brings the shipped file back"
stop_bot
is "$?" 0 "the bot stops cleanly"

write_config "scripts = '$T/etc:$T/nowhere'"
out=$("$CW_BIN" check --config "$T/config.lua" 2>&1)
rc=$?
like "$out" "$T/nowhere: the scripts folder does not exist" "a missing folder of the path is named"
is "$rc" 1 "check fails on it"

write_config "scripts = '$T/etc::$T/share'"
out=$("$CW_BIN" check --config "$T/config.lua" 2>&1)
is "$?" 2 "an empty folder in the path is a configuration error (exit 2)"
like "$out" "key 'scripts'" "the message names the key"
finish
