#include "market/feed.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "util/interval.h"
#include "market/market.h"
#include "market/rest.h"
#include "market/restparse.h"
#include "metrics/prom.h"
#include "net/tls.h"
#include "net/ws.h"
#include "util/jsonw.h"

#define SUBSCRIBE_GAP_MS 200      /* 5 messages/s: half the exchange's limit */
#define SUBSCRIBE_BATCH 200       /* streams per SUBSCRIBE message */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define HEALTHY_AFTER_MS 60000    /* a connection this old resets its backoff */

enum conn_state { CS_WAIT, CS_CONNECTING, CS_OPEN, CS_DEAD };

struct conn {
    struct feed *f;
    int id;
    int closing;                  /* a close frame is queued: close once it is sent */
    struct lws *wsi;
    enum conn_state state;
    uint32_t *syms;               /* symbols whose streams it carries */
    uint8_t *need_backfill;       /* parallel to syms */
    int nsyms, cap;
    struct outmsg *out;           /* bytes waiting to be sent */
    int nout, capout;
    struct ws_client ws;          /* WebSocket over the raw connection */
    struct tls_client *tc;        /* with wss: TLS between the two */
    int failed;                   /* the engine refused what it read */
    int unacked;                  /* SUBSCRIBEs without a reply yet */
    int64_t last_send, last_frame, opened;
    int attempts;
    int got_kline;
    struct conn *replaces;        /* rotation: the connection to close when this one is live */
    int retiring;                 /* being replaced: close for good, no reconnect */
    struct timer *timer;          /* reconnect, or the 1 s check while open */
};

/* Outgoing bytes: the upgrade request and pongs go first; SUBSCRIBE-style
 * messages are paced under the exchange's incoming-message limit. */
struct outmsg {
    unsigned char *p;
    size_t n;
    int paced;
    int plain;    /* WebSocket bytes: encrypted at send time when TLS is on */
};

struct feed {
    struct app *app;
    struct market *m;
    struct rest rest;
    struct lws_vhost *vh;
    char host[256], path[512];
    int port, tls;
    struct tls_ctx *tls_ctx;
    struct conn **conns;
    int nconns, capconns, next_id, next_msg_id;
    int intervals, niv;
    int universe_ok;
    struct timer *universe_timer, *ranking_timer;
    long warm_total, warm_done;
    uint64_t reconnects, rotations;
};

struct bf_job {
    struct feed *f;
    uint32_t sym;
    int iv;
};

static int64_t now_ms(struct feed *f)
{
    return app_wall_ms(f->app);
}

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
    if (c->nout == c->capout) {
        int cap = c->capout ? c->capout * 2 : 8;
        struct outmsg *o = realloc(c->out, sizeof *o * (size_t)cap);
        if (!o) {
            free(p);
            return;
        }
        c->out = o;
        c->capout = cap;
    }
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
static void queue_frame(struct conn *c, int opcode, const char *text, size_t n, int paced)
{
    unsigned char mask[4];
    unsigned char *p = malloc(n + 14);
    if (!p)
        return;
    lws_get_random(c->f->app->lws.ctx, mask, 4);
    queue_bytes(c, p, ws_frame(opcode, text, n, mask, p), paced, 1);
}

static void queue_msg(struct conn *c, char *msg)
{
    if (!msg)
        return;
    queue_frame(c, WS_TEXT, msg, strlen(msg), 1);
    free(msg);
}

/* SUBSCRIBE or UNSUBSCRIBE for every interval of syms[from..to). */
static void queue_streams(struct conn *c, const char *method, const uint32_t *syms, int n)
{
    struct feed *f = c->f;
    int per = SUBSCRIBE_BATCH / f->niv;
    for (int i = 0; i < n; i += per) {
        size_t cap = 64 + (size_t)per * f->niv * 40, len = 0;
        char *arr = malloc(cap);
        if (!arr)
            return;
        arr[len++] = '[';
        for (int k = i; k < n && k < i + per; k++)
            for (int iv = 0; iv < IV_COUNT; iv++) {
                if (!(f->intervals & (1 << iv)))
                    continue;
                char lower[32];
                const struct sym *y = &f->m->syms.v[syms[k]];
                for (int j = 0; j <= y->len; j++)
                    lower[j] = (char)(y->name[j] >= 'A' && y->name[j] <= 'Z' ? y->name[j] + 32
                                                                           : y->name[j]);
                len += (size_t)snprintf(arr + len, cap - len, "%s\"%s@kline_%s\"",
                                        arr[len - 1] == '[' ? "" : ",", lower, interval_name(iv));
            }
        snprintf(arr + len, cap - len, "]");
        char *msg = malloc(strlen(arr) + 96);
        if (msg)
            sprintf(msg, "{\"method\":\"%s\",\"params\":%s,\"id\":%d}", method, arr,
                    ++f->next_msg_id);
        free(arr);
        if (msg && method[0] == 'S')
            c->unacked++;
        queue_msg(c, msg);
    }
}

