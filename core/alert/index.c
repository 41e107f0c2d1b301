#include "alert/index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/interval.h"

#define LISTS_PER_SYMBOL (IV_COUNT * 2 * 2)

static struct index_list *list_of(const struct index *ix, uint32_t sym, int iv,
                                  enum index_dir dir, enum index_trigger trig)
{
    if (sym >= ix->nsym || iv < 0 || iv >= IV_COUNT)
        return NULL;
    return &ix->lists[(size_t)sym * LISTS_PER_SYMBOL + ((size_t)iv * 2 + dir) * 2 + trig];
}

void index_init(struct index *ix)
{
    memset(ix, 0, sizeof *ix);
}

void index_free(struct index *ix)
{
    for (size_t i = 0; i < (size_t)ix->nsym * LISTS_PER_SYMBOL; i++)
        if (!ix->lists[i].in_slab)
            free(ix->lists[i].v);
    free(ix->slab);
    free(ix->lists);
    memset(ix, 0, sizeof *ix);
}

static int room_for(struct index *ix, uint32_t sym)
{
    if (sym < ix->nsym)
        return 0;
    if (sym > 10000000)
        return -1;
    uint32_t n = ix->nsym ? ix->nsym : 64;
    while (n <= sym)
        n *= 2;
    struct index_list *l = realloc(ix->lists, sizeof *l * (size_t)n * LISTS_PER_SYMBOL);
    if (!l)
        return -1;
    memset(l + (size_t)ix->nsym * LISTS_PER_SYMBOL, 0,
           sizeof *l * (size_t)(n - ix->nsym) * LISTS_PER_SYMBOL);
    ix->lists = l;
    ix->nsym = n;
    return 0;
}

int index_add(struct index *ix, uint32_t sym, int iv, enum index_dir dir,
              enum index_trigger trig, float threshold, uint32_t sub)
{
    if (!(threshold > 0) || room_for(ix, sym) != 0)
        return -1;
    struct index_list *l = list_of(ix, sym, iv, dir, trig);
    if (!l)
        return -1;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 4;
        struct index_entry *v = realloc(l->in_slab ? NULL : l->v, sizeof *v * cap);
        if (!v)
            return -1;
        if (l->in_slab)   /* out of the slab, whose room stays unused */
            memcpy(v, l->v, sizeof *v * l->n);
        l->v = v;
        l->cap = cap;
        l->in_slab = 0;
    }
    l->v[l->n++] = (struct index_entry){threshold, sub};
    if (l->n > 1 && l->v[l->n - 2].threshold > threshold)
        l->unsorted = 1;
    ix->entries++;
    return 0;
}

int index_remove(struct index *ix, uint32_t sym, int iv, enum index_dir dir,
                 enum index_trigger trig, uint32_t sub)
{
    struct index_list *l = list_of(ix, sym, iv, dir, trig);
    if (!l)
        return 0;
    for (uint32_t i = 0; i < l->n; i++)
        if (l->v[i].sub == sub) {   /* keeps the order: no re-sort needed */
            memmove(l->v + i, l->v + i + 1, sizeof *l->v * (l->n - i - 1));
            l->n--;
            ix->entries--;
            return 1;
        }
    return 0;
}

void index_expect(struct index *ix, uint32_t sym, int iv, enum index_dir dir,
                  enum index_trigger trig)
{
    struct index_list *l = room_for(ix, sym) == 0 ? list_of(ix, sym, iv, dir, trig) : NULL;
    if (l)
        l->expected++;
}

int index_reserve(struct index *ix)
{
    size_t nl = (size_t)ix->nsym * LISTS_PER_SYMBOL, total = 0;
    for (size_t i = 0; i < nl; i++)
        if (ix->lists[i].expected)
            total += ix->lists[i].n + ix->lists[i].expected;
    if (!total)
        return 0;
    if (ix->slab) {   /* one slab: a later bulk load grows its lists as adds do */
        for (size_t i = 0; i < nl; i++)
            ix->lists[i].expected = 0;
        return 0;
    }
    struct index_entry *slab = malloc(sizeof *slab * total);
    if (!slab)
        return -1;
    struct index_entry *at = slab;
    for (size_t i = 0; i < nl; i++) {
        struct index_list *l = &ix->lists[i];
        if (!l->expected)
            continue;
        if (l->n)
            memcpy(at, l->v, sizeof *at * l->n);
        if (!l->in_slab)
            free(l->v);
        l->v = at;
        l->cap = l->n + l->expected;
        l->in_slab = 1;
        l->expected = 0;
        at += l->cap;
    }
    ix->slab = slab;
    return 0;
}

