#include "util/jsonw.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
    memset(w, 0, sizeof *w);
}

void jsonw_free(struct jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    if (w->oom)
        return;
    char *nb = grow_from(w->buf, &w->cap, w->len + n + 1, 1, 256);
    if (!nb) {
        w->oom = 1;
        return;
    }
    w->buf = nb;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

const char *jsonw_str(struct jsonw *w)
{
    return (w->buf && !w->oom) ? w->buf : "{}";
}

static void sep(struct jsonw *w)
{
    if (w->need_comma)
        put(w, ",", 1);
    w->need_comma = 1;
}

void jsonw_obj_open(struct jsonw *w)
{
    sep(w);
    put(w, "{", 1);
    w->need_comma = 0;
}

void jsonw_obj_close(struct jsonw *w)
{
    put(w, "}", 1);
    w->need_comma = 1;
}

static void put_escaped(struct jsonw *w, const char *s)
{
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                put(w, esc, 6);
            } else {
                put(w, (const char *)p, 1);
            }
        }
    }
    put(w, "\"", 1);
}

void jsonw_key(struct jsonw *w, const char *key)
{
    sep(w);
    put_escaped(w, key);
    put(w, ":", 1);
    w->need_comma = 0;
}

void jsonw_str_val(struct jsonw *w, const char *s)
{
    sep(w);
    if (s)
        put_escaped(w, s);
    else
        put(w, "null", 4);
}

void jsonw_num(struct jsonw *w, double v)
{
    char b[40];
    sep(w);
    int n = snprintf(b, sizeof b, "%.17g", v);
    put(w, b, (size_t)n);
}

void jsonw_int(struct jsonw *w, long long v)
{
    char b[32];
    sep(w);
    int n = snprintf(b, sizeof b, "%lld", v);
    put(w, b, (size_t)n);
}

void jsonw_bool(struct jsonw *w, int v)
{
    sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_kv_str(struct jsonw *w, const char *key, const char *s)
{
    jsonw_key(w, key);
    jsonw_str_val(w, s);
}

void jsonw_kv_int(struct jsonw *w, const char *key, long long v)
{
    jsonw_key(w, key);
    jsonw_int(w, v);
}
