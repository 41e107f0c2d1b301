-- /admin through the real core: only the operators may use it; stats show
-- the numbers; a broadcast asks first and then reaches every chat with a
-- preset (and only after "Send"); a non-operator's press does nothing.
describe("/admin", function()
  local tg, saved

  before_each(function()
    assert(spec.use_scripts({
      ["commands/admin.lua"] = assert(io.open("scripts/commands/admin.lua")):read("a"),
      ["commands/start.lua"] = assert(io.open("scripts/commands/start.lua")):read("a"),
      ["rules/move.lua"] = assert(io.open("scripts/rules/move.lua")):read("a"),
    }))
    tg = spec.telegram()
    spec.admins{ 1 }
    spec.ranking{ "BTCUSDT" }
    if saved then return end
    saved = true
    spec.call(function()
      for _, chat in ipairs{ 11, 12 } do
        assert(alerts.save{ user_id = chat, chat_id = chat, name = "p", pairs = "manual",
                            symbols = { "BTCUSDT" }, intervals = { "5m" }, threshold = 1 })
      end
    end)
  end)

  it("is for operators only", function()
    tg.message{ chat = 11, text = "/admin stats" }
    spec.advance(1)
    assert.is_nil(tg.texts(11)[1]:find("users with presets", 1, true))
  end)

  it("shows the numbers", function()
    tg.message{ chat = 1, text = "/admin stats" }
    spec.advance(1)
    local t = tg.texts(1)[1]
    assert.matches("users with presets: 2 · presets: 2 · subscriptions: 4", t, 1, true)
    assert.matches("alerts today: 0", t, 1, true)
    assert.matches("memory: %d+ MB", t)
  end)

  it("shows each enabled venue's market data, by name", function()
    spec.venues{ "binance", "spot", "bybit" }
    local s = spec.call(function() return host.stats() end)
    tg.message{ chat = 1, text = "/admin stats" }
    spec.advance(1)
    local t = tg.texts(1)[#tg.texts(1)]
    spec.venues{ "binance" }
    -- (no feed runs in a spec: each venue on says so, under its own name)
    assert.equals("the feed is not running", s.feeds.spot)
    assert.equals("the feed is not running", s.feeds.bybit)
    assert.is_not_nil(s.feeds.binance)
    assert.matches("Binance spot: the feed is not running", t, 1, true)
    assert.matches("Bybit linear: the feed is not running", t, 1, true)
    assert.matches("Binance USDⓈ-M: ", t, 1, true)
  end)

  it("broadcasts after a confirmation, to every chat with a preset", function()
    tg.message{ chat = 1, text = "/admin broadcast Maintenance at 22:00 UTC" }
    spec.advance(1)
    assert.matches("Send this to 2 chats?", tg.texts(1)[1], 1, true)
    assert.equals(0, #tg.texts(11))
    tg.press{ chat = 12, data = "admin:send" }   -- not an operator: nothing happens
    spec.advance(1)
    assert.equals(0, #tg.texts(11))
    tg.press{ chat = 1, data = "admin:send" }
    spec.advance(5)
    assert.equals("Maintenance at 22:00 UTC", tg.texts(11)[1])
    assert.equals("Maintenance at 22:00 UTC", tg.texts(12)[1])
    assert.matches("Queued for 2 chats.", tg.texts(1)[#tg.texts(1)], 1, true)
  end)

  it("sends nothing when cancelled", function()
    tg.message{ chat = 1, text = "/admin broadcast Oops" }
    spec.advance(1)
    tg.press{ chat = 1, data = "admin:cancel" }
    spec.advance(2)
    assert.equals(0, #tg.texts(11))
    assert.matches("Cancelled. Nothing was sent.", tg.texts(1)[#tg.texts(1)], 1, true)
  end)

  it("answers an unknown subcommand with the list", function()
    tg.message{ chat = 1, text = "/admin what" }
    spec.advance(1)
    assert.matches("/admin stats", tg.texts(1)[1], 1, true)
  end)
end)