static int by_threshold(const void *a, const void *b)
{
    float x = ((const struct index_entry *)a)->threshold;
    float y = ((const struct index_entry *)b)->threshold;
    return (x > y) - (x < y);
}

size_t index_match(struct index *ix, uint32_t sym, int iv, enum index_dir dir,
                   enum index_trigger trig, float move, index_fn fn, void *ud)
{
    struct index_list *l = list_of(ix, sym, iv, dir, trig);
    if (!l || !l->n || !(move >= l->v[0].threshold || l->unsorted))
        return 0;
    if (l->unsorted) {
        qsort(l->v, l->n, sizeof *l->v, by_threshold);
        l->unsorted = 0;
        if (!(move >= l->v[0].threshold))
            return 0;
    }
    /* the first entry above move: everything before it fires */
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l->v[mid].threshold <= move)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t i = 0; i < lo; i++)
        fn(ud, l->v[i].sub, l->v[i].threshold);
    return lo;
}

/* Thresholds are percentages with two decimals (0.01 .. 100): a long list
 * sorts by counting hundredths, in linear time, where qsort took seconds
 * for 100,000 users' presets.  Lists with other thresholds use qsort. */
#define HUNDREDTHS 10001

static void sort_list(struct index_list *l, uint32_t *count, struct index_entry *tmp)
{
    if (l->n < 512 || !count || !tmp) {
        qsort(l->v, l->n, sizeof *l->v, by_threshold);
        return;
    }
    memset(count, 0, sizeof *count * (HUNDREDTHS + 1));
    for (uint32_t i = 0; i < l->n; i++) {
        float h = l->v[i].threshold * 100.0f;
        long k = lroundf(h);
        if (k < 0 || k >= HUNDREDTHS || fabsf(h - (float)k) > 1e-3f) {
            qsort(l->v, l->n, sizeof *l->v, by_threshold);
            return;
        }
        count[k + 1]++;
    }
    for (int k = 0; k < HUNDREDTHS; k++)
        count[k + 1] += count[k];
    for (uint32_t i = 0; i < l->n; i++)
        tmp[count[lroundf(l->v[i].threshold * 100.0f)]++] = l->v[i];
    memcpy(l->v, tmp, sizeof *tmp * l->n);
}

void index_sort(struct index *ix)
{
    uint32_t biggest = 0;
    for (size_t i = 0; i < (size_t)ix->nsym * LISTS_PER_SYMBOL; i++)
        if (ix->lists[i].unsorted && ix->lists[i].n > biggest)
            biggest = ix->lists[i].n;
    uint32_t *count = biggest >= 512 ? malloc(sizeof *count * (HUNDREDTHS + 1)) : NULL;
    struct index_entry *tmp = biggest >= 512 ? malloc(sizeof *tmp * biggest) : NULL;
    for (size_t i = 0; i < (size_t)ix->nsym * LISTS_PER_SYMBOL; i++) {
        struct index_list *l = &ix->lists[i];
        if (l->unsorted) {
            sort_list(l, count, tmp);
            l->unsorted = 0;
        }
        /* after a bulk load, up to half of a doubled array is slack */
        if (l->n && !l->in_slab && l->cap > l->n + l->n / 8) {
            struct index_entry *v = realloc(l->v, sizeof *v * l->n);
            if (v) {
                l->v = v;
                l->cap = l->n;
            }
        }
    }
    free(count);
    free(tmp);
}

uint32_t index_count(const struct index *ix, uint32_t sym, int iv, enum index_dir dir,
                     enum index_trigger trig)
{
    const struct index_list *l = list_of(ix, sym, iv, dir, trig);
    return l ? l->n : 0;
}
