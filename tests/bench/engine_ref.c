/* make bench (tests/bench/reference.sh): the real path on the shared
 * reference's input, to be printed beside the reference's own figures.
 *
 *   engine_ref FRAMES SYMBOLS SUBS [REF_RATE REF_MATCHES REF_CHECKSUM]
 *
 * FRAMES: gen.py's kline frames, one a line; SYMBOLS: its symbols.txt;
 * SUBS: gen_subs.py's lines "user thr iv1,iv2 SYM,SYM,...", each one preset
 * of that user (chat = user): a manual list, both directions, on the
 * forming candle, the threshold kept at full precision (written to the
 * store as the bot's own rows; the chat's 2-decimal rounding would change
 * the subscriptions).  The REF_ arguments (the reference's parse + match
 * rate and its matches and checksum) only add the comparison lines.
 *
 * Measured: each frame through market_frame (parse, candle store), the
 * alert engine (the Lua rule scripts/rules/move.lua through the real Lua
 * host, the index, the once-per-candle marks, the Lua formatter, SQLite's
 * fired marks and alert log) to a counting sink.  The frames go in loop
 * turns of up to 64 KiB (the feed's read buffer): after each, the engine
 * drains and the store commits, as the loop does.  The input is read and
 * every page touched before timing (see ../shared/bench/README.md).
 * Each trial starts from a copy of the same database; REF_TRIALS trials
 * (default 3), as many as fit in REF_BUDGET_S seconds (default 60), at
 * least one, reported by their median.  Prints numbers; asserts nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert/engine.h"
#include "app.h"
#include "market/venue.h"
#include "lua/host.h"
#include "store/store.h"
#include "util/interval.h"

#define ER_TURN_BYTES 65536
#define ER_MAX_SYMS 4096

static double er_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int er_by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The whole file, every page touched once (untimed). */
static char *er_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        perror(path);
        exit(1);
    }
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(1);
    }
    fclose(f);
    b[n] = 0;
    volatile unsigned char sink = 0;
    for (long i = 0; i < n; i += 4096)
        sink += (unsigned char)b[i];
    (void)sink;
    *len = (size_t)n;
    return b;
}

/* ---- the symbols and the presets ---- */

static char er_syms[ER_MAX_SYMS][24];
static int er_nsyms;

static void er_load_symbols(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[64];
    if (!f) {
        perror(path);
        exit(1);
    }
    while (er_nsyms < ER_MAX_SYMS && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        if (n && n < sizeof er_syms[0]) {
            memcpy(er_syms[er_nsyms], line, n);
            er_syms[er_nsyms++][n] = 0;
        }
    }
    fclose(f);
}

/* Every symbol known and in the universe, as after the feed's start. */
static void er_add_symbols(struct market *m)
{
    for (int i = 0; i < er_nsyms; i++) {
        int id = symtab_add(&m->syms, er_syms[i], strlen(er_syms[i]));
        if (id >= 0)
            m->syms.v[id].active = 1;
    }
}

/* One gen_subs.py line as the store's row; 0, or -1 if malformed. */
static int er_put_line(struct store *st, char *line, int k, char *syms, char *ivs)
{
    char *q;
    long user = strtol(line, &q, 10);
    double thr = strtod(q, &q);
    char ivlist[64], symlist[8192];
    if (user <= 0 || sscanf(q, " %63s %8191s", ivlist, symlist) != 2)
        return -1;
    for (char *c = ivlist; *c; c++)
        *c = *c == ',' ? ' ' : *c;
    for (char *c = symlist; *c; c++)
        *c = *c == ',' ? ' ' : *c;
    snprintf(ivs, 64, "%s", ivlist);
    snprintf(syms, 8192, "%s", symlist);
    char name[16];
    snprintf(name, sizeof name, "p%d", k);
    struct store_preset row = {.user_id = user, .chat_id = user, .name = name, .rule = "move",
                               .pairs = "manual", .symbols = syms, .intervals = ivs,
                               .direction = "both", .trigger = "forming", .top_n = 0,
                               .active = 1, .threshold = thr, .created_ms = 1};
    return store_preset_put(st, &row, 1);
}

/* The presets of SUBS into a new database at db; their count. */
static long er_make_db(const char *subs, const char *db, struct logger *log)
{
    struct store *st;
    char err[512], line[16384], syms[8192], ivs[64];
    if (store_open(&st, db, log, err, sizeof err) != 0) {
        fprintf(stderr, "engine_ref: %s\n", err);
        exit(1);
    }
    FILE *f = fopen(subs, "r");
    if (!f) {
        perror(subs);
        exit(1);
    }
    long n = 0, last_user = 0;
    int k = 0;
    while (fgets(line, sizeof line, f)) {
        long user = atol(line);
        k = user == last_user ? k + 1 : 1;
        last_user = user;
        if (er_put_line(st, line, k, syms, ivs) != 0) {
            fprintf(stderr, "engine_ref: %s: line %ld not understood\n", subs, n + 1);
            exit(1);
        }
        if (++n % 5000 == 0)
            store_commit(st);
    }
    fclose(f);
    store_close(st);
    return n;
}

