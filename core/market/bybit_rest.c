#include "market/bybit_rest.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/interval.h"

/* The parsed answer and its "result" object when retCode is 0. */
static int answer(const char *body, size_t len, cJSON **doc, const cJSON **result)
{
    *doc = cJSON_ParseWithLength(body, len);
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(*doc, "retCode");
    if (!cJSON_IsNumber(rc))
        return BYBIT_REST_NOT_ANSWER;
    if (rc->valuedouble != 0)
        return BYBIT_REST_REFUSED;
    *result = cJSON_GetObjectItemCaseSensitive(*doc, "result");
    return cJSON_IsObject(*result) ? 0 : BYBIT_REST_NOT_ANSWER;
}

int bybit_rest_code(const char *body, size_t len, long *code, char *msg, size_t msgcap)
{
    cJSON *doc = cJSON_ParseWithLength(body, len);
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(doc, "retCode");
    /* within long's range on every platform: a cast past it is undefined */
    if (!cJSON_IsNumber(rc) || !(rc->valuedouble > -2147483648.0 && rc->valuedouble < 2147483648.0)) {
        cJSON_Delete(doc);
        return -1;
    }
    *code = (long)rc->valuedouble;
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "retMsg"));
    if (msg && msgcap)
        snprintf(msg, msgcap, "%s", m ? m : "");
    cJSON_Delete(doc);
    return 0;
}

int bybit_rest_limited(const char *body, size_t len)
{
    long code;
    /* cheap first: an answer without the digits is none (a parse of every
     * kline answer twice is not) */
    return len > 0 && memmem(body, len, "10006", 5) &&
           bybit_rest_code(body, len, &code, NULL, 0) == 0 && code == BYBIT_TOO_MANY_VISITS;
}

/* A time as Bybit writes it in REST: a string of 1 to 18 digits. */
static int ms_string(const char *s, int64_t *out)
{
    size_t n = s ? strlen(s) : 0;
    int64_t v = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int dec(const cJSON *row, int i, double *out, int *dp)
{
    const char *s = cJSON_GetStringValue(cJSON_GetArrayItem(row, i));
    return s ? kline_decimal(s, strlen(s), out, dp) : -1;
}

/* One row: 0 a closed candle in *c, 1 skipped, or a drop reason. */
static int kline_row(const cJSON *r, uint32_t sym, int iv, int64_t exch_now, struct candle *c)
{
    if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) < 7)
        return 1;
    memset(c, 0, sizeof *c);
    int dp = 0, d;
    if (ms_string(cJSON_GetStringValue(cJSON_GetArrayItem(r, 0)), &c->open_time) ||
        dec(r, 1, &c->open, &d) || dec(r, 2, &c->high, &d) || dec(r, 3, &c->low, &d) ||
        dec(r, 4, &c->close, &d) || dec(r, 5, &c->volume, &d) || dec(r, 6, &c->quote_volume, &d))
        return KD_BAD_NUMBER;
    for (int i = 1; i <= 4; i++) {   /* Bybit drops trailing zeros: the most shown */
        double x;
        if (dec(r, i, &x, &d) == 0 && d > dp)
            dp = d;
    }
    int64_t ms = interval_ms(iv);
    c->close_time = c->open_time + ms - 1;
    if (c->close_time >= exch_now)
        return 1;   /* still forming: the stream has it */
    if (c->open_time % ms || !(c->low > 0) || c->high < c->low || c->high < c->open ||
        c->high < c->close || c->low > c->open || c->low > c->close)
        return KD_BAD_PRICES;
    c->event_time = c->close_time;
    c->symbol = sym;
    c->interval = (uint8_t)iv;
    c->closed = 1;
    c->backfilled = 1;
    c->price_dp = (uint8_t)(dp > 18 ? 18 : dp);
    return 0;
}

int bybit_rest_klines(const char *body, size_t len, uint32_t sym, int iv, int64_t exch_now,
                      restparse_row_fn fn, void *ud)
{
    cJSON *doc;
    const cJSON *result = NULL;
    int rc = answer(body, len, &doc, &result);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(result, "list");
    if (rc == 0 && !cJSON_IsArray(list))
        rc = BYBIT_REST_NOT_ANSWER;
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    /* newest first on the wire: walk it backwards (cJSON keeps prev links) */
    const cJSON *r = list->child ? list->child->prev : NULL;
    for (int left = cJSON_GetArraySize(list); r && left > 0; r = r->prev, left--) {
        struct candle c;
        int k = kline_row(r, sym, iv, exch_now, &c);
        if (k == 0)
            fn(ud, &c, KD_NONE);
        else if (k > 1)
            fn(ud, NULL, (enum kline_drop)k);
    }
    cJSON_Delete(doc);
    return 0;
}

static int str_is(const cJSON *o, const char *key, const char *want)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s && !strcmp(s, want);
}

/* The answer's "time" (ms), 0 when absent or unusable. */
static int64_t answer_time(const cJSON *doc)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "time");
    if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 9.2e18)
        return (int64_t)t->valuedouble;
    return 0;
}

/* A listed instrument's price decimals: priceScale ("2"), else the
 * decimals priceFilter.tickSize is written with ("0.10": 2); -1 when
 * neither reads as 0..18. */
