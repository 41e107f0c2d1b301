/* The subscription index against a reference that knows nothing of
 * watermarks: for random subscriptions (manual lists and "top N"), random
 * values on random candles, ranking changes and subscriptions replaced
 * mid-candle, in each mode, the index reports exactly
 *   move, level: the (subscription, symbol, direction) whose condition the
 *     value meets for the first time on the candle's track, while the
 *     subscription applies to the symbol (a later start: only a new reach);
 *   cross: those whose level lies between the track's previous value and
 *     this one;
 * with the level reached, once each.  An index filled by a bulk load
 * (expect, reserve, add, sort) reports the same as one filled by adds. */
#include <math.h>
#include <stdlib.h>

#include "alert/index.h"
#include "util/interval.h"
#include "tap.h"

#define NSUB 1500
#define NSYM 12
#define NIV 2
#define NCANDLE 25

struct sub {
    uint32_t sym, top;        /* top: N of a top N (sym unused), 0: manual */
    int iv, trig, live;
    unsigned dirs;
    double t;
};

static struct sub subs[NSUB];
static uint32_t rank_of[NSYM];        /* 1-based; 0: unranked */
static unsigned char got[NSUB][2];    /* this event's reports, by direction */
static int bad_level, cur_mode;

static void on_visit(void *ud, uint32_t sub, double level, int up)
{
    (void)ud;
    if (sub >= NSUB) {
        bad_level++;
        return;
    }
    got[sub][up ? 0 : 1]++;
    double want = cur_mode == INDEX_MOVE && !up ? -subs[sub].t : subs[sub].t;
    bad_level += level != want;
}

/* The reference's memory of each (symbol, interval, track): the values of
 * the current candle so far, or the previous value (cross). */
struct track {
    int64_t open;
    double hi, lo, prev;
    int has_prev;
};
static struct track tracks[NSYM][NIV][2];

static double random_t(int mode)
{
    double t = (double)(rand() % 500 + 1) / 100.0;   /* 0.01 .. 5.00 */
    return mode == INDEX_MOVE || rand() % 2 ? t : -t;
}

static unsigned random_dirs(void)
{
    return (unsigned)(rand() % 3) + 1;   /* up, down or both */
}

static int applies(const struct sub *s, uint32_t sym)
{
    return s->top ? rank_of[sym] && rank_of[sym] <= s->top : s->sym == sym;
}

/* Did the value x meet the subscription's condition in direction d? */
static int meets(int mode, double x, double t, int d)
{
    if (mode == INDEX_MOVE)
        return d == 0 ? x >= t : x <= -t;
    return d == 0 ? x >= t : x <= t;
}

/* What the reference expects for one track's evaluation; 1 when the
 * index's reports equal it. */
static int expect_track(int mode, uint32_t sym, int iv, int trig, double x, struct track *tr,
                        unsigned char want[NSUB][2])
{
    for (int i = 0; i < NSUB; i++) {
        const struct sub *s = &subs[i];
        if (!s->live || s->iv != iv || s->trig != trig || !applies(s, sym))
            continue;
        for (int d = 0; d < 2; d++) {
            if (!(s->dirs & (1u << d)))
                continue;
            int w;
            if (mode == INDEX_CROSS)
                w = tr->has_prev && (d == 0 ? tr->prev < s->t && s->t <= x
                                            : tr->prev > s->t && s->t >= x);
            else
                w = meets(mode, x, s->t, d) && !meets(mode, d == 0 ? tr->hi : tr->lo, s->t, d);
            want[i][d] += (unsigned char)w;
        }
    }
    return 1;
}

static void track_after(int mode, struct track *tr, int64_t open, double x)
{
    if (mode == INDEX_CROSS) {
        tr->prev = x;
        tr->has_prev = 1;
        return;
    }
    if (open != tr->open) {
        tr->open = open;
        tr->hi = -INFINITY;
        tr->lo = INFINITY;
    }
    tr->hi = fmax(tr->hi, x);
    tr->lo = fmin(tr->lo, x);
}

