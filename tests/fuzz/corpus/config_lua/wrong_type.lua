return { http = { listen = 8080 } }
