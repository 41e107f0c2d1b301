/* What differs between venues, behind one small table of operations: the
 * feed (market/feed*.c) runs the same connections, pacing, gap repair and
 * rotation for each, and asks its venue_ops for names, messages, parsers,
 * REST paths and limits.
 *
 *   venue_usdm   Binance USDⓈ-M futures (config section exchange)
 *   venue_spot   Binance spot            (config section spot)
 *   (Bybit linear, section bybit, plugs in the same way)
 *
 * Pure tables and pure functions: no loop, no I/O.
 */
#ifndef CW_VENUE_H
#define CW_VENUE_H

#include <stddef.h>
#include <stdint.h>

#include "market/candle.h"
#include "market/kline.h"
#include "market/restparse.h"
#include "market/symbols.h"

struct config_venue;

/* The most candles one frame may carry (Bybit's data[] may hold several;
 * Binance's one): market_frame's buffer. */
#define VENUE_FRAME_CANDLES 8

struct venue_ops {
    int venue;                /* enum venue: its symbols' venue */
    const char *section;      /* config section: "exchange", "spot", "bybit" */
    const char *health;       /* /health entry: "exchange" (USDⓈ-M, as before), "spot", ... */
    const char *label;        /* the venue label of metrics: "binance_usdm", ... */
    const char *exchange_name;/* in logs and messages: "Binance USDⓈ-M" */
    const char *log_module;   /* its feed's log lines: "market" (USDⓈ-M), "spot", ... */

    /* ---- WebSocket ---- */
    const char *ws_suffix;    /* appended to ws_url's path ("stream"; "" none) */
    int send_gap_ms;          /* between paced control messages: under the limit */
    int batch;                /* streams per subscribe message */
    int ping_ms;              /* client ping every ping_ms (0: none, lws answers) */
    const char *ping_msg;     /* its text */
    long rotate_cap;          /* seconds the venue keeps a connection (0: none) */
    /* A subscribe (on) or unsubscribe message for every interval in mask of
     * the n symbols; malloc'd text, NULL out of memory.  id numbers it. */
    char *(*subscribe_msg)(const struct symtab *st, int on, const uint32_t *syms, int n,
                           int mask, int id);
    /* A frame: FRAME_KLINE with info->ncandles candles in out (room for
     * VENUE_FRAME_CANDLES), a reply, other, or a drop with a reason. */
    enum frame_kind (*parse)(const char *buf, size_t len, const struct symtab *syms, int venue,
                             struct candle *out, struct frame_info *info);

    /* ---- REST ---- */
    const char *universe_path;
    int universe_weight;
    /* The wanted symbols of a universe answer (vc: quote_asset,
     * contract_type).  0, or -1 when unusable. */
    int (*parse_universe)(const char *body, size_t len, const struct config_venue *vc,
                          struct restparse_universe *u);
    /* The path of the universe answer's next page, when it says there is
     * one (Bybit's nextPageCursor): 1 with path written, else 0.  NULL: one
     * page. */
    int (*universe_next)(const char *body, size_t len, char *path, size_t size);
    const char *ranking_path;
    int ranking_weight;
    int (*parse_ranking)(const char *body, size_t len, const struct symtab *syms, int venue,
                         struct restparse_ranking *r);
    /* The klines path for local name sym (start < 0: the newest rows). */
    int (*klines_path)(char *buf, size_t size, const char *sym, int iv, int64_t start,
                       long limit);
    long klines_max;          /* rows per request */
    int (*klines_weight)(long limit);
    /* Rows, oldest first, through fn (as restparse_klines). */
    int (*parse_klines)(const char *body, size_t len, uint32_t sym, int iv, int64_t exch_now,
                        restparse_row_fn fn, void *ud);
    int intervals;            /* the mask of enum interval the venue has */
    /* Its own ways of saying "too many" (rest.h): an HTTP status that bans
     * for rest_ban_s seconds (0: none), a 2xx body that is a refusal. */
    long rest_ban_status, rest_ban_s;
    int (*rest_limited)(const char *body, size_t len);
};

extern const struct venue_ops venue_usdm, venue_spot, venue_bybit;

/* The ops of a venue built in, or NULL. */
const struct venue_ops *venue_ops_of(int venue);

#endif
