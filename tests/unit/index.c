/* The subscription index: what it fires equals a brute-force scan, for
 * random subscriptions and moves, including exactly-at-threshold moves,
 * removals and additions after matching. */
#include <stdlib.h>

#include "alert/index.h"
#include "util/interval.h"
#include "tap.h"

#define NSUB 5000

struct sub {
    uint32_t sym;
    int iv, dir, trig, live;
    float thr;
};

static struct sub subs[NSUB];
static unsigned char fired[NSUB];

static void on_fire(void *ud, uint32_t sub, float thr)
{
    (void)thr;
    (*(int *)ud)++;
    fired[sub]++;
}

static void on_count(void *ud, uint32_t sub, float threshold)
{
    (void)sub;
    (void)threshold;
    (*(int *)ud)++;
}

/* Compares one query against the truth; 1 when equal. */
static int check(struct index *ix, uint32_t sym, int iv, int dir, int trig, float move)
{
    int n = 0;
    memset(fired, 0, sizeof fired);
    size_t got = index_match(ix, sym, iv, dir, trig, move, on_fire, &n);
    if ((int)got != n)
        return 0;
    for (int i = 0; i < NSUB; i++) {
        const struct sub *s = &subs[i];
        int want = s->live && s->sym == sym && s->iv == iv && s->dir == dir && s->trig == trig &&
                   s->thr <= move;
        if (fired[i] != want)
            return 0;
    }
    return 1;
}

int main(void)
{
    struct index ix;
    index_init(&ix);
    srand(7);
    int added = 1;
    for (int i = 0; i < NSUB; i++) {
        struct sub *s = &subs[i];
        s->sym = (uint32_t)(rand() % 40);
        s->iv = rand() % 3 == 0 ? IV_1M : IV_5M;
        s->dir = rand() % 2;
        s->trig = rand() % 4 == 0;
        s->thr = (float)(10 + rand() % 500) / 100.0f;   /* 0.10 .. 5.09 % */
        s->live = 1;
        added &= index_add(&ix, s->sym, s->iv, s->dir, s->trig, s->thr, (uint32_t)i) == 0;
    }
    ok(added, "5,000 subscriptions added");
    int good = 1, queries = 0;
    for (int q = 0; q < 3000; q++) {
        uint32_t sym = (uint32_t)(rand() % 42);   /* some symbols nobody watches */
        int iv = rand() % 2 ? IV_1M : IV_5M, dir = rand() % 2, trig = rand() % 2;
        float move = (float)(rand() % 600) / 100.0f;
        good &= check(&ix, sym, iv, dir, trig, move);
        queries++;
    }
    ok(good, "%d random moves fire exactly the subscriptions a scan finds", queries);

    /* exactly at the threshold fires; just under does not */
    int at = 1;
    for (int i = 0; i < 200; i++) {
        const struct sub *s = &subs[i];
        at &= check(&ix, s->sym, s->iv, s->dir, s->trig, s->thr);
        int n = 0;
        memset(fired, 0, sizeof fired);
        index_match(&ix, s->sym, s->iv, s->dir, s->trig, s->thr, on_fire, &n);
        at &= fired[i] == 1;
        memset(fired, 0, sizeof fired);
        index_match(&ix, s->sym, s->iv, s->dir, s->trig, s->thr - 0.001f, on_fire, &n);
        at &= fired[i] == 0;
    }
    ok(at, "a move exactly at a threshold fires it, one just under does not");

    /* removals and later additions keep it exact */
    int removed = 0;
    for (int i = 0; i < NSUB; i += 3) {
        removed += index_remove(&ix, subs[i].sym, subs[i].iv, subs[i].dir, subs[i].trig, (uint32_t)i);
        subs[i].live = 0;
    }
    is_int(removed, (NSUB + 2) / 3, "every third subscription removed");
    is_int(index_remove(&ix, subs[0].sym, subs[0].iv, subs[0].dir, subs[0].trig, 0), 0,
           "removing it again finds nothing");
    for (int i = 0; i < NSUB; i += 6) {
        subs[i].thr = 0.05f;
        subs[i].live = 1;
        index_add(&ix, subs[i].sym, subs[i].iv, subs[i].dir, subs[i].trig, 0.05f, (uint32_t)i);
    }
    good = 1;
    for (int q = 0; q < 2000; q++) {
        uint32_t sym = (uint32_t)(rand() % 40);
        int iv = rand() % 2 ? IV_1M : IV_5M, dir = rand() % 2, trig = rand() % 2;
        good &= check(&ix, sym, iv, dir, trig, (float)(rand() % 600) / 100.0f);
    }
    ok(good, "after removals and re-additions it still equals the scan");
    /* a bulk load sorted by index_sort (counting hundredths for long lists)
     * matches like one sorted on first use */
    struct index big;
    index_init(&big);
    for (int i = 0; i < 20000; i++)
        index_add(&big, 3, IV_5M, INDEX_UP, INDEX_FORMING,
                  (float)(10 + (i * 7919) % 9990) / 100.0f, (uint32_t)i);
    index_add(&big, 3, IV_5M, INDEX_UP, INDEX_FORMING, 1.2345f, 20000);   /* not hundredths */
    index_add(&big, 4, IV_5M, INDEX_UP, INDEX_FORMING, 2.5f, 1);
    index_sort(&big);
    int sorted = 1, want5 = 1;   /* (1.2345 %) */
    for (int i = 0; i < 20000; i++)
        want5 += (float)(10 + (i * 7919) % 9990) / 100.0f <= 5.0f;
    const struct index_list *bl = NULL;
    for (size_t i = 0; i < (size_t)big.nsym * IV_COUNT * 4; i++)
        if (big.lists[i].n == 20001)
            bl = &big.lists[i];
    for (uint32_t i = 1; bl && i < bl->n; i++)
        sorted &= bl->v[i - 1].threshold <= bl->v[i].threshold;
    ok(bl && sorted && !bl->unsorted, "a bulk-loaded list of 20,001 is sorted in place");
    int n5 = 0;
    index_match(&big, 3, IV_5M, INDEX_UP, INDEX_FORMING, 5.0f, on_count, &n5);
    is_int(n5, want5, "and matched by binary search: every threshold up to 5 %%");
    index_free(&big);
    is_int(index_add(&ix, 1, IV_1M, INDEX_UP, INDEX_FORMING, 0.0f, 1), -1, "a zero threshold is refused");
    is_int(index_add(&ix, 1, IV_COUNT, INDEX_UP, INDEX_FORMING, 1.0f, 1), -1, "an unknown interval is refused");
    is_int(index_count(&ix, 9999, IV_1M, INDEX_UP, INDEX_FORMING), 0, "an unwatched symbol has no entries");
    index_free(&ix);
    return done();
}
