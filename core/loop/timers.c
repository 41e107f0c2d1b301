#include "loop/timers.h"
#include "util/grow.h"

#include <stdlib.h>

struct timer {
    uint64_t due, seq;
    size_t idx;
    timer_cb cb;
    void *ud;
};

void timers_init(struct timers *ts)
{
    *ts = (struct timers){0};
}

void timers_free(struct timers *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        free(ts->heap[i]);
    free(ts->heap);
    *ts = (struct timers){0};
}

static int before(const struct timer *a, const struct timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(struct timers *ts, size_t i, struct timer *t)
{
    ts->heap[i] = t;
    t->idx = i;
}

static void sift_up(struct timers *ts, size_t i)
{
    struct timer *t = ts->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(t, ts->heap[parent]))
            break;
        place(ts, i, ts->heap[parent]);
        i = parent;
    }
    place(ts, i, t);
}

static void sift_down(struct timers *ts, size_t i)
{
    struct timer *t = ts->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ts->n)
            break;
        if (c + 1 < ts->n && before(ts->heap[c + 1], ts->heap[c]))
            c++;
        if (!before(ts->heap[c], t))
            break;
        place(ts, i, ts->heap[c]);
        i = c;
    }
    place(ts, i, t);
}

static void notify(struct timers *ts)
{
    if (ts->changed)
        ts->changed(ts->changed_ud);
}

struct timer *timers_add(struct timers *ts, uint64_t due_ms, timer_cb cb, void *ud)
{
    struct timer **h = grow_from(ts->heap, &ts->cap, ts->n + 1, sizeof *h, 64);
    if (!h)
        return NULL;
    ts->heap = h;
    struct timer *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    *t = (struct timer){.due = due_ms, .seq = ts->seq++, .cb = cb, .ud = ud};
    ts->heap[ts->n++] = t;
    sift_up(ts, ts->n - 1);
    if (ts->heap[0] == t)
        notify(ts);
    return t;
}

static void remove_at(struct timers *ts, size_t i)
{
    struct timer *last = ts->heap[--ts->n];
    if (i < ts->n) {
        place(ts, i, last);
        sift_down(ts, i);
        sift_up(ts, last->idx);
    }
}

void timers_cancel(struct timers *ts, struct timer *t)
{
    if (!t)
        return;
    int was_first = t->idx == 0;
    remove_at(ts, t->idx);
    free(t);
    if (was_first)
        notify(ts);
}

uint64_t timers_next(const struct timers *ts)
{
    return ts->n ? ts->heap[0]->due : UINT64_MAX;
}

int timers_run_due(struct timers *ts, uint64_t now)
{
    int ran = 0;
    /* Only timers that existed on entry: a callback that adds a timer due
     * now (timer.after(0) in a loop) must not keep this call going. */
    uint64_t limit = ts->seq;
    while (ts->n && ts->heap[0]->due <= now && ts->heap[0]->seq < limit) {
        struct timer *t = ts->heap[0];
        remove_at(ts, 0);
        timer_cb cb = t->cb;
        void *ud = t->ud;
        free(t);
        cb(ud);
        ran++;
    }
    if (ran)
        notify(ts);
    return ran;
}
