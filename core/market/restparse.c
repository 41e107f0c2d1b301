#include "market/restparse.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/interval.h"

/* A JSON number within (lo, hi), truncated as a cast would; -1 when it is
 * out of range (a cast of 1e300 is undefined, and a time near 2^63 would
 * overflow open_time + interval). */
static int whole(const cJSON *n, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(n) || !(n->valuedouble > lo && n->valuedouble < hi))
        return -1;
    *out = (int64_t)n->valuedouble;
    return 0;
}

static int decimal(const char *s, double *out, int *dp)
{
    return kline_decimal(s, strlen(s), out, dp);
}

/* One row: 0 a closed candle in *c, 1 skipped, or a drop reason. */
static int row(const cJSON *r, uint32_t sym, int iv, int64_t exch_now, struct candle *c)
{
    /* (an object's members count as items too, as they always have) */
    if (cJSON_GetArraySize(r) < 9)
        return 1;
    memset(c, 0, sizeof *c);
    int dp = 0, d2;
    int64_t trades;
    /* the stream's parser takes at most 18 digits for a time */
    const double tmax = 1e18;
    const cJSON *t = cJSON_GetArrayItem(r, 0), *ct = cJSON_GetArrayItem(r, 6),
                *n = cJSON_GetArrayItem(r, 8);
    const char *o = cJSON_GetStringValue(cJSON_GetArrayItem(r, 1)),
               *h = cJSON_GetStringValue(cJSON_GetArrayItem(r, 2)),
               *l = cJSON_GetStringValue(cJSON_GetArrayItem(r, 3)),
               *cl = cJSON_GetStringValue(cJSON_GetArrayItem(r, 4)),
               *v = cJSON_GetStringValue(cJSON_GetArrayItem(r, 5)),
               *q = cJSON_GetStringValue(cJSON_GetArrayItem(r, 7));
    if (whole(t, -tmax, tmax, &c->open_time) || whole(ct, -tmax, tmax, &c->close_time) ||
        whole(n, -1, (double)INT32_MAX + 1, &trades) || !o || !h || !l || !cl || !v || !q ||
        decimal(o, &c->open, &dp) || decimal(h, &c->high, &d2) || decimal(l, &c->low, &d2) ||
        decimal(cl, &c->close, &d2) || decimal(v, &c->volume, &d2) ||
        decimal(q, &c->quote_volume, &d2))
        return KD_BAD_NUMBER;
    if (c->close_time >= exch_now)
        return 1;   /* the candle still forming: the stream has it */
    int64_t ms = interval_ms(iv);
    if (c->open_time % ms || c->close_time != c->open_time + ms - 1 || !(c->low > 0) ||
        c->high < c->low || c->high < c->open || c->high < c->close || c->low > c->open ||
        c->low > c->close)
        return KD_BAD_PRICES;
    c->trades = (int32_t)trades;
    c->event_time = c->close_time;
    c->symbol = sym;
    c->interval = (uint8_t)iv;
    c->closed = 1;
    c->backfilled = 1;
    c->price_dp = (uint8_t)dp;
    return 0;
}

int restparse_klines(const char *body, size_t len, uint32_t sym, int iv, int64_t exch_now,
                     restparse_row_fn fn, void *ud)
{
    cJSON *rows = cJSON_ParseWithLength(body, len);
    if (!rows)
        return -1;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        struct candle c;
        int rc = row(r, sym, iv, exch_now, &c);
        if (rc == 0)
            fn(ud, &c, KD_NONE);
        else if (rc > 1)
            fn(ud, NULL, (enum kline_drop)rc);
    }
    cJSON_Delete(rows);
    return 0;
}

/* (GetObjectItem: Binance's names, matched without regard to case, as
 * they always have been) */
static int wanted(const cJSON *s, const char *contract_type, const char *quote_asset)
{
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(s, "status"));
    const char *ct = cJSON_GetStringValue(cJSON_GetObjectItem(s, "contractType"));
    const char *qa = cJSON_GetStringValue(cJSON_GetObjectItem(s, "quoteAsset"));
    /* spot's symbols have no contract type (contract_type NULL) */
    return st && qa && !strcmp(st, "TRADING") &&
           (contract_type ? ct && !strcmp(ct, contract_type) : 1) && !strcmp(qa, quote_asset);
}