static void track_before(int mode, struct track *tr, int64_t open)
{
    if (mode != INDEX_CROSS && open != tr->open) {
        tr->open = open;
        tr->hi = -INFINITY;
        tr->lo = INFINITY;
    }
}

static int add_sub(struct index *ix, int i)
{
    const struct sub *s = &subs[i];
    return index_add(ix, s->sym, s->top, s->iv, s->trig, s->t, (uint32_t)i, s->dirs);
}

static void make_subs(int mode)
{
    for (int i = 0; i < NSUB; i++) {
        struct sub *s = &subs[i];
        s->top = rand() % 3 == 0 ? (uint32_t)(rand() % 6 + 1) * 2 : 0;   /* 2 .. 12 */
        s->sym = (uint32_t)(rand() % NSYM);
        s->iv = rand() % NIV;
        s->trig = rand() % 4 == 0;
        s->dirs = random_dirs();
        s->t = random_t(mode);
        s->live = 1;
    }
}

static void shuffle_ranks(void)
{
    uint32_t order[NSYM];
    for (int i = 0; i < NSYM; i++)
        order[i] = (uint32_t)i;
    for (int i = NSYM - 1; i > 0; i--) {
        int j = rand() % (i + 1);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < NSYM; i++)   /* the last two unranked */
        rank_of[order[i]] = i < NSYM - 2 ? (uint32_t)i + 1 : 0;
}

/* One mode, two indexes (added one by one; bulk-loaded), one reference. */
static void run_mode(int mode, const char *name)
{
    struct index a, b;
    index_init(&a, mode);
    index_init(&b, mode);
    cur_mode = mode;
    make_subs(mode);
    memset(tracks, 0, sizeof tracks);
    for (int s = 0; s < NSYM; s++)
        for (int v = 0; v < NIV; v++)
            for (int t = 0; t < 2; t++)
                tracks[s][v][t].hi = -INFINITY, tracks[s][v][t].lo = INFINITY;
    shuffle_ranks();
    int added = 1;
    for (int i = 0; i < NSUB; i++) {
        added &= add_sub(&a, i) == 0;
        index_expect(&b, subs[i].sym, subs[i].top, subs[i].iv, subs[i].trig, subs[i].dirs);
    }
    added &= index_reserve(&b) == 0;
    for (int i = 0; i < NSUB; i++)
        added &= add_sub(&b, i) == 0;
    index_sort(&b);
    ok(added, "%s: %d subscriptions added, one by one and by a bulk load", name, NSUB);

    static unsigned char want[NSUB][2], got_a[NSUB][2];
    long events = 0, wrong_a = 0, wrong_b = 0, reports = 0;
    bad_level = 0;
    for (int c = 1; c <= NCANDLE; c++) {
        for (int k = 0; k < 120; k++) {
            uint32_t sym = (uint32_t)(rand() % NSYM);
            int iv = rand() % NIV, closed = k >= 120 - 4 && rand() % 2;
            double x = (double)(rand() % 1201 - 600) / 100.0;   /* -6.00 .. 6.00 */
            if (rand() % 40 == 0)
                shuffle_ranks();
            if (rand() % 10 == 0) {   /* a subscription replaced mid-candle */
                int i = rand() % NSUB;
                struct sub *s = &subs[i];
                index_remove(&a, s->sym, s->top, s->iv, s->trig, s->dirs, s->t, (uint32_t)i);
                index_remove(&b, s->sym, s->top, s->iv, s->trig, s->dirs, s->t, (uint32_t)i);
                s->t = random_t(mode);
                s->dirs = random_dirs();
                add_sub(&a, i);
                add_sub(&b, i);
            }
            memset(want, 0, sizeof want);
            for (int t = 0; t <= closed; t++) {
                struct track *tr = &tracks[sym][iv][t];
                track_before(mode, tr, c);
                expect_track(mode, sym, iv, t, x, tr, want);
                track_after(mode, tr, c, x);
            }
            memset(got, 0, sizeof got);
            size_t na = index_update(&a, sym, iv, rank_of[sym], c, closed, x, 0, on_visit, NULL);
            memcpy(got_a, got, sizeof got);
            memset(got, 0, sizeof got);
            size_t nb = index_update(&b, sym, iv, rank_of[sym], c, closed, x, 0, on_visit, NULL);
            size_t nwant = 0;
            for (int i = 0; i < NSUB; i++)
                nwant += (size_t)want[i][0] + want[i][1];
            wrong_a += memcmp(want, got_a, sizeof want) != 0 || na != nwant;
            wrong_b += memcmp(want, got, sizeof want) != 0 || nb != nwant;
            reports += (long)nwant;
            events++;
        }
    }
    is_int(wrong_a, 0, "%s: %ld events report exactly the reference's %ld (added one by one)",
           name, events, reports);
    is_int(wrong_b, 0, "%s: and the same when bulk-loaded", name);
    ok(reports > 1000, "%s: many reports were checked (%ld)", name, reports);
    is_int(bad_level, 0, "%s: each with the level reached", name);
    index_free(&a);
    index_free(&b);
}

