-- scripts/lib/text.lua, as shipped (the spec example in docs/scripting.md).
local text = require("text")

describe("text.escape_html", function()
  it("escapes what Telegram's HTML mode would parse", function()
    assert.equals("&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; &quot;q&quot;",
                  text.escape_html('<b>Tom & Jerry</b> "q"'))
  end)

  it("leaves plain text alone", function()
    assert.equals("BTCUSDT +3.2%", text.escape_html("BTCUSDT +3.2%"))
  end)
end)

describe("text.truncate", function()
  it("cuts on character boundaries", function()
    assert.equals("Привет…", text.truncate("Привет, мир", 6))
    assert.equals("short", text.truncate("short", 10))
  end)
end)
