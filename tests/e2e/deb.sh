#!/usr/bin/env bash
# The Debian package (make deb, deploy/debian/): built into a temporary
# folder; its files, modes, control fields and conffiles; lintian with no
# error and only the warnings explained in docs/operations.md; the extracted
# files run (check, then the bot against the stand-ins with the packaged
# config); the maintainer scripts run in a fake root ($DPKG_ROOT) with
# stand-ins for adduser, systemd's helpers and chown that only record what
# they were asked.  Nothing outside $T changes.
. "$(dirname "$0")/lib.bash"

DEB=$(deploy/debian/mkdeb "$CW_BIN" "$T/work" "$T" 2>"$T/mkdeb.err") && [ -f "$DEB" ] ||
  { fail "mkdeb builds the package" "$(cat "$T/mkdeb.err")"; finish; exit 1; }
pass "mkdeb builds the package"

# from a source tree without git (a tarball): the binary's version, or the
# VERSION file's when there is one
mkdir -p "$T/src"
cp -r config.lua README.md scripts docs deploy "$T/src/"
is "$(dpkg-deb -f "$("$T/src/deploy/debian/mkdeb" "$CW_BIN" "$T/src/work" "$T/src" 2>>"$T/mkdeb.err")" Version)" \
  "$("$CW_BIN" --version | awk '{print $NF}')-1" "without git: Version is the binary's, revision 1"
echo 9.8.7 > "$T/src/VERSION"
is "$(dpkg-deb -f "$("$T/src/deploy/debian/mkdeb" "$CW_BIN" "$T/src/work" "$T/src" 2>>"$T/mkdeb.err")" Version)" 9.8.7-1 \
  "with a VERSION file: its version, revision 1"

# --- contents and modes
dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}' | sed 's| \./| /|' > "$T/contents"
missing=""
for f in /usr/bin/candlewatch /usr/share/candlewatch/scripts/commands/start.lua \
         /usr/share/candlewatch/scripts/lib/alertfmt.lua /usr/share/candlewatch/scripts/rules/move.lua \
         /etc/candlewatch/config.lua /etc/candlewatch/env /etc/candlewatch/scripts/ \
         /lib/systemd/system/candlewatch.service /usr/share/man/man1/candlewatch.1.gz \
         /usr/share/doc/candlewatch/copyright /usr/share/doc/candlewatch/changelog.Debian.gz \
         /usr/share/doc/candlewatch/README.md /usr/share/doc/candlewatch/docs/operations.md; do
  grep -q " $f\$" "$T/contents" || missing="$missing $f"
done
is "$missing" "" "the package holds the binary, scripts, config, unit, man page and docs"
shipped=$(cd scripts && find . -name '*.lua' | wc -l)
is "$(grep -c ' /usr/share/candlewatch/scripts/.*\.lua$' "$T/contents")" "$shipped" \
  "every shipped script is in /usr/share/candlewatch/scripts"
like "$(grep ' /etc/candlewatch/env$' "$T/contents")" '^-rw------- root/root ' "the env file is mode 600, root's"
like "$(grep ' /usr/bin/candlewatch$' "$T/contents")" '^-rwxr-xr-x root/root ' "the binary is 755, root's"
is "$(grep -v ' root/root ' "$T/contents")" "" "every file is root's"

# the man page (hand-written) names every command and option of --help
help=$("$CW_BIN" --help | sed -n '1,/^  --version/p')
missing=""
for c in $(printf '%s\n' "$help" | sed -n '/^commands:/,$p' | grep -Eo '^  [a-z]+'); do
  grep -q "^\.B candlewatch $c\b" docs/candlewatch.1 && grep -q "^\.BI\? $c\b" docs/candlewatch.1 ||
    missing="$missing $c"
done
for o in $(printf '%s\n' "$help" | grep -Eo -- '--[a-z]+' | sort -u); do
  grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" docs/candlewatch.1 || missing="$missing $o"
done
is "$missing" "" "candlewatch(1) covers every command and option of --help"
if command -v man >/dev/null; then
  man_warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l docs/candlewatch.1 2>&1 >/dev/null)
  is "$man_warn" "" "candlewatch(1) formats without a warning"
else
  pass "# SKIP man is not installed"
fi

# --- control fields and conffiles
f() { dpkg-deb -f "$DEB" "$1"; }
is "$(f Package)" candlewatch "Package: candlewatch"
like "$(f Version)" "^$("$CW_BIN" --version | awk '{print $NF}')(\\+git[0-9]{14}\\.[0-9a-f]+)?-1\$" \
  "Version: the binary's version (+git commit), Debian revision 1"
