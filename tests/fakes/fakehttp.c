/* fakehttp: the stand-ins' shared HTTP/1.1 server (see fakehttp.h). */
#include "fakehttp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "fakeutil.h"

struct fakehttp_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct buf in;
    size_t req_len;
    int keep_alive, hang, closing, handles, sent_continue;
    char *delayed;
    size_t delayed_len;
    struct fakehttp_conn *next, *prev;
};

static struct {
    const struct fakehttp_cfg *cfg;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_signal_t sigint, sigterm;
    struct fakehttp_conn *conns;
    int stopping;
} H;

const char *fakehttp_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

/* ---- connections and writing ---- */

struct wreq {
    uv_write_t req;
    int close_after;
    char data[];
};

static void process_input(struct fakehttp_conn *c);

static void on_conn_closed(uv_handle_t *h)
{
    struct fakehttp_conn *c = h->data;
    if (--c->handles == 0) {
        buf_free(&c->in);
        free(c->delayed);
        free(c);
    }
}

static void conn_close(struct fakehttp_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (c->prev)
        c->prev->next = c->next;
    else
        H.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct fakehttp_conn *c = req->handle->data;
    if ((status < 0 || w->close_after) && !c->closing)
        conn_close(c);
    free(w);
}

static void write_raw(struct fakehttp_conn *c, const char *data, size_t len, int close_after)
{
    struct wreq *w = malloc(sizeof *w + len);
    if (!w)
        abort();
    memcpy(w->data, data, len);
    w->close_after = close_after;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        conn_close(c);
    }
}

static void format_response(struct buf *out, int status, const char *ctype, const char *body, int keep_alive)
{
    char head[256];
    size_t len = strlen(body);
    snprintf(head, sizeof head,
             "HTTP/1.1 %d %s\r\nServer: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
             "Connection: %s\r\n\r\n",
             status, fakehttp_reason(status), H.cfg->name, ctype, len, keep_alive ? "keep-alive" : "close");
    buf_str(out, head);
    buf_add(out, body, len);
}

/* The request answered: drop it from the input and read the next one (from
 * the timer when the answer was deferred, so nothing recurses). */
static void on_resume(uv_timer_t *t) { process_input(t->data); }

static void request_done(struct fakehttp_conn *c, int deferred)
{
    memmove(c->in.p, c->in.p + c->req_len, c->in.n - c->req_len);
    c->in.n -= c->req_len;
    c->req_len = 0;
    c->sent_continue = 0;
    if (deferred && !c->closing && c->keep_alive)
        uv_timer_start(&c->timer, on_resume, 0, 0);
}

static void on_delayed(uv_timer_t *t)
{
    struct fakehttp_conn *c = t->data;
    write_raw(c, c->delayed, c->delayed_len, !c->keep_alive);
    free(c->delayed);
    c->delayed = NULL;
    request_done(c, 1);
}

void fakehttp_respond_after(struct fakehttp_conn *c, int status, const char *ctype, const char *body,
                            long delay_ms)
{
    struct buf out = {0};
    format_response(&out, status, ctype, body, c->keep_alive);
    if (delay_ms > 0) {
        c->delayed = out.p;
        c->delayed_len = out.n;
        uv_timer_start(&c->timer, on_delayed, (uint64_t)delay_ms, 0);
        return;
    }
    write_raw(c, out.p, out.n, !c->keep_alive);
    buf_free(&out);
    request_done(c, 0);
}

void fakehttp_respond(struct fakehttp_conn *c, int status, const char *ctype, const char *body)
{
    fakehttp_respond_after(c, status, ctype, body, 0);
}

void fakehttp_hang(struct fakehttp_conn *c) { c->hang = 1; }

/* An error before the request is understood: answer and hang up. */
static void respond_fatal(struct fakehttp_conn *c, int status)
{
    c->keep_alive = 0;
    struct buf out = {0};
    format_response(&out, status, "text/plain", fakehttp_reason(status), 0);
    write_raw(c, out.p, out.n, 1);
    buf_free(&out);
    c->hang = 1;   /* read nothing more */
}

