/* make bench: issue 15's indicator cost through the real engine.  400
 * symbols x 8 intervals (1m 3m 5m 15m 30m 1h 4h 6h: 3,200 series), the
 * shipped rules (a copy of scripts/, as the bot loads it, in the real Lua
 * host), each watched everywhere by one "top 400" preset on every interval
 * (rsi_signal: 6h, on the close), so that every rule is evaluated on every
 * event: the worst case.  The indicators are warmed first from history
 * rows (market_history, as the feed hands them over, as deep as the book
 * wants), then forming updates go round-robin over the series, a random
 * walk, each a new event time, every PER_CANDLE-th update of a series its
 * close.  The thresholds are out of the walk's reach: what is measured is
 * the values and the index, not alerts.
 *
 * Prints ns per forming and per closing update through the whole path
 * (candle store, the book, every rule's value in Lua, the index), the same
 * with only `move` live (no indicator: the reference), the book's C part
 * alone (its closes and one value of each spec per update, no Lua), and the
 * share of one core at the real feed's rate.  Median of trials; numbers
 * only, nothing asserted. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert/engine.h"
#include "app.h"
#include "lua/host.h"
#include "market/market.h"
#include "store/store.h"
#include "util/interval.h"

#define NSYM 400
#define NIV 8
#define NSERIES (NSYM * NIV)
#define PER_CANDLE 50        /* updates of a candle, the last one its close */
#define TRIALS 5
#define FEED_RATE 10000.0    /* the real feed's updates per second */
#define GOAL_SHARE 0.01      /* of one core */

static const int ivs[NIV] = {IV_1M, IV_3M, IV_5M, IV_15M, IV_30M, IV_1H, IV_4H, IV_6H};
static const int64_t T0 = 1767225600000LL;   /* 2026-01-01 00:00 UTC */

/* A preset per rule: beyond reach of the walk (values computed, nothing
 * fires), up or down as the rule allows. */
struct rule_preset {
    const char *rule;
    double threshold;
    int dir, on_close, six_hours;
};
static const struct rule_preset presets[] = {
    {"move", 50, DIR_BOTH, 0, 0},        {"rsi", 99, DIR_UP, 0, 0},
    {"ema_cross", 20, DIR_UP, 0, 0},     {"macd_cross", 5, DIR_UP, 0, 0},
    {"macd_zero", 10, DIR_UP, 0, 0},     {"bb_break", 5, DIR_BOTH, 0, 0},
    {"volume_spike", 100, DIR_UP, 0, 0}, {"atr_move", 20, DIR_BOTH, 0, 0},
    {"rsi_signal", 1, DIR_DOWN, 1, 1},
};
#define NRULES ((int)(sizeof presets / sizeof presets[0]))

struct walk {
    double open, high, low, close, volume;
    int64_t open_time;
    int upd;
};

struct bench {
    struct app a;
    uint32_t ids[NSYM];
    struct walk w[NSERIES];
    int order[NSERIES];     /* the round-robin's order (a fixed shuffle) */
    uint64_t k;             /* updates made */
    unsigned seed;
    char db[400];
};

/* CPU seconds of this process: on a shared machine the wall clock also
 * measures the others */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

static double rnd(struct bench *b)
{
    return (double)rand_r(&b->seed) / RAND_MAX;
}

/* ---- setting up: scripts, app, symbols, presets ---- */

/* dir/scripts: a copy of the project's scripts with only the rules named
 * (n < 0: all of them); 0 or -1. */
