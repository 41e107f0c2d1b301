/* The candle store: per (symbol, interval) the forming candle and a ring of
 * the last `history` closed candles, kept in open-time order.  `history` is
 * the config's exchange.history, raised by candles_reserve when the live
 * alert rules read more (never lowered while the process runs).
 *
 * candles_apply() decides what an update means:
 * - CANDLE_CLOSED: a closed candle not seen before (emitted exactly once
 *   per open time, whether it came live, after a reconnect or from REST
 *   backfill — an older missing candle is inserted in place);
 * - CANDLE_FORMING: the forming candle moved;
 * - CANDLE_IGNORED: a duplicate, or older than what is held.
 * No allocation happens per update once a series exists.
 */
#ifndef CW_CANDLES_H
#define CW_CANDLES_H

#include <stdint.h>

#include "market/candle.h"
#include "util/interval.h"

enum candle_event { CANDLE_IGNORED, CANDLE_FORMING, CANDLE_CLOSED };

struct series {
    struct candle forming;
    int has_forming;
    int64_t newest_open;    /* open time of the newest closed candle, or -1:
                             * forming updates need not touch the ring */
    uint32_t head, count;   /* ring: oldest at head */
    struct candle *ring;    /* `history` slots, allocated on first use */
};

struct candles {
    uint32_t history;
    uint32_t nsym;          /* symbols with room in `series` */
    struct series *series;  /* [symbol * IV_COUNT + interval] */
};

int candles_init(struct candles *cs, uint32_t history);
void candles_free(struct candles *cs);
/* Makes every ring hold at least n closed candles (what is held stays);
 * below the current size it does nothing.  Not for the hot path: it
 * reallocates every ring (a generation of scripts going live).  0, or -1
 * out of memory (then the size is unchanged). */
int candles_reserve(struct candles *cs, uint32_t n);
enum candle_event candles_apply(struct candles *cs, const struct candle *c);
/* NULL when nothing is held for that pair yet. */
const struct series *candles_series(const struct candles *cs, uint32_t symbol, int iv);
/* The n-th newest closed candle (0 = newest), or NULL. */
const struct candle *series_closed(const struct series *s, uint32_t history, uint32_t n);

#endif
