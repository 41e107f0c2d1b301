#include "market/feed_int.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "loop/rt.h"
#include "market/market.h"
#include "net/lws.h"
#include "net/tls.h"
#include "util/grow.h"
#include "util/interval.h"

static void conn_connect(struct conn *c);
static void conn_close(struct conn *c);

/* ---- outgoing control messages, paced ---- */

static void send_soon(struct conn *c)
{
    if (c->wsi && c->nout)
        lws_callback_on_writable(c->wsi);
}

/* Queues bytes (taking ownership of p); urgent ones before paced ones. */
static void queue_bytes(struct conn *c, unsigned char *p, size_t n, int paced, int plain)
{
    if (!p)
        return;
    struct outmsg *o = grow(c->out, &c->capout, (size_t)c->nout + 1, sizeof *o);
    if (!o) {
        free(p);
        return;
    }
    c->out = o;
    int at = c->nout;
    if (!plain)   /* ciphertext: in the order TLS produced it, before anything
                   * still to be encrypted */
        for (at = 0; at < c->nout && !c->out[at].plain; at++)
            ;
    else if (!paced)   /* after other urgent ones, before any paced one */
        for (at = 0; at < c->nout && !c->out[at].paced; at++)
            ;
    memmove(c->out + at + 1, c->out + at, sizeof *c->out * (size_t)(c->nout - at));
    c->out[at] = (struct outmsg){p, n, paced, plain};
    c->nout++;
    send_soon(c);
}

/* A masked WebSocket frame of text, queued. */
void feed_queue_frame(struct conn *c, int opcode, const char *text, size_t n, int paced)
{
    unsigned char mask[4];
    unsigned char *p = malloc(n + 14);
    if (!p)
        return;
    lws_get_random(c->f->lws->ctx, mask, 4);
    queue_bytes(c, p, ws_frame(opcode, text, n, mask, p), paced, 1);
}

static void queue_msg(struct conn *c, char *msg)
{
    if (!msg)
        return;
    feed_queue_frame(c, WS_TEXT, msg, strlen(msg), 1);
    free(msg);
}

/* Subscribes (on) or unsubscribes every interval of syms[0..n), in
 * messages of at most the venue's batch of streams. */
/* More intervals than a message may carry streams (Bybit: 10 topics, and
 * 11 intervals): a symbol's intervals in several messages. */
static void queue_split(struct conn *c, int on, const uint32_t *syms, int n)
{
    struct feed *f = c->f;
    for (int i = 0; i < n; i++)
        for (int iv = 0; iv < IV_COUNT;) {
            int mask = 0;
            for (int k = 0; iv < IV_COUNT && k < f->vo->batch; iv++)
                if (f->intervals & (1 << iv)) {
                    mask |= 1 << iv;
                    k++;
                }
            if (!mask)
                continue;
            char *msg = f->vo->subscribe_msg(&f->m->syms, on, syms + i, 1, mask, ++f->next_msg_id);
            if (msg && on)
                c->unacked++;
            queue_msg(c, msg);
        }
}

void feed_queue_streams(struct conn *c, int on, const uint32_t *syms, int n)
{
    struct feed *f = c->f;
    int per = f->vo->batch / (f->niv ? f->niv : 1);
    if (per < 1) {
        queue_split(c, on, syms, n);
        return;
    }
    for (int i = 0; i < n; i += per) {
        char *msg = f->vo->subscribe_msg(&f->m->syms, on, syms + i, n - i < per ? n - i : per,
                                         f->intervals, ++f->next_msg_id);
        if (msg && on)
            c->unacked++;
        queue_msg(c, msg);
    }
}

/* ---- connections ---- */

struct conn *feed_conn_new(struct feed *f)
{
    struct conn **v = grow_from(f->conns, &f->capconns, (size_t)f->nconns + 1, sizeof *v, 4);
    if (!v)
        return NULL;
    f->conns = v;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->f = f;
    c->id = ++f->next_id;
    c->state = CS_WAIT;
    c->history = f->m->candles.history;   /* what its first backfill will fetch */
    f->conns[f->nconns++] = c;
    return c;
}

int feed_conn_add_sym(struct conn *c, uint32_t sym)
{
    /* two arrays of one capacity: each grown from it, the capacity kept
     * only once both have room */
    size_t need = (size_t)c->nsyms + 1, scap = c->cap, bcap = c->cap;
    uint32_t *s = grow_from(c->syms, &scap, need, sizeof *s, 32);
    if (!s)
        return -1;
    c->syms = s;
    uint8_t *b = grow_from(c->need_backfill, &bcap, need, 1, 32);
    if (!b)
        return -1;
    c->need_backfill = b;
    c->cap = scap;
    c->need_backfill[c->nsyms] = 1;
    c->syms[c->nsyms++] = sym;
    return 0;
}

