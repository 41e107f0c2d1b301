/* A latency histogram with fixed buckets (10 µs .. 10 s), cheap enough to
 * observe on every alert and every commit.  Written out by prom.h. */
#ifndef CW_METRICS_HIST_H
#define CW_METRICS_HIST_H

#include <stdint.h>

#define HIST_BUCKETS 14

struct hist {
    uint64_t counts[HIST_BUCKETS];   /* per bucket, not cumulative */
    uint64_t n;
    double sum;                      /* seconds */
};

/* The buckets' upper bounds, in seconds. */
extern const double hist_bounds[HIST_BUCKETS];

void hist_observe(struct hist *h, double seconds);
/* A monotonic clock in seconds, for timing what is observed. */
double hist_clock(void);

/* The largest value observed in the last 10 to 20 s (two 10 s windows):
 * a gauge of rare stalls, whose length the buckets above only bound. */
#define HIST_MAX_WINDOW 10.0
struct hist_max {
    double cur, prev;                /* the current window's largest, the last one's */
    double start;                    /* hist_clock() when the current window began */
};

void hist_max_observe(struct hist_max *m, double seconds, double now);
double hist_max_get(const struct hist_max *m, double now);

#endif