is "$(f Architecture)" "$(dpkg --print-architecture)" "Architecture: this machine's"
deps=$(f Depends)
missing=""
for d in libc6 liblua5.4-0 libsqlite3-0 libcurl4 libuv1 libcjson1 'libwebsockets[0-9]+' libssl3 adduser \
         fonts-dejavu-core; do
  printf '%s' "$deps" | grep -Eq "(^|, )$d( \\(|,|\$)" || missing="$missing $d"
done
is "$missing" "" "Depends: the binary's libraries (dpkg-shlibdeps), adduser and the charts' fonts"
# every program the unit runs comes from an essential package or one in
# Depends (a minimal Debian 12 has no /bin/kill: systemctl reload failed)
missing=""
for p in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' deploy/candlewatch.service | sort -u); do
  [ "$p" = /usr/bin/candlewatch ] && continue
  pkg=$(dpkg -S "$p" 2>/dev/null || dpkg -S "/usr$p" 2>/dev/null) || { missing="$missing $p(no package)"; continue; }
  pkg=${pkg%%:*}
  [ "$(dpkg-query -W -f='${Essential}' "$pkg")" = yes ] ||
    printf '%s' "$deps" | grep -Eq "(^|, )$pkg( \\(|,|\$)" || missing="$missing $p($pkg)"
done
is "$missing" "" "the unit's programs come from essential packages or Depends"
# libwebsockets loads its libuv support as a plugin (dlopen): unseen by
# dpkg-shlibdeps, so without it in Depends a fresh install could not start
plugin=$(dpkg -S 'libwebsockets-evlib_uv.so' 2>/dev/null | head -1 | cut -d: -f1)
like "$plugin" . "the libuv plugin of libwebsockets comes from a package (dpkg -S)"
printf '%s' "$deps" | grep -Eq "(^|, )$plugin( \\(|,|\$)" && pass "Depends: $plugin (libwebsockets' libuv plugin)" \
  || fail "Depends: $plugin (libwebsockets' libuv plugin)" "got: $deps"
like "$(f Maintainer)" '^[^<]+ <[^>]+@[^>]+>$' "Maintainer: a name and an address"
dpkg-deb -e "$DEB" "$T/ctrl"
is "$(cat "$T/ctrl/conffiles")" "$(printf '/etc/candlewatch/config.lua\n/etc/candlewatch/env')" \
  "conffiles: config.lua and env"
etc_files=$(grep '^-' "$T/contents" | awk '{print $3}' | grep '^/etc/' | sort)
is "$etc_files" "$(sort "$T/ctrl/conffiles")" "every file in /etc is a conffile"
(cd "$T/ctrl" && sh -n postinst && sh -n prerm && sh -n postrm) && pass "the maintainer scripts parse (sh -n)" \
  || fail "the maintainer scripts parse (sh -n)"

# --- lintian: no error; each warning is one explained in docs/operations.md
# ("Debian package")
if command -v lintian >/dev/null; then
  lintian "$DEB" 2>&1 | grep -E '^[EW]: ' > "$T/lintian" || true
  allowed='^W: candlewatch: (initial-upload-closes-no-bugs |non-standard-file-perm 0600 != 0644 \[etc/candlewatch/env\])'
  is "$(grep '^E:' "$T/lintian")" "" "lintian: no error"
  is "$(grep '^W:' "$T/lintian" | grep -Ev "$allowed")" "" "lintian: only the explained warnings"
  for tag in initial-upload-closes-no-bugs non-standard-file-perm; do
    grep -q "\`$tag\`" docs/operations.md || fail "docs/operations.md explains lintian's $tag"
  done
else
  fail "lintian is installed (make deps)"
fi

# --- the extracted files run with the packaged config, aimed at the stand-ins
X=$T/root
dpkg-deb -x "$DEB" "$X"
start_fake --symbols 2 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
sed -e "s|\"/etc/candlewatch/scripts:/usr/share/candlewatch/scripts\"|\"$X/etc/candlewatch/scripts:$X/usr/share/candlewatch/scripts\"|" \
    -e "s|\"/var/lib/candlewatch/candlewatch.db\"|\"$T/bot.db\"|" \
    -e "s|\"wss://fstream.binance.com/market\"|\"ws://127.0.0.1:$FAKE_PORT/market\"|" \
    -e "s|\"https://fapi.binance.com\"|\"$FAKE\"|" \
    -e "s|\"https://api.telegram.org\",|\"$TG\", poll_timeout = 2,|" \
    -e "s|\"127.0.0.1:8080\"|\"127.0.0.1:0\"|" \
    -e "s|gas = { enabled = true }|gas = { enabled = false }|" \
    -e "s|rate = { enabled = true }|rate = { enabled = false }|" \
    "$X/etc/candlewatch/config.lua" > "$T/config.lua"
unlike "$(grep -E 'https?://|wss://|/var/lib|"/etc|/usr/share' "$T/config.lua" | grep -v '^ *--')" \
  'binance\.com|telegram\.org|/var/lib|"/etc|"/usr/share' "the packaged config is aimed at the stand-ins"