/* ---- request parsing ---- */

/* Header NAME's value in the head [p, end), copied (trimmed) into out. */
static int header_get(const char *p, const char *end, const char *name, char *out, size_t size)
{
    size_t k = strlen(name);
    for (const char *l = memmem(p, (size_t)(end - p), "\r\n", 2); l && l + 2 < end;
         l = memmem(l + 2, (size_t)(end - l - 2), "\r\n", 2)) {
        const char *s = l + 2, *e = memmem(s, (size_t)(end - s), "\r\n", 2);
        if (!e)
            e = end;
        if ((size_t)(e - s) > k && s[k] == ':' && !strncasecmp(s, name, k)) {
            s += k + 1;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            size_t n = (size_t)(e - s) < size - 1 ? (size_t)(e - s) : size - 1;
            memcpy(out, s, n);
            while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
                n--;
            out[n] = '\0';
            return 1;
        }
    }
    return 0;
}

int fakehttp_header(const struct fakehttp_req *q, const char *name, char *out, size_t size)
{
    return header_get(q->head, q->head + strlen(q->head), name, out, size);
}

/* The request line: METHOD SP TARGET SP HTTP/1.x; 0 when malformed. */
static int parse_line(const char *p, const char *line_end, struct fakehttp_req *q, int *http10)
{
    const char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 - p >= (long)sizeof q->method || line_end - sp2 != 9 ||
        strncmp(sp2 + 1, "HTTP/1.", 7))
        return 0;
    *http10 = sp2[8] == '0';
    memcpy(q->method, p, (size_t)(sp1 - p));
    const char *target = sp1 + 1, *qm = memchr(target, '?', (size_t)(sp2 - target));
    size_t plen = (size_t)((qm ? qm : sp2) - target);
    if (plen >= sizeof q->path)
        return 0;
    memcpy(q->path, target, plen);
    q->query = qm ? strndup(qm + 1, (size_t)(sp2 - qm - 1)) : strdup("");
    return 1;
}

static void req_free(struct fakehttp_req *q)
{
    free(q->query);
    free(q->head);
    free(q->body);
}

/* Framing headers of the head [p, end): 0 when refused (answered). */
static int parse_framing(struct fakehttp_conn *c, const char *p, const char *end, int http10, long *len)
{
    char v[128];
    c->keep_alive = !http10 && !H.cfg->always_close;
    if (!H.cfg->always_close && header_get(p, end, "Connection", v, sizeof v))
        c->keep_alive = !strcasecmp(v, "close") ? 0 : !strcasecmp(v, "keep-alive") ? 1 : c->keep_alive;
    *len = 0;
    if (header_get(p, end, "Transfer-Encoding", v, sizeof v) ||
        (header_get(p, end, "Content-Length", v, sizeof v) &&
         ((*len = strtol(v, NULL, 10)) < 0 || (size_t)*len > H.cfg->max_body))) {
        respond_fatal(c, *len > 0 && (size_t)*len > H.cfg->max_body ? 413 : 411);
        return 0;
    }
    return 1;
}

/* One request at the start of c->in: 1 complete (q filled, c->req_len
 * set), 0 more bytes needed, -1 answered with an error. */