static void er_copy(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[1 << 16];
    size_t n;
    if (!a || !b) {
        perror("engine_ref: copy");
        exit(1);
    }
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        if (fwrite(buf, 1, n, b) != n) {
            perror("engine_ref: copy");
            exit(1);
        }
    fclose(a);
    fclose(b);
}

/* ---- one trial ---- */

struct er_result {
    double secs, commit_secs, drain_secs;
    long alerts;
    unsigned long long checksum;   /* the sum of the chats alerted (users here) */
    struct alert_stats st;
    struct market_counters mc;
    long rss_kb;
};

static void er_count(void *ud, int64_t chat, const struct alert_msg *m)
{
    struct er_result *r = ud;
    (void)m;
    r->alerts++;
    r->checksum += (unsigned long long)chat;
}

static long er_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* The bot's set-up on the database db: store, presets, index, scripts. */
static int er_open(struct app *a, const char *db)
{
    memset(a, 0, sizeof *a);
    config_defaults(&a->cfg);
    log_init(&a->log);
    a->log.level = LOG_ERROR;
    free(a->cfg.database);
    a->cfg.database = strdup(db);
    if (app_init(a, 1) != 0)
        return -1;
    er_add_symbols(&a->market);
    if (app_open_store(a) != 0 || !(a->lua = lh_new(a, LH_RUN)) || lh_reload(a->lua, "bench"))
        return -1;
    return 0;
}

/* The frames, a loop turn at a time: frames, the engine's drain, a commit. */
static void er_feed(struct app *a, const char *buf, size_t len, struct er_result *r)
{
    struct frame_info fi;
    const char *p = buf, *end = buf + len, *turn = buf;
    int64_t now = app_wall_ms(a);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        market_frame(&a->market, &venue_usdm, p, (size_t)(nl - p), now, &fi);
        p = nl + 1;
        if (p - turn < ER_TURN_BYTES && p < end)
            continue;
        turn = p;
        double d0 = er_now();
        while (alert_drain_turn(a->alerts))
            ;
        double c0 = er_now();
        r->drain_secs += c0 - d0;
        if (store_batch_open(a->store)) {
            store_commit(a->store);
            r->commit_secs += er_now() - c0;
        }
    }
}

static int er_trial(const char *db, const char *buf, size_t len, struct er_result *r)
{
    struct app a;
    memset(r, 0, sizeof *r);
    if (er_open(&a, db) != 0) {
        fprintf(stderr, "engine_ref: cannot set up (run from the project's folder)\n");
        return -1;
    }
    alert_set_sink(a.alerts, &(struct alert_sink){er_count, r});
    double t0 = er_now();
    er_feed(&a, buf, len, r);
    r->secs = er_now() - t0;
    alert_stats(a.alerts, &r->st);
    r->mc = a.market.n;
    r->rss_kb = er_hwm_kb();
    app_destroy(&a);
    return 0;
}

/* Parse and candle store alone (nobody listening to the events). */
static double er_parse_only(const char *buf, size_t len)
{
    struct market m;
    struct frame_info fi;
    market_init(&m, 200, NULL);
    er_add_symbols(&m);
    double t0 = er_now();
    for (const char *p = buf, *end = buf + len, *nl; p < end; p = nl + 1) {
        if (!(nl = memchr(p, '\n', (size_t)(end - p))))
            nl = end;
        market_frame(&m, &venue_usdm, p, (size_t)(nl - p), 1, &fi);
    }
    double secs = er_now() - t0;
    market_free(&m);
    return secs;
}

/* ---- the report ---- */

static void er_print_stats(const struct er_result *r, uint64_t frames)
{
    const struct alert_stats *s = &r->st;
    uint64_t dropped = 0;
    for (int d = 0; d < KD_COUNT; d++)
        dropped += r->mc.dropped[d];
    printf("  frames %llu: klines %llu, dropped %llu, ignored by the candle store %llu "
           "(duplicates or older)\n", (unsigned long long)frames,
           (unsigned long long)r->mc.klines, (unsigned long long)dropped,
           (unsigned long long)r->mc.ignored);
    printf("  engine: events %llu, rule values %llu ('evaluated'), index entries visited %llu "
           "('visited': entries the values newly reached), subscriptions handed on %llu "
           "('matched'), alerts %llu ('fired'), already fired on that candle %llu "
           "('duplicates'), too late %llu, events dropped %llu\n",
           (unsigned long long)s->events, (unsigned long long)s->evaluated,
           (unsigned long long)s->visited, (unsigned long long)s->matched,
           (unsigned long long)s->fired, (unsigned long long)s->duplicates,
           (unsigned long long)s->late, (unsigned long long)s->dropped_events);
    printf("  subscriptions visited per frame: %.3f ('visited'; %.3f handed on, 'matched') for "
           "%.3f new alerts per frame\n", frames ? (double)s->visited / (double)frames : 0,
           frames ? (double)s->matched / (double)frames : 0,
           frames ? (double)s->fired / (double)frames : 0);
}

