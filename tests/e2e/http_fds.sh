# Out of file descriptors (regression: at the limit accept() failed in a
# busy loop, 100 % CPU and ~7 MB/s of "accept: errno 24" lines): under
# ulimit -n 64, 100 clients connecting at once get a connection closed
# unanswered past what the descriptors allow, the log says so once, the
# bot stays idle, and a connection already open is still served. When
# something else (a script's hanging requests) has taken every descriptor,
# accept() fails once and the bot stops accepting for a while instead of
# retrying at once.
. tests/e2e/lib.bash

write_config
: > "$T/log"
(ulimit -n 64; exec "$CW_BIN" run --config "$T/config.lua" >> "$T/log" 2>&1) &
BOT_PID=$!
wait_for 20 sh -c "grep -q 'listening on' '$T/log' || ! kill -0 $BOT_PID"
grep -q 'listening on' "$T/log" || { fail "the bot starts under ulimit -n 64" "$(cat "$T/log")"; finish; exit 1; }
PORT=$(grep -o 'port [0-9]*' "$T/log" | tail -1 | awk '{print $2}')
like "$(grep 'open files' "/proc/$BOT_PID/limits")" ' 64 ' "the bot runs under ulimit -n 64"

out=$(perl -MIO::Socket::INET -e "$PL_ANSWER" -e '
  my ($port, $pid) = @ARGV; my @held;
  sub ticks { open(my $f, "<", "/proc/$pid/stat") or return 0; my @s = split " ", <$f>; $s[13] + $s[14] }
  sub conn { IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) }
  my $first = conn() or die "connect: $!\n";
  syswrite($first, "GET /health HTTP/1.1\r\n");
  for (1 .. 100) { my $s = conn() or last; push @held, $s; }
  my $t0 = ticks(); sleep 2; my $t1 = ticks();
  print "ticks=", $t1 - $t0, "\n";
  print "connected=", scalar @held, "\n";
  syswrite($first, "Host: x\r\n\r\n");
  my $a = answer($first);
  print "first=", ($a =~ m{^HTTP/1\.1 (\d+)} ? $1 : "none"), "\n";' "$PORT" "$BOT_PID")
diag "$out"
ticks=$(printf '%s' "$out" | sed -n 's/^ticks=//p')
if [ "${ticks:-999}" -le 20 ]; then pass "the bot stays idle while the descriptors are used up"
else fail "the bot stays idle while the descriptors are used up" "CPU ticks in 2 s: $ticks"; fi
like "$out" 'first=200' "a connection already open is still served"
is "$(status_of /health)" 200 "and new connections once the others are gone"
lines=$(wc -l < "$T/log")
if [ "$lines" -le 20 ]; then pass "the log does not flood ($lines lines)"
else fail "the log does not flood" "$lines lines; the first: $(head -5 "$T/log")"; fi
is "$(grep -c 'refused a connection' "$T/log")" 1 "the refusals are logged once"
like "$(get /metrics)" 'candlewatch_http_connections_refused_total\{reason="file_descriptors"\} [1-9]' \
     "and counted"
stop_bot
is "$?" 0 "SIGTERM stops the bot with exit status 0"

# a server that accepts and never answers, for the script's requests
perl -MIO::Socket::INET -e '
  my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 200) or die;
  open(my $f, ">", $ARGV[0]); print $f $l->sockport, "\n"; close $f;
  my @keep; while (my $c = $l->accept) { push @keep, $c; }' "$T/hole" &
FAKE_PID=$!   # (lib.bash's cleanup stops it)
wait_for 10 test -s "$T/hole"
write_config
(ulimit -n 40; exec "$CW_BIN" run --config "$T/config.lua" > "$T/log" 2>&1) &
BOT_PID=$!
wait_for 20 sh -c "grep -q 'listening on' '$T/log' || ! kill -0 $BOT_PID"
PORT=$(grep -o 'port [0-9]*' "$T/log" | tail -1 | awk '{print $2}')
is "$(status_of /health)" 200 "under ulimit -n 40, /health answers"
write_script hog.lua "host.on_start(function()
  for i = 1, 60 do timer.after(0, function() http.get('http://127.0.0.1:$(cat "$T/hole")/', {timeout = 6}) end) end
end)"
fds() { ls "/proc/$BOT_PID/fd" | wc -l; }
wait_for 10 sh -c "[ \$(ls /proc/$BOT_PID/fd | wc -l) -ge 40 ]"
diag "descriptors open: $(fds)"
lines0=$(wc -l < "$T/log")
out=$(perl -MIO::Socket::INET -e '
  my ($port, $pid) = @ARGV; my @held;
  sub ticks { open(my $f, "<", "/proc/$pid/stat") or return 0; my @s = split " ", <$f>; $s[13] + $s[14] }
  for (1 .. 20) { my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) or last; push @held, $s; }
  my $t0 = ticks(); sleep 2; my $t1 = ticks();
  print "ticks=", $t1 - $t0, "\n";' "$PORT" "$BOT_PID")
diag "$out"
ticks=$(printf '%s' "$out" | sed -n 's/^ticks=//p')
if [ "${ticks:-999}" -le 20 ]; then pass "accept() failing does not keep the bot busy"
else fail "accept() failing does not keep the bot busy" "CPU ticks in 2 s: $ticks"; fi
lines=$(($(wc -l < "$T/log") - lines0))
if [ "$lines" -le 10 ]; then pass "nor flood the log ($lines lines)"
else fail "nor flood the log" "$lines lines; the first: $(tail -n +"$lines0" "$T/log" | head -5)"; fi
wait_for 20 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:$PORT/health) = 200 ]" \
  && pass "once the script's requests give up, /health answers again" \
  || fail "once the script's requests give up, /health answers again" "$(tail -5 "$T/log")"
stop_bot
is "$?" 0 "SIGTERM stops the bot with exit status 0"
finish
