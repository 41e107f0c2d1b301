-- What a script may hold outside its Lua memory is bounded, with errors that
-- name the limit and the script: a stored value, the C side of json.encode,
-- its registrations and its pending timers.
describe("bounds", function()
  before_each(function()
    spec.limits({ instructions = 1e8, memory_mb = 64 })
    assert(spec.use_scripts({ ["x.lua"] = "" }))
  end)

  it("refuses to store a value over 1 MiB of JSON, and saves nothing", function()
    local t = spec.eval("return store.set('big', 'k', string.rep('x', 2 * 1024 * 1024))")
    assert.is_false(t.ok)
    assert.matches("expected store.set%(scope, key, value%): value: its JSON text would be over "
      .. "1048576 bytes %(a stored value is at most 1024 KiB of JSON%)", t.err)
    assert.same({}, spec.eval("return store.get('big', 'k')").results)
    t = spec.eval("return store.set('big', 'k', string.rep('x', 1000 * 1024))")
    assert.is_true(t.ok, t.err)
  end)

  it("refuses json.encode of more than the memory left, freeing its C side", function()
    spec.limits({ memory_mb = 32 })
    local t = spec.eval([[
      local s = string.rep("x", 12 * 1024 * 1024)
      local errs = {}
      for i = 1, 5 do   -- (24 MiB of JSON, 12 of them in Lua: more than is left)
        local ok, err = pcall(json.encode, { s, s })
        errs[#errs + 1] = err
      end
      return errs[1], #errs]])
    assert.is_true(t.ok, t.err)
    assert.matches("^json.encode%(value%): its JSON text would be over %d+ bytes$", t.results[1])
    assert.equals(5, t.results[2])   -- (make test-asan checks that nothing leaked)
    assert.same({ '"ok"' }, spec.eval("return json.encode('ok')").results)
  end)

  it("refuses a table with both the key 1 and the key '1' in json.encode", function()
    local t = spec.eval("return json.encode({ ['1'] = 's', [1] = 'i' })")
    assert.is_false(t.ok)
    assert.matches([[cannot encode a table with both the key 1 and the key "1"]], t.err)
    assert.same({ '{"1":"i","2":"s"}' }, spec.eval("return json.encode({ [1] = 'i', ['2'] = 's' })").results)
  end)

  it("refuses a generation with more than 5000 registrations, naming the script", function()
    for _, src in ipairs({
      "for i = 1, 6000 do host.on_start(function() end) end",
      "for i = 1, 6000 do bot.command('c' .. i, 'd', function() end) end",
      "for i = 1, 6000 do bot.callback('c' .. i, function() end) end",
    }) do
      spec.write("many.lua", src)
      local ok, err = spec.reload()
      assert.is_nil(ok)
      assert.matches("many.lua:1: too many registrations: the scripts may hold 5000 commands, "
        .. "buttons, steps, rules, start%-up hooks and timers together %(many.lua holds 5000%)", err)
    end
  end)

  it("refuses more than 1000 pending timers in one script", function()
    spec.write("many.lua", "for i = 1, 1001 do timer.after(60, function() end) end")
    local ok, err = spec.reload()
    assert.is_nil(ok)
    assert.matches("many.lua:1: many.lua has 1000 timers pending, the most a script may have", err)
    -- at run time too; a fired or cancelled timer makes room again
    spec.write("many.lua", [[
      host.on_start(function()
        local ids = {}
        for i = 1, 1000 do ids[i] = timer.after(60, function() end) end
        local ok, err = pcall(timer.after, 60, function() end)
        assert(not ok and err:find("has 1000 timers pending"), err)
        timer.cancel(ids[1])
        assert(timer.after(60, function() end))
        store.set("t", "done", true)
      end)]])
    assert(spec.reload())
    spec.advance(0)
    assert.equals(0, spec.errors("many.lua"))
    assert.same({ true }, spec.eval("return store.get('t', 'done')").results)
  end)
end)
