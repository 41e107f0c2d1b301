#include "config/config.h"

#include <stddef.h>

#include "util/interval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ktype {
    K_STRING, K_OPT_STRING, K_URL, K_LISTEN, K_LEVEL, K_FORMAT, K_INT_LIST, K_POSINT,
    K_SECONDS, K_BOOL, K_INTERVALS, K_TLS, K_ADDRS, K_PORT
};

struct key {
    const char *name;
    enum ktype type;
    size_t off;             /* where in struct config */
    const char *expect;     /* for messages and --help */
    const char *defval;     /* shown by --help */
};

#define OFF(field) offsetof(struct config, field)

static const struct key keys[] = {
    {"telegram.token", K_OPT_STRING, OFF(telegram.token), "a string", "os.getenv(\"BOT_TOKEN\")"},
    {"telegram.api_url", K_URL, OFF(telegram.api_url), "an http(s) URL string", "https://api.telegram.org"},
    {"telegram.webhook_url", K_URL, OFF(telegram.webhook_url), "an http(s) URL string (Telegram wants https)", "unset: long polling"},
    {"telegram.webhook_secret", K_OPT_STRING, OFF(telegram.webhook_secret), "1-256 of A-Z a-z 0-9 _ -", "os.getenv(\"WEBHOOK_SECRET\"), else random at start"},
    {"telegram.webhook_path", K_STRING, OFF(telegram.webhook_path), "a path string", "/telegram"},
    {"telegram.poll_timeout", K_SECONDS, OFF(telegram.poll_timeout), "a number of seconds", "25"},
    {"telegram.rate", K_SECONDS, OFF(telegram.rate), "messages a second (a number)", "30, or 1000 with paid_broadcast"},
    {"telegram.paid_broadcast", K_BOOL, OFF(telegram.paid_broadcast), "a boolean", "false"},
    {"telegram.retry_deadline", K_SECONDS, OFF(telegram.retry_deadline), "a number of seconds", "86400"},
    {"telegram.user_limit", K_POSINT, OFF(telegram.user_limit), "a positive integer", "20"},
    {"telegram.user_window", K_SECONDS, OFF(telegram.user_window), "a number of seconds", "10"},
    {"exchange.enabled", K_BOOL, OFF(exchange.enabled), "a boolean", "on when a bot token is set"},
    {"exchange.ws_url", K_URL, OFF(exchange.ws_url), "a ws(s) URL string", "wss://fstream.binance.com/market"},
    {"exchange.rest_url", K_URL, OFF(exchange.rest_url), "an http(s) URL string", "https://fapi.binance.com"},
    {"exchange.intervals", K_INTERVALS, OFF(exchange.intervals), "a list of intervals (\"1m\" ... \"1d\")", "{\"1m\",\"5m\",\"15m\",\"30m\",\"1h\",\"4h\"}"},
    {"exchange.quote_asset", K_STRING, OFF(exchange.quote_asset), "a string", "USDT"},
    {"exchange.contract_type", K_STRING, OFF(exchange.contract_type), "a string", "PERPETUAL"},
    {"exchange.streams_per_connection", K_POSINT, OFF(exchange.streams_per_connection), "a positive integer", "1024"},
    {"exchange.stale_after", K_SECONDS, OFF(exchange.stale_after), "a number of seconds", "30"},
    {"exchange.rotate_after", K_SECONDS, OFF(exchange.rotate_after), "a number of seconds", "82800 (23 h)"},
    {"exchange.late_alert_max", K_SECONDS, OFF(exchange.late_alert_max), "a number of seconds", "120"},
    {"exchange.universe_refresh", K_SECONDS, OFF(exchange.universe_refresh), "a number of seconds", "3600"},
    {"exchange.ranking_refresh", K_SECONDS, OFF(exchange.ranking_refresh), "a number of seconds", "300"},
    {"exchange.history", K_POSINT, OFF(exchange.history), "a positive integer", "200"},
    {"exchange.max_frame", K_POSINT, OFF(exchange.max_frame), "a positive integer (bytes)", "65536"},
    {"exchange.rest_weight_limit", K_POSINT, OFF(exchange.rest_weight_limit), "a positive integer", "2400"},
    {"spot.enabled", K_BOOL, OFF(spot.enabled), "a boolean", "false"},
    {"spot.ws_url", K_URL, OFF(spot.ws_url), "a ws(s) URL string", "wss://stream.binance.com:9443"},
    {"spot.rest_url", K_URL, OFF(spot.rest_url), "an http(s) URL string", "https://api.binance.com"},
    {"spot.intervals", K_INTERVALS, OFF(spot.intervals), "a list of intervals (\"1m\" ... \"1d\")", "{\"1m\",\"5m\",\"15m\",\"30m\",\"1h\",\"4h\"}"},
    {"spot.quote_asset", K_STRING, OFF(spot.quote_asset), "a string", "USDT"},
    {"spot.streams_per_connection", K_POSINT, OFF(spot.streams_per_connection), "a positive integer", "1024"},
    {"spot.stale_after", K_SECONDS, OFF(spot.stale_after), "a number of seconds", "30"},
    {"spot.rotate_after", K_SECONDS, OFF(spot.rotate_after), "a number of seconds", "82800 (23 h)"},
    {"spot.universe_refresh", K_SECONDS, OFF(spot.universe_refresh), "a number of seconds", "3600"},
    {"spot.ranking_refresh", K_SECONDS, OFF(spot.ranking_refresh), "a number of seconds", "300"},
    {"spot.max_frame", K_POSINT, OFF(spot.max_frame), "a positive integer (bytes)", "65536"},
    {"spot.rest_weight_limit", K_POSINT, OFF(spot.rest_weight_limit), "a positive integer", "6000"},
    {"bybit.enabled", K_BOOL, OFF(bybit.enabled), "a boolean", "false"},
    {"bybit.ws_url", K_URL, OFF(bybit.ws_url), "a ws(s) URL string", "wss://stream.bybit.com/v5/public/linear"},
    {"bybit.rest_url", K_URL, OFF(bybit.rest_url), "an http(s) URL string", "https://api.bybit.com"},
    {"bybit.intervals", K_INTERVALS, OFF(bybit.intervals), "a list of intervals (\"1m\" ... \"1d\")", "{\"1m\",\"5m\",\"15m\",\"30m\",\"1h\",\"4h\"}"},
    {"bybit.quote_asset", K_STRING, OFF(bybit.quote_asset), "a string", "USDT"},
    {"bybit.contract_type", K_STRING, OFF(bybit.contract_type), "a string", "LinearPerpetual"},
    {"bybit.streams_per_connection", K_POSINT, OFF(bybit.streams_per_connection), "a positive integer", "500"},
    {"bybit.stale_after", K_SECONDS, OFF(bybit.stale_after), "a number of seconds", "30"},
    {"bybit.rotate_after", K_SECONDS, OFF(bybit.rotate_after), "a number of seconds", "82800 (23 h)"},
    {"bybit.universe_refresh", K_SECONDS, OFF(bybit.universe_refresh), "a number of seconds", "3600"},
    {"bybit.ranking_refresh", K_SECONDS, OFF(bybit.ranking_refresh), "a number of seconds", "300"},
    {"bybit.max_frame", K_POSINT, OFF(bybit.max_frame), "a positive integer (bytes)", "65536"},
    {"bybit.rest_weight_limit", K_POSINT, OFF(bybit.rest_weight_limit), "a positive integer", "600"},
    {"tls.ca_file", K_OPT_STRING, OFF(tls.ca_file), "a file path string", "the system's CAs"},
    {"database", K_STRING, OFF(database), "a file path string", "./candlewatch.db"},
    {"scripts", K_STRING, OFF(scripts), "a folder path string (or up to 4, ':'-separated: the first holding a file wins)", "./scripts"},
    {"http.listen", K_LISTEN, OFF(http.listen), "a \"host:port\" string", "127.0.0.1:8080"},
    {"http.max_connections", K_POSINT, OFF(http.max_connections), "a positive integer", "500"},
    {"admins", K_INT_LIST, OFF(admins), "a list of Telegram chat ids (integers)", "{}"},
    {"shutdown_timeout", K_SECONDS, OFF(shutdown_timeout), "a number of seconds", "10"},
    {"admin.feed_down_after", K_SECONDS, OFF(admin.feed_down_after), "a number of seconds", "120"},
    {"admin.repeat_after", K_SECONDS, OFF(admin.repeat_after), "a number of seconds", "3600"},
    {"admin.memory_mb", K_POSINT, OFF(admin.memory_mb), "a positive integer (MB)", "1024"},
    {"email.server", K_OPT_STRING, OFF(email.server), "an SMTP server's host name", "unset: no e-mail"},
    {"email.port", K_PORT, OFF(email.port), "a port number", "587, or 465 with tls = \"implicit\""},
    {"email.tls", K_TLS, OFF(email.tls), "\"starttls\", \"implicit\" or \"none\"", "starttls"},
    {"email.user", K_OPT_STRING, OFF(email.user), "a string", "unset: no login"},
    {"email.password", K_OPT_STRING, OFF(email.password), "a string", "os.getenv(\"SMTP_PASSWORD\")"},
    {"email.from", K_OPT_STRING, OFF(email.from), "an e-mail address", "unset"},
    {"email.to", K_ADDRS, OFF(email.to), "a list of e-mail addresses", "{}"},
    {"log.level", K_LEVEL, OFF(log.level), "one of \"debug\", \"info\", \"warn\", \"error\"", "info"},
    {"log.format", K_FORMAT, OFF(log.json), "\"text\" or \"json\"", "text"},
    {"limits.pairs_per_preset", K_POSINT, OFF(limits.pairs_per_preset), "a positive integer", "50"},
    {"limits.presets_per_user", K_POSINT, OFF(limits.presets_per_user), "a positive integer", "10"},
    {"lua.memory_mb", K_POSINT, OFF(lua.memory_mb), "a positive integer (MiB)", "256"},
    {"lua.instruction_limit", K_POSINT, OFF(lua.instruction_limit), "a positive integer", "10000000"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = {"telegram", "exchange", "spot", "bybit", "tls", "http",
                                       "log", "lua", "limits", "admin", "email"};
#define NSECTIONS (sizeof sections / sizeof sections[0])

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? strdup(v) : NULL;
}

/* A venue other than exchange: off, the real URLs, exchange's timings. */
static void venue_defaults(struct config_venue *v, const char *ws, const char *rest,
                           const char *contract_type, long streams, long weight)
{
    v->enabled = 0;
    set_str(&v->ws_url, ws);
    set_str(&v->rest_url, rest);
    v->intervals = 1 << IV_1M | 1 << IV_5M | 1 << IV_15M | 1 << IV_30M | 1 << IV_1H | 1 << IV_4H;
    set_str(&v->quote_asset, "USDT");
    set_str(&v->contract_type, contract_type);
    v->streams_per_connection = streams;
    v->stale_after = 30;
    v->rotate_after = 23 * 3600;
    v->late_alert_max = 120;
    v->universe_refresh = 3600;
    v->ranking_refresh = 300;
    v->history = 200;
    v->max_frame = 65536;
    v->rest_weight_limit = weight;
}

static void venue_free(struct config_venue *v)
{
    free(v->ws_url);
    free(v->rest_url);
    free(v->quote_asset);
    free(v->contract_type);
}

const struct config_venue *config_venue_of(const struct config *c, int venue)
{
    return venue == 0 ? &c->exchange : venue == 1 ? &c->spot : venue == 2 ? &c->bybit : NULL;
}

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    set_str(&c->telegram.token, getenv("BOT_TOKEN"));
    if (c->telegram.token && !*c->telegram.token)
        set_str(&c->telegram.token, NULL);
    set_str(&c->telegram.api_url, "https://api.telegram.org");
    set_str(&c->telegram.webhook_secret, getenv("WEBHOOK_SECRET"));
    if (c->telegram.webhook_secret && !*c->telegram.webhook_secret)
        set_str(&c->telegram.webhook_secret, NULL);
    set_str(&c->telegram.webhook_path, "/telegram");
    c->telegram.poll_timeout = 25;
    c->telegram.rate = 0;   /* resolved after loading: 30, or 1000 when paid */
    c->telegram.retry_deadline = 86400;
    c->telegram.user_limit = 20;
    c->telegram.user_window = 10;
    c->exchange.enabled = -1;   /* auto: on when there is a bot token */
    set_str(&c->exchange.ws_url, "wss://fstream.binance.com/market");
    set_str(&c->exchange.rest_url, "https://fapi.binance.com");
    c->exchange.intervals = 1 << IV_1M | 1 << IV_5M | 1 << IV_15M | 1 << IV_30M | 1 << IV_1H |
                            1 << IV_4H;
    set_str(&c->exchange.quote_asset, "USDT");
    set_str(&c->exchange.contract_type, "PERPETUAL");
    c->exchange.streams_per_connection = 1024;
    c->exchange.stale_after = 30;
    c->exchange.rotate_after = 23 * 3600;
    c->exchange.late_alert_max = 120;
    c->exchange.universe_refresh = 3600;
    c->exchange.ranking_refresh = 300;
    c->exchange.history = 200;
    c->exchange.max_frame = 65536;
    c->exchange.rest_weight_limit = 2400;
    venue_defaults(&c->spot, "wss://stream.binance.com:9443", "https://api.binance.com", NULL,
                   1024, 6000);
    venue_defaults(&c->bybit, "wss://stream.bybit.com/v5/public/linear", "https://api.bybit.com",
                   "LinearPerpetual", 500, 600);
    set_str(&c->database, "./candlewatch.db");
    set_str(&c->scripts, "./scripts");
    set_str(&c->http.listen, "127.0.0.1:8080");
    c->http.max_connections = 500;
    c->shutdown_timeout = 10;
    c->admin.feed_down_after = 120;
    c->admin.repeat_after = 3600;
    c->admin.memory_mb = 1024;
    set_str(&c->email.password, getenv("SMTP_PASSWORD"));
    if (c->email.password && !*c->email.password)
        set_str(&c->email.password, NULL);
    c->log.level = LOG_INFO;
    c->limits.pairs_per_preset = 50;
    c->limits.presets_per_user = 10;
    c->lua.memory_mb = 256;
    c->lua.instruction_limit = 10000000;
}

