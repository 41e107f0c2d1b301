/* The host's small HTTP server (libwebsockets on the app's libuv loop).
 * Routes answer synchronously; anything slow is queued onto the loop by
 * the route and answered from memory.
 */
#ifndef CW_HTTP_SERVER_H
#define CW_HTTP_SERVER_H

#include <stddef.h>

#include "http/intake.h"   /* HTTP_BODY_MAX */

struct config;
struct http_server;
struct net_lws;
struct prom;
struct rt;

struct http_response {
    int status;
    const char *content_type;
    char *body;                /* malloc'd; the server frees it */
    size_t len;
};

/* A POST with a body is first shown to its route with the headers only
 * (body_unread set, body NULL, body_len the announced length): a route
 * that answers then (out->status set: a wrong secret, a body too big)
 * refuses the body unread; one that leaves out->status 0 is called again
 * with the body.  A route must answer every other call. */
struct http_request {
    const char *method;        /* "GET", "HEAD", "POST", "OTHER" */
    const char *path;
    const char *body;          /* POST: the whole body (at most HTTP_BODY_MAX) */
    size_t body_len;
    int body_unread;           /* see above */
    void *conn;                /* for http_request_header */
};

typedef void (*http_route_fn)(void *ud, const struct http_request *rq, struct http_response *out);

/* Copies a request header (name in lower case with its colon, e.g.
 * "x-telegram-bot-api-secret-token:") into out.  Its length, or -1 when
 * absent or longer than out allows. */
int http_request_header(const struct http_request *rq, const char *name, char *out, size_t len);

/* Listens on cfg->http.listen (cfg is kept: http.max_connections is read
 * on each accept), on lws's context.  NULL with err set on failure. */
struct http_server *http_server_start(const struct rt *rt, const struct config *cfg,
                                      struct net_lws *lws, char *err, size_t errlen);
/* Adds a route for exact path match. */
int http_server_route(struct http_server *s, const char *path, http_route_fn fn, void *ud);
/* accept() failed (lws said so in its log: out of file descriptors):
 * stops accepting for a second instead of failing again at once. */
void http_server_accept_failed(struct http_server *s);
/* candlewatch_http_connections and _connections_refused_total{reason}. */
void http_server_metrics(const struct http_server *s, struct prom *p);
/* The port actually listened on (useful when http.listen asks for port 0). */
int http_server_port(const struct http_server *s);
/* Frees the server (its vhost goes with the lws context). */
void http_server_free(struct http_server *s);

#endif
