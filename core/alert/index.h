/* The subscription index: for each (symbol, interval), the thresholds of
 * every subscription kept sorted, so the subscriptions a move fires are a
 * binary search plus the matches.  Work per candle event does not grow
 * with the subscriptions that do not fire.
 *
 * A subscription is an opaque 32-bit id (the alert engine maps it to a
 * chat and preset).  Directions and triggers are separate lists: an "up"
 * subscription fires on a move >= its threshold, a "down" one on a move
 * <= -threshold; a "close" one only when the candle closes, a "forming"
 * one on any update.
 *
 *   struct index ix; index_init(&ix);
 *   index_add(&ix, sym, IV_5M, INDEX_UP, INDEX_FORMING, 3.0f, sub);
 *   index_match(&ix, sym, IV_5M, INDEX_UP, INDEX_FORMING, 3.4f, fn, ud);  // fn(ud, sub, 3.0)
 */
#ifndef CW_ALERT_INDEX_H
#define CW_ALERT_INDEX_H

#include <stddef.h>
#include <stdint.h>

enum index_dir { INDEX_UP, INDEX_DOWN };
enum index_trigger { INDEX_FORMING, INDEX_CLOSE };

struct index_entry {
    float threshold;          /* percent, > 0 */
    uint32_t sub;
};

struct index_list {
    struct index_entry *v;
    uint32_t n, cap;
    uint32_t expected;        /* adds announced by index_expect */
    uint8_t unsorted;         /* adds append; the next match sorts */
    uint8_t in_slab;          /* v is inside the index's slab (never freed alone) */
};

struct index {
    struct index_list *lists; /* by (symbol, interval, direction, trigger) */
    uint32_t nsym;            /* symbols with room */
    size_t entries;
    struct index_entry *slab; /* a bulk load's lists, in one block */
};

typedef void (*index_fn)(void *ud, uint32_t sub, float threshold);

void index_init(struct index *ix);
void index_free(struct index *ix);
/* 0, or -1 when out of memory (or a bad symbol, interval or threshold). */
int index_add(struct index *ix, uint32_t sym, int iv, enum index_dir dir,
              enum index_trigger trig, float threshold, uint32_t sub);
/* Removes one subscription's entry; 1 removed, 0 not there. */
int index_remove(struct index *ix, uint32_t sym, int iv, enum index_dir dir,
                 enum index_trigger trig, uint32_t sub);
/* Calls fn for every entry of the list whose threshold is <= move (move
 * in percent, the size of the move in that direction); the count. */
size_t index_match(struct index *ix, uint32_t sym, int iv, enum index_dir dir,
                   enum index_trigger trig, float move, index_fn fn, void *ud);
/* A bulk load in two passes: announce every add, reserve, then add.  The
 * lists are carved from one block at their exact sizes (growing 80,000
 * lists by doubling spent most of a big start-up in realloc); a list that
 * outgrows its room later moves out to its own allocation. */
void index_expect(struct index *ix, uint32_t sym, int iv, enum index_dir dir,
                  enum index_trigger trig);
/* 0, or -1 when out of memory (the lists then grow as they are added to). */
int index_reserve(struct index *ix);
/* After a bulk load: sorts every list that adds left unsorted (so that
 * the first events do not pay for it) and gives back their slack. */
void index_sort(struct index *ix);
/* Entries in one list (for /status and tests). */
uint32_t index_count(const struct index *ix, uint32_t sym, int iv, enum index_dir dir,
                     enum index_trigger trig);

#endif