/* ---- gap repair and warm start ---- */

struct bf_row {
    struct feed *f;
    const char *body;
    size_t len;
};

static void bf_row(void *ud, const struct candle *c, enum kline_drop why)
{
    struct bf_row *x = ud;
    if (c)
        market_apply(x->f->m, c);
    else
        market_drop(x->f->m, why, x->body, x->len, now_ms(x->f));
}

static void on_klines(void *ud, long status, const char *body, size_t len, const char *err)
{
    struct bf_job *j = ud;
    struct feed *f = j->f;
    f->warm_done++;
    if (f->app->stopping) {   /* handed back by the queue at shutdown */
        free(j);
        return;
    }
    if (!body || status != 200) {
        if (body || err)
            log_warn(&f->app->log, "market", "klines for %s %s: %s",
                     f->m->syms.v[j->sym].name, interval_name(j->iv), err ? err : "refused");
        free(j);
        return;
    }
    struct bf_row ctx = {f, body, len};
    if (restparse_klines(body, len, j->sym, j->iv, market_exchange_now(f->m, now_ms(f)), bf_row,
                         &ctx) != 0)
        market_drop(f->m, KD_JSON, body, len, now_ms(f));
    /* progress in quarters, then done */
    if (f->warm_done == f->warm_total)
        log_info(&f->app->log, "market", "history complete: %ld klines requests done",
                 f->warm_total);
    else if (f->warm_total >= 8 && f->warm_done % (f->warm_total / 4) == 0)
        log_info(&f->app->log, "market", "loading history: %ld of %ld klines requests done",
                 f->warm_done, f->warm_total);
    free(j);
}

/* Queues what each stream of sym missed (or its whole history). */
static void backfill(struct feed *f, uint32_t sym)
{
    int64_t exch_now = market_exchange_now(f->m, now_ms(f));
    long history = f->app->cfg.exchange.history;
    for (int iv = 0; iv < IV_COUNT; iv++) {
        if (!(f->intervals & (1 << iv)))
            continue;
        int64_t ms = interval_ms(iv);
        const struct series *s = candles_series(&f->m->candles, sym, iv);
        char path[256];
        long limit;
        if (!s || s->newest_open < 0) {
            limit = history + 1;   /* + the forming one, which is skipped */
            snprintf(path, sizeof path, "/fapi/v1/klines?symbol=%s&interval=%s&limit=%ld",
                     f->m->syms.v[sym].name, interval_name(iv), limit > 1500 ? 1500 : limit);
        } else {
            int64_t start = s->newest_open + ms;
            if (start + ms > exch_now)
                continue;   /* nothing closed since */
            limit = (long)((exch_now - start) / ms) + 2;
            if (limit > 1500)
                limit = 1500;
            snprintf(path, sizeof path,
                     "/fapi/v1/klines?symbol=%s&interval=%s&startTime=%lld&limit=%ld",
                     f->m->syms.v[sym].name, interval_name(iv), (long long)start, limit);
        }
        struct bf_job *j = malloc(sizeof *j);
        if (!j)
            return;
        *j = (struct bf_job){f, sym, iv};
        f->warm_total++;
        rest_get(&f->rest, path, rest_klines_weight((int)limit), 0, on_klines, j);
    }
}

static void backfill_pending(struct conn *c)
{
    for (int i = 0; i < c->nsyms; i++)
        if (c->need_backfill[i]) {
            c->need_backfill[i] = 0;
            backfill(c->f, c->syms[i]);
        }
}

/* ---- connections ---- */

