/* The config schema: defaults, types, unknown keys named back. */
#include <stdlib.h>

#include "config/config.h"
#include "tap.h"

static struct config_value str(const char *s)
{
    return (struct config_value){.type = CV_STRING, .s = s, .lua_type = "string"};
}

static struct config_value num(long long i)
{
    return (struct config_value){.type = CV_INT, .i = i, .lua_type = "integer"};
}

int main(void)
{
    struct config c;
    char err[512];
    unsetenv("BOT_TOKEN");
    config_defaults(&c);
    is_str(c.telegram.api_url, "https://api.telegram.org", "telegram.api_url default");
    is_str(c.exchange.ws_url, "wss://fstream.binance.com/market", "ws_url default has /market");
    is_str(c.exchange.rest_url, "https://fapi.binance.com", "rest_url default");
    is_str(c.database, "./candlewatch.db", "database default");
    is_str(c.scripts, "./scripts", "scripts default");
    is_str(c.http.listen, "127.0.0.1:8080", "http.listen default");
    is_int(c.http.max_connections, 500, "http.max_connections default");
    ok(c.telegram.token == NULL, "no token without BOT_TOKEN");
    is_int(c.nadmins, 0, "admins default is empty");
    is_int(c.log.level, LOG_INFO, "log.level default");
    config_free(&c);

    setenv("BOT_TOKEN", "123:abc", 1);
    config_defaults(&c);
    is_str(c.telegram.token, "123:abc", "token comes from BOT_TOKEN by default");

    struct config_value v = str("http://127.0.0.1:9/");
    is_int(config_set(&c, "telegram.api_url", &v, err, sizeof err), 0, "a URL is accepted");
    is_str(c.telegram.api_url, "http://127.0.0.1:9/", "and stored");

    v = num(5);
    is_int(config_set(&c, "telegram.api_url", &v, err, sizeof err), -1, "a number is not a URL");
    ok(strstr(err, "telegram.api_url") && strstr(err, "integer"),
       "the message names the key and the type given: %s", err);

    v = str("x");
    is_int(config_set(&c, "telegram.tokne", &v, err, sizeof err), -1, "unknown key refused");
    ok(strstr(err, "'telegram.tokne'") && strstr(err, "telegram.token"),
       "the message names it and suggests the right key: %s", err);

    v = str("verbose");
    is_int(config_set(&c, "log.level", &v, err, sizeof err), -1, "unknown log level refused");
    v = str("json");
    is_int(config_set(&c, "log.format", &v, err, sizeof err), 0, "log.format json");
    ok(c.log.json, "json logs on");

    v = str("localhost");
    is_int(config_set(&c, "http.listen", &v, err, sizeof err), -1, "listen without port refused");
    v = str("0.0.0.0:0");
    is_int(config_set(&c, "http.listen", &v, err, sizeof err), 0, "port 0 accepted");

    long long ids[] = {42, -100123};
    v = (struct config_value){.type = CV_TABLE, .ints = ids, .nints = 2, .ints_ok = 1,
                              .lua_type = "table"};
    is_int(config_set(&c, "admins", &v, err, sizeof err), 0, "admins list accepted");
    ok(c.nadmins == 2 && c.admins[1] == -100123, "admins stored");
    v.ints_ok = 0;
    v.lua_type = "list with an item that is not an integer";
    is_int(config_set(&c, "admins", &v, err, sizeof err), -1, "admins with a string refused");

    v = num(0);
    is_int(config_set(&c, "lua.memory_mb", &v, err, sizeof err), -1, "memory 0 refused");
    ok(config_is_section("telegram") && !config_is_section("database"), "sections known");

    /* email.to: one mail goes to at most CONFIG_EMAIL_MAX_TO; more is
     * refused by name rather than dropped unsaid */
    const char *to[CONFIG_EMAIL_MAX_TO + 1];
    for (int i = 0; i <= CONFIG_EMAIL_MAX_TO; i++)
        to[i] = "ops@example.org";
    v = (struct config_value){.type = CV_TABLE, .strs = to, .nstrs = CONFIG_EMAIL_MAX_TO,
                              .strs_ok = 1, .lua_type = "table"};
    is_int(config_set(&c, "email.to", &v, err, sizeof err), 0, "16 recipients accepted");
    v.nstrs++;
    is_int(config_set(&c, "email.to", &v, err, sizeof err), -1, "17 recipients refused");
    ok(strstr(err, "key 'email.to': at most 16 addresses, got 17") != NULL, "by name: %s", err);

    char host[64];
    int port;
    ok(config_listen_parse("[::1]:8080", host, sizeof host, &port) == 0 && port == 8080 &&
           strcmp(host, "::1") == 0,
       "listen parses an IPv6 host");
    /* the venues' sections: off by default, the real hosts, each key named */
    is_int(c.spot.enabled, 0, "spot is off by default");
    is_int(c.bybit.enabled, 0, "bybit is off by default");
    is_str(c.spot.rest_url, "https://api.binance.com", "spot's REST is api.binance.com");
    is_int(c.spot.rest_weight_limit, 6000, "spot's weight limit is its own");
    is_str(c.bybit.ws_url, "wss://stream.bybit.com/v5/public/linear", "bybit's linear stream");
    ok(config_venue_of(&c, 1) == &c.spot && config_venue_of(&c, 3) == NULL,
       "sections by venue id");
    v = str("ftp://x");
    is_int(config_set(&c, "spot.ws_url", &v, err, sizeof err), -1, "a spot URL of another scheme is refused");
    ok(strstr(err, "spot.ws_url") != NULL, "naming spot.ws_url: %s", err);
    v = str("x");
    is_int(config_set(&c, "spot.contract_type", &v, err, sizeof err), -1, "spot has no contract type");
    v = num(0);
    is_int(config_set(&c, "bybit.streams_per_connection", &v, err, sizeof err), -1,
           "bybit.streams_per_connection 0 is refused");
    ok(strstr(err, "bybit.streams_per_connection") != NULL, "naming the key: %s", err);
    v = (struct config_value){.type = CV_BOOL, .b = 1, .lua_type = "boolean"};
    is_int(config_set(&c, "spot.enabled", &v, err, sizeof err), 0, "spot.enabled = true");
    is_int(c.spot.enabled, 1, "turns spot on");
    ok(config_is_section("spot") && config_is_section("bybit"), "spot and bybit are core sections");

    config_free(&c);

    /* "did you mean": a swap of two letters is one edit; a suggestion as
     * far from a short name as the name is long is none */
    char msg[200];
    const char *declared[] = {"gas"};
    config_unknown_key("gsa", declared, 1, 1, msg, sizeof msg);
    is_str(msg, "unknown key 'gsa' (did you mean 'gas'?)", "a swap suggests the declared section");
    config_unknown_key("gas", NULL, 0, 1, msg, sizeof msg);
    is_str(msg, "unknown key 'gas'", "a short name two edits from 'tls' suggests nothing");
    config_unknown_key("telegarm", NULL, 0, 1, msg, sizeof msg);
    is_str(msg, "unknown key 'telegarm' (did you mean 'telegram'?)", "a core section is suggested");
    config_unknown_key("exchange.rest_ulr", NULL, 0, 1, msg, sizeof msg);
    is_str(msg, "unknown key 'exchange.rest_ulr' (did you mean 'exchange.rest_url'?)",
           "and a core key");
    return done();
}
