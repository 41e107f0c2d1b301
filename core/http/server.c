#include "http/server.h"

#include <fcntl.h>
#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config/config.h"
#include "loop/rt.h"
#include "metrics/prom.h"
#include "net/lws.h"

#define MAX_ROUTES 8

struct route {
    char path[64];
    http_route_fn fn;
    void *ud;
};

/* Connections beyond http.max_connections, or that would leave fewer
 * than this many file descriptors free (for the store, Telegram, the feed),
 * are closed as soon as they are accepted. */
#define FD_RESERVE_MAX 256   /* (a quarter of ulimit -n when that is less) */

struct http_server {
    const struct rt *rt;
    const struct config *cfg;  /* http.* */
    struct net_lws *lws;       /* stopping: no more resuming */
    struct lws_vhost *vh;
    struct route routes[MAX_ROUTES];
    int nroutes;
    long conns;                /* connections open now */
    long fd_limit, fd_ceiling; /* ulimit -n; an accepted fd at or above the ceiling is refused */
    long refused_max, refused_fds;   /* connections refused, by reason */
    struct lws *listener;      /* the listening socket's wsi (known from the first accept) */
    int spare_fd;              /* given up when accept() fails before that: see below */
    struct timer *resume;      /* accepting is paused until it fires */
};

/* One request per connection, and so per pss: the route's answer waiting
 * for the socket to be writable, or a POST body being read.
 *
 * Every answer says "Connection: close" and the connection closes once it
 * is sent.  Keeping connections alive is not safe with lws 4.1: a request
 * with a body that was pipelined behind another (in the same read) is
 * parsed from lws's buffered input, and lws_http_action() then feeds that
 * same buffer to itself as the body and, once the body is complete, loops
 * for ever on it (the loop, /health and SIGTERM all stop).  Closing after
 * each answer drops pipelined requests unread; clients reconnect. */
struct pss {
    char *body;
    size_t len;
    char path[128];
    struct http_body in;       /* request body */
    int head;                  /* a HEAD request: the answer has no body */
    int responded;             /* the answer is on its way: body callbacks are ignored */
};

static void simple(struct http_response *out, int status, const char *json)
{
    out->status = status;
    out->content_type = "application/json";
    out->body = strdup(json);
    out->len = out->body ? strlen(out->body) : 0;
}

int http_request_header(const struct http_request *rq, const char *name, char *out, size_t len)
{
    struct lws *wsi = rq->conn;
    int n = lws_hdr_custom_length(wsi, name, (int)strlen(name));
    if (n < 0 || (size_t)n >= len)
        return -1;
    return lws_hdr_custom_copy(wsi, out, (int)len, name, (int)strlen(name));
}

static const char *server_method(struct lws *wsi)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
        return "GET";
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
        return "POST";
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
        return "HEAD";
    return "OTHER";
}

/* The route's answer to rq (404 when no route has its path). */
static void server_route(struct http_server *s, const struct http_request *rq,
                         struct http_response *out)
{
    for (int i = 0; i < s->nroutes; i++)
        if (strcmp(s->routes[i].path, rq->path) == 0) {
            s->routes[i].fn(s->routes[i].ud, rq, out);
            return;
        }
    simple(out, 404, "{\"error\":\"not found\"}");
}

/* Sends the answer's status and headers; its body follows when the socket
 * is writable, and then the connection closes. */