void config_free(struct config *c)
{
    free(c->telegram.token);
    free(c->telegram.api_url);
    free(c->telegram.webhook_url);
    free(c->telegram.webhook_secret);
    free(c->telegram.webhook_path);
    venue_free(&c->exchange);
    venue_free(&c->spot);
    venue_free(&c->bybit);
    free(c->tls.ca_file);
    free(c->database);
    free(c->scripts);
    free(c->http.listen);
    free(c->admins);
    free(c->email.server);
    free(c->email.user);
    free(c->email.password);
    free(c->email.from);
    free(c->email.to);
    for (int i = 0; i < c->nsections; i++) {
        free(c->sections[i].name);
        free(c->sections[i].json);
    }
    free(c->sections);
    memset(c, 0, sizeof *c);
}

int config_is_section(const char *key)
{
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (strcmp(key, sections[i]) == 0)
            return 1;
    return 0;
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

int config_is_core(const char *name)
{
    return config_is_section(name) || find_key(name) != NULL;
}

static struct config_section *section_find(const struct config *c, const char *name)
{
    for (int i = 0; i < c->nsections; i++)
        if (strcmp(c->sections[i].name, name) == 0)
            return &c->sections[i];
    return NULL;
}

const char *config_section(const struct config *c, const char *name)
{
    const struct config_section *s = section_find(c, name);
    return s ? s->json : NULL;
}

int config_set_section(struct config *c, const char *name, const char *json)
{
    struct config_section *s = section_find(c, name);
    if (!json) {
        if (s) {
            free(s->name);
            free(s->json);
            *s = c->sections[--c->nsections];
        }
        return 0;
    }
    char *copy = strdup(json);
    if (!copy)
        return -1;
    if (!s) {
        struct config_section *v = realloc(c->sections, sizeof *v * (size_t)(c->nsections + 1));
        if (!v || !(v[c->nsections].name = strdup(name))) {
            if (v)
                c->sections = v;
            free(copy);
            return -1;
        }
        c->sections = v;
        s = &v[c->nsections++];
        s->json = NULL;
    }
    free(s->json);
    s->json = copy;
    return 0;
}

/* Edit distance counting a swap of two neighbours as one edit (optimal
 * string alignment), for "did you mean" on a misspelt key: 'gsa' is one
 * edit from 'gas'. */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    return d[la][lb];
}