void feed_conn_free(struct conn *c)
{
    struct feed *f = c->f;
    if (c->timer)
        timers_cancel(f->rt->timers, c->timer);
    for (int i = 0; i < c->nout; i++)
        free(c->out[i].p);
    free(c->out);
    free(c->syms);
    free(c->need_backfill);
    ws_free(&c->ws);
    tls_client_free(c->tc);
    for (int i = 0; i < f->nconns; i++)
        if (f->conns[i] == c) {
            f->conns[i] = f->conns[--f->nconns];
            break;
        }
    for (int i = 0; i < f->nconns; i++)
        if (f->conns[i]->replaces == c)
            f->conns[i]->replaces = NULL;
    free(c);
}

static void on_conn_timer(void *ud);

void feed_conn_timer(struct conn *c, int64_t delay_ms)
{
    const struct rt *rt = c->f->rt;
    if (c->timer)
        timers_cancel(rt->timers, c->timer);
    c->timer = timers_add(rt->timers, rt_now_ms(rt) + (uint64_t)(delay_ms > 0 ? delay_ms : 0),
                          on_conn_timer, c);
}

int64_t feed_backoff_ms(int attempts, unsigned rnd)
{
    int64_t d = (int64_t)FEED_BACKOFF_MIN_MS << (attempts < 6 ? (attempts > 0 ? attempts : 0) : 6);
    if (d > FEED_BACKOFF_MAX_MS)
        d = FEED_BACKOFF_MAX_MS;
    return d * 3 / 4 + (int64_t)(rnd % (unsigned)(d / 2 + 1));   /* jitter: +/- 25 % */
}

static void schedule_reconnect(struct conn *c)
{
    int64_t d = feed_backoff_ms(c->attempts, (unsigned)rand());
    c->attempts++;
    c->state = CS_WAIT;
    feed_conn_timer(c, d);
    log_info(c->f->rt->log, c->f->vo->log_module, "connection %d: reconnecting in %.1f s", c->id,
             (double)d / 1000);
}

/* Starts a replacement carrying the same streams; c closes once it is live.
 * why: the reason, for the log. */
static void rotate(struct conn *c, const char *why)
{
    struct feed *f = c->f;
    struct conn *n = feed_conn_new(f);
    if (!n)
        return;
    for (int i = 0; i < c->nsyms; i++)
        feed_conn_add_sym(n, c->syms[i]);
    memset(n->need_backfill, 0, (size_t)n->nsyms);   /* c is still streaming them */
    n->replaces = c;
    c->retiring = 1;
    f->rotations++;
    log_info(f->rt->log, f->vo->log_module, "connection %d: replacing itself (connection %d) %s",
             c->id, n->id, why);
    conn_connect(n);
}

static void on_conn_timer(void *ud)
{
    struct conn *c = ud;
    struct feed *f = c->f;
    const struct config_venue *vc = f->vc;
    c->timer = NULL;
    if (f->stopping)
        return;
    if (c->state == CS_WAIT) {
        conn_connect(c);
        return;
    }
    int64_t now = feed_now_ms(f);
    if (c->state == CS_OPEN) {
        if (now - c->last_frame > (int64_t)(vc->stale_after * 1000)) {
            log_warn(f->rt->log, f->vo->log_module, "connection %d: no data for %.0f s: reconnecting",
                     c->id, (double)(now - c->last_frame) / 1000);
            conn_close(c);
        } else if (!c->retiring && c->got_kline &&
                   now - c->opened > (int64_t)(vc->rotate_after * 1000)) {
            rotate(c, "before the exchange's 24-hour cut");
        }
        if (c->got_kline && now - c->opened > FEED_HEALTHY_AFTER_MS)
            c->attempts = 0;
        if (c->unacked > 0 && c->nout == 0 && now - c->last_send > 10000) {
            /* answers missing: repair the gaps anyway rather than never */
            log_warn(f->rt->log, f->vo->log_module, "connection %d: %d SUBSCRIBE(s) unanswered after 10 s",
                     c->id, c->unacked);
            c->unacked = 0;
            feed_backfill_pending(c);
        }
        if (!c->unacked)
            feed_backfill_deeper(c);
        if (f->vo->ping_ms && now - c->last_ping >= f->vo->ping_ms) {
            /* the venue wants the client's pings (its own are not enough) */
            c->last_ping = now;
            feed_queue_frame(c, WS_TEXT, f->vo->ping_msg, strlen(f->vo->ping_msg), 0);
        }
        send_soon(c);
    }
    if (!c->timer)
        feed_conn_timer(c, 1000);
}

