#include "market/feed_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "loop/rt.h"
#include "market/market.h"
#include "market/restparse.h"
#include "util/grow.h"
#include "util/interval.h"

struct bf_job {
    struct feed *f;
    uint32_t sym;
    int iv;
    long keep;     /* the newest rows the candle store takes (the rest only
                    * warm the indicators) */
};

struct bf_rows {
    struct feed *f;
    const char *body;
    size_t len;
    struct candle *v;
    size_t n, cap;
    int oom;
};

static void bf_row(void *ud, const struct candle *c, enum kline_drop why)
{
    struct bf_rows *x = ud;
    if (!c) {
        x->f->dropped[why]++;
        market_drop(x->f->m, why, x->body, x->len, feed_now_ms(x->f));
        return;
    }
    struct candle *v = grow_from(x->v, &x->cap, x->n + 1, sizeof *v, 64);
    if (!v) {
        x->oom = 1;
        return;
    }
    x->v = v;
    x->v[x->n] = *c;
    int dp = x->f->m->syms.v[c->symbol].price_dp;
    if (dp >= 0)   /* the venue's own decimals (Bybit trims zeros in rows too) */
        x->v[x->n].price_dp = (uint8_t)dp;
    x->n++;
}

static void on_klines(void *ud, long status, const char *body, size_t len, const char *err)
{
    struct bf_job *j = ud;
    struct feed *f = j->f;
    f->warm_done++;
    if (f->stopping) {   /* handed back by the queue at shutdown */
        free(j);
        return;
    }
    if (!body || status != 200) {
        if (body || err)
            log_warn(f->rt->log, f->vo->log_module, "klines for %s %s: %s",
                     f->m->syms.v[j->sym].name, interval_name(j->iv), err ? err : "refused");
        free(j);
        return;
    }
    struct bf_rows rows = {f, body, len, NULL, 0, 0, 0};
    if (f->vo->parse_klines(body, len, j->sym, j->iv, market_exchange_now(f->m, feed_now_ms(f)),
                            bf_row, &rows) != 0) {
        f->dropped[KD_JSON]++;
        market_drop(f->m, KD_JSON, body, len, feed_now_ms(f));
    }
    else if (rows.oom)
        log_error(f->rt->log, f->vo->log_module, "klines for %s %s: out of memory for %zu rows",
                  f->m->syms.v[j->sym].name, interval_name(j->iv), rows.n + 1);
    else
        market_history(f->m, j->sym, j->iv, rows.v, rows.n, (size_t)j->keep);
    free(rows.v);
    /* progress in quarters, then done */
    if (f->warm_done == f->warm_total)
        log_info(f->rt->log, f->vo->log_module, "history complete: %ld klines requests done",
                 f->warm_total);
    else if (f->warm_total >= 8 && f->warm_done % (f->warm_total / 4) == 0)
        log_info(f->rt->log, f->vo->log_module, "loading history: %ld of %ld klines requests done",
                 f->warm_done, f->warm_total);
    free(j);
}

/* Queues one klines request: from start (or the newest, when start < 0);
 * the store takes the newest keep rows. */
static int bf_queue(struct feed *f, uint32_t sym, int iv, int64_t start, long limit, long keep)
{
    char path[256];
    if (limit > f->vo->klines_max)
        limit = f->vo->klines_max;
    f->vo->klines_path(path, sizeof path, sym_local(&f->m->syms.v[sym]), iv, start, limit);
    struct bf_job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    *j = (struct bf_job){f, sym, iv, keep};
    f->warm_total++;
    rest_get(&f->rest, path, f->vo->klines_weight(limit), 0, on_klines, j);
    return 0;
}

/* Queues what each stream of sym missed (or its whole history). */
void feed_backfill(struct feed *f, uint32_t sym)
{
    int64_t exch_now = market_exchange_now(f->m, feed_now_ms(f));
    /* the store's ring: exchange.history, or more when a live rule reads more */
    long history = (long)f->m->candles.history;
    for (int iv = 0; iv < IV_COUNT; iv++) {
        if (!(f->intervals & (1 << iv)))
            continue;
        int64_t ms = interval_ms(iv);
        const struct series *s = candles_series(&f->m->candles, sym, iv);
        int64_t start = -1;
        long limit = history + 1, keep = limit;   /* + the forming one, which is skipped */
        if (s && s->newest_open >= 0) {
            start = s->newest_open + ms;
            if (start + ms > exch_now)
                continue;   /* nothing closed since */
            limit = keep = (long)((exch_now - start) / ms) + 2;
        }
        if (bf_queue(f, sym, iv, start, limit, keep) != 0)
            return;
    }
}

/* A reload's rules read more history than the store held: the older
 * candles of the connection's streams are fetched now (once it is
 * subscribed), the newest `history` of each, inserted in place. */
void feed_backfill_deeper(struct conn *c)
{
    struct feed *f = c->f;
    uint32_t history = f->m->candles.history;
    if (c->history >= history)
        return;
    log_info(f->rt->log, f->vo->log_module, "connection %d: fetching %u closed candles per stream for "
             "the rules (had %u)", c->id, history, c->history);
    c->history = history;
    for (int i = 0; i < c->nsyms; i++)
        for (int iv = 0; iv < IV_COUNT; iv++)
            if ((f->intervals & (1 << iv)) &&
                bf_queue(f, c->syms[i], iv, -1, (long)history + 1, (long)history + 1))
                return;
}

/* The indicator book wants a series' history (a rule read it the first
 * time, its indicators changed, or it has a gap): as deep as its
 * indicators' warm-up; the store takes only its own newest. */
void feed_need_history(void *ud, uint32_t sym, int iv)
{
    struct feed *f = ud;
    long want = ind_book_want(&f->m->ind), history = (long)f->m->candles.history;
    if (sym < f->m->syms.n && f->m->syms.v[sym].venue == f->vo->venue &&
        (f->intervals & (1 << iv)))
        bf_queue(f, sym, iv, -1, (want > history ? want : history) + 1, history + 1);
}

void feed_backfill_pending(struct conn *c)
{
    for (int i = 0; i < c->nsyms; i++)
        if (c->need_backfill[i]) {
            c->need_backfill[i] = 0;
            feed_backfill(c->f, c->syms[i]);
        }
}
