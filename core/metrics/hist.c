#include "metrics/hist.h"

#include <time.h>

const double hist_bounds[HIST_BUCKETS] = {1e-5, 2.5e-5, 1e-4, 2.5e-4, 1e-3, 2.5e-3, 0.01,
                                          0.025, 0.1, 0.25, 1, 2.5, 10, 30};

void hist_observe(struct hist *h, double seconds)
{
    int b = 0;
    while (b < HIST_BUCKETS && seconds > hist_bounds[b])
        b++;
    if (b < HIST_BUCKETS)   /* (beyond the last bound: only in +Inf, via n) */
        h->counts[b]++;
    h->n++;
    h->sum += seconds;
}

double hist_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void hist_max_observe(struct hist_max *m, double seconds, double now)
{
    if (now - m->start >= HIST_MAX_WINDOW) {   /* a new window */
        m->prev = now - m->start < 2 * HIST_MAX_WINDOW ? m->cur : 0;
        m->cur = 0;
        m->start = now;
    }
    if (seconds > m->cur)
        m->cur = seconds;
}

double hist_max_get(const struct hist_max *m, double now)
{
    double age = now - m->start;
    if (age >= 2 * HIST_MAX_WINDOW)
        return 0;
    if (age >= HIST_MAX_WINDOW)   /* (the current window is the last one now) */
        return m->cur;
    return m->cur > m->prev ? m->cur : m->prev;
}