/* The nearest so far: *best when cand is closer than *bestd. */
static void nearer(const char *name, const char *cand, const char **best, int *bestd)
{
    int d = distance(name, cand);
    if (d < *bestd) {
        *bestd = d;
        *best = cand;
    }
}

/* The farthest a suggestion may be from name, plus one: 'tls' is no
 * suggestion for 'gas'. */
static int suggest_limit(const char *name)
{
    int limit = (int)strlen(name) / 3;
    return (limit < 1 ? 1 : limit > 3 ? 3 : limit) + 1;
}

const char *config_nearest(const char *name, const char *const *cands, int n)
{
    const char *best = NULL;
    int bestd = suggest_limit(name);
    for (int i = 0; i < n; i++)
        nearer(name, cands[i], &best, &bestd);
    return best;
}

void config_unknown_key(const char *name, const char *const *cands, int n, int core,
                        char *err, size_t errlen)
{
    const char *best = NULL;
    int bestd = suggest_limit(name);
    for (int i = 0; i < n; i++)
        nearer(name, cands[i], &best, &bestd);
    for (size_t i = 0; core && i < NKEYS; i++)
        nearer(name, keys[i].name, &best, &bestd);
    for (size_t i = 0; core && !strchr(name, '.') && i < NSECTIONS; i++)
        nearer(name, sections[i], &best, &bestd);
    if (best)
        snprintf(err, errlen, "unknown key '%s' (did you mean '%s'?)", name, best);
    else
        snprintf(err, errlen, "unknown key '%s'", name);
}

