-- Text helpers shared by commands and alert formatting.
local text = {}

local html_escapes = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }

-- Escapes user-supplied text for Telegram's HTML parse mode.
function text.escape_html(s)
  return (tostring(s):gsub('[&<>"]', html_escapes))
end

-- Cuts s to at most n characters (UTF-8 aware), marking the cut with "…".
function text.truncate(s, n)
  if utf8.len(s) == nil or utf8.len(s) <= n then return s end
  return s:sub(1, utf8.offset(s, n + 1) - 1) .. "…"
end

return text