int restparse_exchange_info(const char *body, size_t len, const char *contract_type,
                            const char *quote_asset, struct restparse_universe *u)
{
    memset(u, 0, sizeof *u);
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *list = cJSON_GetObjectItem(j, "symbols");
    int listed = cJSON_GetArraySize(list);
    if (!cJSON_IsArray(list) || !(u->names = malloc(sizeof *u->names * ((size_t)listed + 1)))) {
        cJSON_Delete(j);
        return -1;
    }
    u->doc = j;
    u->listed = (size_t)listed;
    /* the exchange's clock: a time out of int64's range is no time */
    const cJSON *t = cJSON_GetObjectItem(j, "serverTime");
    if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 9223372036854775808.0)
        u->server_time = (int64_t)t->valuedouble;
    const cJSON *s;
    cJSON_ArrayForEach(s, list)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(s, "symbol"));
        if (name && wanted(s, contract_type, quote_asset))
            u->names[u->n++] = name;
    }
    return 0;
}

void restparse_universe_free(struct restparse_universe *u)
{
    cJSON_Delete(u->doc);
    free(u->names);
    free(u->price_dp);
    memset(u, 0, sizeof *u);
}

struct ranked {
    uint32_t id;
    double qv;
};

static int by_volume(const void *a, const void *b)
{
    double x = ((const struct ranked *)a)->qv, y = ((const struct ranked *)b)->qv;
    return x < y ? 1 : x > y ? -1 : 0;
}

int restparse_ticker(const char *body, size_t len, const struct symtab *syms,
                     struct restparse_ranking *out)
{
    return restparse_ticker_in(body, len, syms, VENUE_USDM, out);
}

int restparse_ticker_in(const char *body, size_t len, const struct symtab *syms, int venue,
                        struct restparse_ranking *out)
{
    memset(out, 0, sizeof *out);
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsArray(j)) {
        cJSON_Delete(j);
        return -1;
    }
    int n = cJSON_GetArraySize(j), k = 0;
    struct ranked *r = malloc(sizeof *r * (size_t)(n + 1));
    uint8_t *seen = calloc(syms->n + 1, 1);
    if (!r || !seen) {
        free(r);
        free(seen);
        cJSON_Delete(j);
        return -2;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, j)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(t, "symbol"));
        const char *qv = cJSON_GetStringValue(cJSON_GetObjectItem(t, "quoteVolume"));
        int id = name ? symtab_find_in(syms, venue, name, strlen(name)) : -1;
        double v;
        int dp;
        if (id >= 0 && syms->v[id].active && qv && kline_decimal(qv, strlen(qv), &v, &dp) == 0)
            r[k++] = (struct ranked){(uint32_t)id, v};
    }
    cJSON_Delete(j);
    qsort(r, (size_t)k, sizeof *r, by_volume);
    out->ids = malloc(sizeof *out->ids * (size_t)(k + 1));
    out->qv = malloc(sizeof *out->qv * (size_t)(k + 1));
    if (!out->ids || !out->qv) {
        free(r);
        free(seen);
        restparse_ranking_free(out);
        return -2;
    }
    /* a symbol listed twice (or in two cases: lookups ignore case) takes
     * one place, at its bigger volume: else a top-N preset covers it twice */
    for (int i = 0; i < k; i++)
        if (!seen[r[i].id]) {
            seen[r[i].id] = 1;
            out->ids[out->n] = r[i].id;
            out->qv[out->n++] = r[i].qv;
        }
    free(r);
    free(seen);
    return 0;
}

void restparse_ranking_free(struct restparse_ranking *r)
{
    free(r->ids);
    free(r->qv);
    memset(r, 0, sizeof *r);
}

long restparse_header(const char *headers, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = headers; p && *p;) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            /* strtol, not atol: past LONG_MAX is defined (LONG_MAX) */
            long v = strtol(p + n + 1, NULL, 10);
            return v < 0 ? -1 : v > RESTPARSE_HEADER_MAX ? RESTPARSE_HEADER_MAX : v;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}
