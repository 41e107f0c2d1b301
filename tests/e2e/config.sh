# config.lua: bad keys and types are refused by name with exit status 2;
# `candlewatch check` reports broken scripts as file:line; the token never
# appears in any output.
. tests/e2e/lib.bash

token="987654321:AAH-e2e_secret_token_value"
mkdir -p "$T/scripts"

run_with() {   # run_with CONFIG_BODY -> sets out, rc
  printf '%s\n' "$1" > "$T/c.lua"
  out=$(BOT_TOKEN=$token "$CW_BIN" run --config "$T/c.lua" 2>&1)
  rc=$?
}

run_with "return { telegram = { tokne = 'x' }, database = '$T/x.db', scripts = '$T/scripts' }"
is "$rc" 2 "an unknown key exits with status 2"
like "$out" "unknown key 'telegram.tokne'" "the message names the key"
like "$out" "did you mean 'telegram.token'" "and suggests the right one"

run_with "return { http = { listen = 8080 } }"
is "$rc" 2 "a wrong type exits with status 2"
like "$out" "key 'http.listen' must be a \"host:port\" string, got integer" "the message names key, expected and given type"

run_with "return { http = { max_connections = 0 } }"
is "$rc" 2 "http.max_connections = 0 exits with status 2"
like "$out" "key 'http.max_connections' must be a positive integer" "naming the key"

run_with "return { admins = { 'alice' } }"
is "$rc" 2 "a non-integer admin id is refused"
like "$out" "key 'admins' must be a list of Telegram chat ids" "naming the key"

# a long list is a list (300 operators)
printf '%s\n' "local a = {} for i = 1, 300 do a[i] = i end" \
  "return { admins = a, database = '$T/x.db', scripts = '$T/scripts' }" > "$T/c.lua"
out=$("$CW_BIN" check --config "$T/c.lua" 2>&1); rc=$?
is "$rc" 0 "a config with 300 admins passes check: $out"

# check refuses a webhook secret that run would refuse, by key, with status 2
printf '%s\n' "return { database = '$T/x.db', scripts = '$T/scripts', telegram = { webhook_url = 'https://example.org/h', webhook_secret = 'has space' } }" > "$T/c.lua"
out=$("$CW_BIN" check --config "$T/c.lua" 2>&1); rc=$?
is "$rc" 2 "check refuses a webhook secret Telegram would refuse"
like "$out" "key 'telegram.webhook_secret'" "naming the key"
out=$(BOT_TOKEN=$token "$CW_BIN" run --config "$T/c.lua" 2>&1); rc=$?
is "$rc" 2 "so does run, with the same status"
like "$out" "key 'telegram.webhook_secret'" "and the same message"

run_with "return { log = { level = 'loud' } }"
like "$out" "key 'log.level' must be one of" "an unknown log level is refused by name"

run_with "return { database = "
is "$rc" 2 "a syntax error in the config exits with status 2"
like "$out" "c.lua:[0-9]+: unexpected symbol" "and says file:line"

run_with "local n = 0
while true do n = n + 1 end"
is "$rc" 2 "a config that never finishes is stopped with status 2"
like "$out" "c.lua:2: the config did not finish" "naming file:line"

run_with "return 42"
like "$out" "must return a table" "a config that is not a table is refused"

run_with "return { telegram = { token = '$token', api_url = 12 } }"
is "$rc" 2 "a bad key next to a token is refused"
unlike "$out" "AAH-e2e_secret" "the token is not shown in the error"

out=$("$CW_BIN" run --config "$T/missing.lua" 2>&1); rc=$?
is "$rc" 2 "a missing config file exits with status 2"
like "$out" "missing.lua not found" "naming the file"

out=$("$CW_BIN" frobnicate 2>&1); rc=$?
is "$rc" 2 "an unknown command exits with status 2"

# check: clean, then a broken script reported as file:line
printf '%s\n' "return { database = '$T/x.db', scripts = '$T/scripts' }" > "$T/c.lua"
printf '%s\n' 'timer.every(60, function() end)' > "$T/scripts/fine.lua"
out=$("$CW_BIN" check --config "$T/c.lua" 2>&1); rc=$?
is "$rc" 0 "check passes a clean config and scripts"
mkdir -p "$T/scripts/rules"
printf '%s\n' 'local a = 1' 'if a then' '  return' > "$T/scripts/rules/broken.lua"
printf '%s\n' 'undefined_function()' > "$T/scripts/calls.lua"
out=$("$CW_BIN" check --config "$T/c.lua" 2>&1); rc=$?
is "$rc" 1 "check fails on broken scripts"
like "$out" "scripts/rules/broken.lua:4: 'end' expected" "check reports a syntax error as file:line"
like "$out" "scripts/calls.lua:1: undefined global 'undefined_function'" "and a top-level error as file:line"

# The token never reaches the log of a running bot either.
printf '%s\n' "return { database = '$T/t.db', scripts = '$T/scripts', http = { listen = '127.0.0.1:0' }, log = { level = 'debug' }, exchange = { enabled = false } }" > "$T/config.lua"
rm -f "$T/scripts/rules/broken.lua" "$T/scripts/calls.lua"
printf '%s\n' 'host.on_start(function() log.info("token is " .. tostring(require("json") and "'"$token"'")) end)' > "$T/scripts/leak.lua"
BOT_TOKEN=$token "$CW_BIN" run --config "$T/config.lua" > "$T/log" 2>&1 &
BOT_PID=$!
wait_for 20 grep -q 'token is' "$T/log"
unlike "$(cat "$T/log")" "AAH-e2e_secret" "a script logging the token shows it masked"
like "$(cat "$T/log")" 'token is \*\*\*' "as ***"
stop_bot
finish