out=$(BOT_TOKEN=$TG_TOKEN "$X/usr/bin/candlewatch" check --config "$T/config.lua" 2>&1)
is "$?" 0 "the extracted candlewatch checks the packaged config and scripts"
diag "$out"
: > "$T/log"
BOT_TOKEN=$TG_TOKEN "$X/usr/bin/candlewatch" run --config "$T/config.lua" >> "$T/log" 2>&1 &
BOT_PID=$!
wait_for 20 grep -q 'signed in' "$T/log" && pass "the extracted bot signs in to the stand-in Telegram" \
  || fail "the extracted bot signs in to the stand-in Telegram" "$(tail -5 "$T/log")"
PORT=$(grep -o 'listening on .* (port [0-9]*)' "$T/log" | tail -1 | grep -o 'port [0-9]*' | awk '{print $2}')
exchange_ok() { get /health | grep -q '"exchange":{"status":"ok"'; }
wait_for 20 exchange_ok && pass "and follows the stand-in exchange (/health exchange ok)" \
  || fail "and follows the stand-in exchange" "$(get /health)"
C=7
ask say /start > /dev/null
said $C 'I watch crypto markets' && pass "a shipped command answers (/start, from /usr/share/candlewatch/scripts)" \
  || fail "a shipped command answers (/start)" "$(tg_texts $C)"
stop_bot
is "$?" 0 "the extracted bot stops cleanly"

# --- the maintainer scripts, in a fake root, with recording stand-ins
F=$T/fakeroot SHIM=$T/shim
mkdir -p "$F/run/systemd/system" "$F/etc/candlewatch" "$SHIM"
cp "$X/etc/candlewatch/env" "$F/etc/candlewatch/env"
for c in adduser deluser getent chown deb-systemd-helper deb-systemd-invoke systemctl; do
  printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\n' "$c" "$T" > "$SHIM/$c"
  chmod +x "$SHIM/$c"
done
# mscript NAME ARGS...: runs $T/ctrl/NAME; the calls it made in $T/calls
mscript() {
  : > "$T/calls"
  DPKG_ROOT=$F PATH="$SHIM:$PATH" "$T/ctrl/$@" > "$T/mscript.out" 2>&1
}
calls() { cat "$T/calls"; }
mscript postinst configure
is "$?" 0 "postinst configure (a new install) succeeds"
like "$(calls)" '^adduser --system --group .*--home /var/lib/candlewatch .*candlewatch$' \
  "it creates the system user candlewatch (home /var/lib/candlewatch)"
like "$(calls)" "chown candlewatch:candlewatch $F/var/lib/candlewatch" "and gives it /var/lib/candlewatch"
is "$(stat -c %a "$F/var/lib/candlewatch")" 750 "/var/lib/candlewatch is mode 750"
like "$(calls)" 'deb-systemd-helper enable candlewatch.service' "the unit is enabled"
unlike "$(calls)" 'deb-systemd-invoke (start|restart)' "without a token the bot is not started"
like "$(cat "$T/mscript.out")" 'BOT_TOKEN' "and the operator is told where the token goes"
touch "$F/var/lib/candlewatch/candlewatch.db"
mscript postinst configure
is "$?" 0 "postinst configure again (idempotent) succeeds"
sed -i 's/^BOT_TOKEN=.*/BOT_TOKEN=123456:ABC/' "$F/etc/candlewatch/env"
mscript postinst configure
like "$(calls)" 'deb-systemd-invoke start candlewatch.service' "with a token in env postinst starts the bot"
mscript postinst configure 0.0.1-1
like "$(calls)" 'deb-systemd-invoke try-restart candlewatch.service' "an upgrade restarts a running bot"
is "$(ls "$F/var/lib/candlewatch")" candlewatch.db "an upgrade keeps the database"
rmdir "$F/run/systemd/system"
mscript postinst configure
unlike "$(calls)" 'deb-systemd-invoke|systemctl' "without systemd running (a chroot) nothing is started"
mkdir -p "$F/run/systemd/system"
mscript prerm upgrade 0.2.0-1
unlike "$(calls)" 'stop' "prerm upgrade leaves the bot running"
mscript prerm remove
like "$(calls)" 'deb-systemd-invoke stop candlewatch.service' "prerm remove stops it"
mscript postrm remove
like "$(calls)" 'systemctl --system daemon-reload' "postrm remove reloads systemd"
is "$(ls "$F/var/lib/candlewatch")" candlewatch.db "a remove keeps the database"
unlike "$(calls)" 'deluser' "and the user"
mscript postrm purge
[ ! -e "$F/var/lib/candlewatch" ] && pass "a purge deletes /var/lib/candlewatch" \
  || fail "a purge deletes /var/lib/candlewatch"
like "$(calls)" 'deluser --system .*candlewatch' "and the user"
finish
