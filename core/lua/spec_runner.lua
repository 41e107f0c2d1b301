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
