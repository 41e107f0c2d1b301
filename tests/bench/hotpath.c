/* make bench: the in-process hot path, frame text -> struct candle ->
 * candle store, on one core, over a buffer of realistic combined-stream
 * frames (400 symbols x 6 intervals, random-walk prices, 1 in 20 updates a
 * close), for each Binance venue (spot's with its 8 fixed decimals), with
 * the share of frames that left the fast path.  Printed beside a plain memchr pass over the same bytes: the
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
#include "market/symbols.h"

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

/* A buffer of n frames of one venue: USDⓈ-M's prices at a symbol's own
 * decimals and volumes at 3 and 5; spot's all at 8 fixed decimals, with
 * volumes spread over 10^0 .. 10^14 as spot's (a low-priced coin trades
 * 1e11 units and more: 20 digits and more with 8 decimals). */
struct frames {
    char *buf;
    size_t len, *starts;
};

static void build_frames(struct frames *fr, struct symtab *st, int venue, int n)
{
    char names[NSYM][16];
    double price[NSYM];
    int dp[NSYM];
    srand(42);
    for (int i = 0; i < NSYM; i++) {
        char q[32];
        snprintf(names[i], sizeof names[i], "%c%c%c%dUSDT", 'A' + i % 26, 'A' + (i / 26) % 26,
                 'A' + (i * 7) % 26, i);
        snprintf(q, sizeof q, "%s%s", venue_prefix(venue), names[i]);
        symtab_add(st, q, strlen(q));
        price[i] = exp((rand() % 1400) / 100.0 - 4);   /* 0.02 .. 20000 */
        dp[i] = venue == VENUE_SPOT ? 8 : price[i] > 1000 ? 2 : price[i] > 10 ? 3 : price[i] > 0.1 ? 5 : 7;
    }
    size_t cap = (size_t)n * 480, len = 0;
    char *buf = malloc(cap);
    size_t *starts = malloc(sizeof *starts * ((size_t)n + 1));
    int64_t t0 = 1767225600000LL;
    int vdp = venue == VENUE_SPOT ? 8 : 3, qdp = venue == VENUE_SPOT ? 8 : 5;
    for (int f = 0; f < n; f++) {
        int s = rand() % NSYM, iv = ivs[rand() % 6];
        int64_t ms = interval_ms(iv), event = t0 + f * 5LL;
        int64_t open = event / ms * ms;
        price[s] *= 1 + ((rand() % 2001) - 1000) / 1e6;
        double o = price[s] * 0.999, c = price[s], h = price[s] * 1.002, l = price[s] * 0.997;
        double vol = venue == VENUE_SPOT ? pow(10, (rand() % 1400) / 100.0) : 1000.0 + f % 977;
        double qv = venue == VENUE_SPOT ? vol * price[s] : 123456.789 + f;
        starts[f] = len;
        len += (size_t)snprintf(buf + len, cap - len,
            "{\"stream\":\"%s@kline_%s\",\"data\":{\"e\":\"kline\",\"E\":%lld,\"s\":\"%s\","
            "\"k\":{\"t\":%lld,\"T\":%lld,\"s\":\"%s\",\"i\":\"%s\",\"f\":%d,\"L\":%d,"
            "\"o\":\"%.*f\",\"c\":\"%.*f\",\"h\":\"%.*f\",\"l\":\"%.*f\",\"v\":\"%.*f\","
            "\"n\":%d,\"x\":%s,\"q\":\"%.*f\",\"V\":\"%.*f\",\"Q\":\"%.*f\",\"B\":\"0\"}}}\n",
            names[s], interval_name(iv), (long long)event, names[s], (long long)open,
            (long long)(open + ms - 1), names[s], interval_name(iv), f * 10, f * 10 + 9,
            dp[s], o, dp[s], c, dp[s], h, dp[s], l, vdp, vol, 100 + f % 50,
            rand() % 20 == 0 ? "true" : "false", qdp, qv, vdp, vol / 2, qdp, qv / 2);
        /* the stream name is lower case on the wire */
        for (char *p = buf + starts[f] + 11; *p != '@'; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
    }
    starts[n] = len;
    fr->buf = buf;
    fr->len = len;
    fr->starts = starts;
}

/* Frames a second over the buffer (median of the trials), the frames
 * refused (*bad) and those that left the fast path (*slow, one round). */
static double run(const struct frames *fr, const struct symtab *st, int venue, long fixed_rounds,
                  long *bad, long *slow, long *closed, long *rounds, double trial[TRIALS])
{
    struct candles cs;
    candles_init(&cs, 200);
    struct candle c;
    struct frame_info fi;
    int ntrials = fixed_rounds ? 1 : TRIALS;
    *bad = *slow = 0;
    for (int k = 0; k < ntrials; k++) {
        long r = 0;
        double t = now_s(), el;
        do {
            for (int f = 0; f < NFRAMES; f++) {
                if (kline_parse_in(fr->buf + fr->starts[f], fr->starts[f + 1] - fr->starts[f] - 1,
                                   st, venue, &c, &fi) != FRAME_KLINE) {
                    (*bad)++;
                    continue;
                }
                if (r == 0 && k == 0)
                    *slow += fi.slow;
                *closed += candles_apply(&cs, &c) == CANDLE_CLOSED;
            }
            r++;
            el = now_s() - t;
        } while (fixed_rounds ? r < fixed_rounds : el < 1.0);
        trial[k] = (double)r * NFRAMES / el;
        *rounds += r;
    }
    qsort(trial, (size_t)ntrials, sizeof *trial, by_value);
    candles_free(&cs);
    return trial[ntrials / 2];
}

int main(int argc, char **argv)
{
    /* an argument fixes the number of rounds (for callgrind, which is too
     * slow for the timed loop) */
    long fixed_rounds = argc > 1 ? atol(argv[1]) : 0;
    int ntrials = fixed_rounds ? 1 : TRIALS;
    struct symtab st;
    symtab_init(&st);
    struct frames usdm, spot;
    build_frames(&usdm, &st, VENUE_USDM, NFRAMES);
    build_frames(&spot, &st, VENUE_SPOT, NFRAMES);
    printf("buffer: %d frames, %.1f MB, %.0f bytes/frame\n", NFRAMES, usdm.len / 1e6,
           (double)usdm.len / NFRAMES);

    long bad = 0, slow = 0, closed = 0, rounds = 0;
    /* five trials of a second each, reported by their median: the machine
     * is shared, and single runs vary by a third */
    double trial[TRIALS];
    double rate = run(&usdm, &st, VENUE_USDM, fixed_rounds, &bad, &slow, &closed, &rounds, trial);
    double slowest = trial[0], fastest = trial[ntrials - 1];
    long sbad = 0, sslow = 0, sclosed = 0, srounds = 0;
    double srate = run(&spot, &st, VENUE_SPOT, fixed_rounds, &sbad, &sslow, &sclosed, &srounds,
                       trial);

    volatile size_t sink = 0;
    long mrounds = 0;
    double t = now_s(), el;
    do {
        sink += (size_t)(memchr(usdm.buf, '\x01', usdm.len) == NULL);
        mrounds++;
        el = now_s() - t;
    } while (el < 1.0);
    double mrate = (double)mrounds * NFRAMES / el;

    if (bad || sbad) {   /* a rate over refused frames would measure the wrong thing */
        fprintf(stderr, "hotpath: %ld frames were refused; no rate reported\n", bad + sbad);
        return 1;
    }
    printf("hot path (parse + candle store), 1 core: %.0f messages/s (%.0f MB/s), median of %d"
           " trials (slowest %.0f, fastest %.0f)\n", rate, rate * usdm.len / NFRAMES / 1e6,
           ntrials, slowest, fastest);
    printf("memchr over the same buffer:             %.0f messages/s (%.0f MB/s)\n", mrate,
           mrate * usdm.len / NFRAMES / 1e6);
    printf("hot path / memchr: %.3f\n", rate / mrate);
    printf("target >= %.0f messages/s: %s\n", TARGET, rate >= TARGET ? "met" : "MISSED");
    printf("(dropped %ld, closes %ld, %ld rounds)\n", bad, closed, rounds);
    /* per venue: the rate, and the share of well-formed frames that left
     * the fast path for the general walker (goal: none) */
    printf("venue binance_usdm: %.0f frames/s, %.0f bytes/frame, off the fast path %ld of %d "
           "(%.2f %%)\n", rate, (double)usdm.len / NFRAMES, slow, NFRAMES, 100.0 * slow / NFRAMES);
    printf("venue binance_spot: %.0f frames/s, %.0f bytes/frame, off the fast path %ld of %d "
           "(%.2f %%)\n", srate, (double)spot.len / NFRAMES, sslow, NFRAMES,
           100.0 * sslow / NFRAMES);
    symtab_free(&st);
    free(usdm.buf);
    free(usdm.starts);
    free(spot.buf);
    free(spot.starts);
    (void)sclosed;
    (void)srounds;
    return 0;
}
