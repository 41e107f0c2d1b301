/* make bench: the in-process hot path, frame text -> struct candle ->
 * candle store, on one core, over a buffer of realistic combined-stream
 * frames (400 symbols x 6 intervals, random-walk prices, 1 in 20 updates a
 * close).  Printed beside a plain memchr pass over the same bytes: the
 * memory-bandwidth floor.  Numbers only; nothing here asserts a time.
 * `hotpath N` runs exactly N rounds, for instruction counts under callgrind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "market/candles.h"
#include "util/interval.h"
#include "market/kline.h"

#define NSYM 400
#define NFRAMES 200000
#define TARGET 4000000.0
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

int main(int argc, char **argv)
{
    /* an argument fixes the number of rounds (for callgrind, which is too
     * slow for the timed loop) */
    long fixed_rounds = argc > 1 ? atol(argv[1]) : 0;
    struct symtab st;
    symtab_init(&st);
    char names[NSYM][16];
    double price[NSYM];
    int dp[NSYM];
    srand(42);
    for (int i = 0; i < NSYM; i++) {
        snprintf(names[i], sizeof names[i], "%c%c%c%dUSDT", 'A' + i % 26, 'A' + (i / 26) % 26,
                 'A' + (i * 7) % 26, i);
        symtab_add(&st, names[i], strlen(names[i]));
        price[i] = exp((rand() % 1400) / 100.0 - 4);   /* 0.02 .. 20000 */
        dp[i] = price[i] > 1000 ? 2 : price[i] > 10 ? 3 : price[i] > 0.1 ? 5 : 7;
    }
    size_t cap = (size_t)NFRAMES * 420, len = 0;
    char *buf = malloc(cap);
    size_t *starts = malloc(sizeof *starts * (NFRAMES + 1));
    int64_t t0 = 1767225600000LL;
    for (int f = 0; f < NFRAMES; f++) {
        int s = rand() % NSYM, iv = ivs[rand() % 6];
        int64_t ms = interval_ms(iv), event = t0 + f * 5LL;
        int64_t open = event / ms * ms;
        price[s] *= 1 + ((rand() % 2001) - 1000) / 1e6;
        double o = price[s] * 0.999, c = price[s], h = price[s] * 1.002, l = price[s] * 0.997;
        starts[f] = len;
        len += (size_t)snprintf(buf + len, cap - len,
            "{\"stream\":\"%s@kline_%s\",\"data\":{\"e\":\"kline\",\"E\":%lld,\"s\":\"%s\","
            "\"k\":{\"t\":%lld,\"T\":%lld,\"s\":\"%s\",\"i\":\"%s\",\"f\":%d,\"L\":%d,"
            "\"o\":\"%.*f\",\"c\":\"%.*f\",\"h\":\"%.*f\",\"l\":\"%.*f\",\"v\":\"%.3f\","
            "\"n\":%d,\"x\":%s,\"q\":\"%.5f\",\"V\":\"%.3f\",\"Q\":\"%.5f\",\"B\":\"0\"}}}\n",
            names[s], interval_name(iv), (long long)event, names[s], (long long)open,
            (long long)(open + ms - 1), names[s], interval_name(iv), f * 10, f * 10 + 9,
            dp[s], o, dp[s], c, dp[s], h, dp[s], l, 1000.0 + f % 977, 100 + f % 50,
            rand() % 20 == 0 ? "true" : "false", 123456.789 + f, 500.5, 61728.39);
        /* the stream name is lower case on the wire */
        for (char *p = buf + starts[f] + 11; *p != '@'; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
    }
    starts[NFRAMES] = len;
    /* symbols are upper case in payloads: re-upper the stream part only */
    printf("buffer: %d frames, %.1f MB, %.0f bytes/frame\n", NFRAMES, len / 1e6,
           (double)len / NFRAMES);

    struct candles cs;
    candles_init(&cs, 200);
    struct candle c;
    struct frame_info fi;
    long bad = 0, closed = 0, rounds = 0;
    /* five trials of a second each, reported by their median: the machine
     * is shared, and single runs vary by a third */
    double trial[TRIALS];
    int ntrials = fixed_rounds ? 1 : TRIALS;
    for (int k = 0; k < ntrials; k++) {
        long r = 0;
        double t = now_s(), el;
        do {
            for (int f = 0; f < NFRAMES; f++) {
                if (kline_parse(buf + starts[f], starts[f + 1] - starts[f] - 1, &st, &c, &fi) !=
                    FRAME_KLINE) {
                    bad++;
                    continue;
                }
                closed += candles_apply(&cs, &c) == CANDLE_CLOSED;
            }
            r++;
            el = now_s() - t;
        } while (fixed_rounds ? r < fixed_rounds : el < 1.0);
        trial[k] = (double)r * NFRAMES / el;
        rounds += r;
    }
    qsort(trial, (size_t)ntrials, sizeof *trial, by_value);
    double rate = trial[ntrials / 2];

    volatile size_t sink = 0;
    long mrounds = 0;
    double t = now_s(), el;
    do {
        sink += (size_t)(memchr(buf, '\x01', len) == NULL);
        mrounds++;
        el = now_s() - t;
    } while (el < 1.0);
    double mrate = (double)mrounds * NFRAMES / el;

    if (bad) {   /* a rate over refused frames would measure the wrong thing */
        fprintf(stderr, "hotpath: %ld frames were refused; no rate reported\n", bad);
        return 1;
    }
    printf("hot path (parse + candle store), 1 core: %.0f messages/s (%.0f MB/s), median of %d"
           " trials (slowest %.0f, fastest %.0f)\n", rate, rate * len / NFRAMES / 1e6, ntrials,
           trial[0], trial[ntrials - 1]);
    printf("memchr over the same buffer:             %.0f messages/s (%.0f MB/s)\n", mrate,
           mrate * len / NFRAMES / 1e6);
    printf("hot path / memchr: %.3f\n", rate / mrate);
    printf("target >= %.0f messages/s: %s\n", TARGET, rate >= TARGET ? "met" : "MISSED");
    printf("(dropped %ld, closes %ld, %ld rounds)\n", bad, closed, rounds);
    candles_free(&cs);
    symtab_free(&st);
    free(buf);
    free(starts);
    return 0;
}
