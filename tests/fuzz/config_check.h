/* What a loaded config always holds, whatever config.lua said: shared by
 * the config_lua and config_set fuzz targets (abort() when broken). */
#ifndef CW_FUZZ_CONFIG_CHECK_H
#define CW_FUZZ_CONFIG_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/interval.h"

static int fz_posint(long v)
{
    return v > 0 && v <= 1000000000;
}

static int fz_seconds(double v)
{
    return v > 0 && v <= 1e9;
}

static int fz_url(const char *s)
{
    return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) || !strncmp(s, "ws://", 5) ||
           !strncmp(s, "wss://", 6);
}

static void fz_config_check(const struct config *c)
{
    char host[256];
    int port;
    /* required strings are never unset or empty; URLs stay URLs */
    const char *req[] = {c->telegram.api_url, c->telegram.webhook_path, c->exchange.ws_url,
                         c->exchange.rest_url, c->exchange.quote_asset,
                         c->exchange.contract_type, c->database, c->scripts, c->http.listen};
    for (size_t i = 0; i < sizeof req / sizeof *req; i++)
        if (!req[i] || !*req[i])
            abort();
    /* optional ones: unset rather than empty */
    const char *opt[] = {c->telegram.token, c->telegram.webhook_url, c->telegram.webhook_secret,
                         c->tls.ca_file};
    for (size_t i = 0; i < sizeof opt / sizeof *opt; i++)
        if (opt[i] && !*opt[i])
            abort();
    if (!fz_url(c->telegram.api_url) || !fz_url(c->exchange.ws_url) ||
        !fz_url(c->exchange.rest_url) || (c->telegram.webhook_url && !fz_url(c->telegram.webhook_url)))
        abort();
    if (config_listen_parse(c->http.listen, host, sizeof host, &port) != 0 || port < 0 ||
        port > 65535)
        abort();
    if (c->exchange.intervals <= 0 || c->exchange.intervals >= 1 << IV_COUNT)
        abort();
    if (!fz_posint(c->telegram.user_limit) || !fz_posint(c->exchange.streams_per_connection) ||
        !fz_posint(c->exchange.history) || !fz_posint(c->exchange.max_frame) ||
        !fz_posint(c->exchange.rest_weight_limit) || !fz_posint(c->admin.memory_mb) ||
        !fz_posint(c->limits.pairs_per_preset) || !fz_posint(c->limits.presets_per_user) ||
        !fz_posint(c->lua.memory_mb) || !fz_posint(c->lua.instruction_limit) ||
        !fz_posint(c->http.max_connections))
        abort();
    if (!fz_seconds(c->telegram.poll_timeout) || !fz_seconds(c->telegram.retry_deadline) ||
        !fz_seconds(c->telegram.user_window) || !fz_seconds(c->exchange.stale_after) ||
        !fz_seconds(c->exchange.rotate_after) || !fz_seconds(c->exchange.late_alert_max) ||
        !fz_seconds(c->exchange.universe_refresh) || !fz_seconds(c->exchange.ranking_refresh) ||
        !fz_seconds(c->shutdown_timeout) || !fz_seconds(c->admin.feed_down_after) ||
        !fz_seconds(c->admin.repeat_after))
        abort();
    /* rate: 0 (resolved after loading) or a number of messages a second */
    if (!(c->telegram.rate == 0 || fz_seconds(c->telegram.rate)))
        abort();
    if ((unsigned)c->log.level > LOG_ERROR || (c->log.json != 0 && c->log.json != 1) ||
        (c->telegram.paid_broadcast != 0 && c->telegram.paid_broadcast != 1) ||
        c->exchange.enabled < -1 || c->exchange.enabled > 1)
        abort();
    if (c->nadmins < 0 || (c->nadmins > 0) != (c->admins != NULL))
        abort();
}

/* An error message: there, and text.  (A message that is only "(null)",
 * as error({}) once gave, cannot be told from error("(null)") here: the
 * unit test tests/unit/lconfig.c pins that.) */
static void fz_err_check(const char *err, size_t errlen)
{
    size_t n = strnlen(err, errlen);
    if (n == 0 || n == errlen)
        abort();
}

#endif
