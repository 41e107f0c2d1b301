-- every section, with values a deployment uses
local port = tonumber(os.getenv("HTTP_PORT") or "8080")
return {
  telegram = { token = os.getenv("BOT_TOKEN"), api_url = "http://127.0.0.1:9001",
               webhook_url = "https://bot.example.org/telegram", webhook_secret = "s3cret_ok",
               webhook_path = "/telegram", poll_timeout = 25, rate = 30.5,
               paid_broadcast = false, retry_deadline = 86400, user_limit = 20, user_window = 10 },
  exchange = { enabled = true, ws_url = "ws://127.0.0.1:9002/market", rest_url = "http://127.0.0.1:9002",
               intervals = { "1m", "5m", "1h", "1d" }, quote_asset = "USDT", contract_type = "PERPETUAL",
               streams_per_connection = 200, stale_after = 30, rotate_after = 82800,
               late_alert_max = 120, universe_refresh = 3600, ranking_refresh = 300,
               history = 200, max_frame = 65536, rest_weight_limit = 2400 },
  tls = { ca_file = "/etc/ssl/certs/ca-certificates.crt" },
  database = "./candlewatch.db",
  scripts = "./scripts",
  http = { listen = string.format("[::1]:%d", port) },
  admins = { 42, -1001293752024 },
  shutdown_timeout = 10,
  admin = { feed_down_after = 120, repeat_after = 3600, memory_mb = 1024 },
  log = { level = "debug", format = "json" },
  limits = { pairs_per_preset = 50, presets_per_user = 10 },
  lua = { memory_mb = 256, instruction_limit = 10000000 },
}
