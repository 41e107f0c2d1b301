#include "market/feed_int.h"
#include "market/market.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "loop/rt.h"
#include "net/lws.h"
#include "net/tls.h"
#include "util/interval.h"

int64_t feed_now_ms(const struct feed *f)
{
    return rt_wall_ms(f->rt);
}

/* ws_url ("wss://host[:port]/market") -> host, port, path (with the
 * venue's suffix: "/market/stream"), TLS. */
static int feed_parse_url(struct feed *f, char *err, size_t errlen)
{
    char url[1024], *proto, *host, *path;
    snprintf(url, sizeof url, "%s", f->vc->ws_url);
    if (lws_parse_uri(url, (const char **)&proto, (const char **)&host, &f->port,
                      (const char **)&path)) {
        snprintf(err, errlen, "%s.ws_url: not a URL", f->vo->section);
        return -1;
    }
    f->tls = !strcmp(proto, "wss");
    if (f->tls && !(f->tls_ctx = tls_ctx_new(f->cfg->tls.ca_file, err, errlen)))
        return -1;
    snprintf(f->host, sizeof f->host, "%s", host);
    /* lws_parse_uri drops the leading '/' of the path */
    const char *suffix = f->vo->ws_suffix;
    snprintf(f->path, sizeof f->path, "/%s%s%s", path,
             *path && *suffix && path[strlen(path) - 1] != '/' ? "/" : "", suffix);
    return 0;
}

/* The client vhost its connections are made on. */
static int feed_vhost(struct feed *f, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;   /* lws 4.1: else no client TLS */
    info.protocols = feed_conn_protocols();
    info.vhost_name = f->vo->section;   /* one vhost per venue's feed */
    info.client_ssl_ca_filepath = f->cfg->tls.ca_file;
    f->vh = lws_create_vhost(f->lws->ctx, &info);
    if (!f->vh) {
        snprintf(err, errlen, "cannot create the feed's client vhost");
        return -1;
    }
    return 0;
}

struct feed *feed_start(const struct rt *rt, const struct config *cfg,
                        const struct venue_ops *vo, struct market *m, struct httpc *httpc,
                        struct net_lws *lws, struct health *health, char *err, size_t errlen)
{
    struct feed *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const struct config_venue *vc = config_venue_of(cfg, vo->venue);
    *f = (struct feed){.rt = rt, .cfg = cfg, .vo = vo, .vc = vc, .lws = lws, .health = health,
                       .m = m, .intervals = vc->intervals & vo->intervals};
    for (int iv = 0; iv < IV_COUNT; iv++)
        f->niv += (f->intervals >> iv) & 1;
    if (feed_parse_url(f, err, errlen) != 0 || feed_vhost(f, err, errlen) != 0) {
        feed_free(f);
        return NULL;
    }
    rest_init(&f->rest, rt, httpc, vc->rest_url, vc->rest_weight_limit);
    f->rest.ban_status = vo->rest_ban_status;
    f->rest.ban_s = vo->rest_ban_s;
    f->rest.limited = vo->rest_limited;
    m->fetch_history[vo->venue] = feed_need_history;
    m->fetch_history_ud[vo->venue] = f;
    feed_refresh_universe(f);
    return f;
}

void feed_stop(struct feed *f)
{
    if (!f)
        return;
    f->stopping = 1;   /* first: the jobs rest_free hands back are dropped */
    if (f->m->fetch_history_ud[f->vo->venue] == f)
        f->m->fetch_history[f->vo->venue] = NULL;
    rest_free(&f->rest);
    if (f->universe_timer)
        timers_cancel(f->rt->timers, f->universe_timer);
    if (f->ranking_timer)
        timers_cancel(f->rt->timers, f->ranking_timer);
    f->universe_timer = f->ranking_timer = NULL;
    for (int i = 0; i < f->nconns; i++) {
        struct conn *c = f->conns[i];
        if (c->timer)
            timers_cancel(f->rt->timers, c->timer);
        c->timer = NULL;
        /* a proper goodbye: a close frame (1000, normal), urgent, then the
         * socket (paced SUBSCRIBEs still waiting are dropped) */
        if (c->wsi && c->state == CS_OPEN && !c->closing) {
            int k = 0;
            for (int j = 0; j < c->nout; j++)
                if (c->out[j].paced)
                    free(c->out[j].p);
                else
                    c->out[k++] = c->out[j];
            c->nout = k;
            c->closing = 1;
            feed_queue_frame(c, WS_CLOSE, "\x03\xe8", 2, 0);
        }
    }
}

void feed_free(struct feed *f)
{
    if (!f)
        return;
    feed_pages_free(f);
    while (f->nconns)
        feed_conn_free(f->conns[0]);
    free(f->conns);
    tls_ctx_free(f->tls_ctx);
    free(f);
}

