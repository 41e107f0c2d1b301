#include "market/feed_int.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "loop/rt.h"
#include "market/market.h"
#include "market/restparse.h"
#include "util/grow.h"

/* A connection with room for one more symbol's streams, or a new one. */
static struct conn *conn_with_room(struct feed *f)
{
    long per = f->vc->streams_per_connection / (f->niv ? f->niv : 1);
    if (per < 1)
        per = 1;
    for (int i = 0; i < f->nconns; i++)
        if (!f->conns[i]->retiring && f->conns[i]->nsyms < per)
            return f->conns[i];
    return feed_conn_new(f);
}

static struct conn *conn_of(struct feed *f, uint32_t sym, int *at)
{
    for (int i = 0; i < f->nconns; i++)
        for (int k = 0; k < f->conns[i]->nsyms; k++)
            if (f->conns[i]->syms[k] == sym && !f->conns[i]->retiring) {
                *at = k;
                return f->conns[i];
            }
    return NULL;
}

static void refresh_ranking(void *ud);

/* In a timer's delay: ms from now on the loop's clock. */
static struct timer *feed_after(struct feed *f, double seconds, void (*fn)(void *), void *ud)
{
    return timers_add(f->rt->timers, rt_now_ms(f->rt) + (uint64_t)(seconds * 1000), fn, ud);
}

/* Listed symbols: streamed by a connection with room (subscribed at once
 * when it is open, without disturbing the rest).  Marks them in seen. */
static int universe_add(struct feed *f, const struct restparse_universe *u, uint8_t *seen)
{
    struct symtab *st = &f->m->syms;
    int added = 0;
    for (size_t i = 0; i < u->n; i++) {
        const char *name = u->names[i];
        int venue = f->vo->venue;
        int known = symtab_find_in(st, venue, name, strlen(name));
        int id = known >= 0 ? known : symtab_add_in(st, venue, name, strlen(name));
        if (id < 0)
            continue;
        seen[id] = 1;
        if (u->price_dp)   /* the venue's own decimals, when it gives them */
            st->v[id].price_dp = u->price_dp[i];
        int at;
        if (known >= 0 && st->v[id].active && conn_of(f, (uint32_t)id, &at))
            continue;
        st->v[id].active = 1;
        struct conn *c = conn_with_room(f);
        if (!c || feed_conn_add_sym(c, (uint32_t)id) != 0)
            continue;
        added++;
        if (c->state == CS_OPEN) {   /* a listing: subscribe without disturbing the rest */
            uint32_t one = (uint32_t)id;
            feed_queue_streams(c, 1, &one, 1);
        }
    }
    return added;
}

/* Active symbols not in seen are delisted: their streams go. */
static int universe_remove(struct feed *f, const uint8_t *seen)
{
    struct symtab *st = &f->m->syms;
    int removed = 0;
    for (uint32_t id = 0; id < st->n; id++) {
        int at;
        struct conn *c;
        if (seen[id] || !st->v[id].active || st->v[id].venue != f->vo->venue)
            continue;   /* (another venue's symbols are its feed's) */
        st->v[id].active = 0;   /* delisted */
        removed++;
        while ((c = conn_of(f, id, &at))) {
            c->syms[at] = c->syms[c->nsyms - 1];
            c->need_backfill[at] = c->need_backfill[c->nsyms - 1];
            c->nsyms--;
            if (c->state == CS_OPEN)
                feed_queue_streams(c, 0, &id, 1);
        }
    }
    return removed;
}

#define FEED_MAX_PAGES 20   /* a universe's pages: far more than any venue has */

void feed_pages_free(struct feed *f)
{
    for (size_t i = 0; i < f->pg.n; i++)
        free(f->pg.names[i]);
    free(f->pg.names);
    free(f->pg.price_dp);
    memset(&f->pg, 0, sizeof f->pg);
}

/* Keeps a page's names (u is freed); 0, or -1 out of memory. */
static int pages_keep(struct feed *f, struct restparse_universe *u)
{
    int rc = 0;
    if (!f->pg.pages++)
        f->pg.server_time = u->server_time;
    f->pg.listed += u->listed;
    for (size_t i = 0; i < u->n && rc == 0; i++) {
        char **v = grow_from(f->pg.names, &f->pg.cap, f->pg.n + 1, sizeof *v, 64);
        if (v)
            f->pg.names = v;
        signed char *d = v ? grow_from(f->pg.price_dp, &f->pg.dpcap, f->pg.n + 1, 1, 64) : NULL;
        if (d)
            f->pg.price_dp = d;
        char *name = d ? strdup(u->names[i]) : NULL;
        if (name) {
            f->pg.price_dp[f->pg.n] = u->price_dp ? u->price_dp[i] : -1;
            f->pg.names[f->pg.n++] = name;
        }
        else
            rc = -1;
    }
    restparse_universe_free(u);
    return rc;
}

