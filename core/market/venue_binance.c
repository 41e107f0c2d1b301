/* Binance's two venues: USDⓈ-M futures and spot.  One wire format (the
 * kline event, SUBSCRIBE with an id, the 12-column klines row), different
 * hosts, paths, weights and limits. */
#include "market/venue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "market/rest.h"
#include "util/interval.h"

/* {"method":"SUBSCRIBE","params":["btcusdt@kline_1m",...],"id":7} */
static char *binance_subscribe(const struct symtab *st, int on, const uint32_t *syms, int n,
                               int mask, int id)
{
    int niv = __builtin_popcount((unsigned)mask);
    size_t cap = 96 + (size_t)n * (size_t)(niv ? niv : 1) * (SYM_MAX_LEN + 16), len = 0;
    char *msg = malloc(cap);
    if (!msg)
        return NULL;
    len += (size_t)snprintf(msg, cap, "{\"method\":\"%s\",\"params\":[",
                            on ? "SUBSCRIBE" : "UNSUBSCRIBE");
    const char *sep = "";
    for (int k = 0; k < n; k++) {
        char lower[SYM_MAX_LEN + 1];
        const struct sym *y = &st->v[syms[k]];
        const char *local = sym_local(y);
        size_t ln = (size_t)(y->len - y->local);
        for (size_t j = 0; j < ln; j++)
            lower[j] = (char)(local[j] >= 'A' && local[j] <= 'Z' ? local[j] + 32 : local[j]);
        lower[ln] = '\0';
        for (int iv = 0; iv < IV_COUNT; iv++)
            if (mask & (1 << iv)) {
                len += (size_t)snprintf(msg + len, cap - len, "%s\"%s@kline_%s\"", sep, lower,
                                        interval_name(iv));
                sep = ",";
            }
    }
    snprintf(msg + len, cap - len, "],\"id\":%d}", id);
    return msg;
}

static enum frame_kind binance_parse(const char *buf, size_t len, const struct symtab *syms,
                                     int venue, struct candle *out, struct frame_info *info)
{
    return kline_parse_in(buf, len, syms, venue, out, info);
}

static int usdm_universe(const char *body, size_t len, const struct config_venue *vc,
                         struct restparse_universe *u)
{
    return restparse_exchange_info(body, len, vc->contract_type, vc->quote_asset, u);
}

static int spot_universe(const char *body, size_t len, const struct config_venue *vc,
                         struct restparse_universe *u)
{
    return restparse_exchange_info(body, len, NULL, vc->quote_asset, u);
}

static int klines_path(char *buf, size_t size, const char *base, const char *sym, int iv,
                       int64_t start, long limit)
{
    int n = snprintf(buf, size, "%s?symbol=%s&interval=%s&limit=%ld", base, sym,
                     interval_name(iv), limit);
    if (start >= 0 && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "&startTime=%lld", (long long)start);
    return n;
}

static int usdm_klines_path(char *buf, size_t size, const char *sym, int iv, int64_t start,
                            long limit)
{
    return klines_path(buf, size, "/fapi/v1/klines", sym, iv, start, limit);
}

static int spot_klines_path(char *buf, size_t size, const char *sym, int iv, int64_t start,
                            long limit)
{
    return klines_path(buf, size, "/api/v3/klines", sym, iv, start, limit);
}

static int usdm_klines_weight(long limit)
{
    return rest_klines_weight((int)limit);
}

/* /api/v3/klines costs 2 whatever the limit */
static int spot_klines_weight(long limit)
{
    (void)limit;
    return 2;
}

#define BINANCE_INTERVALS ((1 << IV_COUNT) - 1)

const struct venue_ops venue_usdm = {
    .venue = VENUE_USDM,
    .section = "exchange",
    .health = "exchange",
    .label = "binance_usdm",
    .exchange_name = "Binance USDⓈ-M",
    .log_module = "market",
    .ws_suffix = "stream",
    .send_gap_ms = 200,       /* 5 messages/s: half the limit of 10 */
    .batch = 200,
    .subscribe_msg = binance_subscribe,
    .parse = binance_parse,
    .universe_path = "/fapi/v1/exchangeInfo",
    .universe_weight = 1,
    .parse_universe = usdm_universe,
    .ranking_path = "/fapi/v1/ticker/24hr",
    .ranking_weight = 40,
    .parse_ranking = restparse_ticker_in,
    .klines_path = usdm_klines_path,
    .klines_max = 1500,
    .klines_weight = usdm_klines_weight,
    .parse_klines = restparse_klines,
    .intervals = BINANCE_INTERVALS,
};

const struct venue_ops venue_spot = {
    .venue = VENUE_SPOT,
    .section = "spot",
    .health = "spot",
    .label = "binance_spot",
    .exchange_name = "Binance spot",
    .log_module = "spot",
    .ws_suffix = "stream",
    .send_gap_ms = 400,       /* 2.5 messages/s: half the limit of 5 (pongs count too) */
    .batch = 200,
    .subscribe_msg = binance_subscribe,
    .parse = binance_parse,
    .universe_path = "/api/v3/exchangeInfo",
    .universe_weight = 20,
    .parse_universe = spot_universe,
    .ranking_path = "/api/v3/ticker/24hr",
    .ranking_weight = 80,
    .parse_ranking = restparse_ticker_in,
    .klines_path = spot_klines_path,
    .klines_max = 1000,
    .klines_weight = spot_klines_weight,
    .parse_klines = restparse_klines,
    .intervals = BINANCE_INTERVALS,
};

const struct venue_ops *venue_ops_of(int venue)
{
    switch (venue) {
    case VENUE_USDM:
        return &venue_usdm;
    case VENUE_SPOT:
        return &venue_spot;
    case VENUE_BYBIT:
        return &venue_bybit;
    default:
        return NULL;
    }
}
