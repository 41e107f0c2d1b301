#include "market/market.h"

#include "metrics/prom.h"

#include <stdlib.h>
#include <string.h>

#include "market/venue.h"
#include "util/interval.h"

/* The closed candles the store holds in (after, upto], oldest first, to
 * the indicator book. */
static void book_retake(struct market *m, uint32_t sym, int iv, int64_t after, int64_t upto)
{
    const struct series *s = candles_series(&m->candles, sym, iv);
    for (uint32_t i = s ? s->count : 0; i-- > 0;) {
        const struct candle *c = series_closed(s, m->candles.history, i);
        if (c->open_time > after && c->open_time <= upto)
            ind_book_closed(&m->ind, c);
    }
}

/* The indicator book wants a series' history: the feed fetches it (when
 * there is one), and meanwhile the series takes every closed candle the
 * store holds (all a replay or a spec has). */
static void need_history(void *ud, uint32_t sym, int iv)
{
    struct market *m = ud;
    int v = sym < m->syms.n ? m->syms.v[sym].venue : VENUE_USDM;
    if (m->fetch_history[v])
        m->fetch_history[v](m->fetch_history_ud[v], sym, iv);
    book_retake(m, sym, iv, INT64_MIN, INT64_MAX);
}

int market_init(struct market *m, uint32_t history, struct logger *log)
{
    memset(m, 0, sizeof *m);
    symtab_init(&m->syms);
    ind_book_init(&m->ind);
    m->ind.need_history = need_history;
    m->ind.need_history_ud = m;
    m->log = log;
    return candles_init(&m->candles, history);
}

void market_free(struct market *m)
{
    symtab_free(&m->syms);
    candles_free(&m->candles);
    ind_book_free(&m->ind);
    for (int v = 0; v < VENUE_COUNT; v++)
        free(m->ranked[v]);
    free(m->quote_volume);
    memset(m, 0, sizeof *m);
}

void market_drop(struct market *m, enum kline_drop why, const char *buf, size_t len,
                 int64_t now_ms)
{
    m->n.dropped[why]++;
    m->drop_logged_count[why]++;
    if (now_ms - m->drop_logged_at[why] < 60000)
        return;
    /* a sample of the frame, without its control bytes */
    char sample[121];
    size_t n = len < 120 ? len : 120;
    for (size_t i = 0; i < n; i++)
        sample[i] = (unsigned char)buf[i] < 0x20 ? '?' : buf[i];
    sample[n] = '\0';
    log_warn(m->log, "market", "dropped %llu frame(s) (%s) since the last report; e.g. %s%s",
             (unsigned long long)m->drop_logged_count[why], kline_drop_name(why), sample,
             len > 120 ? "..." : "");
    m->drop_logged_at[why] = now_ms;
    m->drop_logged_count[why] = 0;
}

void market_apply(struct market *m, const struct candle *c)
{
    enum candle_event ev = candles_apply(&m->candles, c);
    switch (ev) {
    case CANDLE_IGNORED:
        m->n.ignored++;
        return;
    case CANDLE_FORMING:
        m->n.forming++;
        break;
    case CANDLE_CLOSED: {
        m->n.closed++;
        m->n.backfilled += c->backfilled;
        /* (a candle of a symbol the table lacks: only tests make those) */
        int v = c->symbol < m->syms.n ? m->syms.v[c->symbol].venue : VENUE_USDM;
        m->n.closed_in[v]++;
        m->n.backfilled_in[v] += c->backfilled;
        if (m->log_closes)
            log_debug(m->log, "market", "closed %s %s %lld %s", m->syms.v[c->symbol].name,
                      interval_name(c->interval), (long long)c->open_time,
                      c->backfilled ? "backfill" : "live");
        break;
    }
    }
    if (m->on_event)
        m->on_event(m->on_event_ud, c, ev);
}

void market_history(struct market *m, uint32_t sym, int iv, const struct candle *rows, size_t n,
                    size_t keep)
{
    int64_t took = ind_book_at(&m->ind, sym, iv);
    ind_book_history(&m->ind, sym, iv, rows, n);
    /* rows asked for before a candle closed may come after the engine gave
     * that candle to the book: when the rows replaced the series, it takes
     * those candles again (else the next close is a gap, and the history
     * is fetched again) */
    if (n && took > rows[n - 1].open_time)
        book_retake(m, sym, iv, rows[n - 1].open_time, took);
    for (size_t i = n > keep ? n - keep : 0; i < n; i++)
        market_apply(m, &rows[i]);
}