static void unknown_key(const char *name, char *err, size_t errlen)
{
    config_unknown_key(name, NULL, 0, 1, err, errlen);
}

static int wrong_type(const struct key *k, const struct config_value *v, char *err,
                      size_t errlen)
{
    snprintf(err, errlen, "key '%s' must be %s, got %s", k->name, k->expect, v->lua_type);
    return -1;
}

static int has_prefix(const char *s, const char *a, const char *b)
{
    return strncmp(s, a, strlen(a)) == 0 || strncmp(s, b, strlen(b)) == 0;
}

int config_listen_parse(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= hostlen)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 0 || p > 65535)
        return -1;
    size_t n = (size_t)(colon - listen);
    if (listen[0] == '[' && n > 2 && listen[n - 1] == ']') {   /* [::1]:8080 */
        listen++;
        n -= 2;
    }
    memcpy(host, listen, n);
    host[n] = '\0';
    *port = (int)p;
    return 0;
}

/* An address goes into SMTP commands and mail headers as it is: nothing
 * that could end a line or a command, and one '@'. */
static int address_ok(const char *a)
{
    const char *at = strchr(a, '@');
    if (!at || at == a || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (const char *p = a; *p; p++)
        if ((unsigned char)*p <= ' ' || strchr("<>(),;:\\\"[]", *p))
            return 0;
    return 1;
}

static int set_addrs(const struct key *k, char **slot, const struct config_value *v, char *err,
                     size_t errlen)
{
    if (v->type != CV_TABLE || !v->strs_ok)
        return wrong_type(k, v, err, errlen);
    if (v->nstrs > CONFIG_EMAIL_MAX_TO) {   /* (more would be dropped unsaid) */
        snprintf(err, errlen, "key '%s': at most %d addresses, got %d (use a mailing list "
                 "for more)", k->name, CONFIG_EMAIL_MAX_TO, v->nstrs);
        return -1;
    }
    size_t len = 1;
    for (int i = 0; i < v->nstrs; i++) {
        if (!address_ok(v->strs[i])) {
            char shown[80];   /* (control characters shown as '?': one line) */
            snprintf(shown, sizeof shown, "%s", v->strs[i]);
            for (char *c = shown; *c; c++)
                if ((unsigned char)*c < ' ')
                    *c = '?';
            snprintf(err, errlen, "key '%s': \"%s\" is not an e-mail address", k->name, shown);
            return -1;
        }
        len += strlen(v->strs[i]) + 1;
    }
    char *out = v->nstrs ? malloc(len) : NULL, *p = out;
    if (v->nstrs && !out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < v->nstrs; i++)
        p += sprintf(p, "%s%s", i ? "\n" : "", v->strs[i]);
    free(*slot);
    *slot = out;   /* (an empty list: NULL, no recipients) */
    return 0;
}

/* Telegram's rule for secret_token; checked here so that `check` refuses
 * what `run` would (the value may come from WEBHOOK_SECRET too). */
int config_webhook_secret_ok(const char *s)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    size_t n = strlen(s);
    return n >= 1 && n <= 256 && strspn(s, ok) == n;
}