static int server_send(struct lws *wsi, struct pss *pss, struct http_response *r)
{
    uint8_t hbuf[LWS_PRE + 512], *start = hbuf + LWS_PRE, *p = start,
                                 *end = hbuf + sizeof hbuf - 1;
    pss->responded = 1;
    http_body_free(&pss->in);
    pss->body = r->body;
    pss->len = r->body ? r->len : 0;
    if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->content_type,
                                    (lws_filepos_t)pss->len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                     (const unsigned char *)"close", 5, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* A request with its body read (or none to read): answered. */
static int server_answer(struct lws *wsi, struct pss *pss, struct http_server *s,
                         const char *method)
{
    struct http_request rq = {.method = method, .path = pss->path, .body = pss->in.p,
                              .body_len = pss->in.len, .conn = wsi};
    struct http_response r = {0};
    if (pss->in.too_big)
        simple(&r, 413, "{\"error\":\"request body too large\"}");
    else
        server_route(s, &rq, &r);
    if (!r.status)   /* (a route must answer once the body is read) */
        simple(&r, 500, "{\"error\":\"no answer\"}");
    return server_send(wsi, pss, &r);
}

static int on_request(struct lws *wsi, struct pss *pss, struct http_server *s, const char *path)
{
    snprintf(pss->path, sizeof pss->path, "%s", path);
    const char *method = server_method(wsi);
    pss->head = strcmp(method, "HEAD") == 0;
    /* only POST bodies are read; any other method is answered at once
     * and its body, if any, ignored */
    if (strcmp(method, "POST") != 0)
        return server_answer(wsi, pss, s, method);
    char cl[32] = "";
    lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    int chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    struct http_response r = {0};
    switch (http_intake_post(cl, chunked)) {
    case HTTP_INTAKE_BODY: {
        /* the route sees the headers first: what it refuses is never read */
        struct http_request rq = {.method = method, .path = pss->path,
                                  .body_len = (size_t)strtol(cl, NULL, 10),
                                  .body_unread = 1, .conn = wsi};
        server_route(s, &rq, &r);
        if (r.status)
            return server_send(wsi, pss, &r);
        return 0;   /* the body arrives in LWS_CALLBACK_HTTP_BODY */
    }
    case HTTP_INTAKE_TOO_BIG:
        pss->in.too_big = 1;
        break;
    case HTTP_INTAKE_NO_LENGTH:
        simple(&r, 411, "{\"error\":\"send the body with a Content-Length\"}");
        return server_send(wsi, pss, &r);
    case HTTP_INTAKE_NOW:
        break;
    }
    return server_answer(wsi, pss, s, "POST");
}

static int on_writable(struct lws *wsi, struct pss *pss)
{
    if (pss->body && pss->len && !pss->head) {
        unsigned char *buf = malloc(LWS_PRE + pss->len);
        if (buf) {
            memcpy(buf + LWS_PRE, pss->body, pss->len);
            lws_write(wsi, buf + LWS_PRE, pss->len, LWS_WRITE_HTTP_FINAL);
            free(buf);
        }
    }
    free(pss->body);
    pss->body = NULL;
    return -1;   /* one request per connection (see struct pss); lws sends
                    what it still holds before closing */
}

/* A connection just accepted (fd): 0 to serve it, 1 to close it at once.
 * Refusals are logged as one repeated line (printed once a minute, with a
 * count) and counted in /metrics. */
static int server_admit(struct http_server *s, struct lws *listener, int fd)
{
    s->listener = listener;
    long max = s->cfg->http.max_connections;
    if (s->conns >= max) {
        s->refused_max++;
        log_warn(s->rt->log, "http", "refused a connection: %ld are open (http.max_connections)",
                 max);
        return 1;
    }
    if (fd >= s->fd_ceiling) {
        s->refused_fds++;
        log_warn(s->rt->log, "http", "refused a connection: too few file descriptors left "
                 "(ulimit -n is %ld)", s->fd_limit);
        return 1;
    }
    return 0;
}

static int on_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct pss *pss = user;
    struct lws_vhost *vh = lws_get_vhost(wsi);
    struct http_server *s = vh ? lws_get_vhost_user(vh) : NULL;
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:   /* in: the accepted fd */
        return s ? server_admit(s, wsi, (int)(intptr_t)in) : 0;
    case LWS_CALLBACK_WSI_CREATE:   /* each accepted connection, and only those */
        if (s)
            s->conns++;
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:  /* (the listener's too, at the end) */
        if (s && s->conns > 0)
            s->conns--;
        return 0;
    case LWS_CALLBACK_HTTP:
        return on_request(wsi, pss, s, in);
    case LWS_CALLBACK_HTTP_BODY:
        if (pss->responded)
            return 0;
        return http_body_append(&pss->in, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return pss->responded ? 0 : server_answer(wsi, pss, s, "POST");
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:   /* may come before any request: no pss */
        if (pss) {
            free(pss->body);
            pss->body = NULL;
            http_body_free(&pss->in);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", on_http, sizeof(struct pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};
struct http_server *http_server_start(const struct rt *rt, const struct config *cfg,
                                      struct net_lws *lws, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (config_listen_parse(cfg->http.listen, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "http.listen: malformed address");
        return NULL;
    }
    struct http_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->rt = rt;
    s->cfg = cfg;
    s->lws = lws;
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct rlimit rl;
    s->fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1L << 30 ? (long)rl.rlim_cur
                                                                              : 1L << 30;
    s->fd_ceiling = s->fd_limit - (s->fd_limit / 4 < FD_RESERVE_MAX ? s->fd_limit / 4
                                                                     : FD_RESERVE_MAX);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = host;
    info.protocols = protocols;
    info.vhost_name = "candlewatch";
    info.user = s;
    s->vh = lws_create_vhost(lws->ctx, &info);
    if (!s->vh) {
        snprintf(err, errlen, "http.listen: cannot listen on %s", cfg->http.listen);
        http_server_free(s);
        return NULL;
    }
    return s;
}

int http_server_route(struct http_server *s, const char *path, http_route_fn fn, void *ud)
{
    if (s->nroutes == MAX_ROUTES || strlen(path) >= sizeof s->routes[0].path)
        return -1;
    struct route *r = &s->routes[s->nroutes++];
    snprintf(r->path, sizeof r->path, "%s", path);
    r->fn = fn;
    r->ud = ud;
    return 0;
}

static void server_resume(void *ud)
{
    struct http_server *s = ud;
    s->resume = NULL;
    if (!s->lws->stopping)
        lws_rx_flow_control(s->listener, 1);
}

void http_server_accept_failed(struct http_server *s)
{
    if (s->resume || s->lws->stopping)
        return;
    if (!s->listener) {
        /* no connection was ever accepted, so the listener is unknown: a
         * descriptor freed lets the next accept() succeed, and tells it */
        if (s->spare_fd >= 0)
            close(s->spare_fd);
        s->spare_fd = -1;
        return;
    }
    /* (lws turns accepting back on whenever a connection closes; a failure
     * then comes here again) */
    lws_rx_flow_control(s->listener, 0);
    s->resume = timers_add(s->rt->timers, rt_now_ms(s->rt) + 1000, server_resume, s);
}

void http_server_metrics(const struct http_server *s, struct prom *p)
{
    prom_gauge(p, "candlewatch_http_connections", "HTTP connections open.", NULL,
               (double)s->conns);
    char lb[64] = "";
    prom_label(lb, sizeof lb, "reason", "max_connections");
    prom_counter(p, "candlewatch_http_connections_refused_total",
                 "HTTP connections closed as soon as accepted, by reason.", lb,
                 (double)s->refused_max);
    lb[0] = '\0';   /* (prom_label appends) */
    prom_label(lb, sizeof lb, "reason", "file_descriptors");
    prom_counter(p, "candlewatch_http_connections_refused_total",
                 "HTTP connections closed as soon as accepted, by reason.", lb,
                 (double)s->refused_fds);
}

int http_server_port(const struct http_server *s)
{
    return lws_get_vhost_listen_port(s->vh);
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    if (s->resume)
        timers_cancel(s->rt->timers, s->resume);
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    free(s);   /* the vhost goes with the lws context */
}
