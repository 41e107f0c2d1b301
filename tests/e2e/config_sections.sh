#!/usr/bin/env bash
# A script's own section of config.lua (host.config): `check`, `run` and
# `console` stop with status 2 naming the key for a wrong value and for a
# top-level table no script declares; a declared section works; a secret
# taken from the environment never reaches the log.
. "$(dirname "$0")/lib.bash"

secret="sk-e2e-secret-4f9a2c"
mkdir -p "$T/scripts/lib"
printf '%s\n' 'return host.config("gas", {' \
  '  interval = { type = "number", min = 15, max = 3600, default = 60 },' \
  '  key = { type = "string", env = "E2E_GAS_KEY", secret = true },' \
  '})' > "$T/scripts/lib/gas_config.lua"
printf '%s\n' 'local c = require("gas_config")' \
  'host.on_start(function()' \
  '  log.warn("gas interval " .. c.interval .. " in mode " .. host.mode())' \
  '  log.warn("gas key " .. tostring(c.key))' \
  'end)' > "$T/scripts/gas.lua"

config_with() {   # config_with LUA_FIELD...: $T/c.lua with the test's paths
  printf '%s\n' "return { database = '$T/x.db', scripts = '$T/scripts'," \
    "  http = { listen = '127.0.0.1:0' }, exchange = { enabled = false }," "$@" "}" > "$T/c.lua"
}
check() { out=$("$CW_BIN" check --config "$T/c.lua" 2>&1); rc=$?; }
run() { out=$(timeout 20 "$CW_BIN" run --config "$T/c.lua" 2>&1); rc=$?; }
console() { out=$(echo /help | timeout 20 "$CW_BIN" console --config "$T/c.lua" 2>&1); rc=$?; }

# a value of the wrong type: check, run and console refuse it by key
config_with "gas = { interval = '60' },"
want="c.lua: key 'gas.interval' must be a number from 15 to 3600, got string"
check
is "$rc" 2 "check: a section value of the wrong type exits with status 2"
like "$out" "candlewatch: .*$want" "naming the key, what it must be and what it is"
run
is "$rc" 2 "run: the same exits with status 2"
like "$out" "candlewatch: .*$want" "with the same message"
console
is "$rc" 2 "console: the same exits with status 2"
like "$out" "candlewatch: .*$want" "with the same message"

config_with "gas = { interval = 5 },"
check
is "$rc" 2 "a value out of range exits with status 2"
like "$out" "key 'gas.interval' must be a number from 15 to 3600, got 5" "showing the value"

config_with "gas = { intervall = 30 },"
check
is "$rc" 2 "an unknown key in a script's section exits with status 2"
like "$out" "unknown key 'gas.intervall' \\(did you mean 'gas.interval'\\?\\)" "suggesting the schema's key"

# a top-level table that no script declares: an unknown key, with a suggestion
config_with "gsa = { interval = 30 },"
check
is "$rc" 2 "check: an undeclared section exits with status 2"
like "$out" "candlewatch: .*c.lua: unknown key 'gsa' \\(did you mean 'gas'\\?\\)" "suggesting the declared section"
run
is "$rc" 2 "run: the same exits with status 2"
like "$out" "unknown key 'gsa' \\(did you mean 'gas'\\?\\)" "with the same message"

config_with "log = { level = 'info' }, telegarm = { token = 'x' },"
check
is "$rc" 2 "a misspelt core section exits with status 2"
like "$out" "unknown key 'telegarm' \\(did you mean 'telegram'\\?\\)" "suggesting the core's section"

config_with "gas = 30,"
check
is "$rc" 2 "a top-level non-table that is not the core's stays an unknown key"
like "$out" "unknown key 'gas'" "naming it"

# a declared section works; the secret comes from the environment
config_with "gas = { interval = 30 },"
check
is "$rc" 0 "check passes a declared section: $out"
cp "$T/c.lua" "$T/config.lua"
: > "$T/log"
E2E_GAS_KEY=$secret "$CW_BIN" run --config "$T/config.lua" >> "$T/log" 2>&1 &
BOT_PID=$!
wait_for 20 grep -q 'gas key' "$T/log"
like "$(cat "$T/log")" "gas interval 30 in mode run" "a running bot's script reads its section"
like "$(cat "$T/log")" "gas key \\*\\*\\*" "the secret from the environment is logged masked"
unlike "$(cat "$T/log")" "$secret" "and never in the clear"
stop_bot
out=$(echo /help | E2E_GAS_KEY=$secret timeout 20 "$CW_BIN" console --config "$T/c.lua" 2>&1); rc=$?
is "$rc" 0 "the console starts with a declared section"
like "$out" "gas interval 30 in mode console" "and its scripts know they run in the console"
unlike "$out" "$secret" "without showing the secret"

# another script broken: the section cannot be checked, the bot starts anyway
config_with "gas = { interval = 30 }, other = { a = 1 },"
printf '%s\n' 'local x = ' > "$T/scripts/broken.lua"
check
is "$rc" 1 "check with a broken script fails as before (status 1)"
like "$out" "broken.lua:2:" "naming the broken script"
like "$out" "sections 'other' were not checked" "and warning of the section it could not judge"
cp "$T/c.lua" "$T/config.lua"
start_bot
like "$(cat "$T/log")" "sections 'other' were not checked" "run starts and warns of it"
stop_bot

# the shipped gas scripts: a name in gas.sources that is none of the
# schema's one_of stops check and start-up like any other config error
mkdir -p "$T/real" && cp -r scripts "$T/real/"
printf '%s\n' "return { database = '$T/y.db', scripts = '$T/real/scripts'," \
  "  http = { listen = '127.0.0.1:0' }, exchange = { enabled = false }," \
  "  gas = { enabled = true, sources = { 'etherscan', 'rcp' } } }" > "$T/g.lua"
want="g.lua: key 'gas.sources' item 2: \"rcp\" is not one of etherscan, rpc \\(did you mean 'rpc'\\?\\)"
out=$("$CW_BIN" check --config "$T/g.lua" 2>&1); rc=$?
is "$rc" 2 "check: an unknown name in gas.sources exits with status 2"
like "$out" "candlewatch: .*$want" "naming the key, the item and the names it takes"
out=$(timeout 20 "$CW_BIN" run --config "$T/g.lua" 2>&1); rc=$?
is "$rc" 2 "run: the same exits with status 2"
like "$out" "candlewatch: .*$want" "with the same message"

# host.mode() under check
printf '%s\n' 'error("in mode " .. host.mode())' > "$T/scripts/broken.lua"
check
like "$out" "broken.lua:1: in mode check" "a script's top level knows it runs under check"
finish
