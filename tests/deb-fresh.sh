#!/usr/bin/env bash
# The Debian package on a fresh Debian 12, used as an operator would: not
# part of make test (it needs root and deb.debian.org).  Run from the source
# tree:  sudo tests/deb-fresh.sh   (apt-get install debootstrap first)
#
# A minbase bookworm chroot ($DEB_FRESH_ROOT, default /tmp/deb12; made and
# deleted here) gets `apt-get install ./candlewatch_*.deb` (make deb) with
# nothing else installed; then its user, folders, modes, conffiles, man page,
# unit (systemd-analyze verify), `check` and a short `run` as the candlewatch
# user against the stand-ins started here, outside the chroot, on 127.0.0.1;
# purge.  Then the first packaged release ($DEB_FRESH_OLD, built from git:
# schema 7) is installed and used, its config edited and a shipped script
# overridden in /etc/candlewatch/scripts, and this tree's package installed
# over it: the database (migrated), the edits and the override stay; remove
# keeps the data, purge deletes it and the user.  systemd does not run in a
# chroot: the maintainer scripts must not need it.
# DEB_FRESH_BASE=FILE.tar reuses (or saves) the debootstrapped tree.
cd "$(dirname "$0")/.." || exit 1
. tests/e2e/lib.bash

R=${DEB_FRESH_ROOT:-/tmp/deb12}
OLD_COMMIT=${DEB_FRESH_OLD:-ab34080}
MIRROR=http://deb.debian.org/debian
[ "$(id -u)" = 0 ] || { echo "Bail out! root is needed (chroot, mount)"; exit 1; }
command -v debootstrap >/dev/null || { echo "Bail out! apt-get install debootstrap"; exit 1; }
[ -e "$R" ] && { echo "Bail out! $R exists: remove it or set DEB_FRESH_ROOT"; exit 1; }

