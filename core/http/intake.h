/* A request's raw data, read: pure code (no lws, no I/O), shared by the
 * HTTP server (http/server.c) and the webhook's fuzz target.  The server
 * decides from the headers whether a body is to be read, then collects it
 * piece by piece within HTTP_BODY_MAX. */
#ifndef CW_HTTP_INTAKE_H
#define CW_HTTP_INTAKE_H

#include <stddef.h>

#define HTTP_BODY_MAX (1024 * 1024)   /* bigger bodies get 413 */

enum http_intake {
    HTTP_INTAKE_NOW,          /* no body to wait for: answer at once */
    HTTP_INTAKE_BODY,         /* read the body, then answer */
    HTTP_INTAKE_TOO_BIG,      /* answer 413 at once */
    HTTP_INTAKE_NO_LENGTH,    /* a chunked body without a length: answer 411 */
};

/* For a POST: its Content-Length header's text ("" when absent) and
 * whether it has a Transfer-Encoding header. */
enum http_intake http_intake_post(const char *content_length, int has_transfer_encoding);

/* A request body being collected: NUL-terminated, at most HTTP_BODY_MAX
 * bytes; past that, too_big is set and the rest is ignored. */
struct http_body {
    char *p;
    size_t len, cap;
    int too_big;
};

/* 0, or -1 when out of memory. */
int http_body_append(struct http_body *b, const void *in, size_t n);
void http_body_free(struct http_body *b);

#endif
