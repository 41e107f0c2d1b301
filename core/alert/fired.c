#include "alert/fired.h"

#include <stdlib.h>

#include "util/interval.h"

/* Slots examined per write while a table is being moved: an 8-million-slot
 * table is moved over tens of thousands of alerts, never in one stall. */
#define MOVE_STEP 256
#define MIN_CAP 1024
#define COMPACT_MS 3600000   /* market time between two moves that drop old marks */

static size_t slot(size_t cap, int64_t chat, int rule, uint32_t symbol, int iv)
{
    uint64_t h = (uint64_t)chat * 0x9E3779B97F4A7C15ull;
    h ^= ((uint64_t)symbol << 16 | (uint64_t)(rule & 0xff) << 8 | (uint64_t)iv) *
         0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ h >> 29) & (cap - 1);
}

/* The key's slot, or the free slot where it would go. */
static struct fired_slot *find(struct fired_slot *v, size_t cap, int64_t chat, int rule,
                               uint32_t symbol, int iv)
{
    for (size_t i = slot(cap, chat, rule, symbol, iv);; i = (i + 1) & (cap - 1)) {
        struct fired_slot *s = &v[i];
        if (!s->open_time || (s->chat == chat && s->symbol == symbol &&
                              s->interval == (uint8_t)iv && s->rule == (uint8_t)rule))
            return s;
    }
}

int64_t fired_get(const struct fired *f, int64_t chat, int rule, uint32_t symbol, int iv)
{
    const struct fired_slot *s = f->cap ? find(f->v, f->cap, chat, rule, symbol, iv) : NULL;
    if (s && s->open_time)
        return s->open_time;
    s = f->old ? find(f->old, f->old_cap, chat, rule, symbol, iv) : NULL;
    return s ? s->open_time : 0;
}

int fired_expired(const struct fired *f, int iv, int64_t open_time)
{
    return f->late_ms > 0 && open_time + interval_ms(iv) + f->late_ms < f->newest;
}

/* Moves up to max slots of the old table; frees it when all are moved. */
static void move_some(struct fired *f, size_t max)
{
    if (!f->old)
        return;
    size_t end = f->old_cap - f->moved < max ? f->old_cap : f->moved + max;
    for (; f->moved < end; f->moved++) {
        const struct fired_slot *s = &f->old[f->moved];
        if (!s->open_time || fired_expired(f, s->interval, s->open_time))
            continue;
        struct fired_slot *t = find(f->v, f->cap, s->chat, s->rule, s->symbol, s->interval);
        if (!t->open_time) {   /* (a mark already in the new table is newer) */
            *t = *s;
            f->n++;
        }
    }
    if (f->moved == f->old_cap) {
        free(f->old);
        f->old = NULL;
        f->old_cap = f->moved = 0;
    }
}

/* Starts moving everything into a table with room for four times what is
 * there now (a bound: expired marks are dropped on the way); a table that
 * is not full never grows this way. */
static int resize(struct fired *f, int full)
{
    move_some(f, SIZE_MAX);   /* one move at a time */
    size_t cap = MIN_CAP;
    while (cap < (f->n + 1) * 4 && (full || cap < f->cap))
        cap *= 2;
    struct fired_slot *v = calloc(cap, sizeof *v);
    if (!v)
        return -1;
    f->old = f->v;
    f->old_cap = f->cap;
    f->moved = 0;
    f->v = v;
    f->cap = cap;
    f->n = 0;
    f->resized_at = f->newest;
    if (!f->old_cap)
        f->old = NULL;
    return 0;
}

int fired_set(struct fired *f, int64_t chat, int rule, uint32_t symbol, int iv,
              int64_t open_time)
{
    if (!open_time)
        open_time = 1;   /* 0 marks a free slot */
    if (open_time > f->newest)
        f->newest = open_time;
    if (!f->resized_at)
        f->resized_at = f->newest;   /* the clock starts with the first mark */
    move_some(f, MOVE_STEP);
    int full = (f->n + 1) * 2 > f->cap;
    int stale = f->late_ms > 0 && !f->old && f->newest - f->resized_at > COMPACT_MS;
    if ((full || stale) && resize(f, full) != 0 && full)
        return -1;
    struct fired_slot *s = find(f->v, f->cap, chat, rule, symbol, iv);
    if (!s->open_time)
        f->n++;
    *s = (struct fired_slot){chat, open_time, symbol, (uint8_t)iv, (uint8_t)rule};
    return 0;
}

int fired_reserve(struct fired *f, size_t n)
{
    if (f->cap >= (n + 1) * 2)
        return 0;
    move_some(f, SIZE_MAX);
    size_t cap = MIN_CAP;
    while (cap < (n + 1) * 2)
        cap *= 2;
    struct fired_slot *v = calloc(cap, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < f->cap; i++)
        if (f->v[i].open_time)
            *find(v, cap, f->v[i].chat, f->v[i].rule, f->v[i].symbol, f->v[i].interval) =
                f->v[i];
    free(f->v);
    f->v = v;
    f->cap = cap;
    f->resized_at = f->newest;
    return 0;
}

/* (a mark in both tables counts twice) */
size_t fired_count(const struct fired *f)
{
    size_t n = f->n;
    for (size_t i = f->moved; f->old && i < f->old_cap; i++)
        n += f->old[i].open_time != 0;
    return n;
}

void fired_free(struct fired *f)
{
    free(f->v);
    free(f->old);
    f->v = f->old = NULL;
    f->n = f->cap = f->old_cap = f->moved = 0;
}
