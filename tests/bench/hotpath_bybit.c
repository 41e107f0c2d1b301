/* make bench: the hot path for Bybit linear's frames, frame text -> struct
 * candle -> candle store, on one core, over a buffer of pushes as Bybit
 * writes them (400 symbols x 6 intervals, random-walk prices printed
 * without trailing zeros, 1 in 20 updates a close; half the pushes in the
 * docs' key order, half in the order seen live: topic, type, ts, data).
 * Numbers only; nothing here asserts a time.  `hotpath_bybit N` runs
 * exactly N rounds, for instruction counts under callgrind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "market/bybit.h"
#include "market/candles.h"
#include "util/interval.h"

#define NSYM 400
#define NFRAMES 200000
#define TRIALS 5

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const int ivs[] = {IV_1M, IV_5M, IV_15M, IV_30M, IV_1H, IV_4H};

/* %.*f without the trailing zeros (and dot) Bybit leaves out */
static const char *bybit_num(char *out, size_t cap, int dp, double v)
{
    snprintf(out, cap, "%.*f", dp, v);
    char *e = out + strlen(out);
    if (strchr(out, '.')) {
        while (e[-1] == '0')
            *--e = '\0';
        if (e[-1] == '.')
            e[-1] = '\0';
    }
    return out;
}

static struct symtab st;
static struct candles cs;
static long closed;

/* (as the venue looks them up: bybit:NAME by its local name) */
static int find(const void *ud, const char *name, size_t n)
{
    return symtab_find_in(ud, VENUE_BYBIT, name, n);
}

static void apply(void *ud, const struct candle *c)
{
    (void)ud;
    closed += candles_apply(&cs, c) == CANDLE_CLOSED;
}

static size_t make_frames(char *buf, size_t cap, size_t *starts)
{
    char names[NSYM][16];
    double price[NSYM];
    int dp[NSYM];
    size_t len = 0;
    srand(42);
    for (int i = 0; i < NSYM; i++) {
        snprintf(names[i], sizeof names[i], "%c%c%c%dUSDT", 'A' + i % 26, 'A' + (i / 26) % 26,
                 'A' + (i * 7) % 26, i);
        symtab_add_in(&st, VENUE_BYBIT, names[i], strlen(names[i]));
        price[i] = exp((rand() % 1400) / 100.0 - 4);   /* 0.02 .. 20000 */
        dp[i] = price[i] > 1000 ? 1 : price[i] > 10 ? 3 : price[i] > 0.1 ? 4 : 6;
    }
    int64_t t0 = 1767225600000LL;
    for (int f = 0; f < NFRAMES; f++) {
        int s = rand() % NSYM, iv = ivs[rand() % 6];
        int64_t ms = interval_ms(iv), ts = t0 + f * 5LL, open = ts / ms * ms;
        price[s] *= 1 + ((rand() % 2001) - 1000) / 1e6;
        char o[32], c[32], h[32], l[32], v[32], q[32], data[512];
        bybit_num(o, sizeof o, dp[s], price[s] * 0.999);
        bybit_num(c, sizeof c, dp[s], price[s]);
        bybit_num(h, sizeof h, dp[s], price[s] * 1.002);
        bybit_num(l, sizeof l, dp[s], price[s] * 0.997);
        bybit_num(v, sizeof v, 3, 1000.0 + f % 977);
        bybit_num(q, sizeof q, 4, 123456.789 + f);
        snprintf(data, sizeof data,
                 "[{\"start\":%lld,\"end\":%lld,\"interval\":\"%s\",\"open\":\"%s\","
                 "\"close\":\"%s\",\"high\":\"%s\",\"low\":\"%s\",\"volume\":\"%s\","
                 "\"turnover\":\"%s\",\"confirm\":%s,\"timestamp\":%lld}]",
                 (long long)open, (long long)(open + ms - 1), bybit_interval_name(iv), o, c, h, l,
                 v, q, rand() % 20 == 0 ? "true" : "false", (long long)ts);
        starts[f] = len;
        if (f % 2)
            len += (size_t)snprintf(buf + len, cap - len,
                                    "{\"topic\":\"kline.%s.%s\",\"data\":%s,\"ts\":%lld,"
                                    "\"type\":\"snapshot\"}\n",
                                    bybit_interval_name(iv), names[s], data, (long long)ts);
        else
            len += (size_t)snprintf(buf + len, cap - len,
                                    "{\"topic\":\"kline.%s.%s\",\"type\":\"snapshot\",\"ts\":%lld,"
                                    "\"data\":%s}\n",
                                    bybit_interval_name(iv), names[s], (long long)ts, data);
    }
    starts[NFRAMES] = len;
    return len;
}

int main(int argc, char **argv)
{
    long fixed_rounds = argc > 1 ? atol(argv[1]) : 0;
    symtab_init(&st);
    size_t cap = (size_t)NFRAMES * 420;
    char *buf = malloc(cap);
    size_t *starts = malloc(sizeof *starts * (NFRAMES + 1));
    size_t len = make_frames(buf, cap, starts);
    printf("buffer: %d Bybit pushes, %.1f MB, %.0f bytes/frame\n", NFRAMES, len / 1e6,
           (double)len / NFRAMES);
    candles_init(&cs, 200);
    struct bybit_info bi;
    long bad = 0, rounds = 0, slow = 0;
    double trial[TRIALS];
    int ntrials = fixed_rounds ? 1 : TRIALS;
    for (int k = 0; k < ntrials; k++) {
        long r = 0;
        double t = now_s(), el;
        do {
            for (int f = 0; f < NFRAMES; f++)
                if (bybit_parse(buf + starts[f], starts[f + 1] - starts[f] - 1, find, &st, apply,
                                NULL, &bi) != BYBIT_KLINE)
                    bad++;
                else if (k == 0 && r == 0)
                    slow += bi.slow;
            r++;
            el = now_s() - t;
        } while (fixed_rounds ? r < fixed_rounds : el < 1.0);
        trial[k] = (double)r * NFRAMES / el;
        rounds += r;
    }
    qsort(trial, (size_t)ntrials, sizeof *trial, by_value);
    if (bad) {
        fprintf(stderr, "hotpath_bybit: %ld frames were refused; no rate reported\n", bad);
        return 1;
    }
    double rate = trial[ntrials / 2];
    printf("Bybit linear hot path (parse + candle store), 1 core: %.0f messages/s (%.0f MB/s), "
           "median of %d trials (slowest %.0f, fastest %.0f)\n",
           rate, rate * len / NFRAMES / 1e6, ntrials, trial[0], trial[ntrials - 1]);
    /* the frames the fast path left to the general walker (goal: none) */
    printf("venue bybit_linear: %.0f frames/s, %.0f bytes/frame, off the fast path %ld of %d "
           "(%.2f %%)\n", rate, (double)len / NFRAMES, slow, NFRAMES, 100.0 * slow / NFRAMES);
    printf("(closes %ld, %ld rounds)\n", closed, rounds);
    candles_free(&cs);
    symtab_free(&st);
    free(buf);
    free(starts);
    return 0;
}