enum frame_kind market_frame(struct market *m, const struct venue_ops *vo, const char *buf,
                             size_t len, int64_t now_ms, struct frame_info *info)
{
    struct candle c[VENUE_FRAME_CANDLES];
    m->n.received++;
    enum frame_kind k = vo->parse(buf, len, &m->syms, vo->venue, c, info);
    switch (k) {
    case FRAME_KLINE:
        for (int i = 0; i < info->ncandles && i < VENUE_FRAME_CANDLES; i++) {
            m->n.klines++;
            if (c[i].event_time > m->exchange_ms) {
                m->exchange_ms = c[i].event_time;
                m->exchange_seen_at = now_ms;
            }
            market_apply(m, &c[i]);
        }
        if (info->drop != KD_NONE)   /* entries dropped beside good ones (Bybit's data[]) */
            market_drop(m, info->drop, buf, len, now_ms);
        break;
    case FRAME_DROP:
        market_drop(m, info->drop, buf, len, now_ms);
        break;
    case FRAME_REPLY:
        m->n.replies++;
        break;
    case FRAME_OTHER:
        m->n.other++;
        break;
    }
    return k;
}

int64_t market_exchange_now(const struct market *m, int64_t now_ms)
{
    if (!m->exchange_ms)
        return now_ms;
    return m->exchange_ms + (now_ms - m->exchange_seen_at);
}

int market_set_ranking(struct market *m, const uint32_t *ids, const double *qv, uint32_t n)
{
    return market_set_ranking_in(m, VENUE_USDM, ids, qv, n);
}

int market_set_ranking_all(struct market *m, const uint32_t *ids, const double *qv, uint32_t n)
{
    uint32_t *vi = malloc(sizeof *vi * (n ? n : 1));
    double *vq = malloc(sizeof *vq * (n ? n : 1));
    int rc = vi && vq ? 0 : -1;
    for (int v = 0; v < VENUE_COUNT && rc == 0; v++) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++)
            if (ids[i] < m->syms.n && m->syms.v[ids[i]].venue == v) {
                vi[k] = ids[i];
                vq[k++] = qv[i];
            }
        rc = market_set_ranking_in(m, v, vi, vq, k);
    }
    free(vi);
    free(vq);
    return rc;
}

int market_set_ranking_in(struct market *m, int venue, const uint32_t *ids, const double *qv,
                          uint32_t n)
{
    if (venue < 0 || venue >= VENUE_COUNT)
        return -1;
    uint32_t *r = malloc(sizeof *r * (n ? n : 1));
    double *v = calloc(m->syms.n ? m->syms.n : 1, sizeof *v);
    if (!r || !v) {
        free(r);
        free(v);
        return -1;
    }
    memcpy(r, ids, sizeof *r * n);
    /* the other venues' volumes stay; this venue's are replaced */
    for (uint32_t i = 0; i < m->nqv && i < m->syms.n; i++)
        if (m->syms.v[i].venue != venue)
            v[i] = m->quote_volume[i];
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] < m->syms.n)
            v[ids[i]] = qv[i];
    free(m->ranked[venue]);
    free(m->quote_volume);
    m->ranked[venue] = r;
    m->nranked[venue] = n;
    m->quote_volume = v;
    m->nqv = m->syms.n;
    if (m->on_ranking)
        m->on_ranking(m->on_ranking_ud);
    return 0;
}

void market_metrics(const struct market *m, struct prom *p)
{
    prom_counter(p, "candlewatch_candle_messages_received_total",
                 "Frames received from the exchange.", NULL, (double)m->n.received);
    for (int d = 1; d < KD_COUNT; d++) {
        char lb[64] = "";
        prom_label(lb, sizeof lb, "reason", kline_drop_name(d));
        prom_counter(p, "candlewatch_candle_messages_dropped_total",
                     "Frames dropped, by reason.", lb, (double)m->n.dropped[d]);
    }
    prom_counter(p, "candlewatch_candles_closed_total", "Candles closed.", NULL,
                 (double)m->n.closed);
    prom_counter(p, "candlewatch_candles_backfilled_total", "Candles filled in over REST.", NULL,
                 (double)m->n.backfilled);
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct venue_ops *vo = venue_ops_of(v);
        char lb[64] = "";
        if (!vo || (v != VENUE_USDM && !m->nranked[v]))
            continue;   /* (a venue that is off says nothing) */
        prom_label(lb, sizeof lb, "venue", vo->label);
        prom_gauge(p, "candlewatch_symbols_ranked", "Symbols in the 24 h volume ranking.", lb,
                   (double)m->nranked[v]);
    }
}