static void on_count(void *ud, uint32_t sub, double level, int up)
{
    (void)sub, (void)level, (void)up;
    (*(int *)ud)++;
}

int main(void)
{
    srand(7);
    run_mode(INDEX_MOVE, "move");
    run_mode(INDEX_LEVEL, "level");
    run_mode(INDEX_CROSS, "cross");

    /* late: counted, nothing called, nothing moved: a fresh update fires */
    struct index ix;
    index_init(&ix, INDEX_MOVE);
    index_add(&ix, 1, 0, IV_1M, INDEX_FORMING, 2.0, 7, INDEX_UP);
    int n = 0;
    is_int(index_update(&ix, 1, IV_1M, 0, 60000, 0, 2.5, 1, on_count, &n), 1,
           "a late value counts the subscription it reaches");
    is_int(n, 0, "but reports none");
    is_int(index_update(&ix, 1, IV_1M, 0, 60000, 0, 2.5, 0, on_count, &n), 1,
           "a fresh value of the same candle still reaches it");
    is_int(index_update(&ix, 1, IV_1M, 0, 60000, 0, 3.5, 0, on_count, &n), 0,
           "and then not again on that candle");
    is_int(index_update(&ix, 1, IV_1M, 0, 0, 0, 3.5, 0, on_count, &n), 1,
           "a value of an older candle is matched whole");
    is_int(index_update(&ix, 1, IV_1M, 0, 60000, 0, 3.6, 0, on_count, &n), 0,
           "without moving the current candle's watermark back");
    is_int(index_update(&ix, 1, IV_1M, 0, 120000, 0, 2.1, 0, on_count, &n), 1,
           "a new candle re-arms it");

    /* a price level is compared exactly: 65000.003 is not reached by
     * 65000.001 (single floats round both to 65000.0) */
    struct index px;
    index_init(&px, INDEX_LEVEL);
    index_add(&px, 1, 0, IV_1M, INDEX_FORMING, 65000.003, 9, INDEX_UP);
    n = 0;
    is_int(index_update(&px, 1, IV_1M, 0, 60000, 0, 65000.001, 0, on_count, &n), 0,
           "a price a hair under the level does not reach it");
    is_int(index_update(&px, 1, IV_1M, 0, 60000, 0, 65000.003, 0, on_count, &n), 1,
           "the level itself does");
    index_free(&px);

    /* a long bulk-loaded list is sorted by index_sort (counting hundredths) */
    struct index big;
    index_init(&big, INDEX_MOVE);
    for (int i = 0; i < 20000; i++)
        index_expect(&big, 0, 100, IV_5M, INDEX_FORMING, INDEX_UP | INDEX_DOWN);
    index_expect(&big, 0, 100, IV_5M, INDEX_FORMING, INDEX_UP | INDEX_DOWN);
    index_reserve(&big);
    for (int i = 0; i < 20000; i++)
        index_add(&big, 0, 100, IV_5M, INDEX_FORMING, (double)(10 + (i * 7919) % 9990) / 100.0,
                  (uint32_t)i, INDEX_UP | INDEX_DOWN);
    index_add(&big, 0, 100, IV_5M, INDEX_FORMING, 1.2345, 20000,
              INDEX_UP | INDEX_DOWN);   /* not hundredths */
    index_sort(&big);
    const struct index_list *bl = &big.groups[IV_5M][INDEX_FORMING][0].l[0];
    int sorted = bl->n == 20001 && !bl->unsorted, want5 = 1;
    for (uint32_t i = 1; i < bl->n; i++)
        sorted &= bl->v[i - 1].key <= bl->v[i].key;
    ok(sorted, "a bulk-loaded top-N list of 20,001 is sorted in place");
    for (int i = 0; i < 20000; i++)
        want5 += (double)(10 + (i * 7919) % 9990) / 100.0 <= 5.0;
    n = 0;
    index_update(&big, 3, IV_5M, 100, 1, 0, 5.0, 0, on_count, &n);
    is_int(n, want5, "a symbol ranked 100th reaches every threshold up to 5 %%");
    n = 0;
    index_update(&big, 4, IV_5M, 101, 1, 0, 5.0, 0, on_count, &n);
    is_int(n, 0, "one ranked 101st none");
    index_free(&big);

    /* keys a hair off a hundredth are not counted as it (bucketed with
     * 1.00, they were left out of order and the search missed them) */
    struct index hair;
    index_init(&hair, INDEX_MOVE);
    for (int i = 0; i < 600; i++)
        index_expect(&hair, 0, 10, IV_5M, INDEX_FORMING, INDEX_UP);
    index_reserve(&hair);
    for (int i = 0; i < 600; i++)
        index_add(&hair, 0, 10, IV_5M, INDEX_FORMING, i % 2 ? 1.0 : 1.000005, (uint32_t)i,
                  INDEX_UP);
    index_sort(&hair);
    n = 0;
    index_update(&hair, 3, IV_5M, 1, 1, 0, 1.0000001, 0, on_count, &n);
    is_int(n, 300, "a value between 1.0 and 1.000005 reaches the 300 thresholds of 1.0");
    /* a running add goes in place: the list stays sorted */
    index_add(&hair, 0, 10, IV_5M, INDEX_FORMING, 0.5, 600, INDEX_UP);
    const struct index_list *hl = &hair.groups[IV_5M][INDEX_FORMING][0].l[1];
    int in_order = hl->n == 601 && !hl->unsorted;
    for (uint32_t i = 1; i < hl->n; i++)
        in_order &= hl->v[i - 1].key <= hl->v[i].key;
    ok(in_order, "a threshold added while running is put in its place (no sort on the next event)");
    index_free(&hair);

    is_int(index_add(&ix, 1, 0, IV_COUNT, INDEX_FORMING, 1.0, 1, INDEX_UP), -1,
           "an unknown interval is refused");
    is_int(index_add(&ix, 1, 0, IV_1M, INDEX_FORMING, NAN, 1, INDEX_UP), -1,
           "a threshold that is not a number is refused");
    is_int(index_add(&ix, 1, 0, IV_1M, INDEX_FORMING, 1.0, INDEX_SUB_MAX + 1, INDEX_UP), -1,
           "an id too big for an entry is refused");
    is_int(index_count(&ix, 9999, 0, IV_1M, INDEX_FORMING), 0, "an unwatched symbol has no entries");
    index_free(&ix);
    return done();
}