static int parse_request(struct fakehttp_conn *c, struct fakehttp_req *q)
{
    char *p = c->in.p, *end = c->in.n >= 4 ? memmem(p, c->in.n, "\r\n\r\n", 4) : NULL;
    if (!end) {
        if (c->in.n > H.cfg->max_head)
            respond_fatal(c, 431);
        return c->in.n > H.cfg->max_head ? -1 : 0;
    }
    size_t head_len = (size_t)(end - p) + 4;
    char v[128];
    int http10 = 0;
    long len;
    memset(q, 0, sizeof *q);
    if (!parse_line(p, memmem(p, head_len, "\r\n", 2), q, &http10)) {
        req_free(q);
        respond_fatal(c, 400);
        return -1;
    }
    if (!parse_framing(c, p, end + 2, http10, &len)) {
        req_free(q);
        return -1;
    }
    if (c->in.n < head_len + (size_t)len) {
        if (!c->sent_continue && header_get(p, end + 2, "Expect", v, sizeof v) && !strcasecmp(v, "100-continue")) {
            c->sent_continue = 1;
            write_raw(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, 0);
        }
        req_free(q);
        return 0;
    }
    header_get(p, end + 2, "Content-Type", q->ctype, sizeof q->ctype);
    q->head = strndup(p, (size_t)(end + 2 - p));
    q->body = strndup(p + head_len, (size_t)len);
    q->body_len = (size_t)len;
    c->req_len = head_len + (size_t)len;
    return 1;
}

static int hexval(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

int fakehttp_query(const char *query, const char *name, char *out, size_t size)
{
    size_t k = strlen(name);
    for (const char *s = query; *s; s += strcspn(s, "&"), s += *s == '&') {
        if (strncmp(s, name, k) || (s[k] != '=' && s[k] != '&' && s[k]))
            continue;
        const char *v = s[k] == '=' ? s + k + 1 : s + k;
        size_t n = 0;
        for (; *v && *v != '&' && n + 1 < size; v++) {
            if (*v == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
                out[n++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
                v += 2;
            } else {
                out[n++] = *v == '+' ? ' ' : *v;
            }
        }
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* ---- serving ---- */

static void process_input(struct fakehttp_conn *c)
{
    while (!c->closing && !c->hang && !c->delayed && c->req_len == 0) {
        struct fakehttp_req q;
        if (parse_request(c, &q) != 1)
            return;
        H.cfg->handler(c, &q);
        req_free(&q);
        if (!c->keep_alive)
            return;   /* closed once the answer is written */
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(suggested);
    b->len = b->base ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct fakehttp_conn *c = s->data;
    if (nread < 0) {
        conn_close(c);   /* also ends a hang */
    } else if (nread > 0 && !c->closing && !c->hang) {
        buf_add(&c->in, b->base, (size_t)nread);
        if (c->in.n > H.cfg->max_head + H.cfg->max_body + 65536)
            conn_close(c);   /* bytes piling up behind a request we hold */
        else
            process_input(c);
    }
    free(b->base);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct fakehttp_conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    uv_tcp_init(&H.loop, &c->tcp);
    uv_timer_init(&H.loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = H.conns;
    if (H.conns)
        H.conns->prev = c;
    H.conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- start and stop ---- */

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    if (H.stopping)
        return;
    H.stopping = 1;
    while (H.conns)
        conn_close(H.conns);
    uv_close((uv_handle_t *)&H.listener, NULL);
    uv_close((uv_handle_t *)&H.sigint, NULL);
    uv_close((uv_handle_t *)&H.sigterm, NULL);
}

static int listen_on(long port)
{
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", (int)port, &addr);
    uv_tcp_init(&H.loop, &H.listener);
    int rc = uv_tcp_bind(&H.listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&H.listener, 511, on_connection);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot listen on port %ld: %s\n", H.cfg->name, port, uv_strerror(rc));
        return -1;
    }
    struct sockaddr_in bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&H.listener, (struct sockaddr *)&bound, &blen);
    printf("%s listening on port %d\n", H.cfg->name, ntohs(bound.sin_port));
    fflush(stdout);
    return 0;
}

int fakehttp_run(const struct fakehttp_cfg *cfg)
{
    H.cfg = cfg;
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&H.loop);
    if (listen_on(cfg->port) != 0)
        return 1;
    uv_signal_init(&H.loop, &H.sigint);
    uv_signal_start(&H.sigint, on_signal, SIGINT);
    uv_signal_init(&H.loop, &H.sigterm);
    uv_signal_start(&H.sigterm, on_signal, SIGTERM);
    uv_run(&H.loop, UV_RUN_DEFAULT);
    uv_loop_close(&H.loop);
    return 0;
}
