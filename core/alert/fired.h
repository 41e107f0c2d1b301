/* "Already fired for this candle" marks: per (chat, rule, symbol,
 * interval), the open time of the candle an alert last went out for (a
 * chat's move alert does not swallow its RSI alert on the same candle).
 *
 * A mark matters only while its candle could still alert: once the candle
 * closed more than late_ms (the latest an alert may go out) before the
 * newest mark, every event of it or of an older candle is late news, and
 * the mark is dropped.  So the table holds about one mark per chat and
 * timeframe that fired recently, not every alert since start-up.
 *
 * An open-addressing table that never stops the loop: it grows by moving
 * its entries into a bigger table a few slots per write (lookups read both
 * meanwhile), and once an hour of market time it is moved the same way
 * into a table sized for what is left, dropping marks as it goes. */
#ifndef CW_ALERT_FIRED_H
#define CW_ALERT_FIRED_H

#include <stddef.h>
#include <stdint.h>

struct fired_slot {
    int64_t chat;
    int64_t open_time;        /* 0: a free slot */
    uint32_t symbol;
    uint8_t interval;
    uint8_t rule;             /* the engine's rule slot */
};

struct fired {
    struct fired_slot *v;     /* written to */
    size_t n, cap;
    struct fired_slot *old;   /* being moved into v, or NULL */
    size_t old_cap, moved;
    int64_t newest;           /* the newest open time marked */
    int64_t late_ms;          /* 0: marks are never dropped */
    int64_t resized_at;       /* newest at the last resize */
};

/* The open time last fired for, or 0. */
int64_t fired_get(const struct fired *f, int64_t chat, int rule, uint32_t symbol, int iv);
/* 0, or -1 when out of memory. */
int fired_set(struct fired *f, int64_t chat, int rule, uint32_t symbol, int iv,
              int64_t open_time);
/* 1 when the mark's candle can no longer alert (see above). */
int fired_expired(const struct fired *f, int iv, int64_t open_time);
/* Room for n marks at once (before a load: no moves while loading). */
int fired_reserve(struct fired *f, size_t n);
/* Marks in the table written to and in the one being moved. */
size_t fired_count(const struct fired *f);
void fired_free(struct fired *f);

#endif