static int price_decimals(const cJSON *s)
{
    const char *ps = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "priceScale"));
    double v;
    int dp;
    if (ps && kline_decimal(ps, strlen(ps), &v, &dp) == 0 && dp == 0 && v <= 18)
        return (int)v;
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(s, "priceFilter");
    const char *tick = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pf, "tickSize"));
    if (tick && kline_decimal(tick, strlen(tick), &v, &dp) == 0 && v > 0 && dp <= 18)
        return dp;
    return -1;
}

int bybit_rest_instruments(const char *body, size_t len, const char *contract_type,
                           const char *quote, struct restparse_universe *u, char *cursor,
                           size_t cursor_cap)
{
    cJSON *doc;
    const cJSON *result = NULL;
    memset(u, 0, sizeof *u);
    if (cursor_cap)
        cursor[0] = '\0';
    int rc = answer(body, len, &doc, &result);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(result, "list");
    if (rc == 0 && !cJSON_IsArray(list))
        rc = BYBIT_REST_NOT_ANSWER;
    int listed = cJSON_GetArraySize(list);
    if (rc == 0 && (!(u->names = malloc(sizeof *u->names * ((size_t)listed + 1))) ||
                    !(u->price_dp = malloc((size_t)listed + 1))))
        rc = BYBIT_REST_NO_MEMORY;
    if (rc) {
        free(u->names);
        free(u->price_dp);
        memset(u, 0, sizeof *u);
        cJSON_Delete(doc);
        return rc;
    }
    u->doc = doc;
    u->listed = (size_t)listed;
    u->server_time = answer_time(doc);
    const cJSON *s;
    cJSON_ArrayForEach(s, list)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "symbol"));
        if (name && str_is(s, "status", "Trading") && str_is(s, "contractType", contract_type) &&
            str_is(s, "quoteCoin", quote)) {
            u->price_dp[u->n] = (signed char)price_decimals(s);
            u->names[u->n++] = name;
        }
    }
    const char *next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "nextPageCursor"));
    if (next && cursor_cap && strlen(next) < cursor_cap)
        snprintf(cursor, cursor_cap, "%s", next);
    return 0;
}

int bybit_rest_instruments_path(char *out, size_t cap, const char *cursor)
{
    static const char hex[] = "0123456789ABCDEF";
    int n = snprintf(out, cap, "/v5/market/instruments-info?category=linear&limit=%d%s",
                     BYBIT_INSTRUMENTS_LIMIT, cursor && *cursor ? "&cursor=" : "");
    if (n < 0 || (size_t)n >= cap)
        return -1;
    size_t len = (size_t)n;
    for (const unsigned char *p = (const unsigned char *)cursor; p && *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                    strchr("%-._~", *p);
        if (len + (plain ? 1 : 3) >= cap)
            return -1;
        if (plain) {
            out[len++] = (char)*p;
        } else {
            out[len++] = '%';
            out[len++] = hex[*p >> 4];
            out[len++] = hex[*p & 15];
        }
    }
    out[len] = '\0';
    return (int)len;
}

struct ranked {
    uint32_t id;
    double turnover;
};

static int by_turnover(const void *a, const void *b)
{
    double x = ((const struct ranked *)a)->turnover, y = ((const struct ranked *)b)->turnover;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The ranking from the known entries r[0..k), each symbol once at its
 * biggest turnover. */
static int rank(struct ranked *r, int k, uint32_t nsyms, struct restparse_ranking *out)
{
    uint8_t *seen = calloc((size_t)nsyms + 1, 1);
    out->ids = malloc(sizeof *out->ids * (size_t)(k + 1));
    out->qv = malloc(sizeof *out->qv * (size_t)(k + 1));
    if (!seen || !out->ids || !out->qv) {
        free(seen);
        restparse_ranking_free(out);
        return BYBIT_REST_NO_MEMORY;
    }
    qsort(r, (size_t)k, sizeof *r, by_turnover);
    for (int i = 0; i < k; i++)
        if (!seen[r[i].id]) {
            seen[r[i].id] = 1;
            out->ids[out->n] = r[i].id;
            out->qv[out->n++] = r[i].turnover;
        }
    free(seen);
    return 0;
}

int bybit_rest_tickers(const char *body, size_t len, bybit_find_fn find, const void *find_ud,
                       uint32_t nsyms, struct restparse_ranking *out)
{
    cJSON *doc;
    const cJSON *result = NULL;
    memset(out, 0, sizeof *out);
    int rc = answer(body, len, &doc, &result);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(result, "list");
    if (rc == 0 && !cJSON_IsArray(list))
        rc = BYBIT_REST_NOT_ANSWER;
    struct ranked *r = rc ? NULL : malloc(sizeof *r * ((size_t)cJSON_GetArraySize(list) + 1));
    if (rc == 0 && !r)
        rc = BYBIT_REST_NO_MEMORY;
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    int k = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, list)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "symbol"));
        const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "turnover24h"));
        int id = name ? find(find_ud, name, strlen(name)) : -1;
        double v;
        int dp;
        if (id >= 0 && (uint32_t)id < nsyms && to && kline_decimal(to, strlen(to), &v, &dp) == 0)
            r[k++] = (struct ranked){(uint32_t)id, v};
    }
    cJSON_Delete(doc);
    rc = rank(r, k, nsyms, out);
    free(r);
    return rc;
}
