#include "net/lws.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http/server.h"

/* lws logs through one process-wide function, without a user pointer:
 * the app it logs to is the one global here. */
static struct app *net_lws_log_app;

/* An lws warning or error, as a line of the bot's log (masked, and
 * repeats printed once a minute with a count).  A failed accept() (out of
 * file descriptors) also tells the HTTP server to pause accepting: lws
 * would otherwise retry at once, for as long as the descriptors lack. */
static void net_lws_log(int level, const char *line)
{
    struct app *a = net_lws_log_app;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", line);
    msg[strcspn(msg, "\r\n")] = '\0';
    if (!a) {
        fprintf(stderr, "lws: %s\n", msg);
        return;
    }
    if (strncmp(msg, "accept:", 7) == 0 && a->http)
        http_server_accept_failed(a->http);
    log_msg(&a->log, level & LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "%s", msg);
}

int net_lws_init(struct app *a, char *err, size_t errlen)
{
    net_lws_log_app = a;
    lws_set_log_level(LLL_ERR | LLL_WARN, net_lws_log);
    void *loops[1] = {&a->loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.user = a;
    info.pcontext = &a->lws.ctx;
    a->lws.ctx = lws_create_context(&info);
    if (!a->lws.ctx) {
        snprintf(err, errlen, "cannot create the libwebsockets context");
        return -1;
    }
    return 0;
}

void net_lws_stop(struct app *a)
{
    if (a->lws.ctx && !a->lws.stopping) {
        a->lws.stopping = 1;
        lws_context_destroy(a->lws.ctx);
    }
}

void net_lws_free(struct app *a)
{
    /* On a foreign loop the first destroy only starts closing; after the
     * loop has run the closes this completes it (a no-op if lws already
     * finished and cleared the pointer). */
    if (a->lws.ctx)
        lws_context_destroy(a->lws.ctx);
    if (net_lws_log_app == a)
        net_lws_log_app = NULL;
}
