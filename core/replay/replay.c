#include "replay/replay.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alert/engine.h"
#include "app.h"
#include "util/interval.h"
#include "replay/csvrow.h"
#include "util/grow.h"

#define MAX_GAP_MS 3600000   /* longer quiet spans are played as one minute */
#define BATCH 2000   /* rows per loop turn at full speed: the loop stays responsive */

struct row {
    int64_t open_time;
    int64_t at;               /* replay time: close times with long gaps shortened */
    double o, h, l, c, v, qv;
    int32_t trades;
    uint32_t sym;
    uint32_t file, line;      /* where it was read, for messages */
    uint8_t iv;
    uint8_t dp;
};

struct agg {                  /* a candle built from the rows of one symbol */
    struct candle c;
    int has;                  /* forming */
    int64_t covered;          /* the end of the rows in it so far */
    int64_t closed_open;      /* the open time of the last one closed */
};

struct replay {
    struct app *app;
    char **files;             /* the caller's, while replay_start reads them */
    struct row *rows;
    size_t n, cap, next;
    double speed;
    uint64_t start_ms;
    struct timer *timer;
    struct agg *aggs;         /* [symbol * IV_COUNT + interval] */
    uint32_t naggsym;
    void (*done)(void *ud);
    void *done_ud;
};

/* "um_BTCUSDT-1m-2022-09-05.csv" -> BTCUSDT, 1m */
static int name_parts(const char *path, char *sym, size_t symlen, int *iv)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *us = strchr(base, '_'), *dash = strchr(base, '-');
    if (us && dash && us < dash && us[1] >= 'A' && us[1] <= 'Z')
        base = us + 1;
    dash = strchr(base, '-');
    if (!dash || (size_t)(dash - base) >= symlen || dash == base)
        return -1;
    memcpy(sym, base, (size_t)(dash - base));
    sym[dash - base] = '\0';
    const char *ivs = dash + 1, *end = strchr(ivs, '-');
    if (!end)
        end = strchr(ivs, '.');
    *iv = end ? interval_parse(ivs, (size_t)(end - ivs)) : -1;
    return *iv >= 0 ? 0 : -1;
}

static int add_row(struct replay *r, const struct row *w)
{
    struct row *v = grow_from(r->rows, &r->cap, r->n + 1, sizeof *v, 4096);
    if (!v)
        return -1;
    r->rows = v;
    r->rows[r->n++] = *w;
    return 0;
}

/* The file's lines into rows; each is read exactly or is an error. */
static int load_rows(struct replay *r, FILE *f, uint32_t file, uint32_t sym, int iv, char *err,
                     size_t errlen)
{
    const char *path = r->files[file];
    struct csv_layout l = {0};
    char *line = NULL, why[400];
    size_t size = 0, first = r->n;
    ssize_t len;
    uint32_t lineno = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &size, f)) >= 0) {
        lineno++;
        struct csv_row c;
        int got = csvrow_read(&l, line, (size_t)len, iv, &c, why, sizeof why);
        if (got < 0) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            rc = -1;
        } else if (got && r->n > first && c.open_time <= r->rows[r->n - 1].open_time) {
            snprintf(err, errlen, "%s:%u: open_time %lld (ms) is not after the row above's: "
                     "the rows must be in time order, each candle once", path, lineno,
                     (long long)c.open_time);
            rc = -1;
        } else if (got) {
            struct row w = {.open_time = c.open_time, .o = c.open, .h = c.high, .l = c.low,
                            .c = c.close, .v = c.volume, .qv = c.quote_volume,
                            .trades = c.trades, .sym = sym, .file = file, .line = lineno,
                            .iv = (uint8_t)iv, .dp = c.price_dp};
            if (add_row(r, &w) != 0) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && r->n == first) {
        snprintf(err, errlen, "%s: no klines in it (%s): name only files with rows", path,
                 lineno ? "only a header" : "it is empty");
        rc = -1;
    }
    free(line);
    return rc;
}

