#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ktype { K_STRING, K_URL, K_LISTEN, K_LEVEL, K_FORMAT, K_INT_LIST, K_POSINT };

struct key {
    const char *name;
    enum ktype type;
    const char *expect;     /* for messages and --help */
    const char *defval;     /* shown by --help */
};

static const struct key keys[] = {
    {"telegram.token", K_STRING, "a string", "os.getenv(\"BOT_TOKEN\")"},
    {"telegram.api_url", K_URL, "an http(s) URL string", "https://api.telegram.org"},
    {"exchange.ws_url", K_URL, "a ws(s) URL string", "wss://fstream.binance.com/market"},
    {"exchange.rest_url", K_URL, "an http(s) URL string", "https://fapi.binance.com"},
    {"database", K_STRING, "a file path string", "./candlewatch.db"},
    {"scripts", K_STRING, "a folder path string", "./scripts"},
    {"http.listen", K_LISTEN, "a \"host:port\" string", "127.0.0.1:8080"},
    {"admins", K_INT_LIST, "a list of Telegram chat ids (integers)", "{}"},
    {"log.level", K_LEVEL, "one of \"debug\", \"info\", \"warn\", \"error\"", "info"},
    {"log.format", K_FORMAT, "\"text\" or \"json\"", "text"},
    {"lua.memory_mb", K_POSINT, "a positive integer (MiB)", "256"},
    {"lua.instruction_limit", K_POSINT, "a positive integer", "10000000"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = {"telegram", "exchange", "http", "log", "lua"};

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? strdup(v) : NULL;
}

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    set_str(&c->telegram.token, getenv("BOT_TOKEN"));
    if (c->telegram.token && !*c->telegram.token)
        set_str(&c->telegram.token, NULL);
    set_str(&c->telegram.api_url, "https://api.telegram.org");
    set_str(&c->exchange.ws_url, "wss://fstream.binance.com/market");
    set_str(&c->exchange.rest_url, "https://fapi.binance.com");
    set_str(&c->database, "./candlewatch.db");
    set_str(&c->scripts, "./scripts");
    set_str(&c->http.listen, "127.0.0.1:8080");
    c->log.level = LOG_INFO;
    c->lua.memory_mb = 256;
    c->lua.instruction_limit = 10000000;
}

void config_free(struct config *c)
{
    free(c->telegram.token);
    free(c->telegram.api_url);
    free(c->exchange.ws_url);
    free(c->exchange.rest_url);
    free(c->database);
    free(c->scripts);
    free(c->http.listen);
    free(c->admins);
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

/* Levenshtein distance, for "did you mean" on a misspelt key. */
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
        }
    return d[la][lb];
}

static void unknown_key(const char *name, char *err, size_t errlen)
{
    const struct key *best = NULL;
    int bestd = 4;
    for (size_t i = 0; i < NKEYS; i++) {
        int d = distance(name, keys[i].name);
        if (d < bestd) {
            bestd = d;
            best = &keys[i];
        }
    }
    if (best)
        snprintf(err, errlen, "unknown key '%s' (did you mean '%s'?)", name, best->name);
    else
        snprintf(err, errlen, "unknown key '%s'", name);
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

static char **string_slot(struct config *c, const char *name)
{
    if (!strcmp(name, "telegram.token")) return &c->telegram.token;
    if (!strcmp(name, "telegram.api_url")) return &c->telegram.api_url;
    if (!strcmp(name, "exchange.ws_url")) return &c->exchange.ws_url;
    if (!strcmp(name, "exchange.rest_url")) return &c->exchange.rest_url;
    if (!strcmp(name, "database")) return &c->database;
    if (!strcmp(name, "scripts")) return &c->scripts;
    if (!strcmp(name, "http.listen")) return &c->http.listen;
    return NULL;
}

int config_set(struct config *c, const char *name, const struct config_value *v,
               char *err, size_t errlen)
{
    const struct key *k = find_key(name);
    if (!k) {
        unknown_key(name, err, errlen);
        return -1;
    }
    char host[256];
    int port;
    switch (k->type) {
    case K_URL:
    case K_STRING:
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
        if (k->type == K_STRING && !*v->s && strcmp(name, "telegram.token") != 0)
            return wrong_type(k, &(struct config_value){.lua_type = "an empty string"}, err,
                              errlen);
        set_str(string_slot(c, name), *v->s ? v->s : NULL);
        return 0;
    case K_LEVEL:
        if (v->type != CV_STRING || log_level_parse(v->s, &c->log.level) != 0)
            return wrong_type(k, v, err, errlen);
        return 0;
    case K_FORMAT:
        if (v->type != CV_STRING || (strcmp(v->s, "text") && strcmp(v->s, "json")))
            return wrong_type(k, v, err, errlen);
        c->log.json = strcmp(v->s, "json") == 0;
        return 0;
    case K_POSINT:
        if (v->type != CV_INT || v->i <= 0)
            return wrong_type(k, v, err, errlen);
        if (!strcmp(name, "lua.memory_mb"))
            c->lua.memory_mb = (long)v->i;
        else
            c->lua.instruction_limit = (long)v->i;
        return 0;
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
        fprintf(out, "  %-22s %s (default %s)\n", keys[i].name, keys[i].expect,
                keys[i].defval);
}
