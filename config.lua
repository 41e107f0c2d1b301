-- candlewatch configuration.  A Lua file returning a table; keys that are
-- left out keep their defaults (candlewatch --help lists them all).
-- Secrets come from the environment, never from this file.
return {
  telegram = {
    token = os.getenv("BOT_TOKEN"),       -- without it Telegram is off
    api_url = "https://api.telegram.org",
  },
  exchange = {
    ws_url = "wss://fstream.binance.com/market",
    rest_url = "https://fapi.binance.com",
  },
  database = "./candlewatch.db",
  scripts = "./scripts",
  http = { listen = "127.0.0.1:8080" },  -- GET /health
  admins = {},                           -- Telegram chat ids of the operators
  -- the admins' diagnostics by e-mail too (password from $SMTP_PASSWORD):
  -- email = { server = "smtp.example.com", user = "bot@example.com",
  --           from = "bot@example.com", to = { "ops@example.com" } },
  log = { level = "info", format = "text" },
  -- /gas and gas alerts (scripts/gas.lua); the Etherscan key comes from
  -- $ETHERSCAN_API_KEY (key = os.getenv("ETHERSCAN_API_KEY") is the default);
  -- without it the readings come from gas.rpc_url.  Keys: docs/configuration.md
  gas = { enabled = true },
  -- /rate, the exchange calculator (docs/configuration.md "rate"); APILayer's
  -- key from $APILAYER_KEY, else the keyless fallback for fiat rates
  rate = { enabled = true },
}