static int load(struct replay *r, uint32_t file, char *err, size_t errlen)
{
    const char *path = r->files[file];
    char sym[32];
    int iv;
    if (name_parts(path, sym, sizeof sym, &iv) != 0) {
        snprintf(err, errlen, "%s: name it SYMBOL-INTERVAL-....csv (like BTCUSDT-1m-2024-01-01.csv)",
                 path);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open it: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: a directory; name the kline files in it (like %s/*.csv)", path,
                 path);
        return -1;
    }
    struct market *m = &r->app->market;
    int id = symtab_add(&m->syms, sym, strlen(sym));
    if (id < 0) {
        fclose(f);
        snprintf(err, errlen, "%s: \"%s\" is not a symbol", path, sym);
        return -1;
    }
    m->syms.v[id].active = 1;
    int rc = load_rows(r, f, file, (uint32_t)id, iv, err, errlen);
    fclose(f);
    return rc;
}

/* A row's end: when what it says is known, so when it plays. */
static int64_t row_end(const struct row *w)
{
    return w->open_time + interval_ms(w->iv);
}

/* In time order: by end, shorter intervals first (they build the longer). */
static int by_time(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int64_t ex = row_end(x), ey = row_end(y);
    if (ex != ey)
        return ex < ey ? -1 : 1;
    if (x->iv != y->iv)
        return x->iv < y->iv ? -1 : 1;
    if (x->sym != y->sym)
        return x->sym < y->sym ? -1 : 1;
    return (x->file > y->file) - (x->file < y->file);
}

static void apply(struct replay *r, const struct candle *c)
{
    struct market *m = &r->app->market;
    if (c->event_time > m->exchange_ms) {   /* the exchange's clock is the file's */
        m->exchange_ms = c->event_time;
        m->exchange_seen_at = app_wall_ms(r->app);
    }
    market_apply(m, c);
}

static void agg_close(struct replay *r, struct agg *a)
{
    a->c.closed = 1;
    a->c.event_time = a->c.close_time;
    apply(r, &a->c);
    a->has = 0;
    a->closed_open = a->c.open_time;
}

/* Candles of the symbol that a row starting at t is past close first, at
 * their own close time: one whose last row is missing (a gap in the file)
 * closes when a row of a later candle arrives. */
static void close_before(struct replay *r, uint32_t sym, int64_t t)
{
    int closed = 0;
    for (int iv = 0; iv < IV_COUNT; iv++) {
        struct agg *a = &r->aggs[(size_t)sym * IV_COUNT + iv];
        if (a->has && a->c.open_time + interval_ms(iv) <= t) {
            agg_close(r, a);
            closed = 1;
        }
    }
    /* their alerts now, before the row moves the clock past them */
    if (closed && r->app->alerts)
        alert_drain(r->app->alerts);
}

/* How a row enters the candle of an interval: */
enum row_use {
    ROW_SKIP,     /* not at all: closed already, or these minutes are in it */
    ROW_NEW,      /* it starts the candle: the candle is the row so far */
    ROW_EXTEND,   /* the candle so far, then the row so far */
    ROW_WHOLE     /* the row is the whole candle, part of it built from
                   * shorter rows already: their path was walked, so only
                   * the row's end replaces it */
};

/* How the row rc enters the candle of interval iv containing it (its own
 * when own, or a longer one built from it). */
static enum row_use agg_use(const struct agg *a, const struct candle *rc, int iv, int own)
{
    int64_t ims = interval_ms(iv), open = rc->open_time / ims * ims;
    if (a->closed_open == open)
        return ROW_SKIP;   /* closed already, from shorter rows */
    if (!a->has)
        return ROW_NEW;
    if (own)
        return ROW_WHOLE;
    return rc->open_time >= a->covered ? ROW_EXTEND : ROW_SKIP;
}

/* The candle of interval iv: base (the candle before the row, for
 * ROW_EXTEND) with p (the row as far as its path went) added. */
static void agg_point(struct agg *a, const struct candle *base, const struct candle *p, int iv,
                      enum row_use use)
{
    if (use == ROW_EXTEND) {
        a->c = *base;
        a->c.high = p->high > base->high ? p->high : base->high;
        a->c.low = p->low < base->low ? p->low : base->low;
        a->c.close = p->close;
        a->c.volume += p->volume;
        a->c.quote_volume += p->quote_volume;
        a->c.trades += p->trades;
    } else {
        int64_t ims = interval_ms(iv);
        a->c = *p;
        a->c.open_time = p->open_time / ims * ims;
        a->c.close_time = a->c.open_time + ims - 1;
        a->c.interval = (uint8_t)iv;
    }
    a->has = 1;
    a->c.closed = 0;
    a->c.event_time = p->event_time;
}

#define ROW_PATH_POINTS 4

/* The prices a row's candle passed through, in the likeliest order: open,
 * low, high, close when it rose (close >= open), open, high, low, close
 * when it fell; each as the row so far into pts, consecutive equal prices
 * once.  Returns how many.
 * The times are unknown: the points play a millisecond apart at the row's
 * end (the last at its close time), when the row is known, so the candle
 * store takes each as newer and the exchange clock never runs ahead of
 * them (none is "late").  The row's volume, quote volume and trades are
 * prorated by the distance the price has travelled along the path: a
 * volume rule must not see the whole row's volume at its open, before the
 * move it came with; the last point carries the row's own totals, so the
 * closed candle is the row exactly. */
static int row_path(const struct candle *row, struct candle *pts)
{
    int up = row->close >= row->open;
    double px[ROW_PATH_POINTS] = {row->open, up ? row->low : row->high,
                                  up ? row->high : row->low, row->close};
    double total = 0, walked = 0;
    for (int k = 1; k < ROW_PATH_POINTS; k++)
        total += fabs(px[k] - px[k - 1]);
    int n = 0;
    for (int k = 0; k < ROW_PATH_POINTS; k++) {
        if (k > 0) {
            walked += fabs(px[k] - px[k - 1]);
            if (px[k] == px[k - 1])
                continue;
        }
        struct candle *p = &pts[n++];
        double share = total > 0 ? walked / total : 0;
        *p = *row;
        p->close = px[k];
        p->high = n > 1 && pts[n - 2].high > px[k] ? pts[n - 2].high : px[k];
        p->low = n > 1 && pts[n - 2].low < px[k] ? pts[n - 2].low : px[k];
        p->volume = row->volume * share;
        p->quote_volume = row->quote_volume * share;
        p->trades = (int32_t)(row->trades * share + 0.5);
        p->event_time = row->close_time - (ROW_PATH_POINTS - 1 - k);
    }
    pts[n - 1] = *row;   /* its price is the close: the row itself, exactly */
    return n;
}

/* A row: the forming candle of its interval and of every longer configured
 * one it is part of, at each price of its path (row_path), then each
 * closes with its last row. */
static void feed(struct replay *r, const struct row *w)
{
    int64_t ms = interval_ms(w->iv);
    struct candle row = {.open_time = w->open_time, .close_time = w->open_time + ms - 1,
                         .event_time = w->open_time + ms - 1, .open = w->o, .high = w->h,
                         .low = w->l, .close = w->c, .volume = w->v, .quote_volume = w->qv,
                         .trades = w->trades, .symbol = w->sym, .interval = w->iv,
                         .price_dp = w->dp};
    close_before(r, w->sym, w->open_time);
    struct agg *aggs = &r->aggs[(size_t)w->sym * IV_COUNT];
    enum row_use use[IV_COUNT];
    struct candle base[IV_COUNT];   /* each candle before the row */
    for (int iv = 0; iv < IV_COUNT; iv++) {
        use[iv] = ROW_SKIP;
        if (iv < w->iv || interval_ms(iv) % ms ||
            (iv != w->iv && !(r->app->cfg.exchange.intervals & 1 << iv)))
            continue;
        use[iv] = agg_use(&aggs[iv], &row, iv, iv == w->iv);
        base[iv] = aggs[iv].c;
    }
    struct candle pts[ROW_PATH_POINTS];
    int n = row_path(&row, pts);
    for (int k = 0; k < n; k++)
        for (int iv = w->iv; iv < IV_COUNT; iv++) {
            if (use[iv] == ROW_SKIP || (use[iv] == ROW_WHOLE && k < n - 1))
                continue;
            struct agg *a = &aggs[iv];
            agg_point(a, &base[iv], &pts[k], iv, use[iv]);
            apply(r, &a->c);
            if (k < n - 1)
                continue;
            a->covered = row.close_time + 1;
            if (a->covered == a->c.open_time + interval_ms(iv))
                agg_close(r, a);
        }
}

static void tick(void *ud)
{
    struct replay *r = ud;
    r->timer = NULL;
    uint64_t now = app_now_ms(r->app);
    int fed = 0;
    while (r->next < r->n && fed < BATCH) {
        const struct row *w = &r->rows[r->next];
        if (r->speed > 0) {
            uint64_t due = r->start_ms + (uint64_t)((double)w->at / r->speed);
            if (due > now) {
                r->timer = timers_add(&r->app->timers, due, tick, r);
                return;
            }
        }
        feed(r, w);
        /* alerts now, while the exchange clock is this row's (queued, the
         * rest of the batch would make them look late) */
        if (r->app->alerts)
            alert_drain(r->app->alerts);
        r->next++;
        fed++;
    }
    if (r->next < r->n) {
        r->timer = timers_add(&r->app->timers, now, tick, r);
        return;
    }
    if (r->done) {
        void (*done)(void *) = r->done;
        r->done = NULL;
        done(r->done_ud);
    }
}

/* The ranking: by the files' total quote volume (an interval's, the largest). */
static void rank(struct replay *r)
{
    struct market *m = &r->app->market;
    uint32_t n = m->syms.n;
    double *qv = calloc((size_t)(n ? n : 1) * IV_COUNT, sizeof *qv);
    uint32_t *ids = malloc(sizeof *ids * (n ? n : 1));
    double *sorted = malloc(sizeof *sorted * (n ? n : 1));
    if (!qv || !ids || !sorted)
        goto out;
    /* each interval's rows on their own: a 1h file next to a 1m file of the
     * same day holds the same trades, not twice as many */
    for (size_t i = 0; i < r->n; i++)
        qv[(size_t)r->rows[i].sym * IV_COUNT + r->rows[i].iv] += r->rows[i].qv;
    for (uint32_t i = 0; i < n; i++)
        for (int iv = 1; iv < IV_COUNT; iv++)
            if (qv[(size_t)i * IV_COUNT + iv] > qv[(size_t)i * IV_COUNT])
                qv[(size_t)i * IV_COUNT] = qv[(size_t)i * IV_COUNT + iv];
    for (uint32_t i = 0; i < n; i++)
        qv[i] = qv[(size_t)i * IV_COUNT];
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (m->syms.v[i].active)
            ids[k++] = i;
    for (uint32_t i = 1; i < k; i++)   /* a few symbols: insertion sort */
        for (uint32_t j = i; j > 0 && qv[ids[j]] > qv[ids[j - 1]]; j--) {
            uint32_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    for (uint32_t i = 0; i < k; i++)
        sorted[i] = qv[ids[i]];
    market_set_ranking_all(m, ids, sorted, k);
out:
    free(qv);
    free(ids);
    free(sorted);
}

/* The prices of a symbol shown with the most decimals its rows carry (a
 * spot file writes 1983.55000000 for a price ticking in cents). */
static void price_decimals(struct replay *r)
{
    uint32_t n = r->app->market.syms.n;
    uint8_t *dp = calloc(n ? n : 1, 1);
    if (!dp)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (r->rows[i].dp > dp[r->rows[i].sym])
            dp[r->rows[i].sym] = r->rows[i].dp;
    for (size_t i = 0; i < r->n; i++)
        r->rows[i].dp = dp[r->rows[i].sym];
    free(dp);
}

/* Sorts the rows into play order; -1 with err when two files hold one candle. */
static int order(struct replay *r, char *err, size_t errlen)
{
    qsort(r->rows, r->n, sizeof *r->rows, by_time);
    for (size_t i = 1; i < r->n; i++) {
        const struct row *x = &r->rows[i - 1], *y = &r->rows[i];
        if (x->sym == y->sym && x->iv == y->iv && x->open_time == y->open_time) {
            snprintf(err, errlen, "%s:%u: the candle opening at %lld (ms) is also in %s:%u: "
                     "name each file once", r->files[y->file], y->line,
                     (long long)y->open_time, r->files[x->file], x->line);
            return -1;
        }
    }
    /* files of different days play one after the other, not weeks apart */
    for (size_t i = 1; i < r->n; i++) {
        int64_t gap = row_end(&r->rows[i]) - row_end(&r->rows[i - 1]);
        r->rows[i].at = r->rows[i - 1].at + (gap > MAX_GAP_MS ? 60000 : gap);
    }
    return 0;
}

struct replay *replay_start(struct app *a, char **files, int nfiles, double speed,
                            void (*done)(void *ud), void *ud, char *err, size_t errlen)
{
    struct replay *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->app = a;
    r->files = files;
    r->speed = speed;
    r->done = done;
    r->done_ud = ud;
    for (int i = 0; i < nfiles; i++)
        if (load(r, (uint32_t)i, err, errlen) != 0) {
            replay_free(r);
            return NULL;
        }
    if (!r->n) {
        snprintf(err, errlen, "name one or more kline files");
        replay_free(r);
        return NULL;
    }
    price_decimals(r);
    if (order(r, err, errlen) != 0) {
        replay_free(r);
        return NULL;
    }
    r->naggsym = a->market.syms.n;
    if (!(r->aggs = calloc((size_t)r->naggsym * IV_COUNT, sizeof *r->aggs))) {
        snprintf(err, errlen, "out of memory");
        replay_free(r);
        return NULL;
    }
    rank(r);
    r->files = NULL;
    r->start_ms = app_now_ms(a);
    r->timer = timers_add(&a->timers, r->start_ms, tick, r);
    return r;
}

void replay_free(struct replay *r)
{
    if (!r)
        return;
    if (r->timer)
        timers_cancel(&r->app->timers, r->timer);
    free(r->rows);
    free(r->aggs);
    free(r);
}

size_t replay_fed(const struct replay *r)
{
    return r->next;
}

size_t replay_total(const struct replay *r)
{
    return r->n;
}
