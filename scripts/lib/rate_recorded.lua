-- The console demo's rates (`make run` without a token: host.mode() is
-- "console"): answers in the shape each source gives (rate_source.lua),
-- parsed by the same code, so /rate works offline.  The numbers are a
-- fixed sample near the levels of late 2026, not live rates: the result
-- names them "sample".
local source = require("rate_source")

local M = {}

M.RAPIRA = [[{"code":0,"message":"success","data":[
 {"symbol":"BTC/USDT","close":91850.1,"askPrice":91860.0,"bidPrice":91840.2},
 {"symbol":"USDT/RUB","open":80.95,"high":81.4,"low":80.71,"close":81.12,"askPrice":81.17,"bidPrice":81.05}]}]]

M.FIAT = [[{"result":"success","base_code":"USD","time_last_update_unix":1796256000,
 "rates":{"USD":1,"RUB":79.8512,"EUR":0.859377,"THB":31.9875,"AED":3.6725,"ZAR":17.1893,"IDR":16652.41}}]]

function M.sources()
  return {
    { name = "rapira", label = "Rapira sample", kind = "usdt",
      get = function() return source.parse_rapira(M.RAPIRA) end },
    { name = "erapi", label = "open.er-api.com sample", kind = "fiat",
      get = function() return source.parse_erapi(M.FIAT) end },
  }
end

return M
