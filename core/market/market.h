/* The market: what the core knows about the exchange — the symbols, the
 * universe and its ranking, the candles — and the one entry point for
 * kline frames from the network (market_frame), which is the hot path:
 * parse, store, hand the event on, with no allocation and no I/O.
 *
 * Domain C: no Lua here.  Consumers (the alert engine) register one
 * callback for candle events and read candles through candles.h.
 */
#ifndef CW_MARKET_H
#define CW_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "indicator/book.h"
#include "market/candles.h"
#include "market/kline.h"
#include "market/symbols.h"
#include "util/log.h"

struct market;
struct venue_ops;
typedef void (*market_event_fn)(void *ud, const struct candle *c, enum candle_event ev);

struct market_counters {
    uint64_t received;            /* frames */
    uint64_t klines, forming, closed, backfilled, ignored;
    uint64_t replies, other;
    uint64_t dropped[KD_COUNT];
    uint64_t closed_in[VENUE_COUNT], backfilled_in[VENUE_COUNT];   /* by venue */
};

struct market {
    struct symtab syms;
    struct candles candles;
    struct ind_book ind;          /* the indicators the live rules read (the
                                   * alert engine pushes the closed candles) */
    struct logger *log;
    /* each venue's active symbol ids by 24 h quote volume, biggest first */
    uint32_t *ranked[VENUE_COUNT];
    uint32_t nranked[VENUE_COUNT];
    double *quote_volume;         /* per symbol id (its venue's ranking) */
    uint32_t nqv;
    struct market_counters n;
    int64_t exchange_ms;          /* newest event time seen */
    int64_t exchange_seen_at;     /* local wall ms when it was seen */
    int64_t drop_logged_at[KD_COUNT];
    uint64_t drop_logged_count[KD_COUNT];
    int log_closes;               /* debug lines per closed candle (tests) */
    market_event_fn on_event;
    void *on_event_ud;
    void (*on_ranking)(void *ud);   /* the ranking changed */
    void *on_ranking_ud;
    /* The feed, when there is one: fetch a series' history as deep as the
     * indicator book wants (the answer comes through market_history). */
    void (*fetch_history[VENUE_COUNT])(void *ud, uint32_t sym, int iv);   /* by venue */
    void *fetch_history_ud[VENUE_COUNT];
};

int market_init(struct market *m, uint32_t history, struct logger *log);
void market_free(struct market *m);

/* A frame from venue vo's exchange.  now_ms: local wall clock (for the
 * exchange clock estimate and log rate limiting).  Returns the frame's
 * kind (a kline frame may carry several candles: info->ncandles). */
enum frame_kind market_frame(struct market *m, const struct venue_ops *vo, const char *buf,
                             size_t len, int64_t now_ms, struct frame_info *info);
/* A candle from REST (gap repair, warm start): the same path as live ones. */
void market_apply(struct market *m, const struct candle *c);
/* A series' history from REST: closed rows, oldest first.  They warm the
 * indicators; the newest keep of them go through market_apply. */
void market_history(struct market *m, uint32_t sym, int iv, const struct candle *rows, size_t n,
                    size_t keep);
/* Counts and logs (at most once a minute per reason) a dropped frame. */
void market_drop(struct market *m, enum kline_drop why, const char *buf, size_t len,
                 int64_t now_ms);
/* The exchange's clock, estimated from the newest event time seen. */
int64_t market_exchange_now(const struct market *m, int64_t now_ms);
/* Sets a venue's ranking (its ids by volume, biggest first) and volumes. */
int market_set_ranking_in(struct market *m, int venue, const uint32_t *ids, const double *qv,
                          uint32_t n);
/* Every venue's ranking from one list of ids of any venues (replay, specs). */
int market_set_ranking_all(struct market *m, const uint32_t *ids, const double *qv, uint32_t n);
/* The same for Binance USDⓈ-M (tests, and the venue of a plain name). */
int market_set_ranking(struct market *m, const uint32_t *ids, const double *qv, uint32_t n);

struct prom;
void market_metrics(const struct market *m, struct prom *p);

#endif
