#include "market/feed_int.h"

#include <stdio.h>

#include "config/config.h"
#include "ops/health.h"
#include "loop/rt.h"
#include "market/market.h"
#include "metrics/prom.h"
#include "util/jsonw.h"

/* Open, streaming, and not stale. */
int feed_conn_live(const struct feed *f, const struct conn *c)
{
    return c->state == CS_OPEN && c->got_kline &&
           rt_wall_ms(f->rt) - c->last_frame <= (int64_t)(f->vc->stale_after * 1000);
}

/* The venue's entry's status, and why when not ok (reason: at least 256). */
static enum health_status feed_status(const struct feed *f, int live, char *reason, size_t len)
{
    if (!f->universe_ok) {
        snprintf(reason, len, "fetching the symbol list");
        return HEALTH_DEGRADED;
    }
    if (f->nconns && !live) {
        snprintf(reason, len, "no live connection to the exchange");
        return HEALTH_FAILING;
    }
    if (live < f->nconns) {
        snprintf(reason, len, "%d of %d connections live", live, f->nconns);
        return HEALTH_DEGRADED;
    }
    if (f->warm_done < f->warm_total) {
        snprintf(reason, len, "loading history: %ld of %ld requests", f->warm_done,
                 f->warm_total);
        return HEALTH_DEGRADED;
    }
    return HEALTH_OK;
}

/* Each connection, by its id: which one is unwell, and how. */
static void feed_health_conns(const struct feed *f, struct jsonw *w)
{
    static const char *const states[] = {"waiting", "connecting", "open", "closed"};
    jsonw_key(w, "by_connection");
    jsonw_obj_open(w);
    for (int i = 0; i < f->nconns; i++) {
        const struct conn *c = f->conns[i];
        char id[16];
        snprintf(id, sizeof id, "%d", c->id);
        jsonw_key(w, id);
        jsonw_obj_open(w);
        jsonw_kv_str(w, "state", states[c->state]);
        jsonw_key(w, "live");
        jsonw_bool(w, feed_conn_live(f, c));
        jsonw_kv_int(w, "streams", (long long)c->nsyms * f->niv);
        jsonw_kv_int(w, "ms_since_data", c->last_frame ? rt_wall_ms(f->rt) - c->last_frame : -1);
        jsonw_obj_close(w);
    }
    jsonw_obj_close(w);
}

void feed_health(struct feed *f, struct jsonw *w)
{
    const struct market *m = f->m;
    int live = 0;
    long streams = 0;
    for (int i = 0; i < f->nconns; i++) {
        live += feed_conn_live(f, f->conns[i]);
        streams += (long)f->conns[i]->nsyms * f->niv;
    }
    char reason[256] = "";
    enum health_status st = feed_status(f, live, reason, sizeof reason);
    health_set(f->health, f->vo->health, st, reason[0] ? reason : NULL);
    if (!w)
        return;
    jsonw_kv_str(w, "venue", f->vo->label);
    jsonw_kv_int(w, "connections", f->nconns);
    jsonw_kv_int(w, "live", live);
    jsonw_kv_int(w, "streams", streams);
    jsonw_kv_int(w, "symbols", m->nranked[f->vo->venue]);
    jsonw_kv_int(w, "received", (long long)f->received);
    jsonw_kv_int(w, "closed", (long long)m->n.closed_in[f->vo->venue]);
    jsonw_kv_int(w, "backfilled", (long long)m->n.backfilled_in[f->vo->venue]);
    jsonw_kv_int(w, "reconnects", (long long)f->reconnects);
    jsonw_kv_int(w, "rotations", (long long)f->rotations);
    jsonw_kv_int(w, "history_requests", f->warm_total);
    jsonw_kv_int(w, "history_done", f->warm_done);
    jsonw_kv_int(w, "rest_429", (long long)(f->rest.r429 + f->rest.r418));
    jsonw_key(w, "dropped");
    jsonw_obj_open(w);
    for (int d = 1; d < KD_COUNT; d++)
        jsonw_kv_int(w, kline_drop_name(d), (long long)f->dropped[d]);
    jsonw_obj_close(w);
    feed_health_conns(f, w);
}

void feed_metrics(const struct feed *f, const struct venue_ops *vo, struct prom *p)
{
    int nconns = f ? f->nconns : 0, live = 0;
    char lb[64] = "";
    prom_label(lb, sizeof lb, "venue", vo->label);
    for (int i = 0; i < nconns; i++)
        live += feed_conn_live(f, f->conns[i]);
    prom_gauge(p, "candlewatch_websocket_connections", "Exchange stream connections.", lb,
               nconns);
    prom_gauge(p, "candlewatch_websocket_connections_live",
               "Exchange stream connections receiving data.", lb, live);
    prom_counter(p, "candlewatch_websocket_reconnects_total", "Exchange reconnects.", lb,
                 f ? (double)f->reconnects : 0);
    prom_counter(p, "candlewatch_websocket_rotations_total",
                 "Connections replaced before the exchange's 24 h cut.", lb,
                 f ? (double)f->rotations : 0);
    prom_counter(p, "candlewatch_rest_rate_limited_total", "REST 429 and 418 answers.", lb,
                 f ? (double)(f->rest.r429 + f->rest.r418) : 0);
    prom_counter(p, "candlewatch_feed_frames_total", "Frames received, by venue.", lb,
                 f ? (double)f->received : 0);
    prom_counter(p, "candlewatch_feed_frames_slow_total",
                 "Frames the parser's fast path gave up on, by venue.", lb,
                 f ? (double)f->slow : 0);
}
