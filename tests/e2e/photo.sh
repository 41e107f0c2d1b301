#!/usr/bin/env bash
# Photos from the real binary to the stand-in Bot API: ctx:reply_photo
# uploads the bytes as multipart/form-data (they arrive intact, with the
# caption and buttons); the same picture by key for a second chat goes by
# the file_id Telegram gave (no second upload); a file_id Telegram does
# not know is refused and the bytes uploaded instead; the stand-in's own
# checks of a multipart sendPhoto (image bytes, caption length, its file_ids).
. "$(dirname "$0")/lib.bash"

start_tg || { fail "the stand-in Telegram starts" "$(cat "$T/tg.log")"; finish; exit 1; }
HEX=89504e470d0a1a0a0000000d49484452000000020000000108020000007b40e8dd0000000d49444154789c63f8cf0004ff01070001ffe2239e590000000049454e44ae426082
printf '%s' "$HEX" | xxd -r -p > "$T/sent.png"
write_script commands/pic.lua "
local PNG = ('$HEX'):gsub('..', function(x) return string.char(tonumber(x, 16)) end)
bot.command('pic', 'A picture', function(ctx)
  local ok, err = ctx:reply_photo({ png = PNG, key = 'pic:1' }, '<b>Two</b> pixels &amp; more',
                                  { keyboard = bot.keyboard{ { { 'Again', 'pic' } } } })
  if not ok then ctx:reply('failed: ' .. err) end
end)
bot.command('stale', 'A stale file_id', function(ctx)
  ctx:reply_photo({ png = PNG, file_id = 'AgACAgStale' }, 'stale')
end)"
write_config "telegram = { token = '$TG_TOKEN', api_url = '$TG', poll_timeout = 2 }"
start_bot || exit 1

sent_items() { tg "/control/sent?chat=$1" | grep -o '"method":"sendPhoto"[^}]*}[^}]*}'; }
photo_sent() { tg "/control/sent?chat=$1" | grep -q '"method":"sendPhoto"'; }

say 31 /pic
if wait_for 20 photo_sent 31; then pass "/pic answers with a photo"; else fail "/pic answers with a photo" "$(tg "/control/sent?chat=31")" "$(tail -5 "$T/log")"; fi
item=$(tg "/control/sent?chat=31")
like "$item" '"uploaded":true' "the first send uploads the bytes"
like "$item" '"text":"<b>Two</b> pixels &amp; more","parse_mode":"HTML"' "the caption goes as HTML"
like "$item" '"callback_data":"pic"' "the buttons go with it"
id=$(printf '%s' "$item" | grep -o '"file_id":"[^"]*"' | head -1 | cut -d'"' -f4)
curl -s --max-time 5 "$TG/control/photo?file_id=$id" -o "$T/got.png"
if cmp -s "$T/sent.png" "$T/got.png"; then pass "the bytes arrive intact"; else fail "the bytes arrive intact" "$(xxd "$T/got.png" | head -3)"; fi
like "$(tg_texts 31)" '\[photo\] Two pixels & more' "the user sees the caption under the photo"

say 32 /pic
wait_for 20 photo_sent 32
item=$(tg "/control/sent?chat=32")
like "$item" '"uploaded":false' "a second chat gets it by file_id"
like "$item" "\"file_id\":\"$id\"" "the file_id Telegram gave for the upload"
is "$(json_num "$(tg /control/stats)" uploads)" 1 "one upload for two chats"

say 33 /stale
wait_for 20 photo_sent 33
item=$(tg "/control/sent?chat=33")
like "$item" '"uploaded":true' "a file_id Telegram refuses: the bytes are uploaded instead"
like "$(cat "$T/log")" "refused a photo's file_id" "and the log says why"

# the stand-in's own checks, through another client's multipart (curl -F)
api="$TG/bot$TG_TOKEN/sendPhoto"
printf 'not a picture' > "$T/x.txt"
like "$(curl -s -F chat_id=77 -F "photo=@$T/x.txt;type=image/png" "$api")" \
  '"description":"Bad Request: IMAGE_PROCESS_FAILED"' "the stand-in refuses a file that is not a PNG or JPEG"
long=$(head -c 1025 /dev/zero | tr '\0' a)
like "$(curl -s -F chat_id=77 -F "photo=@$T/sent.png;type=image/png" -F "caption=$long" "$api")" \
  'message caption is too long' "and a caption over 1,024 characters"
like "$(curl -s -F chat_id=77 -F "photo=AgACAgNotOurs" "$api")" \
  'wrong file identifier/HTTP URL specified' "and a file_id it did not give"
answer=$(curl -s -F chat_id=77 -F "photo=@$T/sent.png;type=image/png" --form-string "caption=<i>x</i>" -F parse_mode=HTML "$api")
like "$answer" '"photo":\[\{"file_id":"[^"]*-m","file_unique_id":"[^"]*","file_size":[0-9]*,"width":1,"height":1\},\{"file_id":"[^"]*","file_unique_id":"[^"]*","file_size":70,"width":2,"height":1\}\]' \
  "and answers an upload with its sizes, the largest last, its own size from the PNG"
like "$answer" '"caption":"x","caption_entities":\[\{"offset":0,"length":1,"type":"italic"\}\]' \
  "with the caption as shown and its entities"

finish
