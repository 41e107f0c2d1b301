/* The one libwebsockets context, on the app's libuv loop (as a foreign
 * loop).  The HTTP server adds a listening vhost to it, the exchange feed a
 * client vhost; everything lws does then runs on the same loop.
 *
 * Teardown is in two steps because lws closes its libuv handles
 * asynchronously: net_lws_stop() from anywhere (even inside the loop), then
 * net_lws_free() once the loop has run the closes.
 */
#ifndef CW_NET_LWS_H
#define CW_NET_LWS_H

#include <stddef.h>
#include <uv.h>

struct logger;
struct lws_context;

struct net_lws {
    struct lws_context *ctx;   /* lws clears it once fully destroyed */
    int stopping;
    struct logger *log;        /* where lws's warnings and errors go */
    /* accept() failed (out of file descriptors): set by whoever listens */
    void (*accept_failed)(void *ud);
    void *accept_ud;
};

/* Creates the context on loop; lws's log goes to log from now on. */
int net_lws_init(struct net_lws *l, uv_loop_t *loop, struct logger *log, char *err,
                 size_t errlen);
void net_lws_stop(struct net_lws *l);
void net_lws_free(struct net_lws *l);

#endif