# the chroot goes away with the test; never while something is mounted in
# it.  (A process left in it, by a failed step, is one this test started.)
chroot_cleanup() {
  local p m
  for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && kill -9 "${p#/proc/}" 2>/dev/null; done
  sleep 0.5
  for m in dev/pts dev proc; do mountpoint -q "$R/$m" && umount "$R/$m"; done
  if grep -q " $R/" /proc/mounts; then echo "# still mounted under $R: not deleted"; else rm -rf --one-file-system "$R"; fi
}
trap 'cleanup; chroot_cleanup' EXIT
IN_ROOT=(chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C)
in_root() { "${IN_ROOT[@]}" "$@"; }
# "${AS_BOT[@]}" CMD...: as the unit runs it: the env file read by root,
# then the candlewatch user in /var/lib/candlewatch (one process: exec)
AS_BOT=("${IN_ROOT[@]}" /bin/sh -c 'set -a; . /etc/candlewatch/env; set +a; cd /var/lib/candlewatch &&
    exec setpriv --reuid=candlewatch --regid=candlewatch --init-groups --no-new-privs "$@"' sh)
as_bot() { "${AS_BOT[@]}" "$@"; }
apt_get() { in_root apt-get -y -q -o Dpkg::Use-Pty=0 "$@" > "$T/apt.log" 2>&1 || { diag "$(tail -20 "$T/apt.log")"; return 1; }; }

# --- the two packages: this tree's (make deb) and the first release's
make -s -j2 candlewatch "$CW_BUILD/tests/fakes/fake_binance" "$CW_BUILD/tests/fakes/fake_telegram" \
  "$CW_BUILD/tests/tools/dbcheck" >/dev/null || { echo "Bail out! make"; exit 1; }
NEW=$(make -s --no-print-directory deb 2>"$T/mkdeb.err" | tail -1)
[ -f "$NEW" ] || { echo "Bail out! make deb: $(cat "$T/mkdeb.err")"; exit 1; }
mkdir "$T/old"
git archive "$OLD_COMMIT" | tar -x -C "$T/old" && OLD=$(make -s -C "$T/old" -j2 deb 2>"$T/mkdeb.err" | tail -1) &&
  OLD=$T/old/$OLD && [ -f "$OLD" ] || { echo "Bail out! the package of $OLD_COMMIT: $(tail -5 "$T/mkdeb.err")"; exit 1; }
NEW_V=$(dpkg-deb -f "$NEW" Version) OLD_V=$(dpkg-deb -f "$OLD" Version)
dpkg --compare-versions "$NEW_V" gt "$OLD_V" || { echo "Bail out! $NEW_V is not above $OLD_V"; exit 1; }
diag "new: $NEW ($NEW_V); old: $OLD_COMMIT ($OLD_V)"

# --- a fresh Debian 12
if [ -n "${DEB_FRESH_BASE:-}" ] && [ -f "$DEB_FRESH_BASE" ]; then
  mkdir -p "$R" && tar -C "$R" -xf "$DEB_FRESH_BASE"
else
  debootstrap --variant=minbase bookworm "$R" "$MIRROR" > "$T/debootstrap.log" 2>&1 ||
    { echo "Bail out! debootstrap: $(tail -3 "$T/debootstrap.log")"; exit 1; }
  [ -n "${DEB_FRESH_BASE:-}" ] && tar -C "$R" -cf "$DEB_FRESH_BASE" .
fi
mount -t proc proc "$R/proc" && mount --bind /dev "$R/dev" && mount --bind /dev/pts "$R/dev/pts" ||
  { echo "Bail out! mount"; exit 1; }
cp "$NEW" "$R/root/new.deb"; cp "$OLD" "$R/root/old.deb"
cp "$CW_BUILD/tests/tools/dbcheck" "$R/usr/local/bin/"
apt_get update || { echo "Bail out! apt-get update ($MIRROR)"; exit 1; }
for lib in liblua5.4-0 libwebsockets17 libcairo2 adduser; do
  in_root dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q 'ok installed' && diag "$lib: already installed"
done

# --- install with nothing else first
apt_get install ./root/new.deb && pass "apt-get install ./candlewatch_$NEW_V.deb on a fresh Debian 12" ||
  { fail "apt-get install ./candlewatch_$NEW_V.deb on a fresh Debian 12"; finish; exit 1; }
is "$(in_root dpkg-query -W -f='${Status} ${Version}' candlewatch)" "install ok installed $NEW_V" "it is installed"
is "$(in_root dpkg --audit)" "" "dpkg --audit: nothing half-installed"

check_installed() {
  like "$(in_root getent passwd candlewatch)" '^candlewatch:x:[0-9]{1,3}:[0-9]+:[^:]*:/var/lib/candlewatch:/usr/sbin/nologin$' \
    "$1: the system user candlewatch (home /var/lib/candlewatch, no shell)"
  is "$(in_root stat -c '%a %U:%G' /var/lib/candlewatch)" "750 candlewatch:candlewatch" "$1: /var/lib/candlewatch 750, the bot's"
  is "$(in_root stat -c '%a %U:%G' /etc/candlewatch/env)" "600 root:root" "$1: /etc/candlewatch/env 600, root's"
  is "$(in_root dpkg-query -W -f='${Conffiles}' candlewatch | awk 'NF {print $1}')" \
    "$(printf '/etc/candlewatch/config.lua\n/etc/candlewatch/env')" "$1: the conffiles"
  is "$(in_root readlink /etc/systemd/system/multi-user.target.wants/candlewatch.service)" \
    /lib/systemd/system/candlewatch.service "$1: the unit is enabled"
}
check_installed install
out=$(in_root candlewatch --help) && like "$out" 'usage: candlewatch COMMAND' "candlewatch --help" ||
  fail "candlewatch --help" "$out"
like "$(in_root candlewatch --version)" "^candlewatch ${NEW_V%%+*}" "candlewatch --version"
out=$(as_bot candlewatch check --config /etc/candlewatch/config.lua 2>&1)
is "$?" 0 "candlewatch check, as the candlewatch user, of the packaged config and scripts"
diag "$out"

# the man page and the unit, with man-db and systemd (not running) added
apt_get install --no-install-recommends man-db systemd || fail "apt-get install man-db systemd"
out=$(in_root sh -c 'MANWIDTH=80 man --warnings -P cat candlewatch 2>&1')
like "$out" '^CANDLEWATCH\(1\)' "man candlewatch"
is "$(in_root sh -c 'MANWIDTH=80 man --warnings -P cat candlewatch 2>&1 >/dev/null')" "" "man candlewatch formats without a warning"
out=$(in_root systemd-analyze verify /lib/systemd/system/candlewatch.service 2>&1)
is "$out" "" "systemd-analyze verify /lib/systemd/system/candlewatch.service"

# --- run: the operator's token and config (aimed at the stand-ins)
start_fake --symbols 2 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
configure() {
  sed -i "s/^BOT_TOKEN=.*/BOT_TOKEN=$TG_TOKEN/" "$R/etc/candlewatch/env"
  sed -i -e "s|\"wss://fstream.binance.com/market\"|\"ws://127.0.0.1:$FAKE_PORT/market\"|" \
    -e "s|\"https://fapi.binance.com\"|\"$FAKE\"|" \
    -e "s|\"https://api.telegram.org\",|\"$TG\", poll_timeout = 2,|" \
    -e "s|\"127.0.0.1:8080\"|\"127.0.0.1:0\"|" \
    -e "s|gas = { enabled = true }|gas = { enabled = false }|" \
    -e "s|rate = { enabled = true }|rate = { enabled = false }|" \
    -e '1i -- edited by the operator' "$R/etc/candlewatch/config.lua"
}
# run_bot WHAT PATTERN: the bot as the unit runs it until /start in chat 7
# is answered with PATTERN; then SIGTERM
C=7
run_bot() {
  : > "$T/log"
  "${AS_BOT[@]}" candlewatch run --config /etc/candlewatch/config.lua >> "$T/log" 2>&1 &
  BOT_PID=$!
  wait_for 20 grep -q 'signed in' "$T/log" && pass "$1: the bot signs in to the stand-in Telegram" ||
    fail "$1: the bot signs in" "$(tail -5 "$T/log")"
  ask say /start > /dev/null
  said $C "$2" && pass "$1: it answers /start" || fail "$1: it answers /start" "$(tg_texts $C | tail -3)"
  stop_bot
  is "$?" 0 "$1: SIGTERM stops it (exit status 0)"
}
configure
run_bot "fresh install" 'I watch crypto markets'
is "$(in_root stat -c '%U' /var/lib/candlewatch/candlewatch.db)" candlewatch "the database is in /var/lib/candlewatch, the bot's"

apt_get purge candlewatch && pass "apt-get purge" || fail "apt-get purge"
is "$(in_root sh -c 'ls -d /var/lib/candlewatch /etc/candlewatch /usr/bin/candlewatch 2>/dev/null; getent passwd candlewatch')" \
  "" "the purge leaves no data, config, binary or user"

# --- the first release, used, then upgraded
apt_get install ./root/old.deb && pass "apt-get install the old release ($OLD_V)" || fail "apt-get install the old release"
check_installed "old release"
configure
run_bot "old release" 'I watch crypto markets'
is "$(as_bot /usr/local/bin/dbcheck /var/lib/candlewatch/candlewatch.db --get-version)" "version: 7" "its database has schema 7"
in_root sh -c 'mkdir -p /etc/candlewatch/scripts/commands &&
  sed "s/I watch crypto markets/I (an edited copy) watch crypto markets/" \
    /usr/share/candlewatch/scripts/commands/start.lua > /etc/candlewatch/scripts/commands/start.lua'
sums() { in_root md5sum /etc/candlewatch/config.lua /etc/candlewatch/env /etc/candlewatch/scripts/commands/start.lua; }
before=$(sums)
user_before=$(as_bot /usr/local/bin/dbcheck /var/lib/candlewatch/candlewatch.db users 7)

apt_get install ./root/new.deb && pass "upgrade: apt-get install ./candlewatch_$NEW_V.deb over it" || fail "upgrade"
is "$(in_root dpkg-query -W -f='${Status} ${Version}' candlewatch)" "install ok installed $NEW_V" "upgrade: the new version is installed"
is "$(sums)" "$before" "upgrade: the edited config.lua, env and the override in /etc/candlewatch/scripts are kept"
check_installed upgrade
run_bot "upgrade" 'I (an edited copy) watch crypto markets'
like "$(cat "$T/log")" 'migrated to schema 8' "upgrade: the database's migrations ran (schema 7 to 8)"
is "$(as_bot /usr/local/bin/dbcheck /var/lib/candlewatch/candlewatch.db users 7)" "$user_before" "upgrade: the user registered before is kept"
like "$user_before" '^value: \{' "(and was there)"

apt_get remove candlewatch && pass "apt-get remove" || fail "apt-get remove"
like "$(in_root dpkg-query -W -f='${Status}' candlewatch)" 'config-files' "remove: the conffiles stay"
is "$(in_root sh -c 'test -f /var/lib/candlewatch/candlewatch.db && echo db; getent passwd candlewatch | cut -d: -f1
                    test -e /usr/bin/candlewatch || echo no-binary')" \
  "$(printf 'db\ncandlewatch\nno-binary')" "remove: the binary goes; the database and the user stay"
apt_get purge candlewatch && pass "apt-get purge" || fail "apt-get purge"
is "$(in_root sh -c 'ls -d /var/lib/candlewatch /etc/candlewatch/config.lua /etc/candlewatch/env 2>/dev/null; getent passwd candlewatch; getent group candlewatch')" \
  "" "purge: the data, the conffiles, the user and its group are gone"
diag "left by the purge (the operator's own files): $(in_root find /etc/candlewatch 2>/dev/null | tr '\n' ' ')"
finish
