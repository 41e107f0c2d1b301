#include "market/feed_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "loop/rt.h"
#include "market/market.h"
#include "market/restparse.h"
#include "util/grow.h"
#include "util/interval.h"

#define KLINES_LIMIT_MAX 1500   /* rows per /fapi/v1/klines request */

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
        market_drop(x->f->m, why, x->body, x->len, feed_now_ms(x->f));
        return;
    }
    struct candle *v = grow_from(x->v, &x->cap, x->n + 1, sizeof *v, 64);
    if (!v) {
        x->oom = 1;
        return;
    }
    x->v = v;
    x->v[x->n++] = *c;
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
            log_warn(f->rt->log, "market", "klines for %s %s: %s",
                     f->m->syms.v[j->sym].name, interval_name(j->iv), err ? err : "refused");
        free(j);
        return;
    }
    struct bf_rows rows = {f, body, len, NULL, 0, 0, 0};
    if (restparse_klines(body, len, j->sym, j->iv, market_exchange_now(f->m, feed_now_ms(f)), bf_row,
                         &rows) != 0)
        market_drop(f->m, KD_JSON, body, len, feed_now_ms(f));
    else if (rows.oom)
        log_error(f->rt->log, "market", "klines for %s %s: out of memory for %zu rows",
                  f->m->syms.v[j->sym].name, interval_name(j->iv), rows.n + 1);
    else
        market_history(f->m, j->sym, j->iv, rows.v, rows.n, (size_t)j->keep);
    free(rows.v);
    /* progress in quarters, then done */
    if (f->warm_done == f->warm_total)
        log_info(f->rt->log, "market", "history complete: %ld klines requests done",
                 f->warm_total);
    else if (f->warm_total >= 8 && f->warm_done % (f->warm_total / 4) == 0)
        log_info(f->rt->log, "market", "loading history: %ld of %ld klines requests done",
                 f->warm_done, f->warm_total);
    free(j);
}

long feed_history_depth(const struct feed *f)
{
    long want = ind_book_want(&f->m->ind);
    return want > (long)f->m->candles.history ? want : (long)f->m->candles.history;
}

/* Queues one klines request: from start (or the newest, when start < 0);
 * the store takes the newest keep rows. */
static int bf_queue(struct feed *f, uint32_t sym, int iv, int64_t start, long limit, long keep)
{
    char path[256];
    if (limit > KLINES_LIMIT_MAX)
        limit = KLINES_LIMIT_MAX;
    int n = snprintf(path, sizeof path, "/fapi/v1/klines?symbol=%s&interval=%s&limit=%ld",
                     f->m->syms.v[sym].name, interval_name(iv), limit);
    if (start >= 0)
        snprintf(path + n, sizeof path - (size_t)n, "&startTime=%lld", (long long)start);
    struct bf_job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    *j = (struct bf_job){f, sym, iv, keep};
    f->warm_total++;
    rest_get(&f->rest, path, rest_klines_weight((int)limit), 0, on_klines, j);
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
        long limit = feed_history_depth(f) + 1, keep = history + 1;   /* + the forming one, skipped */
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

/* A reload's rules read more history than the store held, or indicators
 * the book did not keep: the history of the connection's streams is
 * fetched again now (once it is subscribed); the store inserts the
 * candles it lacks in place. */
void feed_backfill_deeper(struct conn *c)
{
    struct feed *f = c->f;
    long depth = feed_history_depth(f), keep = (long)f->m->candles.history + 1;
    if (c->history >= (uint32_t)depth)
        return;
    log_info(f->rt->log, "market", "connection %d: fetching %ld closed candles per stream for "
             "the rules (had %u)", c->id, depth, c->history);
    c->history = (uint32_t)depth;
    for (int i = 0; i < c->nsyms; i++)
        for (int iv = 0; iv < IV_COUNT; iv++)
            if ((f->intervals & (1 << iv)) && bf_queue(f, c->syms[i], iv, -1, depth + 1, keep))
                return;
}

/* The book found a gap in a series: its history again. */
void feed_need_history(void *ud, uint32_t sym, int iv)
{
    struct feed *f = ud;
    if (sym < f->m->syms.n && (f->intervals & (1 << iv)))
        bf_queue(f, sym, iv, -1, feed_history_depth(f) + 1, (long)f->m->candles.history + 1);
}

void feed_history_again(struct feed *f)
{
    for (int i = 0; i < f->nconns; i++)
        f->conns[i]->history = 0;
}

void feed_backfill_pending(struct conn *c)
{
    for (int i = 0; i < c->nsyms; i++)
        if (c->need_backfill[i]) {
            c->need_backfill[i] = 0;
            feed_backfill(c->f, c->syms[i]);
        }
}
