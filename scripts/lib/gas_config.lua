-- The gas section of config.lua, declared once for every script that
-- requires this module (scripts/gas.lua, commands/gas.lua).
local cfg = host.config("gas", {
  enabled = { type = "boolean", default = false, help = "poll gas prices and offer /gas" },
  interval = { type = "number", default = 60, min = 15, max = 3600, help = "seconds between two readings" },
  chain = { type = "integer", default = 1, min = 1, help = "the chain id asked about (1: Ethereum)" },
  etherscan_url = { type = "url", default = "https://api.etherscan.io/v2/api",
                    help = "Etherscan's API v2 endpoint" },
  key = { type = "string", env = "ETHERSCAN_API_KEY", secret = true,
          help = "Etherscan API key; without it only the rpc source is asked" },
  rpc_url = { type = "url", default = "https://ethereum-rpc.publicnode.com",
              help = "a JSON-RPC endpoint of the chain, the fallback that needs no key" },
  sources = { type = "strings", default = { "etherscan", "rpc" }, min = 1, max = 2,
              one_of = { "etherscan", "rpc" },
              help = "the sources tried in this order: etherscan, rpc" },
  timeout = { type = "number", default = 10, min = 1, max = 60, help = "seconds to wait for a source" },
  daily_calls = { type = "integer", default = 100000, min = 1,
                  help = "Etherscan calls a day the plan allows (for the budget /gas shows)" },
})

return cfg
