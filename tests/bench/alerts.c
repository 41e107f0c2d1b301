/* make bench: candle events through the rule (Lua, scripts/rules/move.lua)
 * and the subscription index, in-process, with 10,000 and 100,000 users of
 * 3 presets each, mixed: manual lists of 50 pairs and "top N" (N of 10,
 * 30, 50 or 100), 2 timeframes each.  Prints events/s, the time per event
 * (p50, p99), the subscriptions the index visits per event, resident and
 * peak memory, and the start-up time from the database (in a new process,
 * with its peak memory).  Numbers only; nothing here asserts a time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert/engine.h"
#include "market/venue.h"
#include "app.h"
#include "lua/host.h"
#include "util/interval.h"
#include "market/kline.h"
#include "store/store.h"

#define NSYM 400
/* the subscriptions the index handed over */
#define BENCH_VISITED(st) ((st).visited)
#define TARGET 2000000.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "VmRSS" (resident now) or "VmHWM" (the peak), in MB */
static long rss_mb(const char *what)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256], fmt[32];
    long kb = 0;
    snprintf(fmt, sizeof fmt, "%s: %%ld kB", what);
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, fmt, &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb / 1024;
}

static long fired;
static void count(void *ud, int64_t chat, const struct alert_msg *m)
{
    (void)ud, (void)chat, (void)m;
    fired++;
}

