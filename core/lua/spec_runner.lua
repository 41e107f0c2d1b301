-- The spec runner: busted-style describe/it/before_each/after_each/pending
-- over luassert's assert, printing TAP.  Compiled into the binary; called
-- once per spec file as runner(file, first_number, api, spec) and returns
-- passed, failed.
local file, number, api, spec = ...

local ok_assert, luassert = pcall(require, "luassert")
if not ok_assert then
  error("luassert is missing: install lua-busted (make deps)", 0)
end

local passed, failed = 0, 0
local tests = {}          -- {name =, fn =, befores =, afters =, pending =}
local stack = {}          -- describe blocks being defined

local function full_name(name)
  local parts = {}
  for _, block in ipairs(stack) do parts[#parts + 1] = block.name end
  parts[#parts + 1] = name
  return table.concat(parts, " ")
end

local function hooks(kind)
  local list = {}
  for _, block in ipairs(stack) do
    for _, fn in ipairs(block[kind]) do list[#list + 1] = fn end
  end
  return list
end

local dsl = {}
function dsl.describe(name, fn)
  stack[#stack + 1] = {name = name, before = {}, after = {}}
  fn()
  stack[#stack] = nil
end
function dsl.it(name, fn)
  tests[#tests + 1] = {name = full_name(name), fn = fn,
                       befores = hooks("before"), afters = hooks("after")}
end
function dsl.pending(name)
  tests[#tests + 1] = {name = full_name(name), pending = true}
end
function dsl.before_each(fn)
  assert(#stack > 0, "before_each must be inside describe")
  local b = stack[#stack].before
  b[#b + 1] = fn
end
function dsl.after_each(fn)
  assert(#stack > 0, "after_each must be inside describe")
  local a = stack[#stack].after
  a[#a + 1] = fn
end
dsl.context = dsl.describe
dsl.spec = spec
dsl.assert = luassert
dsl.spy = require("luassert.spy")
dsl.stub = require("luassert.stub")
dsl.mock = require("luassert.mock")
-- print would corrupt the TAP stream: it becomes a diagnostic line.
function dsl.print(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
  io.stdout:write("# ", (table.concat(parts, "\t"):gsub("\n", "\n# ")), "\n")
end
-- require: the scripts' own modules (scripts/lib, host modules) first.
function dsl.require(name)
  local ok, mod = pcall(api.require, name)
  if ok then return mod end
  return require(name)
end

local env = setmetatable({}, {__index = function(_, k)
  local v = dsl[k]
  if v ~= nil then return v end
  v = _G[k]
  if v ~= nil then return v end
  return api[k]
end})

-- spec.call(fn, ...): run fn as a handler (spec.run) that must succeed and
-- return its results; a handler error fails the test with that error.
-- The one-liner every spec that runs handlers would otherwise write again.
function spec.call(fn, ...)
  local t = spec.run(fn, ...)
  luassert.is_true(t.ok, t.err)
  return table.unpack(t.results)
end

-- spec.telegram(): the Telegram side on, with a small fake Bot API behind
-- the HTTP stubs.  Returns an object to drive chats and read what the bot
-- sent:
--   local tg = spec.telegram()
--   tg.message{chat = 42, text = "/start"}        -- a user writes (runs the handler)
--   tg.press{chat = 42, data = "x:1", message_id = 3}   -- a button press
--   tg.sent(42)   -> { {method =, text =, params =, message_id =}, ... }
--                    (sendPhoto: text = the caption, photo = the uploaded bytes
--                    or nil, file_id = the photo's, uploaded = boolean)
--   tg.texts(42)  -> the texts sent or edited into chat 42, in order
--   tg.answers()  -> the texts of the answers to button presses, in order
--   tg.admins[-100] = {[7] = true}                 -- group administrators
--   tg.fail("sendMessage", {status = 429, retry_after = 3})   -- the next such call
--   tg.delay("sendMessage", 5)                     -- the next such call answers late
local json = api.json
local next_update = 1   -- update ids stay unique for the whole file (one database)
-- photos by file_id, for the whole file too: the host remembers file_ids
-- across tests, as Telegram keeps them
local photos_known, next_photo = {}, 0
function spec.telegram()
  spec.telegram_on()
  local tg = {calls = {}, admins = {}, failures = {}, delays = {}, photos = photos_known}
  local next_mid, next_cb = {}, 0
  -- a multipart call's fields as the JSON one's parameters
  local function form_params(form)
    local p = {}
    for k, v in pairs(form) do
      p[k] = (k == "chat_id" and tonumber(v)) or (k == "reply_markup" and json.decode(v)) or v
    end
    return p
  end
  -- sendPhoto: an upload gets a new file_id; a file_id must be one given
  local function photo(call, p, files)
    local up = files and files.photo
    if up then
      if up.data:sub(1, 8) ~= "\x89PNG\r\n\x1a\n" and up.data:sub(1, 3) ~= "\xFF\xD8\xFF" then
        return nil, "Bad Request: IMAGE_PROCESS_FAILED"
      end
      next_photo = next_photo + 1
      call.file_id, call.photo, call.uploaded = "spec-photo-" .. next_photo, up.data, true
      tg.photos[call.file_id] = up.data
    elseif type(p.photo) == "string" and tg.photos[p.photo] then
      call.file_id, call.uploaded = p.photo, false
    else
      return nil, "Bad Request: wrong file identifier/HTTP URL specified"
    end
    return {{file_id = call.file_id .. "-thumb", width = 90, height = 56},
            {file_id = call.file_id, width = 800, height = 500}}
  end
  spec.stub_http("https://api.telegram.org/bot", function(req)
    local method = req.url:match("/([%w]+)$")
    local p = req.form and form_params(req.form) or json.decode(req.body or "{}") or {}
    local fail = tg.failures[method] and table.remove(tg.failures[method], 1)
    if fail then
      local body = {ok = false, error_code = fail.status, description = fail.description or "Error"}
      if fail.retry_after then body.parameters = {retry_after = fail.retry_after} end
      return {status = fail.status, body = json.encode(body)}
    end
    local call = {method = method, params = p, text = p.text or p.caption, chat = p.chat_id}
    local result = true
    if method == "sendPhoto" then
      local sizes, err = photo(call, p, req.files)
      if not sizes then
        return {status = 400, body = json.encode({ok = false, error_code = 400, description = err})}
      end
      next_mid[p.chat_id] = (next_mid[p.chat_id] or 0) + 1
      call.message_id = next_mid[p.chat_id]
      result = {message_id = call.message_id, chat = {id = p.chat_id}, photo = sizes,
                caption = p.caption}
    elseif method == "sendMessage" then
      next_mid[p.chat_id] = (next_mid[p.chat_id] or 0) + 1
      call.message_id = next_mid[p.chat_id]
      result = {message_id = call.message_id, chat = {id = p.chat_id}, text = p.text}
    elseif method == "getChatMember" then
      local admins = tg.admins[p.chat_id] or {}
      result = {status = admins[p.user_id] and "administrator" or "member",
                user = {id = p.user_id}}
    end
    tg.calls[#tg.calls + 1] = call
    local delay = tg.delays[method] and table.remove(tg.delays[method], 1)
    return {status = 200, body = json.encode({ok = true, result = result}), delay = delay}
  end)
  local function deliver(update)
    update.update_id = next_update
    next_update = next_update + 1
    assert(spec.telegram_update(json.encode(update)), "the update was not taken")
    return update.update_id
  end
  local function party(t)
    local chat = assert(t.chat, "chat = id is required")
    return {id = t.from or (chat > 0 and chat or 1), first_name = t.first_name or "Ann",
            username = t.username, is_bot = false},
           {id = chat, type = chat > 0 and "private" or "supergroup", title = t.title}
  end
  function tg.message(t)
    local from, chat = party(t)
    return deliver({message = {message_id = 1000 + next_update, from = from, chat = chat,
                               date = spec.now() // 1000, text = t.text}})
  end
  function tg.press(t)
    local from, chat = party(t)
    next_cb = next_cb + 1
    return deliver({callback_query = {id = "cb" .. next_cb, from = from, data = t.data,
                    message = {message_id = t.message_id or 1, chat = chat, date = 0}}})
  end
  function tg.raw(update) return deliver(update) end
  function tg.sent(chat)
    local out = {}
    for _, c in ipairs(tg.calls) do
      if chat == nil or c.chat == chat then out[#out + 1] = c end
    end
    return out
  end
  function tg.texts(chat)
    local out = {}
    for _, c in ipairs(tg.sent(chat)) do
      if c.text then out[#out + 1] = c.text end
    end
    return out
  end
  function tg.answers()
    local out = {}
    for _, c in ipairs(tg.calls) do
      if c.method == "answerCallbackQuery" and c.params.text then out[#out + 1] = c.params.text end
    end
    return out
  end
  function tg.delay(method, seconds)   -- the next such call is answered late
    tg.delays[method] = tg.delays[method] or {}
    table.insert(tg.delays[method], seconds)
  end
  function tg.fail(method, response)
    tg.failures[method] = tg.failures[method] or {}
    table.insert(tg.failures[method], response)
  end
  return tg
end

local function diag(msg)
  io.stdout:write("# ", (tostring(msg):gsub("\n", "\n# ")), "\n")
end

local function report(ok, name, err)
  number = number + 1
  if ok then
    passed = passed + 1
    io.stdout:write("ok ", number, " - ", name, "\n")
  else
    failed = failed + 1
    io.stdout:write("not ok ", number, " - ", name, "\n")
    diag(err)
  end
end

local chunk, load_err = loadfile(file, "t", env)
if not chunk then
  report(false, file .. " loads", load_err)
  return passed, failed
end
local ok, err = xpcall(chunk, debug.traceback)
if not ok then
  report(false, file .. " loads", err)
  return passed, failed
end
if #tests == 0 then
  report(false, file .. " defines tests", "no it() blocks: a spec file must test something")
  return passed, failed
end

for _, t in ipairs(tests) do
  if t.pending then
    number = number + 1
    passed = passed + 1
    io.stdout:write("ok ", number, " - ", t.name, " # SKIP pending\n")
  else
    local run_ok, run_err = xpcall(function()
      for _, fn in ipairs(t.befores) do fn() end
      t.fn()
    end, debug.traceback)
    for i = #t.afters, 1, -1 do
      local a_ok, a_err = xpcall(t.afters[i], debug.traceback)
      if run_ok and not a_ok then run_ok, run_err = false, a_err end
    end
    report(run_ok, t.name, run_err)
  end
  io.stdout:flush()
end
return passed, failed
