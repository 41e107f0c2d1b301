/* HTTP client requests on the loop through libcurl's multi interface.
 * Nothing here blocks: a request completes later through its callback.
 *
 *   struct httpc_req rq = {.method = "GET", .url = u, .timeout_ms = 10000};
 *   uint64_t id = httpc_request(&app->httpc, &rq, done_cb, ud);
 *   ...  done_cb(ud, &resp) runs once: resp->err is NULL on an HTTP answer
 *        (any status), or says why there was none ("timeout", ...).
 *   httpc_cancel(&app->httpc, id);   // the callback will not run
 *
 * A stub transport (the spec runner's) can take the place of the network:
 * it receives each request and answers later with httpc_complete().
 */
#ifndef CW_HTTPC_H
#define CW_HTTPC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/log.h"

/* One part of a multipart/form-data body: a field, or a file when
 * filename is set.  The data is copied when the request starts. */
struct httpc_part {
    const char *name;
    const char *data;
    size_t len;
    const char *filename;     /* NULL: a plain field */
    const char *type;         /* a file's Content-Type, or NULL */
};

struct httpc_req {
    const char *method;       /* "GET", "POST", ... */
    const char *url;
    const char *body;         /* may be NULL */
    size_t body_len;
    const struct httpc_part *parts;   /* a multipart/form-data POST instead of body */
    int nparts;
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    long timeout_ms;          /* whole request; 0 means 30 s */
};

struct httpc_resp {
    const char *err;          /* NULL when an HTTP response arrived */
    long status;
    const char *body;
    size_t body_len;
    const char *headers;      /* raw header lines, "\r\n"-separated */
};

typedef void (*httpc_cb)(void *ud, const struct httpc_resp *resp);
typedef void (*httpc_stub_fn)(void *ud, uint64_t id, const struct httpc_req *req);

struct httpc_call;
struct httpc {
    uv_loop_t *loop;
    struct logger *log;
    void *multi;              /* CURLM*, kept opaque for includers */
    uv_timer_t timeout;
    struct httpc_call *calls;
    uint64_t next_id;
    size_t max_body;
    const char *ca_file;      /* extra CA bundle (tls.ca_file), or NULL */
    httpc_stub_fn stub;
    void *stub_ud;
    int closing;
};

int httpc_init(struct httpc *h, uv_loop_t *loop, struct logger *log);
/* Cancels everything; the loop must run afterwards to close handles. */
void httpc_close(struct httpc *h);
uint64_t httpc_request(struct httpc *h, const struct httpc_req *req, httpc_cb cb, void *ud);
/* An e-mail through an SMTP server, on the same loop.  The callback's
 * resp->err is NULL once the server accepted the message. */
struct httpc_mail {
    const char *url;          /* smtp://host:port or smtps://host:port */
    int tls;                  /* smtp://: insist on STARTTLS */
    const char *user, *password;  /* NULL: no login */
    const char *from;
    const char *const *to;    /* NULL-terminated */
    const char *message;      /* header lines, a blank line, the body; CRLF */
    long timeout_ms;          /* 0 means 60 s */
};
uint64_t httpc_mail(struct httpc *h, const struct httpc_mail *m, httpc_cb cb, void *ud);
void httpc_cancel(struct httpc *h, uint64_t id);
/* For stub transports: answers request id (ignored if it was cancelled). */
void httpc_complete(struct httpc *h, uint64_t id, const struct httpc_resp *resp);
/* How many requests are under way. */
int httpc_pending(const struct httpc *h);

#endif