int config_scripts_dir(const char *scripts, int i, char *out, size_t len)
{
    const char *p = scripts;
    for (; i > 0 && p; i--)
        if ((p = strchr(p, ':')))
            p++;
    if (!p)
        return -1;
    size_t n = strcspn(p, ":");
    snprintf(out, len, "%.*s", (int)n, p);
    return 0;
}

static int scripts_check(const char *scripts, char *err, size_t errlen)
{
    char dir[1024];
    int n = 0;
    while (config_scripts_dir(scripts, n, dir, sizeof dir) == 0) {
        if (!dir[0] || ++n > CONFIG_SCRIPT_DIRS) {
            snprintf(err, errlen, "key 'scripts': \"%s\": give a folder, or up to %d folders "
                     "separated by ':' (no empty one)", scripts, CONFIG_SCRIPT_DIRS);
            return -1;
        }
    }
    return 0;
}

/* What a venue cannot do whatever it is told (its keys are checked one by
 * one as they are set; these are Bybit's own limits). */
static int venue_check(const struct config *c, char *err, size_t errlen)
{
    if (c->bybit.intervals & (1 << IV_8H)) {
        snprintf(err, errlen, "key 'bybit.intervals': Bybit has no 8h (it has 1m 3m 5m 15m 30m "
                 "1h 2h 4h 6h 12h 1d)");
        return -1;
    }
    /* one public connection: at most 21,000 characters of topics, and a
     * topic ("kline.240.1000000BABYDOGEUSDT") is up to ~35 with its quotes */
    if (c->bybit.streams_per_connection > 600) {
        snprintf(err, errlen, "key 'bybit.streams_per_connection': at most 600 (Bybit takes "
                 "21,000 characters of topics a connection)");
        return -1;
    }
    return 0;
}