/* CPU seconds of this process: on a shared machine the wall clock also
 * measures the other processes; this does not */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run(long users, const char *dir, const char *self)
{
    struct app a;
    memset(&a, 0, sizeof a);
    config_defaults(&a.cfg);
    log_init(&a.log);
    a.log.level = LOG_ERROR;
    char db[256];
    snprintf(db, sizeof db, "%s/bench-%ld.db", dir, users);
    free(a.cfg.database);
    a.cfg.database = strdup(db);
    a.cfg.limits.presets_per_user = 3;
    if (app_init(&a, 1) != 0 || app_open_store(&a) != 0 || !(a.lua = lh_new(&a, LH_RUN)) ||
        lh_reload(a.lua, "bench") != 0) {
        fprintf(stderr, "bench: cannot set up (run from the project's folder)\n");
        return 1;
    }
    struct market *m = &a.market;
    uint32_t ids[NSYM];
    double qv[NSYM];
    char names[NSYM][16];
    for (int i = 0; i < NSYM; i++) {
        snprintf(names[i], sizeof names[i], "S%03dUSDT", i);
        ids[i] = (uint32_t)symtab_add(&m->syms, names[i], strlen(names[i]));
        m->syms.v[ids[i]].active = 1;
        qv[i] = 1e9 - i;
    }
    market_set_ranking(m, ids, qv, NSYM);
    alert_set_sink(a.alerts, &(struct alert_sink){count, NULL});
    srand(7);
    double t = now_s(), tc = cpu_s();
    char symbuf[50][SYM_NAME_MAX + 1];
    char err[256];
    for (long u = 1; u <= users; u++)
        for (int k = 0; k < 3; k++) {
            struct preset p;
            memset(&p, 0, sizeof p);
            p.user_id = p.chat_id = u;
            snprintf(p.name, sizeof p.name, "p%d", k);
            if ((u + k) % 2) {
                static const int tops[4] = {10, 30, 50, 100};
                p.pairs = PAIRS_TOP;
                p.top_n = tops[rand() % 4];
            } else {
                p.pairs = PAIRS_MANUAL;
                p.symbols = symbuf;
                for (int s = 0; s < 50; s++)
                    snprintf(symbuf[p.nsymbols++], sizeof symbuf[0], "%s",
                             names[(rand() % NSYM)]);
            }
            p.intervals = 1 << IV_5M | 1 << IV_15M;
            p.threshold = 1 + rand() % 400 / 100.0;
            p.active = 1;
            if (alert_preset_save(a.alerts, &p, err, sizeof err) != 0) {
                fprintf(stderr, "bench: %s\n", err);
                return 1;
            }
            if ((u * 3 + k) % 5000 == 0)
                store_commit(a.store);
        }
    store_commit(a.store);
    alert_prepare(a.alerts);
    double setup = now_s() - t, setup_cpu = cpu_s() - tc;
    struct alert_stats st;
    alert_stats(a.alerts, &st);
    long rss = rss_mb("VmRSS"), rss_target = users <= 10000 ? 64 : 512;
    printf("%ld users x 3 presets (half top N, half lists of 50): %llu subscriptions (pair x "
           "timeframe x direction), built in %.1f s (%.1f s of CPU)\n", users,
           (unsigned long long)st.subscriptions, setup, setup_cpu);
    printf("  resident memory %ld MB, peak %ld MB (target <= %ld MB: %s)\n", rss,
           rss_mb("VmHWM"), rss_target, rss <= rss_target ? "met" : "MISSED");

    /* events: every symbol on 5m and 15m, forming updates moving less than
     * any threshold (most updates fire nothing: the common path) */
    enum { NEV = 200000 };
    static struct candle ev[NEV];
    int64_t t0 = 1767225600000LL;
    for (int i = 0; i < NEV; i++) {
        int s = rand() % NSYM, iv = rand() % 2 ? IV_5M : IV_15M;
        int64_t ms = interval_ms(iv), when = t0 + (int64_t)i * 5;
        double move = ((rand() % 2001) - 1000) / 1000.0 * 0.9;   /* -0.9 .. +0.9 % */
        ev[i] = (struct candle){.open_time = when / ms * ms, .close_time = when / ms * ms + ms - 1,
                                .event_time = when, .open = 100, .close = 100 * (1 + move / 100),
                                .high = 102, .low = 98, .symbol = ids[s], .interval = (uint8_t)iv,
                                .price_dp = 2};
    }
    /* five trials, a day apart (fresh candles each), reported by their
     * median: the machine is shared and noisy */
    enum { TRIALS = 5 };
    static double per[NEV];
    double trial[TRIALS], trial_cpu[TRIALS];
    for (int k = 0; k < TRIALS; k++) {
        int64_t shift = (int64_t)k * 86400000;
        m->exchange_ms = t0 + shift + (int64_t)NEV * 5;
        m->exchange_seen_at = app_wall_ms(&a);
        t = now_s(), tc = cpu_s();
        for (int i = 0; i < NEV; i++) {
            struct candle c = ev[i];
            c.open_time += shift, c.close_time += shift, c.event_time += shift;
            double a0 = now_s();
            market_apply(m, &c);
            alert_drain(a.alerts);
            per[i] = now_s() - a0;
        }
        trial[k] = NEV / (now_s() - t);
        trial_cpu[k] = NEV / (cpu_s() - tc);
    }
    struct alert_stats st1;
    alert_stats(a.alerts, &st1);
    printf("  subscriptions the index visited: %.2f per event (%llu events)\n",
           (double)(BENCH_VISITED(st1) - BENCH_VISITED(st)) / (double)(st1.events - st.events),
           (unsigned long long)(st1.events - st.events));
    qsort(trial, TRIALS, sizeof *trial, cmp_double);
    qsort(trial_cpu, TRIALS, sizeof *trial_cpu, cmp_double);
    qsort(per, NEV, sizeof *per, cmp_double);   /* (the last trial's) */
    double rate = trial[TRIALS / 2];
    printf("  candle events through the rule and the index: %.0f events/s, median of %d trials "
           "(slowest %.0f, fastest %.0f); by CPU time %.0f events/s\n", rate, TRIALS, trial[0],
           trial[TRIALS - 1], trial_cpu[TRIALS / 2]);
    printf("  time per event: p50 %.1f us, p99 %.1f us\n", per[NEV / 2] * 1e6,
           per[NEV * 99 / 100] * 1e6);
    printf("  target >= %.0f events/s: %s; the real feed's 10,000 events/s would take %.1f %% "
           "of a core\n", TARGET, rate >= TARGET ? "met" : "MISSED", 10000 / rate * 100);

    /* frame to alert: kline frames (text) through market_frame, the rule,
     * the index and, when a candle crosses, the alerts formatted and
     * queued; at the real feed's pace each frame is handled on arrival, so
     * its handling time is its latency.  One frame in 200 moves 5 %. */
    enum { NFR = 20000 };
    static double lat[NFR];
    double longest_turn = 0, longest_commit = 0;
    char frame[1024];
    struct frame_info fi;
    int64_t base = t0 + (int64_t)TRIALS * 86400000;
    fired = 0;
    alert_stats(a.alerts, &st);
    for (int i = 0; i < NFR; i++) {
        int s = rand() % NSYM;
        int64_t when = base + (int64_t)i * 100, open = when / 300000 * 300000;
        double close = i % 200 == 0 ? 105 : 100 + (rand() % 100) / 200.0;
        int n = snprintf(frame, sizeof frame,
            "{\"stream\":\"%s@kline_5m\",\"data\":{\"e\":\"kline\",\"E\":%lld,\"s\":\"%s\","
            "\"k\":{\"t\":%lld,\"T\":%lld,\"s\":\"%s\",\"i\":\"5m\",\"f\":1,\"L\":2,"
            "\"o\":\"100.00\",\"c\":\"%.2f\",\"h\":\"%.2f\",\"l\":\"99.00\",\"v\":\"1.0\","
            "\"n\":3,\"x\":false,\"q\":\"1000.0\",\"V\":\"0.5\",\"Q\":\"500.0\",\"B\":\"0\"}}}",
            names[s], (long long)when, names[s], (long long)open, (long long)(open + 299999),
            names[s], close, close > 101 ? close : 101.0);
        for (char *p = frame + 11; *p != '@'; p++)   /* stream names are lower case */
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        /* as the loop does it: the frame and its first turn, then the
         * rest of a big fan-out a slice per turn */
        double a0 = now_s();
        market_frame(m, &venue_usdm, frame, (size_t)n, app_wall_ms(&a), &fi);
        int more = alert_drain_turn(a.alerts);
        double c0 = now_s();
        store_commit(a.store);   /* the loop commits every turn */
        lat[i] = now_s() - a0;
        if (now_s() - c0 > longest_commit)
            longest_commit = now_s() - c0;
        if (lat[i] > longest_turn)
            longest_turn = lat[i];
        while (more) {
            double b0 = now_s();
            more = alert_drain_turn(a.alerts);
            double c1 = now_s();
            store_commit(a.store);
            if (now_s() - c1 > longest_commit)
                longest_commit = now_s() - c1;
            if (now_s() - b0 > longest_turn)
                longest_turn = now_s() - b0;
        }
    }
    alert_stats(a.alerts, &st1);
    printf("  frames: %.2f subscriptions visited per frame, %.3f alerts fired per frame\n",
           (double)(BENCH_VISITED(st1) - BENCH_VISITED(st)) / NFR,
           (double)(st1.fired - st.fired) / NFR);
    qsort(lat, NFR, sizeof *lat, cmp_double);
    printf("  frame to first alerts queued: p50 %.1f us, p99 %.1f us (%ld alerts; target p99 "
           "<= 1 ms: %s); the longest loop turn %.1f ms, the longest commit in a turn %.1f ms\n",
           lat[NFR / 2] * 1e6, lat[NFR * 99 / 100] * 1e6, fired,
           lat[NFR * 99 / 100] <= 0.001 ? "met" : "MISSED", longest_turn * 1e3,
           longest_commit * 1e3);

    /* a market-wide move: a 6 % candle on 10 symbols fires for everyone
     * watching them (each alert formatted by Lua, logged in SQLite, queued) */
    fired = 0;
    t = now_s(), tc = cpu_s();
    for (int i = 0; i < 10; i++) {
        struct candle c = ev[0];
        c.symbol = ids[i];
        c.interval = IV_5M;
        c.open_time = base + 4 * 3600000;   /* after the frames' candles */
        c.close_time = c.open_time + 299999;
        c.close = 106;
        c.event_time = m->exchange_ms = c.open_time + 1000;   /* news, not history */
        market_apply(m, &c);
        alert_drain(a.alerts);
    }
    double el = now_s() - t, el_cpu = cpu_s() - tc;
    printf("  a market-wide 6 %% move: %ld alerts formatted and queued in %.2f s (%.1f us each; "
           "%.2f s of CPU)\n", fired, el, fired ? el / (double)fired * 1e6 : 0, el_cpu);

    /* a random walk: every symbol's 5m candle updated again and again, its
     * price drifting (0.08 % a step), so values stay beyond thresholds for
     * many updates, as on the real feed: what the index visits per event
     * against the alerts that are new */
    enum { NWALK = 100000 };
    int nwalk = users <= 10000 ? NWALK : NWALK / 5;   /* (each alert costs its formatting) */
    static double walk[NSYM];
    int64_t wbase = t0 + (int64_t)(TRIALS + 1) * 86400000, wopen[NSYM];
    for (int i = 0; i < NSYM; i++)
        walk[i] = 100, wopen[i] = 0;
    alert_stats(a.alerts, &st);
    fired = 0;
    t = now_s(), tc = cpu_s();
    for (int i = 0; i < nwalk; i++) {   /* ~50 updates of each candle */
        int s = rand() % NSYM;
        int64_t when = wbase + (int64_t)i * 15, open = when / 300000 * 300000;
        if (open != wopen[s]) {   /* a new candle opens where the last closed */
            wopen[s] = open;
            walk[s] = 100;
        }
        walk[s] *= 1 + ((rand() % 2001) - 1000) / 1000.0 * 0.0008 * 1.7;
        struct candle c = {.open_time = open, .close_time = open + 299999, .event_time = when,
                           .open = 100, .close = walk[s], .high = 110, .low = 90,
                           .symbol = ids[s], .interval = IV_5M, .price_dp = 2};
        m->exchange_ms = when;
        m->exchange_seen_at = app_wall_ms(&a);
        market_apply(m, &c);
        alert_drain(a.alerts);
    }
    double wel = now_s() - t, wel_cpu = cpu_s() - tc;
    alert_stats(a.alerts, &st1);
    printf("  a random walk: %.0f events/s, by CPU time %.0f (alerts formatted and queued "
           "included); per event %.2f subscriptions visited, %.2f index matches, %.3f alerts "
           "fired\n", nwalk / wel, nwalk / wel_cpu,
           (double)(BENCH_VISITED(st1) - BENCH_VISITED(st)) / nwalk,
           (double)(st1.matched - st.matched) / nwalk, (double)(st1.fired - st.fired) / nwalk);
    store_commit(a.store);

    /* start-up from the database, as the bot starts: a fresh process */
    app_destroy(&a);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s --startup %s %ld", self, db, users * 3);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: the start-up run failed\n");
    if (!getenv("BENCH_KEEP_DB")) store_remove_files(db);
    return 0;
}

