/* fakehttp: the small HTTP/1.1 server the stand-ins (fake_gas, fake_rates)
 * share, on one libuv loop on 127.0.0.1.  It parses requests within limits
 * (431/413/411/400 and hang up when exceeded or malformed; 100-continue),
 * hands each whole request to the stand-in's handler, and writes the
 * answer with its status text, keeping the connection alive as the client
 * asks (unless the stand-in always closes).  Answers may be delayed or
 * never come, as the stand-ins' fault injection needs.  Test code only;
 * it shares nothing with the bot itself. */
#ifndef FAKEHTTP_H
#define FAKEHTTP_H

#include <stddef.h>

struct fakehttp_conn;

/* One request: NUL-terminated copies the handler may read until it returns. */
struct fakehttp_req {
    char method[16];
    char path[1536];
    char *query;          /* after '?', "" when none */
    char *head;           /* the request line and headers, for fakehttp_header */
    char *body;           /* NUL-terminated */
    size_t body_len;
    char ctype[128];      /* Content-Type, "" when none */
};

/* Answers the request (now, later or never) with the calls below. */
typedef void (*fakehttp_handler)(struct fakehttp_conn *c, const struct fakehttp_req *q);

struct fakehttp_cfg {
    const char *name;     /* "fake_gas": the Server header and the messages */
    long port;            /* 0: any free port */
    size_t max_head, max_body;
    int always_close;     /* close after every answer, whatever the client asks */
    fakehttp_handler handler;
};

/* Listens, prints "NAME listening on port N", serves until SIGINT/SIGTERM:
 * 0 then, 1 when it cannot listen. */
int fakehttp_run(const struct fakehttp_cfg *cfg);

void fakehttp_respond(struct fakehttp_conn *c, int status, const char *ctype, const char *body);
/* The answer after delay_ms (when > 0); the connection reads nothing meanwhile. */
void fakehttp_respond_after(struct fakehttp_conn *c, int status, const char *ctype, const char *body,
                            long delay_ms);
/* The request is never answered: the connection ends when the client gives up. */
void fakehttp_hang(struct fakehttp_conn *c);

const char *fakehttp_reason(int status);
/* Header NAME's value (trimmed) into out: 1 when present. */
int fakehttp_header(const struct fakehttp_req *q, const char *name, char *out, size_t size);
/* Query parameter NAME, URL-decoded into out: 1 when present. */
int fakehttp_query(const char *query, const char *name, char *out, size_t size);

#endif
