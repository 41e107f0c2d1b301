#include "replay/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/engine.h"
#include "app.h"
#include "market/interval.h"

#define MAX_GAP_MS 3600000   /* longer quiet spans are played as one minute */
#define BATCH 2000   /* rows per loop turn at full speed: the loop stays responsive */

struct row {
    int64_t open_time;
    int64_t at;               /* replay time: open times with long gaps shortened */
    double o, h, l, c, v, qv;
    int32_t trades;
    uint32_t sym;
    uint8_t iv;
    uint8_t dp;
};

struct agg {                  /* a longer interval's forming candle */
    struct candle c;
    int has;
};

struct replay {
    struct app *app;
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

/* Decimals of a price field as written ("1983.55000000" -> 8). */
static uint8_t decimals(const char *s)
{
    const char *dot = strchr(s, '.');
    if (!dot)
        return 0;
    size_t n = strspn(dot + 1, "0123456789");
    return (uint8_t)(n > 18 ? 18 : n);
}

static int add_row(struct replay *r, const struct row *w)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        struct row *v = realloc(r->rows, sizeof *v * cap);
        if (!v)
            return -1;
        r->rows = v;
        r->cap = cap;
    }
    r->rows[r->n++] = *w;
    return 0;
}

static int load(struct replay *r, const char *path, char *err, size_t errlen)
{
    char sym[32];
    int iv;
    if (name_parts(path, sym, sizeof sym, &iv) != 0) {
        snprintf(err, errlen, "%s: name it SYMBOL-INTERVAL-....csv (like BTCUSDT-1m-2024-01-01.csv)",
                 path);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open it", path);
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
    char line[1024];
    long lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] < '0' || line[0] > '9')
            continue;   /* a header, or an empty line */
        char *fld[12];
        int nf = 0;
        for (char *p = line, *tok; nf < 12 && (tok = strsep(&p, ",\r\n"));)
            fld[nf++] = tok;
        struct row w = {0};
        char *end;
        long long t = strtoll(fld[0], &end, 10);
        if (nf < 9 || *end) {
            snprintf(err, errlen, "%s:%ld: expected open_time,open,high,low,close,volume,"
                     "close_time,quote_volume,trades,...", path, lineno);
            rc = -1;
            break;
        }
        w.open_time = t > 100000000000000LL ? t / 1000 : t;   /* µs in newer files */
        w.o = strtod(fld[1], NULL);
        w.h = strtod(fld[2], NULL);
        w.l = strtod(fld[3], NULL);
        w.c = strtod(fld[4], NULL);
        w.v = strtod(fld[5], NULL);
        w.qv = strtod(fld[7], NULL);
        w.trades = (int32_t)atol(fld[8]);
        w.sym = (uint32_t)id;
        w.iv = (uint8_t)iv;
        w.dp = decimals(fld[1]);
        if (add_row(r, &w) != 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static int by_time(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->open_time != y->open_time)
        return x->open_time < y->open_time ? -1 : 1;
    return (x->iv > y->iv) - (x->iv < y->iv);
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

static void feed(struct replay *r, const struct row *w)
{
    int64_t ms = interval_ms(w->iv);
    struct candle c = {.open_time = w->open_time, .close_time = w->open_time + ms - 1,
                       .event_time = w->open_time + ms - 1, .open = w->o, .high = w->h,
                       .low = w->l, .close = w->c, .volume = w->v, .quote_volume = w->qv,
                       .trades = w->trades, .symbol = w->sym, .interval = w->iv,
                       .price_dp = w->dp};
    apply(r, &c);   /* the forming candle at its last price, then its close */
    c.closed = 1;
    apply(r, &c);
    for (int iv = 0; iv < IV_COUNT; iv++) {
        int64_t ims = interval_ms(iv);
        if (!(r->app->cfg.exchange.intervals & 1 << iv) || ims <= ms || ims % ms)
            continue;
        struct agg *a = &r->aggs[(size_t)w->sym * IV_COUNT + iv];
        int64_t open = w->open_time / ims * ims;
        if (!a->has || a->c.open_time != open) {
            a->c = c;
            a->c.open_time = open;
            a->c.close_time = open + ims - 1;
            a->c.interval = (uint8_t)iv;
            a->has = 1;
        } else {
            a->c.high = w->h > a->c.high ? w->h : a->c.high;
            a->c.low = w->l < a->c.low ? w->l : a->c.low;
            a->c.close = w->c;
            a->c.volume += w->v;
            a->c.quote_volume += w->qv;
            a->c.trades += w->trades;
        }
        a->c.closed = 0;
        a->c.event_time = c.event_time;
        apply(r, &a->c);
        if (w->open_time + ms == open + ims) {   /* its last row: it closes */
            a->c.closed = 1;
            apply(r, &a->c);
            a->has = 0;
        }
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

/* The ranking: by the files' total quote volume. */
static void rank(struct replay *r)
{
    struct market *m = &r->app->market;
    uint32_t n = m->syms.n;
    double *qv = calloc(n ? n : 1, sizeof *qv);
    uint32_t *ids = malloc(sizeof *ids * (n ? n : 1));
    double *sorted = malloc(sizeof *sorted * (n ? n : 1));
    if (!qv || !ids || !sorted)
        goto out;
    for (size_t i = 0; i < r->n; i++)
        qv[r->rows[i].sym] += r->rows[i].qv;
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
    market_set_ranking(m, ids, sorted, k);
out:
    free(qv);
    free(ids);
    free(sorted);
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
    r->speed = speed;
    r->done = done;
    r->done_ud = ud;
    for (int i = 0; i < nfiles; i++)
        if (load(r, files[i], err, errlen) != 0) {
            replay_free(r);
            return NULL;
        }
    if (!r->n) {
        snprintf(err, errlen, "no klines in %s", nfiles ? files[0] : "(no files)");
        replay_free(r);
        return NULL;
    }
    qsort(r->rows, r->n, sizeof *r->rows, by_time);
    /* files of different days play one after the other, not weeks apart */
    for (size_t i = 1; i < r->n; i++) {
        int64_t gap = r->rows[i].open_time - r->rows[i - 1].open_time;
        r->rows[i].at = r->rows[i - 1].at + (gap > MAX_GAP_MS ? 60000 : gap);
    }
    r->naggsym = a->market.syms.n;
    if (!(r->aggs = calloc((size_t)r->naggsym * IV_COUNT, sizeof *r->aggs))) {
        snprintf(err, errlen, "out of memory");
        replay_free(r);
        return NULL;
    }
    rank(r);
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