static int copy_scripts(const char *dir, const char *const *keep, int n)
{
    char cmd[700], rules[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/scripts' && cp -r scripts '%s/scripts'", dir, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(rules, sizeof rules, "%s/scripts/rules", dir);
    DIR *d = opendir(rules);
    struct dirent *de;
    while (d && n >= 0 && (de = readdir(d))) {
        int kept = de->d_name[0] == '.';
        for (int i = 0; i < n; i++)
            kept |= !strncmp(de->d_name, keep[i], strlen(keep[i])) &&
                    !strcmp(de->d_name + strlen(keep[i]), ".lua");
        char path[700];
        snprintf(path, sizeof path, "%s/%s", rules, de->d_name);
        if (!kept && unlink(path) != 0)
            n = -2;
    }
    if (d)
        closedir(d);
    return d && n != -2 ? 0 : -1;
}

static int app_up(struct bench *b, const char *dir)
{
    struct app *a = &b->a;
    config_defaults(&a->cfg);
    log_init(&a->log);
    a->log.level = LOG_ERROR;
    snprintf(b->db, sizeof b->db, "%s/bench.db", dir);
    free(a->cfg.database);
    a->cfg.database = strdup(b->db);
    free(a->cfg.scripts);
    char scripts[400];
    snprintf(scripts, sizeof scripts, "%s/scripts", dir);
    a->cfg.scripts = strdup(scripts);
    a->cfg.exchange.intervals = 0;
    for (int i = 0; i < NIV; i++)
        a->cfg.exchange.intervals |= 1 << ivs[i];
    a->cfg.limits.presets_per_user = NRULES;
    if (app_init(a, 1) != 0 || app_open_store(a) != 0 || !(a->lua = lh_new(a, LH_RUN)) ||
        lh_reload(a->lua, "bench") != 0)
        return -1;
    struct market *m = &a->market;
    double qv[NSYM];
    for (int i = 0; i < NSYM; i++) {
        char name[24];
        snprintf(name, sizeof name, "S%03dUSDT", i);
        b->ids[i] = (uint32_t)symtab_add(&m->syms, name, strlen(name));
        m->syms.v[b->ids[i]].active = 1;
        qv[i] = 1e9 - i;
    }
    return market_set_ranking(m, b->ids, qv, NSYM);
}

/* One top-400 preset for each live rule named in presets[]. */
static int presets_add(struct bench *b)
{
    for (int r = 0; r < NRULES; r++) {
        const struct rule_preset *rp = &presets[r];
        if (alert_rule_find(b->a.alerts, rp->rule) < 0)
            continue;
        struct preset p;
        memset(&p, 0, sizeof p);
        p.user_id = p.chat_id = 1;
        snprintf(p.name, sizeof p.name, "%s everywhere", rp->rule);
        snprintf(p.rule, sizeof p.rule, "%s", rp->rule);
        p.pairs = PAIRS_TOP;
        p.top_n = NSYM;
        p.intervals = rp->six_hours ? 1 << IV_6H : (int)b->a.cfg.exchange.intervals;
        p.threshold = rp->threshold;
        p.dir = rp->dir;
        p.on_close = rp->on_close;
        p.active = 1;
        char err[256];
        if (alert_preset_save(b->a.alerts, &p, err, sizeof err) != 0) {
            fprintf(stderr, "bench: preset %s: %s\n", rp->rule, err);
            return -1;
        }
    }
    store_commit(b->a.store);
    alert_prepare(b->a.alerts);
    return 0;
}

/* ---- the walk ---- */

static void walk_start(struct bench *b, int i, int64_t open_time)
{
    struct walk *w = &b->w[i];
    double p = w->close > 0 ? w->close : 100 + 10 * (i % 97);
    *w = (struct walk){p, p, p, p, 0, open_time, 0};
}

/* The next update of series i (its close every PER_CANDLE updates): small
 * steps, volume growing through the candle. */
static struct candle walk_next(struct bench *b, int i)
{
    struct walk *w = &b->w[i];
    int iv = ivs[i % NIV];
    int64_t ms = interval_ms(iv);
    w->close *= 1 + (rnd(b) - 0.5) * 0.002;
    w->high = fmax(w->high, w->close);
    w->low = fmin(w->low, w->close);
    w->volume += rnd(b) * 10;
    int closed = ++w->upd == PER_CANDLE;
    struct candle c = {.open_time = w->open_time, .close_time = w->open_time + ms - 1,
                       .event_time = w->open_time + ms * w->upd / (PER_CANDLE + 1),
                       .open = w->open, .high = w->high, .low = w->low, .close = w->close,
                       .volume = w->volume, .quote_volume = w->volume * w->close,
                       .trades = w->upd, .symbol = b->ids[i / NIV], .interval = (uint8_t)iv,
                       .closed = (uint8_t)closed, .price_dp = 2};
    if (closed) {
        c.event_time = c.close_time;
        walk_start(b, i, w->open_time + ms);
    }
    b->k++;
    return c;
}

/* A closed history row of series i, a bigger step than an update's. */
static struct candle walk_row(struct bench *b, int i)
{
    struct walk *w = &b->w[i];
    int iv = ivs[i % NIV];
    int64_t ms = interval_ms(iv);
    double close = w->open * (1 + (rnd(b) - 0.5) * 0.014);
    struct candle c = {.open_time = w->open_time, .close_time = w->open_time + ms - 1,
                       .event_time = w->open_time + ms - 1, .open = w->open,
                       .high = fmax(w->open, close) * (1 + rnd(b) * 0.003),
                       .low = fmin(w->open, close) * (1 - rnd(b) * 0.003), .close = close,
                       .volume = 250 + rnd(b) * 500, .symbol = b->ids[i / NIV],
                       .interval = (uint8_t)iv, .closed = 1, .price_dp = 2};
    c.quote_volume = c.volume * close;
    w->close = close;
    walk_start(b, i, w->open_time + ms);
    return c;
}

/* History rows for every series, as deep as the book wants (and a few
 * more), ending where the walk starts, handed over as the feed does. */
static int warm(struct bench *b)
{
    int depth = ind_book_want(&b->a.market.ind) + 20;
    struct candle *rows = malloc(sizeof *rows * (size_t)depth);
    for (int i = 0; rows && i < NSERIES; i++) {
        walk_start(b, i, T0 - interval_ms(ivs[i % NIV]) * depth);
        for (int r = 0; r < depth; r++)
            rows[r] = walk_row(b, i);
        /* (as the feed answers the book's request for a series a rule reads) */
        ind_book_keep(&b->a.market.ind, b->ids[i / NIV], ivs[i % NIV]);
        market_history(&b->a.market, b->ids[i / NIV], ivs[i % NIV], rows, (size_t)depth, 2);
        alert_drain(b->a.alerts);
    }
    free(rows);
    for (int i = 0; i < NSERIES; i++)
        b->order[i] = i;
    for (int i = NSERIES - 1; i > 0; i--) {
        int j = (int)(rnd(b) * i), t = b->order[i];
        b->order[i] = b->order[j];
        b->order[j] = t;
    }
    return rows ? depth : -1;
}

/* Set up with the rules named (n < 0: all); the history depth, or -1. */
static int bench_open(struct bench *b, const char *dir, const char *const *rules, int n)
{
    memset(b, 0, sizeof *b);
    b->seed = 7;
    if (mkdir(dir, 0700) != 0 || copy_scripts(dir, rules, n) != 0 || app_up(b, dir) != 0 ||
        presets_add(b) != 0) {
        fprintf(stderr, "bench: cannot set up in %s (run from the project's folder)\n", dir);
        return -1;
    }
    return warm(b);
}

static void bench_close(struct bench *b, const char *dir)
{
    app_destroy(&b->a);
    store_remove_files(b->db);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
}

/* ---- measuring ---- */

/* ns per forming update and per close, median of trials */
struct cost {
    double forming, close;
    double forming_lo, forming_hi;
};

static volatile double sink;

/* The book alone, as the engine's drain and the rules use it, without Lua:
 * a close pushed, and each spec's value once per update. */
static void book_event(struct ind_book *bk, const struct candle *c)
{
    double out[IND_MAXOUT], acc = 0;
    ind_book_closed(bk, c);
    for (int s = 0; s < bk->nspecs; s++)
        if (ind_book_value(bk, s, c, 0, out))
            acc += out[0];
    sink = acc;
}

/* One round: an update of every series, through the whole path (the
 * candle store, the engine's drain) or the book alone; its seconds. */
static double one_round(struct bench *b, int book_only)
{
    struct market *m = &b->a.market;
    m->exchange_seen_at = app_wall_ms(&b->a);
    double t0 = cpu_s();
    for (int k = 0; k < NSERIES; k++) {
        struct candle c = walk_next(b, b->order[k]);
        if (book_only) {
            book_event(&m->ind, &c);
            continue;
        }
        m->exchange_ms = c.event_time;   /* each update is news */
        market_apply(m, &c);
        alert_drain(b->a.alerts);
    }
    return cpu_s() - t0;
}

/* TRIALS trials of a candle each (PER_CANDLE rounds: the series' updates
 * are in step, so the last round is every series' close). */
static struct cost measure(struct bench *b, int book_only, int trials)
{
    double f[TRIALS], cl[TRIALS];
    trials = trials < TRIALS ? trials : TRIALS;
    for (int t = 0; t < trials; t++) {
        double forming = 0;
        for (int r = 1; r < PER_CANDLE; r++)
            forming += one_round(b, book_only);
        cl[t] = one_round(b, book_only) * 1e9 / NSERIES;
        f[t] = forming * 1e9 / ((double)NSERIES * (PER_CANDLE - 1));
        store_commit(b->a.store);
    }
    struct cost c = {median(f, trials), median(cl, trials), f[0], f[trials - 1]};
    return c;
}

/* Of one core, at the real feed's rate: 10,000 updates/s, of which the
 * closes of 400 symbols on the 8 intervals (about 11/s). */
static double share(const struct cost *c)
{
    double closes = 0;
    for (int i = 0; i < NIV; i++)
        closes += NSYM * 1000.0 / (double)interval_ms(ivs[i]);
    return ((FEED_RATE - closes) * c->forming + closes * c->close) / 1e9;
}

static void print_cost(const char *what, const struct cost *c)
{
    printf("  %s: %.0f ns a forming update (median of %d: %.0f-%.0f), %.0f ns a close; "
           "%.2f %% of one core at the feed's rate\n", what, c->forming, TRIALS, c->forming_lo,
           c->forming_hi, c->close, share(c) * 100);
}

/* The cost with the rules named (n < 0: every one) live, each with its
 * preset; the book alone too when book is not NULL. */
static int config_cost(const char *base, const char *tag, const char *const *rules, int n,
                       int trials, struct cost *out, struct cost *book)
{
    static struct bench b;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/%s", base, tag);
    int depth = bench_open(&b, dir, rules, n);
    if (depth < 0)
        return -1;
    struct alert_stats s0, s1;
    alert_stats(b.a.alerts, &s0);
    *out = measure(&b, 0, trials);
    alert_stats(b.a.alerts, &s1);
    if (book) {
        *book = measure(&b, 1, trials);
        printf("%d symbols x %d intervals (1m to 6h: %d series), %d rules live, each watched "
               "everywhere (rsi_signal on 6h closes); %d indicators in the book (%zu bytes a "
               "series), warmed from %d history rows a series; %d updates a candle, its close "
               "the last; CPU time\n", NSYM, NIV, NSERIES, NRULES, b.a.market.ind.nspecs,
               b.a.market.ind.block, depth, PER_CANDLE);
        printf("  rule values computed: %.2f an update; alerts fired: %llu\n",
               (double)(s1.evaluated - s0.evaluated) / (double)(s1.events - s0.events),
               (unsigned long long)(s1.fired - s0.fired));
    }
    bench_close(&b, dir);
    return 0;
}

/* Every rule, the book alone, only move; then each rule alone. */
static int run(const char *base)
{
    static const char *const only_move[] = {"move"};
    struct cost all, book, move;
    if (config_cost(base, "all", NULL, -1, TRIALS, &all, &book) != 0 ||
        config_cost(base, "move", only_move, 1, TRIALS, &move, NULL) != 0)
        return 1;
    print_cost("every rule, the whole path", &all);
    print_cost("the book's C part alone (closes, each indicator's value once)", &book);
    print_cost("only move live (the reference)", &move);
    printf("  the indicator rules add %.0f ns a forming update (%.1f x move alone)\n",
           all.forming - move.forming, all.forming / move.forming);
    printf("  every rule at the real feed's rate (%.0f updates/s): %.2f %% of one core "
           "(goal < %.0f %%: %s)\n", FEED_RATE, share(&all) * 100, GOAL_SHARE * 100,
           share(&all) < GOAL_SHARE ? "met" : "MISSED");
    printf("  each rule alone (its preset everywhere), ns a forming update / a close:");
    for (int r = 1; r < NRULES; r++) {
        struct cost one;
        if (config_cost(base, presets[r].rule, &presets[r].rule, 1, 3, &one, NULL) != 0)
            return 1;
        printf("%s %s %.0f / %.0f", r == 1 ? "" : ",", presets[r].rule, one.forming, one.close);
    }
    printf("\n");
    return 0;
}

/* indicator_cost [RULE...]: with rules named, only each of them alone
 * ("all": every rule). */
static int run_some(const char *base, int n, char **rules)
{
    for (int i = 0; i < n; i++) {
        struct cost one;
        const char *const one_rule[] = {rules[i]};
        int all = !strcmp(rules[i], "all");
        if (config_cost(base, "one", one_rule, all ? -1 : 1, TRIALS, &one, NULL) != 0)
            return 1;
        print_cost(rules[i], &one);
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char dir[] = "/tmp/cw-indbench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    int rc = argc > 1 ? run_some(dir, argc - 1, argv + 1) : run(dir);
    rmdir(dir);
    return rc;
}
