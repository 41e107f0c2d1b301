/* The subscription index of one rule: it does work only for what is new.
 *
 * A subscription is an opaque id (the alert engine maps it to a chat and
 * preset) with a threshold, its directions (up, down or both: one entry)
 * and a trigger (forming: every update; close: the closing update only).
 * Manual lists are held per (symbol, interval, trigger, directions); "top
 * N" subscriptions once per (N, interval, trigger, directions), whatever
 * the symbols:
 * an event for a symbol of rank r visits the groups with N >= r, so a
 * ranking change moves no entry.  Every list is kept sorted by threshold.
 *
 * Per (symbol, interval) and track (forming, close) the index remembers
 * how far the current candle's value has reached (the highest and the
 * lowest: its watermarks; a new candle resets them), so an update visits
 * only the thresholds between the old watermark and the new value, a
 * range of each sorted list: a subscription is visited at most once per
 * candle and direction.  A subscription added mid-candle therefore fires
 * on that candle only when the value goes beyond what it had reached.
 *
 *   mode MOVE   up: value >= t, down: value <= -t (t > 0)
 *   mode LEVEL  up: value >= t, down: value <= t
 *   mode CROSS  up: the previous value < t <= this one, down: previous >
 *               t >= this one (previous: the track's last evaluation; none
 *               after a start: no fire); no watermark, the crossing itself
 *               re-arms
 *
 *   struct index ix; index_init(&ix, INDEX_MOVE);
 *   index_add(&ix, sym, 0, IV_5M, INDEX_FORMING, 3.0, sub, INDEX_UP | INDEX_DOWN);
 *   index_update(&ix, sym, IV_5M, rank, open_time, 0, 3.4, 0, fn, ud); // fn(ud, sub, 3.0, 1)
 */
#ifndef CW_ALERT_INDEX_H
#define CW_ALERT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/interval.h"

enum index_mode { INDEX_MOVE, INDEX_LEVEL, INDEX_CROSS };
enum index_dirs { INDEX_UP = 1, INDEX_DOWN = 2 };   /* bits */
enum index_trigger { INDEX_FORMING, INDEX_CLOSE };

#define INDEX_SUB_MAX ((1u << 30) - 1)

/* Packed: 12 bytes, not 16 (the index holds tens of millions of them;
 * x86-64 reads an unaligned double at no cost). */
struct __attribute__((packed)) index_entry {
    double key;               /* the threshold */
    uint32_t sub;             /* id << 2 | directions */
};

struct index_list {
    struct index_entry *v;
    uint32_t n, cap;
    uint32_t expected;        /* adds announced by index_expect */
    uint8_t unsorted;         /* adds append; the next query sorts */
    uint8_t in_slab;          /* v is inside the index's slab (never freed alone) */
};

/* How far a candle's value reached, per track (forming, close). */
struct index_mark {
    int64_t open[2];          /* the candle (open time) the track is at; 0: none */
    double hi[2], lo[2];       /* MOVE, LEVEL: the highest and lowest value reached */
    double prev[2];            /* CROSS: the track's last value */
    uint8_t has_prev[2];
};

/* A "top N" is per venue: a group's n and a candle's rank are both
 * index_rank(venue, N or rank), so that one venue's top N never takes
 * another venue's symbols (ranks past INDEX_TOP_MAX match no group). */
#define INDEX_TOP_MAX 1000u
#define INDEX_VENUE_SPAN (1u << 20)
static inline uint32_t index_rank(int venue, uint32_t r)
{
    return r && r <= INDEX_TOP_MAX ? (uint32_t)venue * INDEX_VENUE_SPAN + r : 0;
}

struct index_group {          /* the "top N" subscriptions of one N */
    uint32_t n;
    struct index_list l[3];   /* both directions, up only, down only */
};

struct index {
    int mode;                 /* enum index_mode */
    struct index_list *lists; /* manual: by (symbol, interval, trigger) */
    struct index_mark *marks; /* by (symbol, interval) */
    uint32_t nsym;            /* symbols with room */
    struct index_group *groups[IV_COUNT][2];   /* by N, biggest first */
    uint32_t ngroups[IV_COUNT][2];
    size_t entries;
    uint64_t visited;         /* entries examined by updates */
    struct index_entry *slab; /* a bulk load's lists, in one block */
    uint8_t bulk;             /* between index_reserve and index_sort: adds append */
};

/* fn gets the level reached or crossed (signed: a move down gives -t)
 * and 1 for up, 0 for down. */
typedef void (*index_fn)(void *ud, uint32_t sub, double level, int up);

void index_init(struct index *ix, int mode);
void index_free(struct index *ix);
/* A manual list's entry (top_n 0) or a "top N" one (sym ignored).
 * 0, or -1 when out of memory (or a bad symbol, interval or id). */
int index_add(struct index *ix, uint32_t sym, uint32_t top_n, int iv, enum index_trigger trig,
              double threshold, uint32_t sub, unsigned dirs);
/* Removes one subscription's entry; 1 removed, 0 not there. */
int index_remove(struct index *ix, uint32_t sym, uint32_t top_n, int iv,
                 enum index_trigger trig, unsigned dirs, double threshold, uint32_t sub);
/* 1 when no subscription could meet an event of (sym, iv) at that rank
 * (closed: on either track): the rule's value need not be computed.  The
 * candle's reach is then unknown: a subscription that comes during it
 * fires from the next candle, and a cross forgets its previous value. */
int index_idle(struct index *ix, uint32_t sym, int iv, uint32_t rank, int64_t open_time,
               int closed);
/* Asks the CPU for what an event of (sym, iv) will read (its marks and the
 * symbol's lists), so that the misses of every rule's index overlap
 * instead of coming one after another. */
void index_prefetch(const struct index *ix, uint32_t sym, int iv);
/* A candle event's value: the forming track always, the close track when
 * closed.  Calls fn for each subscription the value newly reaches (see
 * above) and returns their count.  late: counts them, calls nothing and
 * moves no watermark (a fresh update of the candle may still fire).  rank:
 * the symbol's rank (1: the biggest), 0 when unranked.  An event of a
 * candle older than the track's is matched whole and moves nothing. */
size_t index_update(struct index *ix, uint32_t sym, int iv, uint32_t rank, int64_t open_time,
                    int closed, double value, int late, index_fn fn, void *ud);
/* A bulk load in two passes: announce every add, reserve, then add.  The
 * lists are carved from one block at their exact sizes; a list that
 * outgrows its room later moves out to its own allocation. */
void index_expect(struct index *ix, uint32_t sym, uint32_t top_n, int iv,
                  enum index_trigger trig, unsigned dirs);
/* 0, or -1 when out of memory (the lists then grow as they are added to). */
int index_reserve(struct index *ix);
/* After a bulk load: sorts every list that adds left unsorted (so that
 * the first events do not pay for it) and gives back their slack. */
void index_sort(struct index *ix);
/* Entries of a symbol's lists, or of a top N's (for tests). */
uint32_t index_count(const struct index *ix, uint32_t sym, uint32_t top_n, int iv,
                     enum index_trigger trig);

#endif
