# What an HTTP client can make the bot hold is bounded: a webhook POST
# without the right secret is refused from its headers, its body never
# read (regression: 800 such bodies of 1 MiB grew RSS by ~400 MB), and
# connections beyond http.max_connections are closed as soon as accepted
# while those open are still served.
. tests/e2e/lib.bash

start_tg || { fail "the stand-in Telegram starts" "$(cat "$T/tg.log")"; finish; exit 1; }
SECRET="s3cret-Token_2"
webhook="telegram = { token = '$TG_TOKEN', api_url = '$TG', webhook_url = 'http://127.0.0.1:9/telegram', webhook_secret = '$SECRET' }"
write_config "$webhook"
start_bot || { fail "the bot starts"; finish; exit 1; }

# headers announcing 1 MB, then 1000 bytes of it: the 401 comes without the rest
out=$(raw_http "POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n$(head -c 1000 /dev/zero | tr '\0' a)")
like "$out" '^HTTP/1\.1 401 ' "a webhook POST without the secret is refused before its body is read"
out=$(raw_http "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{")
like "$out" '^HTTP/1\.1 405 ' "so is a POST to a route that takes no body"
out=$(raw_http "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{")
like "$out" '^HTTP/1\.1 404 ' "and one to no route"

# 60 clients each send all but the last byte of a 1 MiB body without the
# secret and keep their connection open: resident memory hardly moves
rss() { awk '/^VmRSS/ {print $2}' "/proc/$BOT_PID/status"; }
before=$(rss)
perl -MIO::Socket::INET -e '
  $SIG{PIPE} = "IGNORE";
  my ($port, $n) = @ARGV; my @keep; my $len = 1048576;
  my $body = "a" x ($len - 1);
  for (1 .. $n) {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) or next;
    syswrite($s, "POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Length: $len\r\n\r\n");
    my $off = 0;   # (the bot may close the connection meanwhile)
    while ($off < length $body) { my $w = syswrite($s, $body, 65536, $off); last unless $w; $off += $w; }
    push @keep, $s;
  }
  sleep 1;   # (held open while the shell reads the bot memory)
  open(my $f, ">", $ARGV[2]); print $f "sent\n"; close $f;
  sleep 2;' "$PORT" 60 "$T/sent" &
perl_pid=$!
wait_for 60 test -s "$T/sent"
after=$(rss)
wait "$perl_pid"
diag "resident memory: $before kB before, $after kB with 60 refused 1 MiB bodies pending"
if [ "$((after - before))" -lt 32768 ]; then pass "60 unauthenticated 1 MiB bodies hold less than 32 MB"
else fail "60 unauthenticated 1 MiB bodies hold less than 32 MB" "before: $before kB, after: $after kB"; fi
is "$(status_of /health)" 200 "/health answers"
stop_bot

# at most http.max_connections at once
write_config "$webhook" "http = { listen = '127.0.0.1:0', max_connections = 5 }"
start_bot || { fail "the bot starts with max_connections = 5"; finish; exit 1; }
out=$(perl -MIO::Socket::INET -e "$PL_ANSWER" -e '
  my $port = shift; my @open;
  sub conn { IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) or die "connect: $!\n" }
  # five requests begun, in the order of the accept queue, then more
  for (1 .. 5) { my $s = conn(); syswrite($s, "GET /health HTTP/1.1\r\n"); push @open, $s; }
  my @extra = map { conn() } 1 .. 20;
  syswrite($_, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n") for @extra;
  my $refused = grep { answer($_) eq "<closed>" } @extra;
  print "refused=$refused\n";
  syswrite($open[0], "Host: x\r\n\r\n");
  my $a = answer($open[0]);
  print "first=", ($a =~ m{^HTTP/1\.1 (\d+)} ? $1 : "none"), "\n";' "$PORT")
like "$out" 'refused=20' "connections beyond max_connections are closed unanswered"
like "$out" 'first=200' "while a connection already open is still served"
is "$(status_of /health)" 200 "once they are gone, new connections are served"
like "$(get /metrics)" 'candlewatch_http_connections_refused_total\{reason="max_connections"\} 20' \
     "/metrics counts the refused connections"
is "$(grep -c 'refused a connection' "$T/log")" 1 "the refusals are logged once, not 20 times"
stop_bot
is "$?" 0 "SIGTERM stops the bot with exit status 0"
finish
