#include "net/lws.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

/* lws logs through one process-wide function, without a user pointer:
 * the context it logs for (its logger and accept hook) is the one global
 * here. */
static struct net_lws *net_lws_log_to;

/* An lws warning or error, as a line of the bot's log (masked, and
 * repeats printed once a minute with a count).  A failed accept() (out of
 * file descriptors) also tells the listener to pause accepting: lws
 * would otherwise retry at once, for as long as the descriptors lack. */
static void net_lws_log(int level, const char *line)
{
    struct net_lws *l = net_lws_log_to;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", line);
    msg[strcspn(msg, "\r\n")] = '\0';
    if (!l) {
        fprintf(stderr, "lws: %s\n", msg);
        return;
    }
    if (strncmp(msg, "accept:", 7) == 0 && l->accept_failed)
        l->accept_failed(l->accept_ud);
    log_msg(l->log, level & LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "%s", msg);
}

int net_lws_init(struct net_lws *l, uv_loop_t *loop, struct logger *log, char *err,
                 size_t errlen)
{
    l->log = log;
    net_lws_log_to = l;
    lws_set_log_level(LLL_ERR | LLL_WARN, net_lws_log);
    void *loops[1] = {loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.user = l;
    info.pcontext = &l->ctx;
    l->ctx = lws_create_context(&info);
    if (!l->ctx) {
        snprintf(err, errlen, "cannot create the libwebsockets context");
        return -1;
    }
    return 0;
}

void net_lws_stop(struct net_lws *l)
{
    if (l->ctx && !l->stopping) {
        l->stopping = 1;
        lws_context_destroy(l->ctx);
    }
}

void net_lws_free(struct net_lws *l)
{
    /* On a foreign loop the first destroy only starts closing; after the
     * loop has run the closes this completes it (a no-op if lws already
     * finished and cleared the pointer). */
    if (l->ctx)
        lws_context_destroy(l->ctx);
    if (net_lws_log_to == l)
        net_lws_log_to = NULL;
}
