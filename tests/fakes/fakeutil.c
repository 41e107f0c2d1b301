/* fakeutil: growable bytes and option numbers for the stand-ins. */
#include "fakeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_add(struct buf *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
            exit(1);
        }
    }
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_free(struct buf *b)
{
    free(b->p);
    *b = (struct buf){0};
}

long opt_long(const char *name, const char *v)
{
    char *e = NULL;
    errno = 0;
    long x = strtol(v, &e, 10);
    if (!*v || *e || x < 0 || errno) {
        fprintf(stderr, "%s: %s needs a number, not %s\n", program_invocation_short_name, name, v);
        exit(2);
    }
    return x;
}
