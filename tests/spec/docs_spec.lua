-- The documentation stays true to the tests: the examples shown in
-- docs/scripting.md are the files `make test` runs, the README's first
-- script works as shown, and every relative link between README.md and
-- docs/*.md leads to a file (and heading) that exists.
local function read(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

-- The lines of a text, split with a plain find (a pattern over a whole
-- document would be refused by the sandbox's pattern guard, rightly).
local function lines(text)
  local list, at = {}, 1
  while at <= #text do
    local nl = text:find("\n", at, true) or #text + 1
    list[#list + 1] = text:sub(at, nl - 1)
    at = nl + 1
  end
  return list
end

local function fenced_blocks(markdown)
  local blocks, current = {}, nil
  for _, line in ipairs(lines(markdown)) do
    if current then
      if line:match("^```%s*$") then
        blocks[#blocks + 1] = table.concat(current, "\n") .. "\n"
        current = nil
      else
        current[#current + 1] = line
      end
    elseif line:match("^```") then
      current = {}
    end
  end
  return blocks
end

-- GitHub's anchor for a heading: lower case, punctuation gone, spaces to '-'.
local function anchors(markdown)
  local set = {}
  for _, line in ipairs(lines(markdown)) do
    local title = line:match("^#+%s+(.-)%s*$")
    if title then
      local slug = title:lower():gsub("`", ""):gsub("[^%w%s_%-]", ""):gsub("%s", "-")
      set[slug] = true
    end
  end
  return set
end

local documents = { "README.md", "docs/scripting.md", "docs/configuration.md",
                    "docs/architecture.md", "docs/operations.md", "docs/testing.md",
                    "docs/performance.md" }

describe("the documentation", function()
  local blocks = fenced_blocks(read("docs/scripting.md"))

  for _, file in ipairs({ "tests/spec/examples/commands/last.lua",
                          "tests/spec/examples/rules/range.lua",
                          "tests/spec/examples/rules/above_average.lua",
                          "tests/spec/examples/rules/price_cross.lua",
                          "tests/spec/rule_examples_spec.lua",
                          "tests/spec/examples_spec.lua",
                          "tests/spec/text_spec.lua" }) do
    it("shows " .. file .. " in docs/scripting.md exactly as it is tested", function()
      local text, found = read(file), false
      for _, b in ipairs(blocks) do
        if b == text then found = true end
      end
      assert(found, file .. " differs from every fenced block of docs/scripting.md: copy it over")
    end)
  end

  local readme_blocks = fenced_blocks(read("README.md"))
  for _, file in ipairs({ "scripts/rules/rsi.lua" }) do
    it("shows " .. file .. " in README.md exactly as it is tested", function()
      local text, found = read(file), false
      for _, b in ipairs(readme_blocks) do
        if b == text then found = true end
      end
      assert(found, file .. " differs from every fenced block of README.md: copy it over")
    end)
  end

  it("runs the README's first script as it is shown", function()
    local ping
    for _, b in ipairs(fenced_blocks(read("README.md"))) do
      if b:find("-- scripts/commands/ping.lua\n", 1, true) == 1 then ping = b end
    end
    assert(ping, "README.md: the block starting '-- scripts/commands/ping.lua' is gone")
    assert(spec.use_scripts({ ["commands/ping.lua"] = ping }))
    local tg = spec.telegram()
    tg.message{ chat = 3, text = "/ping", first_name = "<Ann>" }
    spec.advance(1)
    assert.same({ "pong, <b>&lt;Ann&gt;</b>" }, tg.texts(3))
  end)

  for _, doc in ipairs(documents) do
    it("has only relative links that resolve in " .. doc, function()
      local dir = doc:match("^(.*/)") or ""
      local bad, linked, code = {}, {}, false
      for _, line in ipairs(lines(read(doc))) do
        if line:match("^```") then code = not code end
        for target in (code and "" or line):gmatch("%]%(([^)%s]+)%)") do
          if not target:match("^%a+:") then
            local path, anchor = target:match("^([^#]*)#?(.*)$")
            linked[path:match("[^/]*$")] = true
            local file = path == "" and doc or dir .. path
            local f = io.open(file)
            if not f then
              bad[#bad + 1] = target .. " (no file " .. file .. ")"
            else
              f:close()
              if anchor ~= "" and file:match("%.md$") and not anchors(read(file))[anchor] then
                bad[#bad + 1] = target .. " (no heading #" .. anchor .. " in " .. file .. ")"
              end
            end
          end
        end
      end
      assert(#bad == 0, doc .. ": broken links: " .. table.concat(bad, ", "))
      if doc == "README.md" then
        for i = 2, #documents do
          assert(linked[documents[i]:sub(6)], "README.md does not link to " .. documents[i])
        end
      end
    end)
  end
end)
