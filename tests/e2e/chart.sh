#!/usr/bin/env bash
# /chart end to end, through the real binary and both stand-ins: the
# exchange's 1m candles come as a photo uploaded by multipart/form-data
# that decodes as an 800x500 PNG (every chunk's CRC, the pixels inflated to
# the size the header says); a second chat asking for the same chart gets
# it by the file_id Telegram gave (no second upload); a typo is answered with the
# name meant.
. "$(dirname "$0")/lib.bash"

start_fake --symbols 5 --speed 1 || { fail "the stand-in exchange starts"; finish; exit 1; }
start_tg || { fail "the stand-in Telegram starts"; finish; exit 1; }
cp -r scripts "$T/"
write_config "exchange = { enabled = true, ws_url = 'ws://127.0.0.1:$FAKE_PORT/market', rest_url = '$FAKE',
    history = 60, intervals = { '1m' } }" \
  "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
start_bot || exit 1
wait_for 15 grep -q 'signed in' "$T/log" || { fail "the bot signs in" "$(tail -5 "$T/log")"; finish; exit 1; }

photo_sent() { tg "/control/sent?chat=$1" | grep -q '"method":"sendPhoto"'; }
# asks for the chart in chat $1 until it comes (the first candles close soon)
chart_in() {
  local i
  for i in $(seq 1 20); do
    say "$1" "/chart BTCUSDT 1m"
    if wait_for 3 photo_sent "$1"; then return 0; fi
    sleep 1   # (one picture every 10 s a chat: a refused ask costs nothing)
  done
  return 1
}

if chart_in 51; then pass "/chart BTCUSDT 1m answers with a photo"
else fail "/chart BTCUSDT 1m answers with a photo" "$(tg_texts 51)" "$(tail -5 "$T/log")"; finish; exit 1; fi
item=$(tg "/control/sent?chat=51" | grep -o '{[^{]*"method":"sendPhoto".*')
like "$item" '"uploaded":true' "the picture is uploaded"
like "$item" '"text":"<b>BTCUSDT 1m</b> · [0-9.]* · [+-][0-9.]*% over [0-9]* candles, to the [0-9:]* UTC close"' \
  "the caption: the pair, the timeframe, the last price and the change"
id=$(printf '%s' "$item" | grep -o '"file_id":"[^"]*"' | head -1 | cut -d'"' -f4)
curl -s --max-time 5 "$TG/control/photo?file_id=$id" -o "$T/chart.png"
decoded=$(python3 - "$T/chart.png" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(b):
    n, kind = struct.unpack(">I4s", b[pos:pos + 8])
    data, crc = b[pos + 8:pos + 8 + n], struct.unpack(">I", b[pos + 8 + n:pos + 12 + n])[0]
    assert zlib.crc32(kind + data) & 0xffffffff == crc, "bad CRC in " + kind.decode()
    if kind == b"IHDR": ihdr = struct.unpack(">IIBB", data[:10])
    if kind == b"IDAT": idat += data
    pos += 12 + n
w, h, depth, ctype = ihdr
bpp = {2: 3, 6: 4}[ctype] * depth // 8
assert len(zlib.decompress(idat)) == h * (1 + w * bpp), "pixel data of the wrong size"
print("%dx%d" % (w, h))
PY
)
is "$decoded" "800x500" "the photo decodes as an 800x500 PNG"

# the same chart for other chats (asked again should a candle close between two asks)
caption() { tg "/control/sent?chat=$1" | grep -o '"text":"<b>BTCUSDT[^"]*"'; }
first=51
for other in 52 54 56; do
  say $other "/chart btc 1m"
  wait_for 10 photo_sent $other
  [ "$(caption $other)" = "$(caption $first)" ] && break
  first=$((other + 1)); chart_in $first; id=$(tg "/control/sent?chat=$first" | grep -o '"file_id":"[^"]*"' | cut -d'"' -f4)
done
item=$(tg "/control/sent?chat=$other" | grep -o '{[^{]*"method":"sendPhoto".*')
like "$item" '"uploaded":false' "a second chat asking the same gets it by file_id"
like "$item" "\"file_id\":\"$id\"" "the file_id of the first upload"

say 53 "/chart BTCUSTD"
said 53 "Did you mean BTCUSDT" 10 && pass "a typo is answered with the pair meant" \
  || fail "a typo is answered with the pair meant" "$(tg_texts 53)"
finish
