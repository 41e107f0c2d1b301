#include "alert/index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* lists by (interval, trigger, kind): kind 0 both directions, 1 up, 2 down
 * (apart, so that an update in one direction examines no entry of the
 * other) */
#define KINDS 3
#define LISTS_PER_SYMBOL (IV_COUNT * 2 * KINDS)
#define HUGE_PAGE (2u << 20)

void index_init(struct index *ix, int mode)
{
    memset(ix, 0, sizeof *ix);
    ix->mode = mode;
}

static void list_free(struct index_list *l)
{
    if (!l->in_slab)
        free(l->v);
}

void index_free(struct index *ix)
{
    for (size_t i = 0; i < (size_t)ix->nsym * LISTS_PER_SYMBOL; i++)
        list_free(&ix->lists[i]);
    for (int iv = 0; iv < IV_COUNT; iv++)
        for (int t = 0; t < 2; t++) {
            for (uint32_t g = 0; g < ix->ngroups[iv][t]; g++)
                for (int k = 0; k < KINDS; k++)
                    list_free(&ix->groups[iv][t][g].l[k]);
            free(ix->groups[iv][t]);
        }
    free(ix->slab);
    free(ix->lists);
    free(ix->marks);
    memset(ix, 0, sizeof *ix);
}

/* Room for symbol ids up to sym: its lists and its marks. */
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
    ix->lists = l;
    memset(l + (size_t)ix->nsym * LISTS_PER_SYMBOL, 0,
           sizeof *l * (size_t)(n - ix->nsym) * LISTS_PER_SYMBOL);
    struct index_mark *m = realloc(ix->marks, sizeof *m * (size_t)n * IV_COUNT);
    if (!m)
        return -1;   /* (the lists' room is kept: nsym says what both have) */
    ix->marks = m;
    memset(m + (size_t)ix->nsym * IV_COUNT, 0, sizeof *m * (size_t)(n - ix->nsym) * IV_COUNT);
    ix->nsym = n;
    return 0;
}

static int kind_of(unsigned dirs)
{
    return (dirs & 3) == 3 ? 0 : (int)(dirs & 3);
}

/* The group of "top n" subscriptions, made when create. */
static struct index_group *group_of(struct index *ix, uint32_t n, int iv, int trig, int create)
{
    struct index_group *g = ix->groups[iv][trig];
    uint32_t k = ix->ngroups[iv][trig], at = 0;
    while (at < k && g[at].n > n)
        at++;
    if (at < k && g[at].n == n)
        return &g[at];
    if (!create)
        return NULL;
    g = realloc(g, sizeof *g * (k + 1));
    if (!g)
        return NULL;
    memmove(g + at + 1, g + at, sizeof *g * (k - at));
    memset(&g[at], 0, sizeof g[at]);
    g[at].n = n;
    ix->groups[iv][trig] = g;
    ix->ngroups[iv][trig] = k + 1;
    return &g[at];
}

static struct index_list *list_of(struct index *ix, uint32_t sym, uint32_t top_n, int iv,
                                  int trig, unsigned dirs, int create)
{
    if (iv < 0 || iv >= IV_COUNT || trig < 0 || trig > 1 || !(dirs & 3))
        return NULL;
    if (top_n) {
        struct index_group *g = group_of(ix, top_n, iv, trig, create);
        return g ? &g->l[kind_of(dirs)] : NULL;
    }
    if (sym >= ix->nsym && (!create || room_for(ix, sym) != 0))
        return NULL;
    return &ix->lists[(size_t)sym * LISTS_PER_SYMBOL + ((size_t)iv * 2 + (size_t)trig) * KINDS +
                      (size_t)kind_of(dirs)];
}

static uint32_t bound(const struct index_list *l, double x, int strict);