static void er_print_agreement(const struct er_result *r, const char *ref_matches,
                               const char *ref_checksum)
{
    long rm = atol(ref_matches);
    unsigned long long rc = strtoull(ref_checksum, NULL, 10);
    printf("  alerts %ld (checksum %llu) beside the reference's matches %ld (checksum %llu): "
           "%s\n", r->alerts, r->checksum, rm, rc,
           r->alerts == rm && r->checksum == rc ? "the same" : "DIFFERENT");
    if (r->alerts != rm || r->checksum != rc)
        printf("  (both count once per user or chat per symbol, interval and candle, and each "
               "user here has one chat: a difference is a difference in matching)\n");
}

static double er_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, er_by_value);
    return v[n / 2];
}

/* Up to *trials trials of the real path, as many as fit in budget seconds
 * (at least one: today's engine takes a minute); their rates into rate,
 * the last one's figures into r, and how many ran into *trials. */
static int er_trials(const char *db, const char *buf, size_t len, uint64_t frames, int *trials,
                     double budget, double *rate, struct er_result *r)
{
    char trial_db[320];
    snprintf(trial_db, sizeof trial_db, "%s.trial", db);
    double spent = 0;
    for (int k = 0; k < *trials; k++) {
        if (k > 0 && spent + spent / k > budget) {
            *trials = k;
            break;
        }
        er_copy(db, trial_db);
        if (er_trial(trial_db, buf, len, r) != 0)
            return -1;
        rate[k] = (double)frames / r->secs;
        spent += r->secs;
        store_remove_files(trial_db);
    }
    return 0;
}

static void er_print_path(long presets, double *rate, int trials, double budget,
                          const struct er_result *r, size_t len)
{
    double med = er_median(rate, trials);
    printf("ours, the same frames and %ld presets: frame -> parse -> candle store -> Lua rule "
           "-> index -> marks -> Lua format -> counting sink: %.3f M frames/s, median of %d "
           "(slowest %.3f, fastest %.3f; as many trials as fit in %.0f s); peak RSS %ld MB "
           "(the %zu MB input included)\n", presets, med / 1e6, trials, rate[0] / 1e6,
           rate[trials - 1] / 1e6, budget, r->rss_kb / 1024, len >> 20);
    printf("  the last trial's %.2f s: frames parsed, stored and queued %.2f s; the engine's "
           "drain (rule, index, marks, format, SQLite writes) %.2f s; SQLite commits %.2f s\n",
           r->secs, r->secs - r->drain_secs - r->commit_secs, r->drain_secs, r->commit_secs);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 4 && argc != 7) {
        fprintf(stderr, "usage: engine_ref FRAMES SYMBOLS SUBS [REF_RATE REF_MATCHES "
                        "REF_CHECKSUM]\n");
        return 2;
    }
    int trials = getenv("REF_TRIALS") ? atoi(getenv("REF_TRIALS")) : 3;
    trials = trials < 1 ? 1 : trials > 15 ? 15 : trials;
    double budget = getenv("REF_BUDGET_S") ? atof(getenv("REF_BUDGET_S")) : 60;
    er_load_symbols(argv[2]);
    size_t len;
    char *buf = er_read(argv[1], &len);
    uint64_t frames = 0;
    for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++)
        frames++;
    char dir[] = "/tmp/cw-engine-ref-XXXXXX", db[300];
    if (!mkdtemp(dir))
        return 1;
    snprintf(db, sizeof db, "%s/presets.db", dir);
    struct logger log;
    log_init(&log);
    log.level = LOG_ERROR;
    long presets = er_make_db(argv[3], db, &log);

    double parse[15], rate[15];
    for (int k = 0; k < trials; k++)
        parse[k] = (double)frames / er_parse_only(buf, len);
    printf("ours, the same frames: parse + candle store (no listener): %.2f M frames/s, median "
           "of %d\n", er_median(parse, trials) / 1e6, trials);
    struct er_result r;
    int rc = er_trials(db, buf, len, frames, &trials, budget, rate, &r);
    store_remove_files(db);
    rmdir(dir);
    if (rc != 0)
        return 1;
    er_print_path(presets, rate, trials, budget, &r, len);
    er_print_stats(&r, frames);
    if (argc == 7) {
        double ref = atof(argv[4]), med = er_median(rate, trials);
        printf("  ratio to the reference's parse + match: %.3f (goal >= 0.5: %s)\n",
               ref > 0 ? med / ref : 0, ref > 0 && med / ref >= 0.5 ? "met" : "MISSED");
        er_print_agreement(&r, argv[5], argv[6]);
    }
    free(buf);
    return 0;
}
