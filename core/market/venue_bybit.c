/* Bybit linear (USDT perpetuals) as a venue: the v5 public stream and
 * market REST (market/bybit.h, market/bybit_rest.h) behind venue_ops. */
#include "market/venue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "market/bybit.h"
#include "market/bybit_rest.h"
#include "util/interval.h"

/* {"req_id":"7","op":"subscribe","args":["kline.1.BTCUSDT",...]}: the
 * feed keeps n x intervals within .batch (10 topics) */
static char *by_subscribe(const struct symtab *st, int on, const uint32_t *syms, int n, int mask,
                          int id)
{
    char topics[BYBIT_ARGS_PER_REQUEST][SYM_MAX_LEN + 16];
    const char *args[BYBIT_ARGS_PER_REQUEST];
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int iv = 0; iv < IV_COUNT; iv++) {
            if (!(mask & (1 << iv)))
                continue;
            if (k == BYBIT_ARGS_PER_REQUEST ||
                bybit_topic(topics[k], sizeof topics[k], iv, sym_local(&st->v[syms[i]])) < 0)
                return NULL;   /* more than a request may carry: the feed's batch is wrong */
            args[k] = topics[k];
            k++;
        }
    size_t cap = 96 + (size_t)k * (SYM_MAX_LEN + 20);
    char *msg = malloc(cap);
    if (msg && bybit_request(msg, cap, on ? "subscribe" : "unsubscribe", args, k, id) < 0) {
        free(msg);
        msg = NULL;
    }
    return msg;
}

struct collect {
    struct candle *out;
    int n;
};

static void take(void *ud, const struct candle *c)
{
    struct collect *k = ud;
    if (k->n < VENUE_FRAME_CANDLES)
        k->out[k->n] = *c;
    k->n++;
}

static int find(const void *ud, const char *name, size_t n)
{
    const struct symtab *st = ud;
    int id = symtab_find_in(st, VENUE_BYBIT, name, n);
    return id >= 0 && st->v[id].active ? id : -1;
}

/* Bybit trims trailing zeros ("16677" for 16677.00): a candle shows the
 * decimals instruments-info gives its symbol, when it gave them, rather
 * than the most its prices happen to show. */
static void price_decimals(const struct symtab *syms, struct candle *c, int n)
{
    for (int i = 0; i < n; i++) {
        int dp = syms->v[c[i].symbol].price_dp;
        if (dp >= 0)
            c[i].price_dp = (uint8_t)dp;
    }
}

static enum frame_kind by_parse(const char *buf, size_t len, const struct symtab *syms, int venue,
                                struct candle *out, struct frame_info *info)
{
    struct collect k = {out, 0};
    struct bybit_info bi;
    (void)venue;
    enum bybit_kind kind = bybit_parse(buf, len, find, syms, take, &k, &bi);
    memset(info, 0, sizeof *info);
    info->reply_id = -1;
    info->slow = bi.slow;   /* left to the general walker (metrics) */
    switch (kind) {
    case BYBIT_KLINE:
        info->ncandles = k.n < VENUE_FRAME_CANDLES ? k.n : VENUE_FRAME_CANDLES;
        price_decimals(syms, out, info->ncandles);
        /* entries dropped beside good ones (and any past the buffer) are
         * counted by the feed through info->drop */
        info->drop = bi.dropped ? bi.drop : k.n > VENUE_FRAME_CANDLES ? KD_OVERSIZE : KD_NONE;
        return FRAME_KLINE;
    case BYBIT_REPLY:
        info->reply_id = bi.req_id;
        info->reply_error = !bi.success;
        return FRAME_REPLY;
    case BYBIT_PONG:
    case BYBIT_OTHER:
        return FRAME_OTHER;   /* a pong is no subscribe answer */
    default:
        info->drop = bi.drop;
        return FRAME_DROP;
    }
}

static int by_universe(const char *body, size_t len, const struct config_venue *vc,
                       struct restparse_universe *u)
{
    char cursor[256];
    return bybit_rest_instruments(body, len, vc->contract_type, vc->quote_asset, u, cursor,
                                  sizeof cursor)
               ? -1
               : 0;
}

/* The next page, when nextPageCursor names one. */
static int by_universe_next(const char *body, size_t len, char *path, size_t size)
{
    struct restparse_universe u;
    char cursor[256];
    if (bybit_rest_instruments(body, len, "", "", &u, cursor, sizeof cursor) != 0)
        return 0;
    restparse_universe_free(&u);
    return cursor[0] && bybit_rest_instruments_path(path, size, cursor) > 0;
}

static int by_ranking(const char *body, size_t len, const struct symtab *syms, int venue,
                      struct restparse_ranking *r)
{
    (void)venue;
    int rc = bybit_rest_tickers(body, len, find, syms, syms->n, r);
    return rc == 0 ? 0 : rc == BYBIT_REST_NO_MEMORY ? -2 : -1;
}

/* start and end both: how Bybit picks `limit` rows out of a longer range
 * is not documented, a range of exactly `limit` rows leaves no choice */
static int by_klines_path(char *buf, size_t size, const char *sym, int iv, int64_t start,
                          long limit)
{
    int n = snprintf(buf, size, "/v5/market/kline?category=linear&symbol=%s&interval=%s&limit=%ld",
                     sym, bybit_interval_name(iv), limit);
    if (start >= 0 && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "&start=%lld&end=%lld", (long long)start,
                      (long long)(start + limit * interval_ms(iv) - 1));
    return n;
}

/* no weights: every request is one of the 600 an IP may send in 5 s */
static int by_klines_weight(long limit)
{
    (void)limit;
    return 1;
}

static int by_klines(const char *body, size_t len, uint32_t sym, int iv, int64_t exch_now,
                     restparse_row_fn fn, void *ud)
{
    return bybit_rest_klines(body, len, sym, iv, exch_now, fn, ud) ? -1 : 0;
}

#define BYBIT_INTERVALS (((1 << IV_COUNT) - 1) & ~(1 << IV_8H))

const struct venue_ops venue_bybit = {
    .venue = VENUE_BYBIT,
    .section = "bybit",
    .health = "bybit",
    .label = "bybit_linear",
    .exchange_name = "Bybit linear",
    .log_module = "bybit",
    .ws_suffix = "",
    .send_gap_ms = 100,
    .batch = BYBIT_ARGS_PER_REQUEST,
    .ping_ms = BYBIT_PING_MS,
    .ping_msg = "{\"op\":\"ping\"}",
    .subscribe_msg = by_subscribe,
    .parse = by_parse,
    .universe_path = "/v5/market/instruments-info?category=linear&limit=1000",
    .universe_weight = 1,
    .parse_universe = by_universe,
    .universe_next = by_universe_next,
    .ranking_path = "/v5/market/tickers?category=linear",
    .ranking_weight = 1,
    .parse_ranking = by_ranking,
    .klines_path = by_klines_path,
    .klines_max = BYBIT_KLINE_LIMIT,
    .klines_weight = by_klines_weight,
    .parse_klines = by_klines,
    .intervals = BYBIT_INTERVALS,
    .rest_ban_status = 403,   /* "403, access too frequent": wait at least 10 minutes */
    .rest_ban_s = BYBIT_BAN_MS / 1000,
    .rest_limited = bybit_rest_limited,
};
