/* fakeutil: the small things the stand-ins (fake_telegram, fake_smtp)
 * would otherwise each write again: growable bytes and command-line
 * numbers.  Test code only; it shares nothing with the bot itself. */
#ifndef FAKEUTIL_H
#define FAKEUTIL_H

#include <stddef.h>

/* Growable bytes, always NUL-terminated once something was added. */
struct buf {
    char *p;
    size_t n, cap;
};

/* Appends n bytes; out of memory ends the process (status 1). */
void buf_add(struct buf *b, const void *s, size_t n);
void buf_str(struct buf *b, const char *s);
void buf_free(struct buf *b);

/* The non-negative number in option `name`'s value v; anything else
 * ends the process with status 2 and a message naming the option.
 * (Messages start with the program's name, as the stand-ins' own do.) */
long opt_long(const char *name, const char *v);

#endif
