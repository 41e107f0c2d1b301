/* The timer heap: order, ties, cancellation, timers added while firing. */
#include <stdlib.h>

#include "loop/timers.h"
#include "tap.h"

static char trace[256];

static void mark(void *ud)
{
    size_t n = strlen(trace);
    trace[n] = *(const char *)ud;
    trace[n + 1] = '\0';
}

static struct timers *g_ts;   /* for the re-adding callback below */

static void readd(void *ud)
{
    mark(ud);
    timers_add(g_ts, 5, mark, "z");
}

int main(void)
{
    struct timers ts;
    timers_init(&ts);
    g_ts = &ts;

    ok(timers_next(&ts) == UINT64_MAX, "an empty heap has no deadline");
    timers_add(&ts, 30, mark, "c");
    timers_add(&ts, 10, mark, "a");
    timers_add(&ts, 20, mark, "b");
    timers_add(&ts, 10, mark, "A");
    is_int(timers_next(&ts), 10, "the earliest deadline is first");
    is_int(timers_run_due(&ts, 15), 2, "two timers are due at 15");
    is_str(trace, "aA", "due timers fire in deadline order, ties in insertion order");
    timers_run_due(&ts, 100);
    is_str(trace, "aAbc", "the rest fire later in order");

    trace[0] = '\0';
    struct timer *t1 = timers_add(&ts, 50, mark, "x");
    timers_add(&ts, 60, mark, "y");
    struct timer *t3 = timers_add(&ts, 40, mark, "w");
    timers_cancel(&ts, t1);
    timers_cancel(&ts, t3);
    timers_run_due(&ts, 1000);
    is_str(trace, "y", "cancelled timers never fire");

    trace[0] = '\0';
    timers_add(&ts, 1, readd, "r");
    is_int(timers_run_due(&ts, 10), 1, "a timer added by a callback does not run in the same call");
    is_str(trace, "r", "(so a callback that re-adds itself at 'now' cannot spin one call for ever)");
    is_int(timers_run_due(&ts, 10), 1, "it runs on the next call");
    is_str(trace, "rz", "in order");

    /* many timers: the heap keeps its order */
    trace[0] = '\0';
    int fired = 0;
    for (int i = 0; i < 1000; i++)
        timers_add(&ts, (uint64_t)((i * 7919) % 1000) + 2000, mark, "m");
    uint64_t last = 0;
    int sorted = 1;
    while (timers_next(&ts) != UINT64_MAX) {
        uint64_t next = timers_next(&ts);
        if (next < last)
            sorted = 0;
        last = next;
        trace[0] = '\0';
        fired += timers_run_due(&ts, next);
    }
    is_int(fired, 1000, "all 1000 timers fire");
    ok(sorted, "deadlines come out in order");
    timers_free(&ts);
    return done();
}