static void conn_connect(struct conn *c)
{
    struct feed *f = c->f;
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = f->lws->ctx;
    ci.vhost = f->vh;
    ci.address = f->host;
    ci.port = f->port;
    ci.path = f->path;
    ci.host = f->host;
    /* lws does the TCP connection on the loop; WebSocket framing (net/ws.c)
     * and TLS (net/tls.c) are ours: see those files for why */
    ci.method = "RAW";
    ci.ssl_connection = 0;
    ci.local_protocol_name = "cw-feed";
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    c->state = CS_CONNECTING;
    c->unacked = 0;
    for (int i = 0; i < c->nout; i++)
        free(c->out[i].p);
    c->nout = 0;
    c->got_kline = 0;
    if (!lws_client_connect_via_info(&ci)) {
        c->wsi = NULL;
        schedule_reconnect(c);
    }
}

static void conn_close(struct conn *c)
{
    if (c->wsi)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void on_message(struct conn *c, const char *buf, size_t len)
{
    struct feed *f = c->f;
    struct frame_info fi;
    int64_t now = feed_now_ms(f);
    c->last_frame = now;
    enum frame_kind k = market_frame(f->m, f->vo, buf, len, now, &fi);
    f->received++;
    f->slow += (uint64_t)fi.slow;
    if (k == FRAME_DROP || (k == FRAME_KLINE && fi.drop != KD_NONE))
        f->dropped[fi.drop]++;   /* (a kline frame may have bad entries beside good ones) */
    if (k == FRAME_KLINE && !c->got_kline) {
        c->got_kline = 1;
        if (c->replaces) {   /* the replacement is live: retire the old one */
            log_info(f->rt->log, f->vo->log_module, "connection %d is live: closing connection %d",
                     c->id, c->replaces->id);
            conn_close(c->replaces);
            c->replaces = NULL;
        }
    } else if (k == FRAME_OTHER && fi.shutdown && !c->retiring && !c->replaces) {
        /* the server is going away: the replacement must be live before it does */
        rotate(c, "before the exchange's server shuts down (serverShutdown)");
    } else if (k == FRAME_REPLY) {
        if (fi.reply_error)
            log_warn(f->rt->log, f->vo->log_module, "connection %d: the exchange refused a request: %.*s",
                     c->id, (int)(len < 200 ? len : 200), buf);
        if (c->unacked > 0 && --c->unacked == 0)
            feed_backfill_pending(c);   /* subscribed: now fetch what was missed */
    }
}

/* ---- the WebSocket engine's callbacks ---- */

static void ws_opened(void *ud)
{
    struct conn *c = ud;
    c->state = CS_OPEN;
    c->opened = c->last_frame = c->last_ping = feed_now_ms(c->f);
    log_info(c->f->rt->log, c->f->vo->log_module, "connection %d open: subscribing %d streams", c->id,
             c->nsyms * c->f->niv);
    feed_queue_streams(c, 1, c->syms, c->nsyms);
    feed_conn_timer(c, 1000);
}

static void ws_message(void *ud, const char *p, size_t n)
{
    on_message(ud, p, n);
}

static void ws_oversize(void *ud, size_t n)
{
    struct conn *c = ud;
    c->last_frame = feed_now_ms(c->f);
    c->f->received++;
    c->f->dropped[KD_OVERSIZE]++;
    market_drop(c->f->m, KD_OVERSIZE, "(a frame over max_frame)", 24, c->last_frame);
    (void)n;
}

static void ws_ping(void *ud, const char *p, size_t n)
{
    struct conn *c = ud;
    c->last_frame = feed_now_ms(c->f);
    feed_queue_frame(c, WS_PONG, p, n, 0);
}

static void ws_closed(void *ud, int code)
{
    struct conn *c = ud;
    log_info(c->f->rt->log, c->f->vo->log_module, "connection %d: the exchange closed it (%d)", c->id, code);
}

static const struct ws_callbacks ws_cbs = {ws_opened, ws_message, ws_oversize, ws_ping, ws_closed};

static void on_writable(struct conn *c, struct lws *wsi)
{
    int64_t now = feed_now_ms(c->f);
    if (!c->nout)
        return;
    if (c->out[0].plain && c->tc && !tls_ready(c->tc))
        return;   /* sent once the TLS handshake is done */
    if (c->out[0].paced) {
        int64_t wait = c->last_send + c->f->vo->send_gap_ms - now;
        if (wait > 0) {   /* under the exchange's incoming-message limit */
            feed_conn_timer(c, wait);
            return;
        }
        c->last_send = now;
    }
    struct outmsg m = c->out[0];
    memmove(c->out, c->out + 1, sizeof *c->out * (size_t)(--c->nout));
    if (m.plain && c->tc) {   /* encrypt: the record replaces the plaintext */
        size_t n;
        unsigned char *rec = tls_write(c->tc, m.p, m.n) == 0 ? tls_take(c->tc, &n) : NULL;
        free(m.p);
        if (!rec)
            return;
        m.p = rec;
        m.n = n;
    }
    unsigned char *buf = malloc(LWS_PRE + m.n);
    if (buf) {
        memcpy(buf + LWS_PRE, m.p, m.n);
        lws_write(wsi, buf + LWS_PRE, m.n, LWS_WRITE_RAW);
        free(buf);
    }
    free(m.p);
    if (c->nout) {
        if (c->out[0].paced)
            feed_conn_timer(c, c->f->vo->send_gap_ms);
        else
            lws_callback_on_writable(wsi);
    } else if (c->closing) {
        conn_close(c);
    }
}

/* Sends what TLS produced by itself (handshake, alerts), ahead of the rest. */
static void tls_flush(struct conn *c)
{
    size_t n;
    unsigned char *p = tls_take(c->tc, &n);
    if (p)
        queue_bytes(c, p, n, 0, 0);
}

static void plain_in(void *ud, const char *p, size_t n)
{
    struct conn *c = ud;
    if (!c->failed && ws_feed(&c->ws, p, n) != 0)
        c->failed = 1;
}

static void on_gone(struct conn *c, const char *why, size_t why_len)
{
    struct feed *f = c->f;
    c->wsi = NULL;
    c->state = CS_DEAD;
    tls_client_free(c->tc);
    c->tc = NULL;
    if (f->stopping)
        return;
    if (c->retiring) {
        log_info(f->rt->log, f->vo->log_module, "connection %d closed (replaced)", c->id);
        feed_conn_free(c);
        return;
    }
    f->reconnects++;
    log_warn(f->rt->log, f->vo->log_module, "connection %d lost%s%.*s", c->id, why_len ? ": " : "",
             (int)(why_len < 200 ? why_len : 200), why ? why : "");
    /* its streams will need what they miss meanwhile */
    memset(c->need_backfill, 1, (size_t)c->nsyms);
    schedule_reconnect(c);
}

/* TCP is up: TLS's ClientHello (with wss), then the upgrade request.
 * -1 closes the connection. */
static int on_connected(struct conn *c)
{
    char req[1024], host[300];
    unsigned char key[16];
    struct feed *f = c->f;
    if ((f->tls && f->port != 443) || (!f->tls && f->port != 80))
        snprintf(host, sizeof host, "%s:%d", f->host, f->port);
    else
        snprintf(host, sizeof host, "%s", f->host);
    ws_free(&c->ws);
    ws_init(&c->ws, (size_t)f->vc->max_frame, &ws_cbs, c);
    lws_get_random(f->lws->ctx, key, sizeof key);
    int n = ws_request(&c->ws, host, f->path, key, req, sizeof req);
    unsigned char *p = n > 0 ? malloc((size_t)n) : NULL;
    if (!p)
        return -1;
    memcpy(p, req, (size_t)n);
    c->failed = 0;
    if (f->tls_ctx) {
        tls_client_free(c->tc);
        if (!(c->tc = tls_client_new(f->tls_ctx, f->host))) {
            free(p);
            return -1;
        }
        tls_flush(c);   /* the ClientHello */
    }
    queue_bytes(c, p, (size_t)n, 0, 1);
    return 0;
}

static int on_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_RAW_CONNECTED:
        return on_connected(c);
    case LWS_CALLBACK_RAW_RX:
        if (c->tc) {
            int was_ready = tls_ready(c->tc);
            if (tls_input(c->tc, in, len, plain_in, c) != 0) {
                log_warn(c->f->rt->log, c->f->vo->log_module, "connection %d: %s", c->id, tls_error(c->tc));
                return -1;
            }
            tls_flush(c);
            if (!was_ready && tls_ready(c->tc))
                send_soon(c);   /* the upgrade request was waiting */
        } else if (ws_feed(&c->ws, in, len) != 0) {
            c->failed = 1;
        }
        if (c->failed) {
            if (c->ws.error)
                log_warn(c->f->rt->log, c->f->vo->log_module, "connection %d: %s", c->id, c->ws.error);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        on_writable(c, wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        on_gone(c, in, in ? len : 0);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE:
        on_gone(c, NULL, 0);
        return 0;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols feed_protocols[] = {
    {"cw-feed", on_ws, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

const struct lws_protocols *feed_conn_protocols(void)
{
    return feed_protocols;
}
