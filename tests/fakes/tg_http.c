/* tg_http.c: the stand-in Telegram's HTTP/1.1 server: connections with
 * keep-alive, one request at a time, delayed or held answers, and the
 * parameters of a request (JSON body, form body or query string). */
#include "tg_fake.h"

/* ---- HTTP connections ---- */

const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

struct wreq {
    uv_write_t req;
    int close_after;
    char data[];
};

static void process_input(struct conn *c);

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles == 0) {
        free(c->in.p);
        free(c->delayed);
        free(c);
    }
}

void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (S.poll == c)
        S.poll = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        S.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct conn *c = req->handle->data;
    if ((status < 0 || w->close_after) && !c->closing)
        conn_close(c);
    free(w);
}

static void write_raw(struct conn *c, const char *data, size_t len, int close_after)
{
    struct wreq *w = malloc(sizeof *w + len);
    memcpy(w->data, data, len);
    w->close_after = close_after;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        conn_close(c);
    }
}

/* The whole response (head and body) in one malloc'd block. */
static char *format_response(int status, const char *ctype, const char *body, size_t len, int keep_alive,
                             size_t *out_len)
{
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nServer: fake_telegram\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                      status, reason(status), ctype, len, keep_alive ? "keep-alive" : "close");
    char *r = malloc((size_t)hn + len);
    memcpy(r, head, (size_t)hn);
    memcpy(r + hn, body, len);
    *out_len = (size_t)hn + len;
    return r;
}

/* Drops the answered request from the input and reads the next one; from
 * a timer, so deferred answers never recurse into other connections. */
static void on_resume(uv_timer_t *t)
{
    process_input(t->data);
}

static void request_done(struct conn *c, int deferred)
{
    memmove(c->in.p, c->in.p + c->req_len, c->in.n - c->req_len);
    c->in.n -= c->req_len;
    c->req_len = 0;
    c->sent_continue = 0;
    c->state = c->keep_alive ? C_READ : C_HANG;   /* closing after this answer */
    if (deferred && !c->closing)
        uv_timer_start(&c->timer, on_resume, 0, 0);
}

static void on_delayed(uv_timer_t *t)
{
    struct conn *c = t->data;
    write_raw(c, c->delayed, c->delayed_len, !c->keep_alive);
    free(c->delayed);
    c->delayed = NULL;
    request_done(c, 1);
}

/* Answers the current request of c (now, or after an injected delay).
 * deferred: the answer comes from a timer or another request, not from
 * inside process_input. */
void respond_as(struct conn *c, int status, const char *ctype, const char *body, int deferred)
{
    respond_len(c, status, ctype, body, strlen(body), deferred);
}

void respond_len(struct conn *c, int status, const char *ctype, const char *body, size_t n,
                 int deferred)
{
    if (c->closing)
        return;
    size_t len;
    char *r = format_response(status, ctype, body, n, c->keep_alive, &len);
    if (c->delay_ms > 0) {
        c->delayed = r;
        c->delayed_len = len;
        c->state = C_DELAY;
        uv_timer_start(&c->timer, on_delayed, (uint64_t)c->delay_ms, 0);
        c->delay_ms = 0;
        return;
    }
    write_raw(c, r, len, !c->keep_alive);
    free(r);
    request_done(c, deferred);
}

void respond(struct conn *c, int status, const char *body, int deferred)
{
    respond_as(c, status, "application/json", body, deferred);
}

/* An error before the request is understood: answer and hang up. */
static void respond_fatal(struct conn *c, int status, const char *description)
{
    char body[256];
    snprintf(body, sizeof body, "{\"ok\":false,\"error_code\":%d,\"description\":\"%s\"}", status, description);
    size_t len;
    char *r = format_response(status, "application/json", body, strlen(body), 0, &len);
    write_raw(c, r, len, 1);
    free(r);
    c->state = C_HANG;   /* read nothing more */
}

/* ---- requests ---- */


static int header_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k))
        return 0;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *val = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static int has_token(const char *v, size_t n, const char *tok)
{
    size_t k = strlen(tok);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(v + i, tok, k))
            return 1;
    return 0;
}

