describe("json", function()
  it("encodes with sorted keys and arrays for sequences", function()
    assert.equals('{"a":[1,2,3],"b":"x","c":{"d":true}}',
                  json.encode({ c = { d = true }, b = "x", a = { 1, 2, 3 } }))
    assert.equals("{}", json.encode({}))
    assert.equals("null", json.encode(json.null))
  end)

  it("decodes integers as integers and null as json.null", function()
    local v = json.decode('{"id": 123456789012, "p": 0.5, "n": null, "list": [1, "two"]}')
    assert.equals("integer", math.type(v.id))
    assert.equals(0.5, v.p)
    assert.equals(json.null, v.n)
    assert.same({ 1, "two" }, v.list)
  end)

  it("returns nil, err on invalid JSON", function()
    local v, err = json.decode('{"a": tru}')
    assert.is_nil(v)
    assert.matches("invalid JSON at byte", err)
  end)

  it("raises on values JSON cannot hold", function()
    assert.has_error(function() json.encode({ f = print }) end)
    local cyclic = {}
    cyclic.self = cyclic
    assert.has_error(function() json.encode(cyclic) end)
    assert.has_error(function() json.encode(0 / 0) end)
  end)
end)