int config_check(const struct config *c, char *err, size_t errlen)
{
    if (scripts_check(c->scripts, err, errlen) != 0 || venue_check(c, err, errlen) != 0)
        return -1;
    if (c->telegram.webhook_secret && !config_webhook_secret_ok(c->telegram.webhook_secret)) {
        snprintf(err, errlen, "key 'telegram.webhook_secret' (or WEBHOOK_SECRET): use 1-256 "
                 "of A-Z a-z 0-9 _ - (Telegram's rule)");
        return -1;
    }
    if (!c->email.server)
        return 0;
    if (!c->email.from || !address_ok(c->email.from)) {
        snprintf(err, errlen, "key 'email.from': an e-mail address is needed when "
                 "email.server is set");
        return -1;
    }
    if (!c->email.to) {
        snprintf(err, errlen, "key 'email.to': at least one address is needed when "
                 "email.server is set");
        return -1;
    }
    if (c->email.user && !c->email.password) {
        snprintf(err, errlen, "key 'email.password': needed with email.user (set it from the "
                 "environment: password = os.getenv(\"SMTP_PASSWORD\"))");
        return -1;
    }
    return 0;
}

int config_set(struct config *c, const char *name, const struct config_value *v,
               char *err, size_t errlen)
{
    const struct key *k = find_key(name);
    if (!k) {
        unknown_key(name, err, errlen);
        return -1;
    }
    void *slot = (char *)c + k->off;
    char host[256];
    int port;
    switch (k->type) {
    case K_URL:
    case K_STRING:
    case K_OPT_STRING:
    case K_LISTEN:
        if (v->type != CV_STRING)
            return wrong_type(k, v, err, errlen);
        if (k->type == K_URL && !has_prefix(v->s, "http://", "https://") &&
            !has_prefix(v->s, "ws://", "wss://"))
            return wrong_type(k, &(struct config_value){.lua_type = "a string that is not a URL"},
                              err, errlen);
        if (k->type == K_LISTEN && config_listen_parse(v->s, host, sizeof host, &port) != 0)
            return wrong_type(k, &(struct config_value){.lua_type = "a malformed address"},
                              err, errlen);
        if (k->type != K_OPT_STRING && !*v->s)
            return wrong_type(k, &(struct config_value){.lua_type = "an empty string"}, err,
                              errlen);
        set_str(slot, *v->s ? v->s : NULL);
        return 0;
    case K_LEVEL:
        if (v->type != CV_STRING || log_level_parse(v->s, slot) != 0)
            return wrong_type(k, v, err, errlen);
        return 0;
    case K_FORMAT:
        if (v->type != CV_STRING || (strcmp(v->s, "text") && strcmp(v->s, "json")))
            return wrong_type(k, v, err, errlen);
        *(int *)slot = strcmp(v->s, "json") == 0;
        return 0;
    case K_POSINT:
        if (v->type != CV_INT || v->i <= 0 || v->i > 1000000000)
            return wrong_type(k, v, err, errlen);
        *(long *)slot = (long)v->i;
        return 0;
    case K_SECONDS: {
        double d = v->type == CV_INT ? (double)v->i : v->n;
        if ((v->type != CV_INT && v->type != CV_NUMBER) || !(d > 0) || d > 1e9)
            return wrong_type(k, v, err, errlen);
        *(double *)slot = d;
        return 0;
    }
    case K_BOOL:
        if (v->type != CV_BOOL)
            return wrong_type(k, v, err, errlen);
        *(int *)slot = v->b;
        return 0;
    case K_INTERVALS: {
        int mask = 0;
        if (v->type != CV_TABLE || !v->strs_ok || v->nstrs == 0)
            return wrong_type(k, v, err, errlen);
        for (int i = 0; i < v->nstrs; i++) {
            int iv = interval_parse(v->strs[i], strlen(v->strs[i]));
            if (iv < 0) {
                snprintf(err, errlen, "key '%s': unknown interval \"%s\" (use 1m 3m 5m 15m "
                         "30m 1h 2h 4h 6h 8h 12h 1d)", k->name, v->strs[i]);
                return -1;
            }
            mask |= 1 << iv;
        }
        *(int *)slot = mask;
        return 0;
    }
    case K_TLS: {
        static const char *const modes[] = {"starttls", "implicit", "none"};
        for (int i = 0; v->type == CV_STRING && i < 3; i++)
            if (!strcmp(v->s, modes[i])) {
                *(int *)slot = i;
                return 0;
            }
        return wrong_type(k, v, err, errlen);
    }
    case K_PORT:
        if (v->type != CV_INT || v->i < 1 || v->i > 65535)
            return wrong_type(k, v, err, errlen);
        *(long *)slot = (long)v->i;
        return 0;
    case K_ADDRS:
        return set_addrs(k, slot, v, err, errlen);
    case K_INT_LIST:
        if (v->type != CV_TABLE || !v->ints_ok)
            return wrong_type(k, v, err, errlen);
        free(c->admins);
        c->admins = NULL;
        c->nadmins = 0;
        if (v->nints > 0) {
            c->admins = malloc(sizeof *c->admins * (size_t)v->nints);
            if (!c->admins) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            memcpy(c->admins, v->ints, sizeof *c->admins * (size_t)v->nints);
            c->nadmins = v->nints;
        }
        return 0;
    }
    return -1;
}

void config_describe(FILE *out)
{
    for (size_t i = 0; i < NKEYS; i++)
        fprintf(out, "  %-34s %s (default %s)\n", keys[i].name, keys[i].expect,
                keys[i].defval);
}