/* Parses one request at the start of c->in.  1: complete (q filled,
 * c->req_len set), 0: need more bytes, -1: answered with an error. */
static int parse_request(struct conn *c, struct req *q)
{
    char *p = c->in.p;
    size_t n = c->in.n;
    if (!p)
        return 0;   /* nothing read yet */
    char *end = n >= 4 ? memmem(p, n, "\r\n\r\n", 4) : NULL;
    if (!end) {
        if (n > MAX_HEADER)
            respond_fatal(c, 431, "Request Header Fields Too Large");
        return n > MAX_HEADER ? -1 : 0;
    }
    size_t head_len = (size_t)(end - p) + 4;
    char *line_end = memmem(p, head_len, "\r\n", 2);
    char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 - p >= (long)sizeof q->method || line_end - sp2 < 9 ||
        strncmp(sp2 + 1, "HTTP/1.", 7)) {
        respond_fatal(c, 400, "Bad Request: malformed HTTP request");
        return -1;
    }
    memset(q, 0, sizeof *q);
    memcpy(q->method, p, (size_t)(sp1 - p));
    q->path = sp1 + 1;
    size_t target_len = (size_t)(sp2 - sp1 - 1);
    const char *qm = memchr(q->path, '?', target_len);
    q->path_len = qm ? (size_t)(qm - q->path) : target_len;
    q->query = qm ? qm + 1 : "";
    q->query_len = qm ? target_len - q->path_len - 1 : 0;
    int http10 = sp2[8] == '0';
    c->keep_alive = !http10;
    long long clen = 0;
    int expect = 0;
    for (char *l = line_end + 2; l < end; ) {
        char *le = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);
        size_t ln = (size_t)(le - l);
        const char *v;
        size_t vn;
        if (header_is(l, ln, "Content-Length", &v, &vn)) {
            char tmp[24];
            char *e = NULL;
            snprintf(tmp, sizeof tmp, "%.*s", (int)(vn < 23 ? vn : 23), v);
            clen = strtoll(tmp, &e, 10);
            if (!vn || *e || clen < 0) {
                respond_fatal(c, 400, "Bad Request: invalid Content-Length");
                return -1;
            }
        } else if (header_is(l, ln, "Transfer-Encoding", &v, &vn) && has_token(v, vn, "chunked")) {
            respond_fatal(c, 411, "Length Required");
            return -1;
        } else if (header_is(l, ln, "Connection", &v, &vn)) {
            if (has_token(v, vn, "close"))
                c->keep_alive = 0;
            else if (has_token(v, vn, "keep-alive"))
                c->keep_alive = 1;
        } else if (header_is(l, ln, "Content-Type", &v, &vn)) {
            q->ctype = v;
            q->ctype_len = vn;
        } else if (header_is(l, ln, "Expect", &v, &vn) && has_token(v, vn, "100-continue")) {
            expect = 1;
        }
        l = le + 2;
    }
    if (clen > MAX_BODY) {
        respond_fatal(c, 413, "Request Entity Too Large");
        return -1;
    }
    if (n < head_len + (size_t)clen) {
        /* libcurl waits for this before sending a body over 1 KB */
        if (expect && !c->sent_continue) {
            c->sent_continue = 1;
            write_raw(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, 0);
        }
        return 0;
    }
    if (!q->ctype) {
        q->ctype = "";
        q->ctype_len = 0;
    }
    q->body = p + head_len;
    q->body_len = (size_t)clen;
    c->req_len = head_len + (size_t)clen;
    return 1;
}

static void process_input(struct conn *c)
{
    while (!c->closing && c->state == C_READ) {
        struct req q;
        if (parse_request(c, &q) != 1)
            return;
        handle_request(c, &q);
    }
}

void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    b->base = malloc(65536);
    b->len = 65536;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (nread < 0) {
        conn_close(c);   /* also ends a long poll or a hang */
    } else if (nread > 0 && !c->closing) {
        buf_add(&c->in, b->base, (size_t)nread);
        if (c->in.n > MAX_HEADER + MAX_BODY + 65536)
            conn_close(c);   /* bytes piling up behind a request we hold */
        else
            process_input(c);
    }
    free(b->base);
}

