#!/usr/bin/env bash
# GET / (the status page) against the stand-ins: HTML, nothing secret on
# it, a script's hostile health reason escaped; then in headless Chromium:
# it loads without console errors, each number it shows is /health's at
# that moment, and the screenshot is a PNG of the window's size.
. "$(dirname "$0")/lib.bash"

start_fake --symbols 5 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
ADMIN=777000111
export BOT_TOKEN=$TG_TOKEN
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE' }" \
  "telegram = { token = os.getenv('BOT_TOKEN'), api_url = '$TG', poll_timeout = 2 }" "admins = { $ADMIN }"
cp -r scripts/* "$T/scripts/"
REASON='<script>alert(1)</script> & "quoted" <img src=x onerror=alert(2)>'
write_script commands/zz_probe.lua "timer.after(0, function()
  host.health('probe', 'degraded', [[$REASON]])
end)"
start_bot || { fail "the bot starts"; finish; exit 1; }
live() { get /health | grep -q '"live":1' && get /health | grep -q '"script:probe"'; }
wait_for 20 live || diag "$(get /health)"

# --- curl: type, secrets, escaping -------------------------------------
headers=$(curl -s -D - -o "$T/page.html" --max-time 5 "http://127.0.0.1:$PORT/")
like "$headers" '^HTTP/1\.1 200' "GET / answers 200"
like "$headers" '[Cc]ontent-[Tt]ype: text/html; charset=utf-8' "as HTML in UTF-8"
page=$(cat "$T/page.html")
like "$page" '^<!DOCTYPE html>' "the page is an HTML document"
like "$page" 'http-equiv=refresh content=[0-9]+' "it refreshes itself"
unlike "$page" "TEST-token|123456:" "the bot token is not on it"
unlike "$page" "$ADMIN" "an admin's chat id is not on it"
like "$page" '&lt;script&gt;alert\(1\)&lt;/script&gt; &amp; &quot;quoted&quot; &lt;img' \
  "the script's health reason is shown escaped"
unlike "$page" '<script|<img' "no markup from the reason gets through"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d x "http://127.0.0.1:$PORT/")" 405 \
  "POST / answers 405"

# --- Chromium ------------------------------------------------------------
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
  fail "chromium is installed (Debian's chromium package: make deps)"; finish; exit 1
fi
mkdir -p "$T/home"
chrome() {
  HOME="$T/home" timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$T/home/profile" --enable-logging=stderr --v=0 "$@" "http://127.0.0.1:$PORT/"
}
get /health > "$T/before.json"
chrome --dump-dom > "$T/dom.html" 2> "$T/chrome.err"
get /health > "$T/after.json"
if grep -q '</main>' "$T/dom.html" && grep -q 'data-h="components.exchange.streams"' "$T/dom.html"; then
  pass "Chromium loads the page"; else fail "Chromium loads the page" "$(head -c 2000 "$T/dom.html")"; fi
errs=$(grep -E 'CONSOLE|Uncaught|Failed to load resource' "$T/chrome.err")
is "$errs" "" "no console errors"

# each data-h element shows its /health field (data-v: the raw value when
# the text is formatted); a field that moved between the two reads of
# /health around the load may show any value in between
cmp=$(python3 - "$T/dom.html" "$T/before.json" "$T/after.json" <<'PY'
import html, json, re, sys
dom = open(sys.argv[1]).read()
a, b = (json.load(open(f)) for f in sys.argv[2:4])
def at(doc, path):
    for k in path.split("."):
        doc = doc[k]
    return doc
n = 0
for attrs, text in re.findall(r'<[a-z]+ ([^>]*data-h="[^"]*"[^>]*)>([^<]*)<', dom):
    path = re.search(r'data-h="([^"]*)"', attrs).group(1)
    raw = re.search(r'data-v="([^"]*)"', attrs)
    shown = html.unescape(raw.group(1) if raw else text)
    x, y = at(a, path), at(b, path)
    if isinstance(x, (int, float)):
        ok = min(x, y) <= float(shown) <= max(x, y)
    else:
        ok = shown in (x, y)
    n += 1
    if not ok:
        print(f"{path}: shown {shown!r}, /health {x!r} then {y!r}")
print(f"compared {n}")
PY
)
diag "$cmp"
like "$cmp" '^compared (1[5-9]|[2-9][0-9])$' "each number shown is /health's (15 or more compared)"
like "$(cat "$T/dom.html")" 'data-h="status">degraded<' "the overall status is shown (the probe is degraded)"

W=390 H=1200
chrome --window-size=$W,$H --screenshot="$T/shot.png" > /dev/null 2>> "$T/chrome.err"
magic=$(head -c 8 "$T/shot.png" | od -An -tx1 | tr -d ' \n')
is "$magic" 89504e470d0a1a0a "the screenshot is a PNG"
size=$(od -An -tu1 -j16 -N8 "$T/shot.png" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}')
is "$size" "${W}x$H" "of the window's size (a phone's width)"
[ -n "${KEEP_SHOT:-}" ] && cp "$T/shot.png" "$KEEP_SHOT"

stop_bot
is "$?" 0 "the bot stops cleanly"
finish
