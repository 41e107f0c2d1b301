#include "net/httpc.h"
#include "util/grow.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    char *p;
    size_t len, cap;
};

struct httpc_call {
    struct httpc_call *next, *prev;
    struct httpc *h;
    uint64_t id;
    CURL *easy;
    struct curl_slist *hdrs;
    curl_mime *mime;             /* a multipart body, or NULL */
    struct buf body, head;
    struct buf out;              /* an e-mail being uploaded, and how much went */
    size_t out_pos;
    int too_big;
    int retry;                   /* an idempotent request may go once more */
    httpc_cb cb;
    void *ud;
    char errbuf[CURL_ERROR_SIZE];
};

/* One per socket curl asks us to watch. */
struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    int events;                  /* what curl wants watched */
    int removed;                 /* curl is done with it: closing */
    struct httpc *h;
};

static int buf_add(struct buf *b, const char *p, size_t n)
{
    char *np = grow_from(b->p, &b->cap, b->len + n + 1, 1, 1024);
    if (!np)
        return -1;
    b->p = np;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static void call_unlink(struct httpc_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->h->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void call_free(struct httpc_call *c)
{
    if (c->easy) {
        curl_multi_remove_handle(c->h->multi, c->easy);
        curl_easy_cleanup(c->easy);
    }
    curl_slist_free_all(c->hdrs);
    curl_mime_free(c->mime);
    free(c->body.p);
    free(c->head.p);
    free(c->out.p);
    free(c);
}

/* A call that could not start: gone, and 0 for its id. */
static uint64_t call_drop(struct httpc_call *c)
{
    call_unlink(c);
    call_free(c);
    return 0;
}

static struct httpc_call *call_find(struct httpc *h, uint64_t id)
{
    for (struct httpc_call *c = h->calls; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

static void call_finish(struct httpc_call *c, const struct httpc_resp *r)
{
    call_unlink(c);
    c->cb(c->ud, r);
    call_free(c);
}

/* A request that died with its connection (closed by the server while
 * curl was reusing it, reset): nothing came back, so an idempotent one
 * can go again, on a new connection.  1 when it went. */
static int call_retry(struct httpc_call *c, CURLcode rc)
{
    if (!c->retry || c->body.len || (rc != CURLE_SEND_ERROR && rc != CURLE_RECV_ERROR &&
                                     rc != CURLE_GOT_NOTHING))
        return 0;
    c->retry = 0;
    c->head.len = 0;
    curl_multi_remove_handle(c->h->multi, c->easy);
    curl_easy_setopt(c->easy, CURLOPT_FRESH_CONNECT, 1L);
    c->errbuf[0] = 0;
    if (curl_multi_add_handle(c->h->multi, c->easy) != CURLM_OK)
        return 0;
    log_debug(c->h->log, "http", "a request lost its connection (%s): trying once more on "
              "a new one", curl_easy_strerror(rc));
    return 1;
}

static void check_done(struct httpc *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct httpc_call *c = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        struct httpc_resp r = {0};
        CURLcode rc = m->data.result;
        if (rc != CURLE_OK && call_retry(c, rc))
            continue;
        if (rc == CURLE_OK) {
            curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r.status);
            r.body = c->body.p ? c->body.p : "";
            r.body_len = c->body.len;
            r.headers = c->head.p ? c->head.p : "";
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            r.err = "timeout";
        } else if (c->too_big) {
            r.err = "response too large";
        } else {
            r.err = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
        }
        call_finish(c, &r);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    int flags = 0;
    /* An error on the socket (a reset, a close under a reused connection)
     * is for curl to find by reading and writing: told "error" it fails
     * the transfer instead of retrying it on a new connection.  libuv has
     * stopped watching the socket, so it is watched again if curl keeps it. */
    if (status < 0)
        flags = CURL_CSELECT_IN | CURL_CSELECT_OUT;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    struct httpc *h = s->h;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    if (status < 0 && !s->removed && !uv_is_closing((uv_handle_t *)p))
        uv_poll_start(p, s->events, on_poll);
    check_done(h);
}

static void sock_closed(uv_handle_t *hd)
{
    free(hd->data);
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
    (void)e;
    struct httpc *h = userp;
    struct sock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            s->removed = 1;
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, sock_closed);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->fd = fd;
        s->h = h;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(h->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    s->events = ev;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    struct httpc *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    struct httpc *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timeout);
    else
        uv_timer_start(&h->timeout, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct httpc_call *c = ud;
    if (c->body.len + sz * n > c->h->max_body) {
        c->too_big = 1;
        return 0;
    }
    return buf_add(&c->body, p, sz * n) == 0 ? sz * n : 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct httpc_call *c = ud;
    /* A new status line (redirect, 100-continue) starts a new header block. */
    if (sz * n >= 5 && memcmp(p, "HTTP/", 5) == 0)
        c->head.len = 0;
    return buf_add(&c->head, p, sz * n) == 0 ? sz * n : 0;
}

int httpc_init(struct httpc *h, uv_loop_t *loop, struct logger *log)
{
    memset(h, 0, sizeof *h);
    h->loop = loop;
    h->log = log;
    h->next_id = 1;
    h->max_body = 16u << 20;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    h->multi = curl_multi_init();
    if (!h->multi)
        return -1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    uv_timer_init(loop, &h->timeout);
    h->timeout.data = h;
    return 0;
}

void httpc_close(struct httpc *h)
{
    if (!h->multi)
        return;
    h->closing = 1;
    while (h->calls) {
        struct httpc_call *c = h->calls;
        call_unlink(c);
        call_free(c);
    }
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    uv_timer_stop(&h->timeout);
    uv_close((uv_handle_t *)&h->timeout, NULL);
    curl_global_cleanup();
}

static struct httpc_call *call_new(struct httpc *h, httpc_cb cb, void *ud)
{
    struct httpc_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->h = h;
    c->id = h->next_id++;
    c->cb = cb;
    c->ud = ud;
    c->next = h->calls;
    if (h->calls)
        h->calls->prev = c;
    h->calls = c;
    return c;
}

/* The call's easy handle with what every transfer shares, or NULL. */
static CURL *easy_new(struct httpc_call *c, const char *url, const char *protocols,
                      long timeout_ms)
{
    CURL *e = c->easy = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);   /* (never stdout) */
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    if (c->h->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->h->ca_file);
    return e;
}

/* The request's parts as the easy handle's multipart body (curl copies
 * the data); -1 when out of memory. */
static int set_mime(struct httpc_call *c, const struct httpc_req *req)
{
    if (!(c->mime = curl_mime_init(c->easy)))
        return -1;
    for (int i = 0; i < req->nparts; i++) {
        const struct httpc_part *p = &req->parts[i];
        curl_mimepart *mp = curl_mime_addpart(c->mime);
        if (!mp || curl_mime_name(mp, p->name) != CURLE_OK ||
            curl_mime_data(mp, p->data, p->len) != CURLE_OK ||
            (p->filename && curl_mime_filename(mp, p->filename) != CURLE_OK) ||
            (p->type && curl_mime_type(mp, p->type) != CURLE_OK))
            return -1;
    }
    curl_easy_setopt(c->easy, CURLOPT_MIMEPOST, c->mime);
    return 0;
}

uint64_t httpc_request(struct httpc *h, const struct httpc_req *req, httpc_cb cb, void *ud)
{
    if (h->closing)
        return 0;
    struct httpc_call *c = call_new(h, cb, ud);
    if (!c)
        return 0;
    if (h->stub) {
        h->stub(h->stub_ud, c->id, req);
        return c->id;
    }
    CURL *e = easy_new(c, req->url, "http,https", req->timeout_ms > 0 ? req->timeout_ms : 30000L);
    if (!e)
        return call_drop(c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "candlewatch");
    if (strcmp(req->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    c->retry = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (req->body) {
        /* COPYPOSTFIELDS: the caller's buffer need not outlive this call. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
    } else if (req->nparts && set_mime(c, req) != 0) {
        return call_drop(c);
    }
    for (const char *const *hd = req->headers; hd && *hd; hd++) {
        struct curl_slist *l = curl_slist_append(c->hdrs, *hd);
        if (!l)
            return call_drop(c);
        c->hdrs = l;
    }
    if (c->hdrs)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->hdrs);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        return call_drop(c);
    return c->id;
}

static size_t on_upload(char *p, size_t sz, size_t n, void *ud)
{
    struct httpc_call *c = ud;
    size_t k = c->out.len - c->out_pos;
    if (k > sz * n)
        k = sz * n;
    memcpy(p, c->out.p + c->out_pos, k);
    c->out_pos += k;
    return k;
}

uint64_t httpc_mail(struct httpc *h, const struct httpc_mail *m, httpc_cb cb, void *ud)
{
    if (h->closing || h->stub)   /* (the spec runner has no mail server) */
        return 0;
    struct httpc_call *c = call_new(h, cb, ud);
    if (!c)
        return 0;
    CURL *e = easy_new(c, m->url, "smtp,smtps", m->timeout_ms > 0 ? m->timeout_ms : 60000L);
    if (!e || buf_add(&c->out, m->message, strlen(m->message)) != 0)
        return call_drop(c);
    for (const char *const *to = m->to; *to; to++) {
        struct curl_slist *l = curl_slist_append(c->hdrs, *to);
        if (!l)
            return call_drop(c);
        c->hdrs = l;
    }
    /* smtps:// is TLS from the start; smtp:// upgrades with STARTTLS and
     * fails rather than send in the clear, unless told not to */
    curl_easy_setopt(e, CURLOPT_USE_SSL, m->tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    if (m->user) {
        curl_easy_setopt(e, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, m->password ? m->password : "");
    }
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, m->from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, c->hdrs);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->out.len);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(e, CURLOPT_READDATA, c);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        return call_drop(c);
    return c->id;
}

void httpc_cancel(struct httpc *h, uint64_t id)
{
    struct httpc_call *c = call_find(h, id);
    if (c) {
        call_unlink(c);
        call_free(c);
    }
}

void httpc_complete(struct httpc *h, uint64_t id, const struct httpc_resp *resp)
{
    struct httpc_call *c = call_find(h, id);
    if (c)
        call_finish(c, resp);
}

int httpc_pending(const struct httpc *h)
{
    int n = 0;
    for (const struct httpc_call *c = h->calls; c; c = c->next)
        n++;
    return n;
}
