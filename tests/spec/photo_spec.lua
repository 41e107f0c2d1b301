-- Photos through the delivery scheduler (spec.telegram fakes the Bot API,
-- sendPhoto included): uploads as multipart, file_ids remembered by key,
-- captions cut, failures handled as for text.
-- a 2x1 PNG, as hex: the scripts under test get it in their source
local PNG_HEX = "89504e470d0a1a0a0000000d4948445200000002000000010802000000" ..
  "7b40e8dd0000000d4944415478 9c63f8cf0004ff01070001ffe2239e590000000049454e44ae426082"
PNG_HEX = PNG_HEX:gsub(" ", "")
local function unhex(h) return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end)) end
local PNG = unhex(PNG_HEX)
local PRELUDE = "local PNG_BYTES = (\"" .. PNG_HEX ..
  "\"):gsub('..', function(x) return string.char(tonumber(x, 16)) end)\n"

describe("photos", function()
  local tg
  local function photos(chat)
    local out = {}
    for _, c in ipairs(tg.sent(chat)) do
      if c.method == "sendPhoto" then out[#out + 1] = c end
    end
    return out
  end
  local function upload_request()
    local reqs, last = spec.http_requests(), nil
    for _, r in ipairs(reqs) do
      if r.url:match("/sendPhoto$") and r.files then last = r end
    end
    return last
  end

  before_each(function()
    assert(spec.use_scripts({
      ["commands/pic.lua"] = PRELUDE .. [[
        bot.command("pic", "A picture", function(ctx)
          assert(ctx:reply_photo(PNG_BYTES, "<b>BTCUSDT</b> 1h", { keyboard = bot.keyboard{ { { "Again", "pic" } } } }))
        end)
      ]],
    }))
    tg = spec.telegram()
    spec.advance(600)
  end)

  it("uploads ctx:reply_photo's bytes as multipart/form-data", function()
    tg.message{ chat = 42, text = "/pic" }
    spec.advance(1)
    local sent = photos(42)
    assert.equal(1, #sent)
    assert.equal(PNG, sent[1].photo)
    assert.equal("<b>BTCUSDT</b> 1h", sent[1].text)
    local req = assert(upload_request(), "no multipart sendPhoto")
    assert.equal("42", req.form.chat_id)
    assert.equal("HTML", req.form.parse_mode)
    assert.equal("chart.png", req.files.photo.filename)
    assert.equal("image/png", req.files.photo.type)
    assert.same({ inline_keyboard = { { { text = "Again", callback_data = "pic" } } } },
      json.decode(req.form.reply_markup))
    assert.is_nil(req.form.link_preview_options)
  end)

  it("uploads a keyed picture once: other chats get its file_id, largest size", function()
    spec.call(function(png)
      assert(bot.send_photo(201, { png = png, key = "k:1" }, "first"))
    end, PNG)
    spec.advance(1)
    local id = spec.run(function() return bot.photo_id("k:1") end).results[1]
    assert.equal(photos(201)[1].file_id, id)
    assert.is_true(photos(201)[1].uploaded)
    assert.is_nil(id:match("thumb"))
    spec.call(function(PNG_BYTES)
      assert(bot.send_photo(202, { png = PNG_BYTES, key = "k:1" }, "second"))
      assert(bot.send_photo(203, { key = "k:1" }, "third"))
    end, PNG)
    spec.advance(1)
    assert.is_false(photos(202)[1].uploaded)
    assert.is_false(photos(203)[1].uploaded)
    assert.equal(id, photos(202)[1].file_id)
    assert.equal(id, photos(203)[1].file_id)
  end)

  it("waits for a key's upload under way rather than uploading it again", function()
    tg.delay("sendPhoto", 2)
    spec.call(function(png)
      for chat = 211, 215 do assert(bot.send_photo(chat, { png = png, key = "k:2" })) end
    end, PNG)
    spec.advance(5)
    local uploads = 0
    for chat = 211, 215 do
      local p = photos(chat)
      assert.equal(1, #p, "chat " .. chat)
      if p[1].uploaded then uploads = uploads + 1 end
    end
    assert.equal(1, uploads)
  end)

  it("uploads the bytes when Telegram refuses a file_id", function()
    spec.call(function(png) assert(bot.send_photo(221, { png = png, file_id = "gone" }, "x")) end, PNG)
    spec.advance(2)
    local p = photos(221)
    assert.equal(1, #p)
    assert.is_true(p[1].uploaded)
  end)

  it("drops a photo by an unknown file_id alone, as any refused message", function()
    spec.call(function() assert(bot.send_photo(222, "AgACAgIAAx-unknown", "x")) end)
    spec.advance(2)
    assert.equal(0, #photos(222))
    assert.equal(1, spec.telegram_stats().failed)
  end)

  it("answers nil, err for a key it does not know", function()
    local r = spec.run(function() return bot.send_photo(223, { key = "never" }) end).results
    assert.is_nil(r[1])
    assert.matches("no photo is known under the key never", r[2])
  end)

  -- The host's alert charts are keyed "alert:..." (alert_view_chart_key):
  -- a script's picture under such a key would go, by its file_id, to the
  -- chats of an alert in place of the alert's chart.
  it("refuses a script's key in the host's alert: space", function()
    local r = spec.run(function(p) return bot.send_photo(1, p) end,
                       { png = PNG, key = "alert:BTCUSDT:1m:1767225600000:move:up:1" })
    assert.is_false(r.ok, "a script's picture under an alert chart's key")
    assert.matches("photo.key: keys starting \"alert:\" are the host's", r.err, 1, true)
    assert.is_true(spec.run(function(p) return bot.send_photo(1, p) end,
                            { png = PNG, key = "alerts:mine" }).ok, "another prefix")
  end)

  it("raises, naming the usage, on a malformed photo", function()
    local bads = { 42, {}, { png = "not an image" }, { key = string.rep("k", 200), png = PNG }, { png = 5 } }
    for i, bad in ipairs(bads) do
      local r = spec.run(function(p) return bot.send_photo(1, p) end, bad)
      assert.is_false(r.ok, "case " .. i)
      assert.matches("bot.send_photo(chat_id, photo, caption [, opts])", r.err, 1, true)
    end
  end)

  it("cuts a caption to 1,024 characters as shown, never inside a tag", function()
    local long = "<b>" .. string.rep("a&amp;", 600) .. "</b>"
    spec.call(function(c, png) assert(bot.send_photo(231, png, c)) end, long, PNG)
    spec.advance(1)
    local cap = photos(231)[1].text
    assert.is_nil(cap:find("<", 1, true))
    local shown = cap:gsub("&amp;", "&")
    assert.equal(1024, utf8.len(shown))
    assert.equal("…", shown:sub(-3))
    spec.call(function(png) assert(bot.send_photo(232, png, "<b>short</b>")) end, PNG)
    spec.advance(1)
    assert.equal("<b>short</b>", photos(232)[1].text)
  end)

  it("waits out a 429 and stops at a blocked chat, as for text", function()
    tg.fail("sendPhoto", { status = 429, retry_after = 3, description = "Too Many Requests: retry after 3" })
    spec.call(function(png) assert(bot.send_photo(241, png, "x")) end, PNG)
    spec.advance(2)
    assert.equal(0, #photos(241))
    spec.advance(2)
    assert.equal(1, #photos(241))
    tg.fail("sendPhoto", { status = 403, description = "Forbidden: bot was blocked by the user" })
    spec.call(function(png) assert(bot.send_photo(242, png, "x")) end, PNG)
    spec.advance(1)
    local r = spec.run(function(png) return bot.send_photo(242, png, "x") end, PNG).results
    assert.is_nil(r[1])
    assert.matches("inactive", r[2])
  end)

  it("resends a caption whose HTML was refused as plain text", function()
    tg.fail("sendPhoto", { status = 400, description = "Bad Request: can't parse entities: x" })
    spec.call(function(png) assert(bot.send_photo(251, png, "<b>bold</b> &amp; more")) end, PNG)
    spec.advance(2)
    local p = photos(251)
    assert.equal(1, #p)
    assert.equal("bold & more", p[1].text)
    assert.is_nil(p[1].params.parse_mode)
  end)
end)