/* A page of a universe of several: kept, and the next one asked for; 1
 * when the last page is in (u then holds all of them, its names the
 * feed's until feed_pages_free), 0 when a next one was asked for, -1 when
 * memory ran out. */
static void on_exchange_info(void *ud, long status, const char *body, size_t len,
                             const char *err);

static int universe_pages(struct feed *f, const char *body, size_t len,
                          struct restparse_universe *u)
{
    char path[512];
    int more = f->vo->universe_next(body, len, path, sizeof path);
    if (pages_keep(f, u) != 0)
        return -1;
    if (more && f->pg.pages < FEED_MAX_PAGES) {
        rest_get(&f->rest, path, f->vo->universe_weight, 1, on_exchange_info, f);
        return 0;
    }
    if (more)
        log_warn(f->rt->log, f->vo->log_module, "%s: the symbol list goes on past %d pages: "
                 "taking the first %d", f->vo->exchange_name, FEED_MAX_PAGES, FEED_MAX_PAGES);
    *u = (struct restparse_universe){.names = (const char **)f->pg.names, .n = f->pg.n,
                                     .price_dp = f->pg.price_dp,
                                     .listed = f->pg.listed, .server_time = f->pg.server_time};
    return 1;
}

static void on_exchange_info(void *ud, long status, const char *body, size_t len,
                             const char *err)
{
    struct feed *f = ud;
    if (f->stopping)
        return;
    struct restparse_universe u;
    int paged = 0;
    if (!body || status != 200 ||
        f->vo->parse_universe(body, len, f->vc, &u) != 0 ||
        (f->vo->universe_next && (paged = universe_pages(f, body, len, &u)) < 0)) {
        log_error(f->rt->log, f->vo->log_module, "%s: the symbol list is unusable (%s): retrying in 30 s",
                  f->vo->exchange_name, err ? err : status != 200 ? "refused" : "no symbols");
        feed_pages_free(f);
        f->universe_timer = feed_after(f, 30, feed_refresh_universe, f);
        return;
    }
    if (f->vo->universe_next && !paged)
        return;   /* the next page was asked for */
    /* the exchange's clock, until stream frames refine it: REST rows that
     * are still forming are told apart by it, not by this host's clock */
    if (u.server_time > f->m->exchange_ms) {
        f->m->exchange_ms = u.server_time;
        f->m->exchange_seen_at = feed_now_ms(f);
    }
    uint8_t *seen = calloc(f->m->syms.n + u.listed + 1, 1);
    int added = universe_add(f, &u, seen);
    int removed = universe_remove(f, seen);
    free(seen);
    if (f->vo->universe_next)
        feed_pages_free(f);   /* (u's names were the pages') */
    else
        restparse_universe_free(&u);
    if (added || removed)
        log_info(f->rt->log, f->vo->log_module,
                 "universe: %d symbols added, %d removed; %d connections", added, removed,
                 f->nconns);
    if (!f->universe_ok) {
        f->universe_ok = 1;
        refresh_ranking(f);
    }
    /* connections not yet started: stagger them */
    for (int i = 0, k = 0; i < f->nconns; i++)
        if (f->conns[i]->state == CS_WAIT && !f->conns[i]->timer)
            feed_conn_timer(f->conns[i], 200 * k++);
    f->universe_timer = feed_after(f, f->vc->universe_refresh, feed_refresh_universe, f);
}

void feed_refresh_universe(void *ud)
{
    struct feed *f = ud;
    f->universe_timer = NULL;
    feed_pages_free(f);   /* (a paging cut short: begin again) */
    rest_get(&f->rest, f->vo->universe_path, f->vo->universe_weight, 1, on_exchange_info, f);
}

static void on_ticker(void *ud, long status, const char *body, size_t len, const char *err)
{
    struct feed *f = ud;
    (void)err;
    if (f->stopping)
        return;
    struct restparse_ranking r = {0};
    int rc = body && status == 200
                 ? f->vo->parse_ranking(body, len, &f->m->syms, f->vo->venue, &r) : -1;
    if (rc == 0)
        market_set_ranking_in(f->m, f->vo->venue, r.ids, r.qv, r.n);
    else if (rc == -1)
        log_warn(f->rt->log, f->vo->log_module, "%s: 24 h tickers unusable: the ranking stays as it was",
                 f->vo->exchange_name);
    restparse_ranking_free(&r);
    f->ranking_timer = feed_after(f, f->vc->ranking_refresh, refresh_ranking, f);
}

static void refresh_ranking(void *ud)
{
    struct feed *f = ud;
    f->ranking_timer = NULL;
    rest_get(&f->rest, f->vo->ranking_path, f->vo->ranking_weight, 1, on_ticker, f);
}
