/* make bench: the indicator module's cost, per kind with its default
 * parameters, over 3,200 series (400 symbols x 8 intervals, each its own
 * state, visited in turn as a feed would): ns per closed candle
 * (ind_push_closed) and per forming update (ind_peek_forming), median of a
 * few trials, on random-walk candles.  Numbers only; nothing here asserts
 * a time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "indicator/indicator.h"

#define NSERIES 3200
#define NBARS 256    /* distinct candles, reused round after round */
#define ROUNDS 200
#define TRIALS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct ind_bar bars[NBARS];
static volatile double sink;

static void make_bars(void)
{
    double price = 20000;
    srand(7);
    for (int i = 0; i < NBARS; i++) {
        double open = price;
        price *= 1 + ((double)rand() / RAND_MAX - 0.5) * 0.004;
        double hi = fmax(open, price) * (1 + (double)rand() / RAND_MAX * 0.001);
        double lo = fmin(open, price) * (1 - (double)rand() / RAND_MAX * 0.001);
        bars[i] = (struct ind_bar){hi, lo, price, 1 + (double)rand() / RAND_MAX * 500};
    }
}

/* ns per call of one pass over every series, push or peek. */
static double one_pass(struct ind **s, int round, int peek)
{
    double out[IND_MAXOUT], acc = 0;
    double t0 = now_s();
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NSERIES; i++) {
            const struct ind_bar *b = &bars[(round * ROUNDS + r + i) % NBARS];
            int n = peek ? ind_peek_forming(s[i], b, out) : ind_push_closed(s[i], b);
            if (peek && n)
                acc += out[0];
        }
    sink = acc;
    return (now_s() - t0) * 1e9 / ((double)ROUNDS * NSERIES);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

int main(void)
{
    static struct ind *s[NSERIES];
    double total_push = 0, total_peek = 0;
    make_bars();
    printf("%d series, default parameters; ns per update (median of %d):\n", NSERIES, TRIALS);
    printf("  %-14s %8s %8s %8s\n", "indicator", "closed", "forming", "bytes");
    for (int k = 0; k < IND_KIND_COUNT; k++) {
        struct ind_spec spec = {(enum ind_kind)k, 0, 0, 0, 0};
        for (int i = 0; i < NSERIES; i++)
            s[i] = ind_new(&spec);
        double push[TRIALS], peek[TRIALS];
        one_pass(s, 0, 0);   /* warm every series up first */
        for (int t = 0; t < TRIALS; t++) {
            push[t] = one_pass(s, t + 1, 0);
            peek[t] = one_pass(s, t + 1, 1);
        }
        double pu = median(push, TRIALS), pe = median(peek, TRIALS);
        total_push += pu;
        total_peek += pe;
        printf("  %-14s %8.1f %8.1f %8zu\n", ind_kind_name(spec.kind), pu, pe, ind_size(&spec));
        for (int i = 0; i < NSERIES; i++)
            ind_free(s[i]);
    }
    printf("  %-14s %8.1f %8.1f\n", "all ten", total_push, total_peek);
    /* An illustration, not a measurement of the feed: 3,200 streams with
     * about one forming update a second each, every kind live on each. */
    printf("every kind on every one of %d series at 1 forming update/s each: %.3f%% of one core\n",
           NSERIES, total_peek * NSERIES / 1e9 * 100);
    return 0;
}
