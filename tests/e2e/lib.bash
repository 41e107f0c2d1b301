# Shared helpers for the e2e tests: TAP output and a bot started from the
# real binary on a free port, with its own database and scripts folder.
# shellcheck shell=bash
set -u
CW_BIN=${CW_BIN:-./candlewatch}
CW_BUILD=${CW_BUILD:-build}
case "$CW_BIN" in /*) ;; *) CW_BIN="$PWD/$CW_BIN" ;; esac
DBCHECK="$PWD/$CW_BUILD/tests/tools/dbcheck"
T=$(mktemp -d /tmp/cw-e2e-XXXXXX)
tap_n=0
tap_failed=0
BOT_PID=""

cleanup() {
  if [ -n "$BOT_PID" ] && kill -0 "$BOT_PID" 2>/dev/null; then kill -9 "$BOT_PID" 2>/dev/null; fi
  if [ -n "${FAKE_PID:-}" ]; then kill "$FAKE_PID" 2>/dev/null; fi
  if [ -n "${TG_PID:-}" ]; then kill "$TG_PID" 2>/dev/null; fi
  if [ -n "${GAS_PID:-}" ]; then kill "$GAS_PID" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT

pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail() {
  tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
  echo "not ok $tap_n - $1"
  shift
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# is GOT WANT NAME
is() { if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got:  $1" "want: $2"; fi; }
# like GOT ERE NAME
like() { if printf '%s' "$1" | grep -Eq -- "$2"; then pass "$3"; else fail "$3" "got: $1" "want match: $2"; fi; }
# unlike GOT ERE NAME
unlike() { if printf '%s' "$1" | grep -Eq -- "$2"; then fail "$3" "got: $1" "must not match: $2"; else pass "$3"; fi; }

# wait_for SECONDS COMMAND...: polls every 50 ms; 0 once COMMAND succeeds.
wait_for() {
  local limit=$1; shift
  local end=$(( $(date +%s%N) + limit * 1000000000 ))
  while [ "$(date +%s%N)" -lt "$end" ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  return 1
}

# write_config [extra lua fields...]: $T/config.lua with the test's paths.
# The feed is off unless a test points it at the stand-in (a later
# `exchange = {...}` field wins): tests never reach a real host.
write_config() {
  mkdir -p "$T/scripts"
  {
    echo "return {"
    echo "  database = '$T/bot.db',"
    echo "  scripts = '$T/scripts',"
    echo "  http = { listen = '127.0.0.1:${HTTP_PORT:-0}' },"
    echo "  exchange = { enabled = false },"
    for extra in "$@"; do echo "  $extra,"; done
    echo "}"
  } > "$T/config.lua"
}

# start_bot: runs the bot on $T/config.lua; sets BOT_PID and PORT.
start_bot() {
  : > "$T/log"
  "$CW_BIN" run --config "$T/config.lua" >> "$T/log" 2>&1 &
  BOT_PID=$!
  # (a bot that exits, e.g. on a port taken meanwhile, fails at once)
  wait_for 20 sh -c "grep -q 'listening on' '$T/log' || ! kill -0 $BOT_PID"
  if ! grep -q 'listening on' "$T/log"; then
    diag "the bot did not start:"; diag "$(cat "$T/log")"
    return 1
  fi
  # (the listening line's own port: other lines say "port N" too, e.g. curl's
  # "Failed to connect to 127.0.0.1 port 9" from a script's HTTP call)
  PORT=$(grep -o 'listening on .* (port [0-9]*)' "$T/log" | tail -1 | grep -o 'port [0-9]*' | awk '{print $2}')
}

stop_bot() {
  kill -TERM "$BOT_PID" 2>/dev/null
  wait "$BOT_PID"
  local rc=$?
  BOT_PID=""
  return $rc
}

get() { curl -s --max-time 5 "http://127.0.0.1:$PORT$1"; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT$1"; }

# write_script NAME CONTENT: as an editor would, via a temporary file and a rename.
write_script() {
  mkdir -p "$(dirname "$T/scripts/$1")"
  printf '%s\n' "$2" > "$T/scripts/.$(basename "$1").swp"
  mv "$T/scripts/.$(basename "$1").swp" "$T/scripts/$1"
}

finish() {
  echo "1..$tap_n"
  [ "$tap_failed" -eq 0 ]
}

# start_fake [options]: the stand-in exchange; sets FAKE_PID, FAKE_PORT, FAKE.
start_fake() {
  "$PWD/$CW_BUILD/tests/fakes/fake_binance" --port 0 "$@" > "$T/fake.log" 2>&1 &
  FAKE_PID=$!
  wait_for 10 grep -q 'listening on port' "$T/fake.log" || { diag "$(cat "$T/fake.log")"; return 1; }
  FAKE_PORT=$(grep -o 'port [0-9]*' "$T/fake.log" | awk '{print $2}')
  FAKE="http://127.0.0.1:$FAKE_PORT"
}
fake() { curl -s --max-time 5 "$FAKE$1"; }
# use_notes: the bot's scripts (a copy of scripts/ in $T) with /note and
# /notes (tests/e2e/scripts/notes.lua) for the fault tests
use_notes() {
  cp -r scripts "$T/"
  cp tests/e2e/scripts/notes.lua "$T/scripts/commands/notes.lua"
}
# kline_moves FROM TO: "SYMBOL OPEN CLOSE" for each 1m candle of the
# stand-in exchange inside [FROM, TO] (market ms) that closed 0.1 % or more
# away from its open: the alerts a 0.1 % close-trigger preset must send
kline_moves() {
  local s body tries
  for s in $(fake /fapi/v1/exchangeInfo | grep -o '"symbol":"[A-Z0-9]*"' | cut -d'"' -f4); do
    tries=0
    # (a test's own requests count against the stand-in's weight limit too)
    while body=$(fake "/fapi/v1/klines?symbol=$s&interval=1m&startTime=$1&endTime=$2&limit=99") &&
          [[ $body == *'"code"'* ]] && [ $((tries += 1)) -le 10 ]; do sleep 1; done
    printf '%s' "$body" | tr '[' '\n' |
      awk -F'"' -v s="$s" -v from="$1" -v to="$2" 'NF > 8 { split($1, a, ","); o = a[1]
        m = ($8 - $2) / $2 * 100; m = m < 0 ? -m : m
        if (o >= from && o + 59999 <= to && m >= 0.1) print s, $2, $8 }'
  done | sort -u
}
# alert_moves CHAT: "SYMBOL OPEN CLOSE" of each 1m alert the chat received
alert_moves() {
  tg_texts "$1" | sed 's/\\n\\n/\n/g' |
    grep -o '[A-Z0-9]*USDT 1m [+-][0-9.]*% ([a-z]*)\\n[0-9.]* → [0-9.]*' | sed 's/ 1m .*\\n/ /; s/ → / /'
}
# start_gas [options]: the stand-in gas oracle and JSON-RPC node; sets
# GAS_PID, GAS_PORT and GAS (Etherscan's API is $GAS/v2/api, the node $GAS/rpc)
start_gas() {
  "$PWD/$CW_BUILD/tests/fakes/fake_gas" --port 0 "$@" > "$T/gas.log" 2>&1 &
  GAS_PID=$!
  wait_for 10 grep -q 'listening on port' "$T/gas.log" || { diag "$(cat "$T/gas.log")"; return 1; }
  GAS_PORT=$(grep -o 'port [0-9]*' "$T/gas.log" | awk '{print $2}')
  GAS="http://127.0.0.1:$GAS_PORT"
}
# gas_post PATH JSON: a control request (or a JSON-RPC call) to the stand-in
gas_post() { curl -s --max-time 5 -H 'Content-Type: application/json' -d "$2" "$GAS$1"; }
# jget JSON PATH: the value at PATH (keys and array indexes joined by
# dots, e.g. result.reward.0.2) in JSON; arrays and objects as JSON,
# "<none>" when missing, "<bad json>" when JSON does not parse
jget() {
  printf '%s' "$1" | perl -MJSON::PP -e '
    my $j = eval { JSON::PP->new->allow_nonref->decode(do { local $/; <STDIN> }) };
    defined $j or do { print "<bad json>"; exit };
    for my $k (split /\./, $ARGV[0]) {
      if (ref $j eq "ARRAY" && $k =~ /^\d+$/ && $k < @$j) { $j = $j->[$k] }
      elsif (ref $j eq "HASH" && exists $j->{$k}) { $j = $j->{$k} }
      else { print "<none>"; exit }
    }
    print ref $j ? JSON::PP->new->canonical->encode($j) : defined $j ? $j : "null";' "$2"
}

# start_tg [options]: the stand-in Telegram; sets TG_PID, TG_PORT, TG and
# TG_TOKEN (the token it accepts).
TG_TOKEN="123456:TEST-token"
start_tg() {
  "$PWD/$CW_BUILD/tests/fakes/fake_telegram" --port 0 --token "$TG_TOKEN" "$@" > "$T/tg.log" 2>&1 &
  TG_PID=$!
  wait_for 10 grep -q 'listening on port' "$T/tg.log" || { diag "$(cat "$T/tg.log")"; return 1; }
  TG_PORT=$(grep -o 'port [0-9]*' "$T/tg.log" | awk '{print $2}')
  TG="http://127.0.0.1:$TG_PORT"
}
tg() { curl -s --max-time 5 "$TG$1"; }
# tg_post PATH JSON: a control request to the stand-in Telegram
tg_post() { curl -s --max-time 5 -H 'Content-Type: application/json' -d "$2" "$TG$1"; }
# tg_texts CHAT: the texts the bot sent or edited into CHAT, one a line
# (newlines inside a text shown as \n)
tg_texts() { tg "/control/texts?chat=$1"; }
# json_num JSON KEY: the number after "KEY": (first occurrence)
json_num() { printf '%s' "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
# health_dropped HEALTH-JSON: the frames dropped, every reason summed (the
# "dropped" object only: not the by-connection counts after it)
health_dropped() { printf '%s' "$1" | grep -o '"dropped":{[^}]*}' | head -1 | grep -o ':[0-9]*' | tr -d : |
  awk '{s += $1} END {print s + 0}'; }
# raw_http DATA [SECONDS]: sends DATA (printf escapes such as \r\n are
# expanded) to the bot's port in a single write, then prints what comes
# back until the bot closes the connection (followed by "<closed>") or
# SECONDS (default 5) pass ("<open>"). For requests curl will not make.
raw_http() {
  printf "$1" | perl -MIO::Socket::INET -MIO::Select -e '
    my ($port, $secs) = @ARGV;
    binmode STDIN; my $data = do { local $/; <STDIN> };
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) or die "connect: $!\n";
    defined(syswrite($s, $data)) or die "write: $!\n";
    my ($out, $end, $sel) = ("", time + $secs, IO::Select->new($s));
    while ((my $left = $end - time) > 0) {
      last unless $sel->can_read($left);
      my $n = sysread($s, my $buf, 65536);
      if (!$n) { print $out, "<closed>"; exit 0; }
      $out .= $buf;
    }
    print $out, "<open>";' "$PORT" "${2:-5}"
}

# ---- helpers the scripts share: a user in a chat of the stand-in
# Telegram, the stand-in exchange's clock and feed, a crash ----

# say CHAT TEXT: a user writes TEXT in CHAT (returns at once)
say() { tg_post /control/message "{\"chat\":$1,\"text\":\"$2\"}" >/dev/null; }
# press CHAT DATA: the user presses the button DATA on the last message the
# bot sent or edited in CHAT (returns at once)
press() { tg_post /control/callback "{\"chat\":$1,\"data\":\"$2\",\"message_id\":$(last_mid "$1")}" >/dev/null; }
# shows CHAT PATTERN: a text in CHAT matches PATTERN (grep's basic regex)
shows() { tg_texts "$1" | grep -q -- "$2"; }
# ask say|press TEXT|DATA: one step of chat $C's conversation; prints the
# bot's last text
ask() {
  local before; before=$(sent_count $C)
  "$1" $C "$2"
  answered $C "$before" 10
  sleep 0.2   # (a handler may send more than one thing)
  tg_texts $C | tail -1
}
# said CHAT PATTERN [SECONDS]: waits (15 s unless given) until a text in
# CHAT matches PATTERN; fails if none does by then
said() { wait_for "${3:-15}" shows "$1" "$2"; }
# texts_matching CHAT PATTERN: how many texts in CHAT match PATTERN
texts_matching() { tg_texts "$1" | grep -c -- "$2"; }
# said_times CHAT PATTERN N [SECONDS]: waits (15 s unless given) until N or
# more texts in CHAT match PATTERN
said_times() { wait_for "${4:-15}" texts_at_least "$1" "$2" "$3"; }
texts_at_least() { [ "$(texts_matching "$1" "$2")" -ge "$3" ]; }
# sent_count CHAT: how many calls the bot made into CHAT (sent, edited, ...)
sent_count() { tg "/control/sent?chat=$1" | grep -o '"seq"' | wc -l; }
# answered CHAT COUNT [SECONDS]: waits (15 s unless given) until the bot
# made more than COUNT calls into CHAT (COUNT from sent_count before)
answered() { wait_for "${3:-15}" sent_more "$1" "$2"; }
sent_more() { [ "$(sent_count "$1")" -gt "$2" ]; }
# last_mid CHAT: the id of the last message the bot sent or edited into
# CHAT (the one its buttons are on; answers to presses have none)
last_mid() { tg "/control/sent?chat=$1" | grep -o '"message_id":[1-9][0-9]*' | tail -1 | cut -d: -f2; }

# market_ms: the stand-in exchange's market clock, ms since the epoch
market_ms() { json_num "$(fake /control/stats)" market_ms; }
# market_past MS: the market clock has reached MS (for wait_for)
market_past() { [ "$(market_ms)" -ge "$1" ]; }
# live3: the bot's feed has its three connections live (/health)
live3() { [ "$(json_num "$(get /health)" live)" = 3 ]; }
# stream_split: the streams the stand-in exchange serves on each of the
# bot's connections, sorted, comma-separated (e.g. 360,1020,1020)
stream_split() {
  fake /control/stats | grep -o '"streams_per_connection":\[[0-9,]*\]' | grep -o '[0-9][0-9]*' | sort -n | paste -sd, -
}

# kill_bot: kill -9 the bot, as a crash would end it, and reap it
kill_bot() { kill -9 "$BOT_PID"; wait "$BOT_PID" 2>/dev/null; BOT_PID=""; }

# PL_ANSWER: Perl source of answer(SOCKET), for scripts that talk to the
# bot over raw sockets (perl -MIO::Socket::INET -e "$PL_ANSWER" -e '...'):
# what comes back within 5 s, then "<closed>" if the bot closed the
# connection, else "<open>"
PL_ANSWER='use IO::Select;
  sub answer {
    my $s = shift; my ($out, $end, $sel) = ("", time + 5, IO::Select->new($s));
    while ((my $left = $end - time) > 0) {
      last unless $sel->can_read($left);
      my $n = sysread($s, my $buf, 65536);
      return $out . "<closed>" if !$n;
      $out .= $buf;
    }
    return $out . "<open>";
  }'