static struct conn *conn_new(struct feed *f)
{
    if (f->nconns == f->capconns) {
        int cap = f->capconns ? f->capconns * 2 : 4;
        struct conn **v = realloc(f->conns, sizeof *v * (size_t)cap);
        if (!v)
            return NULL;
        f->conns = v;
        f->capconns = cap;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->f = f;
    c->id = ++f->next_id;
    c->state = CS_WAIT;
    f->conns[f->nconns++] = c;
    return c;
}

static int conn_add_sym(struct conn *c, uint32_t sym)
{
    if (c->nsyms == c->cap) {
        int cap = c->cap ? c->cap * 2 : 32;
        uint32_t *s = realloc(c->syms, sizeof *s * (size_t)cap);
        uint8_t *b = s ? realloc(c->need_backfill, (size_t)cap) : NULL;
        if (s)
            c->syms = s;
        if (!b)
            return -1;
        c->need_backfill = b;
        c->cap = cap;
    }
    c->need_backfill[c->nsyms] = 1;
    c->syms[c->nsyms++] = sym;
    return 0;
}

static void conn_free(struct conn *c)
{
    struct feed *f = c->f;
    if (c->timer)
        timers_cancel(&f->app->timers, c->timer);
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

static void conn_timer(struct conn *c, int64_t delay_ms)
{
    struct app *a = c->f->app;
    if (c->timer)
        timers_cancel(&a->timers, c->timer);
    c->timer = timers_add(&a->timers, app_now_ms(a) + (uint64_t)(delay_ms > 0 ? delay_ms : 0),
                          on_conn_timer, c);
}

static void schedule_reconnect(struct conn *c)
{
    int64_t d = BACKOFF_MIN_MS << (c->attempts < 6 ? c->attempts : 6);
    if (d > BACKOFF_MAX_MS)
        d = BACKOFF_MAX_MS;
    d = d * 3 / 4 + rand() % (d / 2 + 1);   /* jitter: +/- 25 % */
    c->attempts++;
    c->state = CS_WAIT;
    conn_timer(c, d);
    log_info(&c->f->app->log, "market", "connection %d: reconnecting in %.1f s", c->id,
             (double)d / 1000);
}

/* Starts a replacement carrying the same streams; c closes once it is live. */
static void rotate(struct conn *c)
{
    struct feed *f = c->f;
    struct conn *n = conn_new(f);
    if (!n)
        return;
    for (int i = 0; i < c->nsyms; i++)
        conn_add_sym(n, c->syms[i]);
    memset(n->need_backfill, 0, (size_t)n->nsyms);   /* c is still streaming them */
    n->replaces = c;
    c->retiring = 1;
    f->rotations++;
    log_info(&f->app->log, "market", "connection %d: replacing itself (connection %d) before the "
             "exchange's 24-hour cut", c->id, n->id);
    conn_connect(n);
}

static void on_conn_timer(void *ud)
{
    struct conn *c = ud;
    struct feed *f = c->f;
    const struct config *cfg = &f->app->cfg;
    c->timer = NULL;
    if (f->app->stopping)
        return;
    if (c->state == CS_WAIT) {
        conn_connect(c);
        return;
    }
    int64_t now = now_ms(f);
    if (c->state == CS_OPEN) {
        if (now - c->last_frame > (int64_t)(cfg->exchange.stale_after * 1000)) {
            log_warn(&f->app->log, "market", "connection %d: no data for %.0f s: reconnecting",
                     c->id, (double)(now - c->last_frame) / 1000);
            conn_close(c);
        } else if (!c->retiring && c->got_kline &&
                   now - c->opened > (int64_t)(cfg->exchange.rotate_after * 1000)) {
            rotate(c);
        }
        if (c->got_kline && now - c->opened > HEALTHY_AFTER_MS)
            c->attempts = 0;
        if (c->unacked > 0 && c->nout == 0 && now - c->last_send > 10000) {
            /* answers missing: repair the gaps anyway rather than never */
            log_warn(&f->app->log, "market", "connection %d: %d SUBSCRIBE(s) unanswered after 10 s",
                     c->id, c->unacked);
            c->unacked = 0;
            backfill_pending(c);
        }
        send_soon(c);
    }
    if (!c->timer)
        conn_timer(c, 1000);
}

static void conn_connect(struct conn *c)
{
    struct feed *f = c->f;
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = f->app->lws.ctx;
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
    int64_t now = now_ms(f);
    c->last_frame = now;
    enum frame_kind k = market_frame(f->m, buf, len, now, &fi);
    if (k == FRAME_KLINE && !c->got_kline) {
        c->got_kline = 1;
        if (c->replaces) {   /* the replacement is live: retire the old one */
            log_info(&f->app->log, "market", "connection %d is live: closing connection %d",
                     c->id, c->replaces->id);
            conn_close(c->replaces);
            c->replaces = NULL;
        }
    } else if (k == FRAME_REPLY) {
        if (fi.reply_error)
            log_warn(&f->app->log, "market", "connection %d: the exchange refused a request: %.*s",
                     c->id, (int)(len < 200 ? len : 200), buf);
        if (c->unacked > 0 && --c->unacked == 0)
            backfill_pending(c);   /* subscribed: now fetch what was missed */
    }
}

/* ---- the WebSocket engine's callbacks ---- */

static void ws_opened(void *ud)
{
    struct conn *c = ud;
    c->state = CS_OPEN;
    c->opened = c->last_frame = now_ms(c->f);
    log_info(&c->f->app->log, "market", "connection %d open: subscribing %d streams", c->id,
             c->nsyms * c->f->niv);
    queue_streams(c, "SUBSCRIBE", c->syms, c->nsyms);
    conn_timer(c, 1000);
}

static void ws_message(void *ud, const char *p, size_t n)
{
    on_message(ud, p, n);
}

static void ws_oversize(void *ud, size_t n)
{
    struct conn *c = ud;
    c->last_frame = now_ms(c->f);
    market_drop(c->f->m, KD_OVERSIZE, "(a frame over exchange.max_frame)", 34, c->last_frame);
    (void)n;
}

static void ws_ping(void *ud, const char *p, size_t n)
{
    struct conn *c = ud;
    c->last_frame = now_ms(c->f);
    queue_frame(c, WS_PONG, p, n, 0);
}

static void ws_closed(void *ud, int code)
{
    struct conn *c = ud;
    log_info(&c->f->app->log, "market", "connection %d: the exchange closed it (%d)", c->id, code);
}

static const struct ws_callbacks ws_cbs = {ws_opened, ws_message, ws_oversize, ws_ping, ws_closed};

static void on_writable(struct conn *c, struct lws *wsi)
{
    int64_t now = now_ms(c->f);
    if (!c->nout)
        return;
    if (c->out[0].plain && c->tc && !tls_ready(c->tc))
        return;   /* sent once the TLS handshake is done */
    if (c->out[0].paced) {
        int64_t wait = c->last_send + SUBSCRIBE_GAP_MS - now;
        if (wait > 0) {   /* under the exchange's incoming-message limit */
            conn_timer(c, wait);
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
            conn_timer(c, SUBSCRIBE_GAP_MS);
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
    if (f->app->stopping)
        return;
    if (c->retiring) {
        log_info(&f->app->log, "market", "connection %d closed (replaced)", c->id);
        conn_free(c);
        return;
    }
    f->reconnects++;
    log_warn(&f->app->log, "market", "connection %d lost%s%.*s", c->id, why_len ? ": " : "",
             (int)(why_len < 200 ? why_len : 200), why ? why : "");
    /* its streams will need what they miss meanwhile */
    memset(c->need_backfill, 1, (size_t)c->nsyms);
    schedule_reconnect(c);
}

static int on_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_RAW_CONNECTED: {
        char req[1024], host[300];
        unsigned char key[16];
        struct feed *f = c->f;
        if ((f->tls && f->port != 443) || (!f->tls && f->port != 80))
            snprintf(host, sizeof host, "%s:%d", f->host, f->port);
        else
            snprintf(host, sizeof host, "%s", f->host);
        ws_free(&c->ws);
        ws_init(&c->ws, (size_t)f->app->cfg.exchange.max_frame, &ws_cbs, c);
        lws_get_random(f->app->lws.ctx, key, sizeof key);
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
    case LWS_CALLBACK_RAW_RX:
        if (c->tc) {
            int was_ready = tls_ready(c->tc);
            if (tls_input(c->tc, in, len, plain_in, c) != 0) {
                log_warn(&c->f->app->log, "market", "connection %d: %s", c->id, tls_error(c->tc));
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
                log_warn(&c->f->app->log, "market", "connection %d: %s", c->id, c->ws.error);
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

static const struct lws_protocols protocols[] = {
    {"cw-feed", on_ws, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- universe and ranking ---- */

/* A connection with room for one more symbol's streams, or a new one. */
static struct conn *conn_with_room(struct feed *f)
{
    long per = f->app->cfg.exchange.streams_per_connection / f->niv;
    if (per < 1)
        per = 1;
    for (int i = 0; i < f->nconns; i++)
        if (!f->conns[i]->retiring && f->conns[i]->nsyms < per)
            return f->conns[i];
    return conn_new(f);
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

static void refresh_universe(void *ud);
static void refresh_ranking(void *ud);

static void on_exchange_info(void *ud, long status, const char *body, size_t len,
                             const char *err)
{
    struct feed *f = ud;
    struct app *a = f->app;
    if (a->stopping)
        return;
    struct restparse_universe u;
    if (!body || status != 200 ||
        restparse_exchange_info(body, len, a->cfg.exchange.contract_type,
                                a->cfg.exchange.quote_asset, &u) != 0) {
        log_error(&a->log, "market", "exchangeInfo unusable (%s): retrying in 30 s",
                  err ? err : status != 200 ? "refused" : "no symbols");
        if (!a->stopping)
            f->universe_timer = timers_add(&a->timers, app_now_ms(a) + 30000, refresh_universe, f);
        return;
    }
    /* the exchange's clock, until stream frames refine it: REST rows that
     * are still forming are told apart by it, not by this host's clock */
    if (u.server_time > f->m->exchange_ms) {
        f->m->exchange_ms = u.server_time;
        f->m->exchange_seen_at = now_ms(f);
    }
    struct symtab *st = &f->m->syms;
    uint8_t *seen = calloc(st->n + u.listed + 1, 1);
    int added = 0, removed = 0;
    for (size_t i = 0; i < u.n; i++) {
        const char *name = u.names[i];
        int known = symtab_find(st, name, strlen(name));
        int id = known >= 0 ? known : symtab_add(st, name, strlen(name));
        if (id < 0)
            continue;
        seen[id] = 1;
        int at;
        if (known >= 0 && st->v[id].active && conn_of(f, (uint32_t)id, &at))
            continue;
        st->v[id].active = 1;
        struct conn *c = conn_with_room(f);
        if (!c || conn_add_sym(c, (uint32_t)id) != 0)
            continue;
        added++;
        if (c->state == CS_OPEN) {   /* a listing: subscribe without disturbing the rest */
            uint32_t one = (uint32_t)id;
            queue_streams(c, "SUBSCRIBE", &one, 1);
        }
    }
    for (uint32_t id = 0; id < st->n; id++) {
        int at;
        struct conn *c;
        if (seen[id] || !st->v[id].active)
            continue;
        st->v[id].active = 0;   /* delisted */
        removed++;
        while ((c = conn_of(f, id, &at))) {
            c->syms[at] = c->syms[c->nsyms - 1];
            c->need_backfill[at] = c->need_backfill[c->nsyms - 1];
            c->nsyms--;
            if (c->state == CS_OPEN)
                queue_streams(c, "UNSUBSCRIBE", &id, 1);
        }
    }
    free(seen);
    restparse_universe_free(&u);
    if (added || removed)
        log_info(&a->log, "market", "universe: %d symbols added, %d removed; %d connections",
                 added, removed, f->nconns);
    if (!f->universe_ok) {
        f->universe_ok = 1;
        refresh_ranking(f);
    }
    /* connections not yet started: stagger them */
    for (int i = 0, k = 0; i < f->nconns; i++)
        if (f->conns[i]->state == CS_WAIT && !f->conns[i]->timer)
            conn_timer(f->conns[i], 200 * k++);
    f->universe_timer = timers_add(&a->timers,
                                   app_now_ms(a) + (uint64_t)(a->cfg.exchange.universe_refresh * 1000),
                                   refresh_universe, f);
}

static void refresh_universe(void *ud)
{
    struct feed *f = ud;
    f->universe_timer = NULL;
    rest_get(&f->rest, "/fapi/v1/exchangeInfo", 1, 1, on_exchange_info, f);
}

static void on_ticker(void *ud, long status, const char *body, size_t len, const char *err)
{
    struct feed *f = ud;
    struct app *a = f->app;
    (void)err;
    if (a->stopping)
        return;
    struct restparse_ranking r = {0};
    int rc = body && status == 200 ? restparse_ticker(body, len, &f->m->syms, &r) : -1;
    if (rc == 0)
        market_set_ranking(f->m, r.ids, r.qv, r.n);
    else if (rc == -1)
        log_warn(&a->log, "market", "24 h tickers unusable: the ranking stays as it was");
    restparse_ranking_free(&r);
    f->ranking_timer = timers_add(&a->timers,
                                  app_now_ms(a) + (uint64_t)(a->cfg.exchange.ranking_refresh * 1000),
                                  refresh_ranking, f);
}

static void refresh_ranking(void *ud)
{
    struct feed *f = ud;
    f->ranking_timer = NULL;
    rest_get(&f->rest, "/fapi/v1/ticker/24hr", 40, 1, on_ticker, f);
}

/* ---- life cycle ---- */

int feed_start(struct app *a, char *err, size_t errlen)
{
    struct feed *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->app = a;
    f->m = &a->market;
    f->intervals = a->cfg.exchange.intervals;
    for (int iv = 0; iv < IV_COUNT; iv++)
        f->niv += (f->intervals >> iv) & 1;
    a->feed = f;
    /* ws_url: "wss://host[:port]/market" -> connection parameters */
    char url[1024], *proto, *host, *path;
    snprintf(url, sizeof url, "%s", a->cfg.exchange.ws_url);
    if (lws_parse_uri(url, (const char **)&proto, (const char **)&host, &f->port,
                      (const char **)&path)) {
        snprintf(err, errlen, "exchange.ws_url: not a URL");
        return -1;
    }
    f->tls = !strcmp(proto, "wss");
    if (f->tls && !(f->tls_ctx = tls_ctx_new(a->cfg.tls.ca_file, err, errlen)))
        return -1;
    snprintf(f->host, sizeof f->host, "%s", host);
    /* lws_parse_uri drops the leading '/' of the path */
    snprintf(f->path, sizeof f->path, "/%s%sstream", path,
             *path && path[strlen(path) - 1] != '/' ? "/" : "");
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;   /* lws 4.1: else no client TLS */
    info.protocols = protocols;
    info.vhost_name = "feed";
    info.client_ssl_ca_filepath = a->cfg.tls.ca_file;
    f->vh = lws_create_vhost(a->lws.ctx, &info);
    if (!f->vh) {
        snprintf(err, errlen, "cannot create the feed's client vhost");
        return -1;
    }
    rest_init(&f->rest, a, a->cfg.exchange.rest_url, a->cfg.exchange.rest_weight_limit);
    refresh_universe(f);
    return 0;
}

void feed_stop(struct app *a)
{
    struct feed *f = a->feed;
    if (!f)
        return;
    rest_free(&f->rest);
    if (f->universe_timer)
        timers_cancel(&a->timers, f->universe_timer);
    if (f->ranking_timer)
        timers_cancel(&a->timers, f->ranking_timer);
    f->universe_timer = f->ranking_timer = NULL;
    for (int i = 0; i < f->nconns; i++) {
        struct conn *c = f->conns[i];
        if (c->timer)
            timers_cancel(&a->timers, c->timer);
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
            queue_frame(c, WS_CLOSE, "\x03\xe8", 2, 0);
        }
    }
}

void feed_free(struct app *a)
{
    struct feed *f = a->feed;
    if (!f)
        return;
    while (f->nconns)
        conn_free(f->conns[0]);
    free(f->conns);
    tls_ctx_free(f->tls_ctx);
    free(f);
    a->feed = NULL;
}

/* Open, streaming, and not stale. */
static int conn_live(struct app *a, const struct conn *c)
{
    return c->state == CS_OPEN && c->got_kline &&
           app_wall_ms(a) - c->last_frame <= (int64_t)(a->cfg.exchange.stale_after * 1000);
}

void feed_health(struct app *a, struct jsonw *w)
{
    struct feed *f = a->feed;
    struct market *m = &a->market;
    int live = 0;
    long streams = 0;
    for (int i = 0; f && i < f->nconns; i++) {
        live += conn_live(a, f->conns[i]);
        streams += (long)f->conns[i]->nsyms * f->niv;
    }
    int nconns = f ? f->nconns : 0;
    char reason[256] = "";
    enum health_status st = HEALTH_OK;
    if (!f) {
        st = HEALTH_FAILING;
        snprintf(reason, sizeof reason, "the feed is not running");
    } else if (!f->universe_ok) {
        st = HEALTH_DEGRADED;
        snprintf(reason, sizeof reason, "fetching the symbol list");
    } else if (nconns && !live) {
        st = HEALTH_FAILING;
        snprintf(reason, sizeof reason, "no live connection to the exchange");
    } else if (live < nconns) {
        st = HEALTH_DEGRADED;
        snprintf(reason, sizeof reason, "%d of %d connections live", live, nconns);
    } else if (f->warm_done < f->warm_total) {
        st = HEALTH_DEGRADED;
        snprintf(reason, sizeof reason, "loading history: %ld of %ld requests", f->warm_done,
                 f->warm_total);
    }
    health_set(&a->health, "exchange", st, reason[0] ? reason : NULL);
    if (!w)
        return;
    jsonw_kv_int(w, "connections", nconns);
    jsonw_kv_int(w, "live", live);
    jsonw_kv_int(w, "streams", streams);
    jsonw_kv_int(w, "symbols", m->nranked);
    jsonw_kv_int(w, "received", (long long)m->n.received);
    jsonw_kv_int(w, "closed", (long long)m->n.closed);
    jsonw_kv_int(w, "backfilled", (long long)m->n.backfilled);
    jsonw_kv_int(w, "reconnects", f ? (long long)f->reconnects : 0);
    jsonw_kv_int(w, "rotations", f ? (long long)f->rotations : 0);
    jsonw_kv_int(w, "history_requests", f ? f->warm_total : 0);
    jsonw_kv_int(w, "history_done", f ? f->warm_done : 0);
    jsonw_kv_int(w, "rest_429", f ? (long long)(f->rest.r429 + f->rest.r418) : 0);
    jsonw_key(w, "dropped");
    jsonw_obj_open(w);
    for (int d = 1; d < KD_COUNT; d++)
        jsonw_kv_int(w, kline_drop_name(d), (long long)m->n.dropped[d]);
    jsonw_obj_close(w);
    /* each connection, by its id: which one is unwell, and how */
    static const char *const states[] = {"waiting", "connecting", "open", "closed"};
    jsonw_key(w, "by_connection");
    jsonw_obj_open(w);
    for (int i = 0; f && i < f->nconns; i++) {
        const struct conn *c = f->conns[i];
        char id[16];
        snprintf(id, sizeof id, "%d", c->id);
        jsonw_key(w, id);
        jsonw_obj_open(w);
        jsonw_kv_str(w, "state", states[c->state]);
        jsonw_key(w, "live");
        jsonw_bool(w, conn_live(a, c));
        jsonw_kv_int(w, "streams", (long long)c->nsyms * f->niv);
        jsonw_kv_int(w, "ms_since_data", c->last_frame ? app_wall_ms(a) - c->last_frame : -1);
        jsonw_obj_close(w);
    }
    jsonw_obj_close(w);
}

void feed_metrics(struct app *a, struct prom *p)
{
    struct feed *f = a->feed;
    int nconns = f ? f->nconns : 0, live = 0;
    for (int i = 0; i < nconns; i++)
        live += conn_live(a, f->conns[i]);
    prom_gauge(p, "candlewatch_websocket_connections", "Exchange stream connections.", NULL,
               nconns);
    prom_gauge(p, "candlewatch_websocket_connections_live",
               "Exchange stream connections receiving data.", NULL, live);
    prom_counter(p, "candlewatch_websocket_reconnects_total", "Exchange reconnects.", NULL,
                 f ? (double)f->reconnects : 0);
    prom_counter(p, "candlewatch_websocket_rotations_total",
                 "Connections replaced before the exchange's 24 h cut.", NULL,
                 f ? (double)f->rotations : 0);
    prom_counter(p, "candlewatch_rest_rate_limited_total", "REST 429 and 418 answers.", NULL,
                 f ? (double)(f->rest.r429 + f->rest.r418) : 0);
}
