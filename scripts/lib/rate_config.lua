-- The `rate` section of config.lua (docs/configuration.md "rate"), shared by
-- /rate's scripts: required by each, declared once per generation.
local SCHEMA = {
  enabled = { type = "boolean", default = false, help = "offer /rate (the shipped config.lua turns it on)" },
  rapira_url = { type = "url", default = "https://api.rapira.net/open/market/rates",
                 help = "Rapira's public rates list (USDT/RUB)" },
  fiat_url = { type = "url", default = "https://api.apilayer.com/exchangerates_data/latest",
               help = "APILayer exchangerates_data's latest rates" },
  fiat_key = { type = "string", env = "APILAYER_KEY", secret = true,
               help = "APILayer's key (sent as the apikey header); without it the fallback alone" },
  fallback_url = { type = "url", default = "https://open.er-api.com/v6/latest/USD",
                   help = "a keyless fiat source (open.er-api.com's shape), tried after APILayer" },
  cross = { type = "string", default = "rub",
            help = "USDT to fiat through Rapira's RUB (\"rub\") or 1 USDT = 1 USD (\"usd\")" },
  ttl = { type = "integer", default = 300, min = 30, max = 86400, help = "seconds a rate is fresh" },
  stale_max = { type = "integer", default = 21600, min = 60, max = 604800,
                help = "seconds the last good rate is still shown (with its age) while a source is down" },
  timeout = { type = "number", default = 5, min = 1, max = 30, help = "seconds a source may take to answer" },
  cache_entries = { type = "integer", default = 64, min = 4, max = 10000, help = "the cache's bound" },
  breaker_failures = { type = "integer", default = 3, min = 1, max = 100,
                       help = "failures in a row that open a source's circuit breaker" },
  breaker_pause = { type = "integer", default = 60, min = 5, max = 3600,
                    help = "seconds an open breaker waits before one trial request" },
  health_after = { type = "integer", default = 900, min = 60, max = 86400,
                   help = "seconds a source may fail before /health says so" },
  preload = { type = "strings", default = { "RUB/USDT", "USDT/RUB", "RUB/USD", "USDT/USD" }, max = 14,
              help = "pairs (GIVE/GET) kept warm ahead of expiry, besides the ones in use" },
}

local cfg = host.config("rate", SCHEMA)
if cfg.cross ~= "rub" and cfg.cross ~= "usd" then
  error(string.format("key 'rate.cross' must be \"rub\" or \"usd\", got %q", tostring(cfg.cross)), 0)
end
local calc = require("rate_calc")
for _, p in ipairs(cfg.preload or {}) do
  local give, get = p:match("^(%u+)/(%u+)$")
  if not (give and calc.pair_ok(give, get)) then
    error(string.format("key 'rate.preload' holds %q: a pair is GIVE/GET, like \"RUB/USDT\" or \"USDT/THB\"",
                        p:sub(1, 40)), 0)
  end
end
return cfg
