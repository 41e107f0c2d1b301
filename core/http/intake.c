#include "http/intake.h"
#include "util/grow.h"

#include <stdlib.h>
#include <string.h>

enum http_intake http_intake_post(const char *content_length, int has_transfer_encoding)
{
    /* strtol, not atol: a length past LONG_MAX is then defined (LONG_MAX) */
    long n = strtol(content_length, NULL, 10);
    /* lws does not decode chunked request bodies: refused plainly, rather
     * than handled as empty (Telegram sends a length) */
    if (n <= 0)   /* no body to wait for, or one we cannot read */
        return has_transfer_encoding ? HTTP_INTAKE_NO_LENGTH : HTTP_INTAKE_NOW;
    return n > HTTP_BODY_MAX ? HTTP_INTAKE_TOO_BIG : HTTP_INTAKE_BODY;
}

int http_body_append(struct http_body *b, const void *in, size_t n)
{
    if (b->too_big || n > HTTP_BODY_MAX - b->len) {
        b->too_big = 1;
        return 0;
    }
    char *p = grow_from(b->p, &b->cap, b->len + n + 1, 1, 1024);
    if (!p)
        return -1;
    b->p = p;
    if (n)
        memcpy(b->p + b->len, in, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

void http_body_free(struct http_body *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