int index_add(struct index *ix, uint32_t sym, uint32_t top_n, int iv, enum index_trigger trig,
              double threshold, uint32_t sub, unsigned dirs)
{
    struct index_list *l = list_of(ix, sym, top_n, iv, trig, dirs, 1);
    if (!l || !isfinite(threshold) || sub > INDEX_SUB_MAX)
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
    struct index_entry en = {threshold, sub << 2 | (dirs & 3)};
    if (!ix->bulk && !l->unsorted && l->n && l->v[l->n - 1].key > threshold) {
        /* a preset saved while running: in place, so that the next event
         * does not sort the whole list (9 ms for 100,000 entries) */
        uint32_t at = bound(l, threshold, 1);
        memmove(l->v + at + 1, l->v + at, sizeof *l->v * (l->n - at));
        l->v[at] = en;
        l->n++;
    } else {
        l->v[l->n++] = en;
        if (l->n > 1 && l->v[l->n - 2].key > threshold)
            l->unsorted = 1;   /* (a bulk load: index_sort sorts it) */
    }
    ix->entries++;
    return 0;
}

/* The first entry whose key is > x (strict) or >= x. */
static uint32_t bound(const struct index_list *l, double x, int strict)
{
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strict ? l->v[mid].key <= x : l->v[mid].key < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int index_remove(struct index *ix, uint32_t sym, uint32_t top_n, int iv,
                 enum index_trigger trig, unsigned dirs, double threshold, uint32_t sub)
{
    struct index_list *l = list_of(ix, sym, top_n, iv, trig, dirs, 0);
    if (!l)
        return 0;
    /* sorted: from the first entry of that threshold (a big top-N list) */
    uint32_t i = l->unsorted ? 0 : bound(l, threshold, 0);
    for (; i < l->n; i++)
        if (l->v[i].sub >> 2 == sub) {   /* keeps the order: no re-sort needed */
            memmove(l->v + i, l->v + i + 1, sizeof *l->v * (l->n - i - 1));
            l->n--;
            ix->entries--;
            return 1;
        }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    double x = ((const struct index_entry *)a)->key, y = ((const struct index_entry *)b)->key;
    return (x > y) - (x < y);
}

/* What one update asks of each list: the keys in (a, b] (up) or [a, b)
 * (down, for a level or cross), for the subscriptions of direction dir;
 * level: what fn is told (key, or -key for a move down). */
struct range {
    double a, b;
    int strict_a;             /* (a, b] rather than [a, b) */
    unsigned dir;
    int negate;
};

struct visit {
    index_fn fn;
    void *ud;
    int late;
    size_t matched;
};

static void visit_list(struct index *ix, struct index_list *l, const struct range *r,
                       struct visit *vs)
{
    if (!l->n)
        return;
    if (l->unsorted) {
        qsort(l->v, l->n, sizeof *l->v, by_key);
        l->unsorted = 0;
    }
    /* the common case: the range misses the list (no binary search) */
    double first = l->v[0].key, last = l->v[l->n - 1].key;
    if (r->strict_a ? r->b < first || r->a >= last : r->b <= first || r->a > last)
        return;
    uint32_t i = bound(l, r->a, r->strict_a), end = bound(l, r->b, r->strict_a);
    ix->visited += end > i ? end - i : 0;
    for (; i < end; i++) {
        uint32_t s = l->v[i].sub;
        if (!(s & r->dir))
            continue;
        vs->matched++;
        if (!vs->late)
            vs->fn(vs->ud, s >> 2, r->negate ? -l->v[i].key : l->v[i].key, r->dir == INDEX_UP);
    }
}

/* Every list the symbol's event meets on a track in the range's
 * direction (both-directions lists and its own): the symbol's, and the
 * groups of top N with N >= its rank. */
static void visit_lists(struct index *ix, uint32_t sym, int iv, int trig, uint32_t rank,
                        const struct range *r, struct visit *vs)
{
    int own = kind_of(r->dir);
    if (sym < ix->nsym) {
        struct index_list *l =
            &ix->lists[(size_t)sym * LISTS_PER_SYMBOL + ((size_t)iv * 2 + (size_t)trig) * KINDS];
        visit_list(ix, &l[0], r, vs);
        visit_list(ix, &l[own], r, vs);
    }
    struct index_group *g = ix->groups[iv][trig];
    for (uint32_t k = 0; rank && k < ix->ngroups[iv][trig] && g[k].n >= rank; k++) {
        if (g[k].n - rank >= INDEX_TOP_MAX)
            continue;   /* a later venue's top N */
        visit_list(ix, &g[k].l[0], r, vs);
        visit_list(ix, &g[k].l[own], r, vs);
    }
}

/* One track: the ranges between what was reached and the value, then the
 * new watermark (or previous value). */
static void update_track(struct index *ix, struct index_mark *m, uint32_t sym, int iv,
                         int trig, uint32_t rank, int64_t open_time, double x, struct visit *vs)
{
    int older = m->open[trig] && open_time < m->open[trig];
    int fresh = !older && open_time != m->open[trig];
    struct range up = {0}, down = {0};
    int do_up = 0, do_down = 0;
    if (ix->mode == INDEX_CROSS) {
        if (older)
            return;   /* not the track's next evaluation */
        double p = m->prev[trig];
        if (m->has_prev[trig]) {
            do_up = x > p, do_down = x < p;
            up = (struct range){p, x, 1, INDEX_UP, 0};
            down = (struct range){x, p, 0, INDEX_DOWN, 0};
        }
        if (!vs->late) {
            m->prev[trig] = x;
            m->has_prev[trig] = 1;
            m->open[trig] = open_time;
        }
    } else {
        double hi = older || fresh ? -INFINITY : m->hi[trig];
        double lo = older || fresh ? INFINITY : m->lo[trig];
        do_up = x > hi, do_down = x < lo;
        if (ix->mode == INDEX_MOVE)   /* (sizes are > 0: a move up reaches no move down) */
            do_up &= x > 0, do_down &= x < 0;
        up = (struct range){hi, x, 1, INDEX_UP, 0};
        if (ix->mode == INDEX_MOVE)   /* thresholds are sizes: a move down is -x */
            down = (struct range){-lo, -x, 1, INDEX_DOWN, 1};
        else
            down = (struct range){x, lo, 0, INDEX_DOWN, 0};
        if (!vs->late && !older) {
            m->open[trig] = open_time;
            m->hi[trig] = x > hi ? x : hi;
            m->lo[trig] = x < lo ? x : lo;
        }
    }
    if (do_up)
        visit_lists(ix, sym, iv, trig, rank, &up, vs);
    if (do_down)
        visit_lists(ix, sym, iv, trig, rank, &down, vs);
}

size_t index_update(struct index *ix, uint32_t sym, int iv, uint32_t rank, int64_t open_time,
                    int closed, double value, int late, index_fn fn, void *ud)
{
    if (iv < 0 || iv >= IV_COUNT || !isfinite(value))
        return 0;
    if (sym >= ix->nsym && room_for(ix, sym) != 0)   /* (a symbol new to the index) */
        return 0;
    struct index_mark *m = &ix->marks[(size_t)sym * IV_COUNT + (size_t)iv];
    struct visit vs = {fn, ud, late, 0};
    update_track(ix, m, sym, iv, INDEX_FORMING, rank, open_time, value, &vs);
    if (closed)
        update_track(ix, m, sym, iv, INDEX_CLOSE, rank, open_time, value, &vs);
    return vs.matched;
}

/* (each line of n bytes from p) */
static void prefetch_bytes(const void *p, size_t n)
{
    const char *c = p;
    for (size_t o = 0; o < n; o += 64)
        __builtin_prefetch(c + o);
    __builtin_prefetch(c + n - 1);
}

void index_prefetch(const struct index *ix, uint32_t sym, int iv)
{
    if (sym >= ix->nsym || iv < 0 || iv >= IV_COUNT)
        return;
    prefetch_bytes(&ix->marks[(size_t)sym * IV_COUNT + (size_t)iv], sizeof *ix->marks);
    prefetch_bytes(&ix->lists[(size_t)sym * LISTS_PER_SYMBOL + (size_t)iv * 2 * KINDS],
                   sizeof *ix->lists * 2 * KINDS);
}

static int lists_idle(const struct index *ix, uint32_t sym, int iv, int trig, uint32_t rank)
{
    if (sym < ix->nsym) {
        const struct index_list *l =
            &ix->lists[(size_t)sym * LISTS_PER_SYMBOL + ((size_t)iv * 2 + (size_t)trig) * KINDS];
        for (int k = 0; k < KINDS; k++)
            if (l[k].n)
                return 0;
    }
    const struct index_group *g = ix->groups[iv][trig];
    for (uint32_t k = 0; rank && k < ix->ngroups[iv][trig] && g[k].n >= rank; k++)
        for (int d = 0; d < KINDS && g[k].n - rank < INDEX_TOP_MAX; d++)
            if (g[k].l[d].n)
                return 0;
    return 1;
}

/* A track no subscription watched: its candle's reach is unknown from now
 * on (nothing fires on it: a subscription that comes fires from the next
 * candle), and a cross's previous value is stale. */
static void track_unknown(struct index *ix, struct index_mark *m, int trig, int64_t open_time)
{
    if (ix->mode == INDEX_CROSS) {
        m->has_prev[trig] = 0;
        return;
    }
    m->open[trig] = open_time;
    m->hi[trig] = INFINITY;
    m->lo[trig] = -INFINITY;
}

int index_idle(struct index *ix, uint32_t sym, int iv, uint32_t rank, int64_t open_time,
               int closed)
{
    if (iv < 0 || iv >= IV_COUNT)
        return 1;
    int idle_forming = lists_idle(ix, sym, iv, INDEX_FORMING, rank);
    int idle_close = !closed || lists_idle(ix, sym, iv, INDEX_CLOSE, rank);
    if (!idle_forming || !idle_close)
        return 0;
    if (sym < ix->nsym || room_for(ix, sym) == 0) {   /* (a symbol new to the index) */
        struct index_mark *m = &ix->marks[(size_t)sym * IV_COUNT + (size_t)iv];
        if (!(m->open[INDEX_FORMING] && open_time < m->open[INDEX_FORMING]))
            track_unknown(ix, m, INDEX_FORMING, open_time);
        if (closed && !(m->open[INDEX_CLOSE] && open_time < m->open[INDEX_CLOSE]))
            track_unknown(ix, m, INDEX_CLOSE, open_time);
    }
    return 1;
}

/* ---- bulk loads ---- */

void index_expect(struct index *ix, uint32_t sym, uint32_t top_n, int iv,
                  enum index_trigger trig, unsigned dirs)
{
    struct index_list *l = list_of(ix, sym, top_n, iv, trig, dirs, 1);
    if (l)
        l->expected++;
}

/* Calls fn for every list, manual and grouped. */
static void each_list(struct index *ix, void (*fn)(struct index_list *l, void *ud), void *ud)
{
    for (size_t i = 0; i < (size_t)ix->nsym * LISTS_PER_SYMBOL; i++)
        fn(&ix->lists[i], ud);
    for (int iv = 0; iv < IV_COUNT; iv++)
        for (int t = 0; t < 2; t++)
            for (uint32_t g = 0; g < ix->ngroups[iv][t]; g++)
                for (int k = 0; k < KINDS; k++)
                    fn(&ix->groups[iv][t][g].l[k], ud);
}

static void count_expected(struct index_list *l, void *ud)
{
    if (l->expected)
        *(size_t *)ud += l->n + l->expected;
}

static void forget_expected(struct index_list *l, void *ud)
{
    (void)ud;
    l->expected = 0;
}

static void carve(struct index_list *l, void *ud)
{
    struct index_entry **at = ud;
    if (!l->expected)
        return;
    if (l->n)
        memcpy(*at, l->v, sizeof **at * l->n);
    if (!l->in_slab)
        free(l->v);
    l->v = *at;
    l->cap = l->n + l->expected;
    l->in_slab = 1;
    l->expected = 0;
    *at += l->cap;
}

/* A big slab in huge pages where the system allows: on a virtual machine
 * each first touch of a 4 KB page is a costly fault (a start-up of 100,000
 * users' presets fills 120 MB). */
static void *slab_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes < HUGE_PAGE)
        return malloc(bytes);
    if (posix_memalign(&p, HUGE_PAGE, (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
#endif
    return p;
}

int index_reserve(struct index *ix)
{
    ix->bulk = 1;   /* until index_sort */
    size_t total = 0;
    each_list(ix, count_expected, &total);
    if (!total)
        return 0;
    if (ix->slab) {   /* one slab: a later bulk load grows its lists as adds do */
        each_list(ix, forget_expected, NULL);
        return 0;
    }
    struct index_entry *slab = slab_alloc(sizeof *slab * total), *at = slab;
    if (!slab)
        return -1;
    each_list(ix, carve, &at);
    ix->slab = slab;
    return 0;
}

/* Thresholds with two decimals (0 .. 100: the percentages of moves) sort by
 * counting hundredths, in linear time, where qsort took seconds for
 * 100,000 users' presets.  Other lists use qsort. */
#define HUNDREDTHS 10001

struct sorter {
    uint32_t *count;
    struct index_entry *tmp;
    uint32_t biggest;
};

static void sort_list(struct index_list *l, const struct sorter *s)
{
    if (l->n < 512 || !s->count || !s->tmp) {
        qsort(l->v, l->n, sizeof *l->v, by_key);
        return;
    }
    memset(s->count, 0, sizeof *s->count * (HUNDREDTHS + 1));
    for (uint32_t i = 0; i < l->n; i++) {
        double h = l->v[i].key * 100.0;
        long k = lround(h);
        /* (only a key that is exactly k hundredths: 1.000005 is not 1.00) */
        if (k < 0 || k >= HUNDREDTHS || l->v[i].key != (double)k / 100.0) {
            qsort(l->v, l->n, sizeof *l->v, by_key);
            return;
        }
        s->count[k + 1]++;
    }
    for (int k = 0; k < HUNDREDTHS; k++)
        s->count[k + 1] += s->count[k];
    for (uint32_t i = 0; i < l->n; i++)
        s->tmp[s->count[lround(l->v[i].key * 100.0)]++] = l->v[i];
    memcpy(l->v, s->tmp, sizeof *s->tmp * l->n);
}

static void biggest_unsorted(struct index_list *l, void *ud)
{
    uint32_t *b = ud;
    if (l->unsorted && l->n > *b)
        *b = l->n;
}

static void sort_and_trim(struct index_list *l, void *ud)
{
    if (l->unsorted) {
        sort_list(l, ud);
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

void index_sort(struct index *ix)
{
    struct sorter s = {0};
    each_list(ix, biggest_unsorted, &s.biggest);
    if (s.biggest >= 512) {
        s.count = malloc(sizeof *s.count * (HUNDREDTHS + 1));
        s.tmp = malloc(sizeof *s.tmp * s.biggest);
    }
    each_list(ix, sort_and_trim, &s);
    free(s.count);
    free(s.tmp);
    ix->bulk = 0;
}

uint32_t index_count(const struct index *ix, uint32_t sym, uint32_t top_n, int iv,
                     enum index_trigger trig)
{
    uint32_t n = 0;
    for (unsigned d = 1; d <= 3; d++) {
        const struct index_list *l = list_of((struct index *)ix, sym, top_n, iv, trig, d, 0);
        n += l ? l->n : 0;
    }
    return n;
}
