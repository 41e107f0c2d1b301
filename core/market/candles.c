#include "market/candles.h"
#include "util/grow.h"

#include <stdlib.h>
#include <string.h>

int candles_init(struct candles *cs, uint32_t history)
{
    memset(cs, 0, sizeof *cs);
    cs->history = history ? history : 1;
    return 0;
}

void candles_free(struct candles *cs)
{
    for (uint32_t i = 0; cs->series && i < cs->nsym * IV_COUNT; i++)
        free(cs->series[i].ring);
    free(cs->series);
    memset(cs, 0, sizeof *cs);
}

/* The ring of s (cap slots) copied into a new one of n, oldest first. */
static struct candle *ring_grown(const struct series *s, uint32_t cap, uint32_t n)
{
    struct candle *r = malloc(sizeof *r * n);
    if (!r)
        return NULL;
    uint32_t first = cap - s->head < s->count ? cap - s->head : s->count;
    memcpy(r, s->ring + s->head, sizeof *r * first);
    memcpy(r + first, s->ring, sizeof *r * (s->count - first));
    return r;
}

int candles_reserve(struct candles *cs, uint32_t n)
{
    if (n <= cs->history)
        return 0;
    size_t total = (size_t)cs->nsym * IV_COUNT;
    struct candle **grown = calloc(total ? total : 1, sizeof *grown);
    if (!grown)
        return -1;
    /* all or nothing: the rings share one size */
    for (size_t i = 0; i < total; i++)
        if (cs->series[i].ring && !(grown[i] = ring_grown(&cs->series[i], cs->history, n))) {
            while (i--)
                free(grown[i]);
            free(grown);
            return -1;
        }
    for (size_t i = 0; i < total; i++)
        if (grown[i]) {
            free(cs->series[i].ring);
            cs->series[i].ring = grown[i];
            cs->series[i].head = 0;
        }
    free(grown);
    cs->history = n;
    return 0;
}

/* Rows (IV_COUNT series each) up to symbol sym, the new ones empty.
 * (nsym stays a uint32_t: symbol ids are, and the hot path reads it.) */
static int series_room(struct candles *cs, uint32_t sym)
{
    if (sym > UINT32_MAX / 2)
        return -1;
    size_t n = cs->nsym;
    struct series *s = grow_from(cs->series, &n, (size_t)sym + 1, sizeof *s * IV_COUNT, 64);
    if (!s)
        return -1;
    memset(s + (size_t)cs->nsym * IV_COUNT, 0, sizeof *s * (n - cs->nsym) * IV_COUNT);
    cs->series = s;
    cs->nsym = (uint32_t)n;
    return 0;
}

static struct series *series_for(struct candles *cs, uint32_t sym, int iv)
{
    if (sym >= cs->nsym && series_room(cs, sym) != 0)
        return NULL;
    struct series *s = &cs->series[(size_t)sym * IV_COUNT + (size_t)iv];
    if (!s->ring) {
        if (!(s->ring = malloc(sizeof *s->ring * cs->history)))
            return NULL;
        s->newest_open = -1;
    }
    return s;
}

const struct series *candles_series(const struct candles *cs, uint32_t symbol, int iv)
{
    if (symbol >= cs->nsym || iv < 0 || iv >= IV_COUNT)
        return NULL;
    const struct series *s = &cs->series[(size_t)symbol * IV_COUNT + (size_t)iv];
    return s->ring ? s : NULL;
}

static inline struct candle *at(struct series *s, uint32_t cap, uint32_t i)
{
    uint32_t k = s->head + i;   /* head < cap and i < cap: no division needed */
    return &s->ring[k >= cap ? k - cap : k];
}

const struct candle *series_closed(const struct series *s, uint32_t history, uint32_t n)
{
    if (!s || n >= s->count)
        return NULL;
    return &s->ring[(s->head + s->count - 1 - n) % history];
}

/* Inserts c at logical position pos (0 = oldest), dropping the oldest when
 * full. */
static void insert_at(struct series *s, uint32_t cap, uint32_t pos, const struct candle *c)
{
    if (s->count == cap) {
        if (pos == 0)
            return;   /* older than everything held */
        s->head = s->head + 1 == cap ? 0 : s->head + 1;
        s->count--;
        pos--;
    }
    for (uint32_t i = s->count; i > pos; i--)
        *at(s, cap, i) = *at(s, cap, i - 1);
    *at(s, cap, pos) = *c;
    s->count++;
    s->newest_open = at(s, cap, s->count - 1)->open_time;
}

static enum candle_event apply_closed(struct series *s, uint32_t cap, const struct candle *c)
{
    if (s->has_forming && s->forming.open_time <= c->open_time)
        s->has_forming = 0;
    if (s->newest_open < c->open_time) {
        insert_at(s, cap, s->count, c);
        return CANDLE_CLOSED;
    }
    /* Older than the newest: a gap being filled, or a duplicate. */
    uint32_t lo = 0, hi = s->count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (at(s, cap, mid)->open_time < c->open_time)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->count && at(s, cap, lo)->open_time == c->open_time)
        return CANDLE_IGNORED;
    if (lo == 0 && s->count == cap)
        return CANDLE_IGNORED;
    insert_at(s, cap, lo, c);
    return CANDLE_CLOSED;
}

enum candle_event candles_apply(struct candles *cs, const struct candle *c)
{
    struct series *s = series_for(cs, c->symbol, c->interval);
    if (!s)
        return CANDLE_IGNORED;
    uint32_t cap = cs->history;
    if (c->closed)
        return apply_closed(s, cap, c);
    if (c->open_time <= s->newest_open)
        return CANDLE_IGNORED;   /* that candle has closed already */
    if (s->has_forming && (c->open_time < s->forming.open_time ||
                           (c->open_time == s->forming.open_time &&
                            c->event_time <= s->forming.event_time)))
        return CANDLE_IGNORED;   /* older, or the same update twice (two connections
                                  * overlap while one replaces the other) */
    s->forming = *c;
    s->has_forming = 1;
    return CANDLE_FORMING;
}
