/* A min-heap of one-shot timers on a millisecond clock.
 *
 * The same heap runs under the real loop (one uv_timer armed for the
 * earliest deadline, see loop.c) and under the spec runner's simulated
 * clock (spec.advance steps through it), so timer behaviour is identical
 * in both.  Repeating timers re-add themselves from their callback.
 *
 *   struct timer *t = timers_add(&ts, now + 500, cb, ud);
 *   timers_cancel(&ts, t);          // t is freed; never touch it again
 *   timers_run_due(&ts, now);       // fires everything due, in order
 */
#ifndef CW_TIMERS_H
#define CW_TIMERS_H

#include <stddef.h>
#include <stdint.h>

struct timer;
typedef void (*timer_cb)(void *ud);

struct timers {
    struct timer **heap;
    size_t n, cap;
    uint64_t seq;                     /* ties fire in insertion order */
    void (*changed)(void *ud);        /* earliest deadline may have moved */
    void *changed_ud;
};

void timers_init(struct timers *ts);
void timers_free(struct timers *ts);
struct timer *timers_add(struct timers *ts, uint64_t due_ms, timer_cb cb, void *ud);
void timers_cancel(struct timers *ts, struct timer *t);
/* Earliest deadline, or UINT64_MAX when empty. */
uint64_t timers_next(const struct timers *ts);
/* Runs the timers due at or before now that existed when it was called
 * (ones they add run on a later call); returns how many ran. */
int timers_run_due(struct timers *ts, uint64_t now);

#endif
