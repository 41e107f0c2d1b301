/* The exchange's REST bodies, read: pure code (no app, no loop, no I/O),
 * shared by the feed (market/feed.c) and its fuzz target.
 *
 *   GET /fapi/v1/klines        restparse_klines: closed candles, or drop reasons
 *   GET /fapi/v1/exchangeInfo  restparse_exchange_info: the wanted symbols
 *   GET /fapi/v1/ticker/24hr   restparse_ticker: the ranking by quote volume
 */
#ifndef CW_RESTPARSE_H
#define CW_RESTPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "market/candle.h"
#include "market/kline.h"
#include "market/symbols.h"

struct cJSON;

/* One row of a klines answer: a closed candle (why == KD_NONE), or why the
 * row was dropped (c is NULL). */
typedef void (*restparse_row_fn)(void *ud, const struct candle *c, enum kline_drop why);

/* Reads a klines answer for symbol sym, interval iv.  Rows of fewer than
 * 9 items are skipped, and so are rows still forming (close time at or
 * after exch_now: the stream has those).  Times and the trade count must
 * be whole numbers in the stream parser's range.  0, or -1 when the body
 * is not JSON (nothing was called). */
int restparse_klines(const char *body, size_t len, uint32_t sym, int iv, int64_t exch_now,
                     restparse_row_fn fn, void *ud);

struct restparse_universe {
    struct cJSON *doc;        /* names point into it */
    const char **names;       /* the wanted symbols, in the answer's order */
    size_t n;
    size_t listed;            /* entries of "symbols", wanted or not */
    signed char *price_dp;    /* per name: its price decimals, -1 unknown;
                               * NULL when the venue gives none */
    int64_t server_time;      /* ms; 0 when absent or not a usable number */
};

/* Reads an exchangeInfo answer: the symbols TRADING with this contract
 * type (NULL: none asked, as for spot) and quote asset.  0, or -1 (u zeroed) when it has no "symbols"
 * list (or memory ran out).  Free with restparse_universe_free. */
int restparse_exchange_info(const char *body, size_t len, const char *contract_type,
                            const char *quote_asset, struct restparse_universe *u);
void restparse_universe_free(struct restparse_universe *u);

struct restparse_ranking {
    uint32_t *ids;            /* active symbols, biggest quote volume first, each once */
    double *qv;
    uint32_t n;
};

/* Reads a 24 h tickers answer against the symbol table (unknown and
 * inactive symbols are left out).  0; -1 when the body is not a list (the
 * ranking should stay as it was); -2 out of memory.  Free with
 * restparse_ranking_free. */
int restparse_ticker(const char *body, size_t len, const struct symtab *syms,
                     struct restparse_ranking *r);
/* The same for a venue's symbols (restparse_ticker: VENUE_USDM). */
int restparse_ticker_in(const char *body, size_t len, const struct symtab *syms, int venue,
                        struct restparse_ranking *r);
void restparse_ranking_free(struct restparse_ranking *r);

#define RESTPARSE_HEADER_MAX 1000000000L   /* seconds, weights: far past any real one */

/* A header's value as a number ("X-MBX-USED-WEIGHT-1M", "Retry-After";
 * name without the colon, matched without regard to case) from raw header
 * lines (NULL: none).  -1 when absent or negative; at most
 * RESTPARSE_HEADER_MAX, so that arithmetic on it cannot overflow. */
long restparse_header(const char *headers, const char *name);

#endif
