#include "net/lws.h"

#include <libwebsockets.h>
#include <string.h>

#include "app.h"

int net_lws_init(struct app *a, char *err, size_t errlen)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
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
}