void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    uv_tcp_init(&S.loop, &c->tcp);
    uv_timer_init(&S.loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = S.conns;
    if (S.conns)
        S.conns->prev = c;
    S.conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- parameters ---- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static char *url_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            o[k++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            o[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = '\0';
    return o;
}

void set_param(cJSON *p, const char *key, cJSON *val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(p, key);
    cJSON_AddItemToObject(p, key, val);
}

/* a=1&b=x%20y: every value a string, as Telegram receives them. */
static void form_decode(cJSON *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t e = amp ? (size_t)(amp - s) : n;
        const char *eq = memchr(s + i, '=', e - i);
        if (e > i) {
            size_t kn = eq ? (size_t)(eq - s) - i : e - i;
            char *k = url_decode(s + i, kn);
            char *v = eq ? url_decode(eq + 1, e - (size_t)(eq + 1 - s)) : strdup("");
            if (*k)
                set_param(p, k, cJSON_CreateString(v));
            free(k);
            free(v);
        }
        i = e + 1;
    }
}

static int prefix_ci(const char *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    return n >= k && !strncasecmp(s, pre, k);
}

static int looks_like_object(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i < n && s[i] == '{';
}

/* Query string, then the body on top.  NULL with *err on a bad body.
 * sniff: a body starting with '{' is JSON whatever its Content-Type (for
 * the control API, so `curl -d '{...}'` works). */
cJSON *build_params(const struct req *q, int sniff, const char **err)
{
    cJSON *p = cJSON_CreateObject();
    S.nfiles = 0;
    form_decode(p, q->query, q->query_len);
    if (!q->body_len)
        return p;
    int json = prefix_ci(q->ctype, q->ctype_len, "application/json") ||
               ((!q->ctype_len || sniff) && looks_like_object(q->body, q->body_len));
    if (json) {
        cJSON *j = cJSON_ParseWithLength(q->body, q->body_len);
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            cJSON_Delete(p);
            *err = "Bad Request: can't parse JSON object";
            return NULL;
        }
        while (j->child) {
            cJSON *it = cJSON_DetachItemViaPointer(j, j->child);
            if (!it->string) {
                cJSON_Delete(it);
                continue;
            }
            char *key = strdup(it->string);
            set_param(p, key, it);
            free(key);
        }
        cJSON_Delete(j);
    } else if (prefix_ci(q->ctype, q->ctype_len, "multipart/form-data")) {
        if ((*err = multipart_decode(p, q))) {
            cJSON_Delete(p);
            return NULL;
        }
    } else {
        form_decode(p, q->body, q->body_len);
    }
    return p;
}

/* 1 and *out: present and an integer (number or numeric string);
 * 0: absent or empty; -1: present but not an integer. */
int p_int(cJSON *p, const char *k, int64_t *out)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d != d || d > 9.2e18 || d < -9.2e18 || (double)(int64_t)d != d)
            return -1;
        *out = (int64_t)d;
        return 1;
    }
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0])
            return 0;
        char *e = NULL;
        long long x = strtoll(v->valuestring, &e, 10);
        if (*e)
            return -1;
        *out = x;
        return 1;
    }
    return -1;
}

/* A string parameter; numbers become their text, as Telegram does. */
const char *p_str(cJSON *p, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.17g", v->valuedouble);
        cJSON *s = cJSON_CreateString(tmp);
        set_param(p, k, s);
        return s->valuestring;
    }
    return NULL;
}

int p_bool(cJSON *p, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    if (cJSON_IsNumber(v))
        return v->valuedouble != 0;
    if (cJSON_IsString(v))
        return !strcasecmp(v->valuestring, "true") || !strcmp(v->valuestring, "1");
    return 0;
}

/* An object/array parameter, which may also come JSON-encoded in a string
 * (forms always do that).  NULL if absent; *bad when unparsable. */
cJSON *p_json(cJSON *p, const char *k, int *bad)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    *bad = 0;
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsObject(v) || cJSON_IsArray(v))
        return v;
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0])
            return NULL;
        cJSON *j = cJSON_Parse(v->valuestring);
        if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
            set_param(p, k, j);
            return j;
        }
        cJSON_Delete(j);
    }
    *bad = 1;
    return NULL;
}