/* alerts --startup DB N: opens DB as the bot does (store, presets, fired
 * marks, index, scripts) and prints how long that took. */
static int startup(const char *db, long presets)
{
    double t = now_s(), tc = cpu_s();
    struct app a;
    memset(&a, 0, sizeof a);
    config_defaults(&a.cfg);
    log_init(&a.log);
    a.log.level = LOG_ERROR;
    free(a.cfg.database);
    a.cfg.database = strdup(db);
    if (app_init(&a, 1) != 0 || app_open_store(&a) != 0 || !(a.lua = lh_new(&a, LH_RUN)) ||
        lh_reload(a.lua, "bench") != 0) {
        fprintf(stderr, "bench: cannot open %s\n", db);
        return 1;
    }
    double up = now_s() - t, up_cpu = cpu_s() - tc;
    printf("  start-up from the database (%ld presets, in a new process): %.2f s, %.2f s of CPU "
           "(target <= 2 s: %s), peak memory %ld MB\n", presets, up, up_cpu,
           up <= 2 ? "met" : "MISSED", rss_mb("VmHWM"));
    app_destroy(&a);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* progress shows while it runs */
    if (argc == 4 && !strcmp(argv[1], "--startup"))
        return startup(argv[2], atol(argv[3]));
    char dir[] = "/tmp/cw-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    int rc = 0;
    long sizes[] = {10000, 100000};
    for (int i = 0; i < 2 && !rc; i++)
        if (argc < 2 || atol(argv[1]) == sizes[i])
            rc = run(sizes[i], dir, argv[0]);
    rmdir(dir);
    return rc;
}
