/* A small validating JSON scanner over a frame's bytes, for the kline
 * parsers' general walkers (market/kline.c: Binance; market/bybit_kline.c:
 * Bybit): tokens are read in place, nothing is allocated or copied, and a
 * value the caller does not need is skipped (to a fixed depth).  Internal
 * to market/. */
#ifndef CW_JSON_SCAN_H
#define CW_JSON_SCAN_H

#include <stddef.h>
#include <string.h>

#define JS_MAX_DEPTH 32

struct js {
    const char *p, *end;
};

static inline int js_peek(struct js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

static inline int js_eat(struct js *j, char c)
{
    if (js_peek(j) != (unsigned char)c)
        return 0;
    j->p++;
    return 1;
}

/* A string's raw contents (escapes are checked for form, not decoded). */
static inline int js_str(struct js *j, const char **s, size_t *n)
{
    if (!js_eat(j, '"'))
        return -1;
    const char *start = j->p;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            *s = start;
            *n = (size_t)(j->p - start);
            j->p++;
            return 0;
        }
        if (c == '\\') {
            if (j->end - j->p < 2)
                return -1;
            j->p += 2;
            continue;
        }
        if (c < 0x20)
            return -1;
        j->p++;
    }
    return -1;
}

static inline int js_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A JSON number token, as text. */
static inline int js_number(struct js *j, const char **s, size_t *n)
{
    js_peek(j);
    const char *start = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end || !js_digit(*j->p))
        return -1;
    while (j->p < j->end && js_digit(*j->p))
        j->p++;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || !js_digit(*j->p))
            return -1;
        while (j->p < j->end && js_digit(*j->p))
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || !js_digit(*j->p))
            return -1;
        while (j->p < j->end && js_digit(*j->p))
            j->p++;
    }
    *s = start;
    *n = (size_t)(j->p - start);
    return 0;
}

static inline int js_literal(struct js *j, const char *word)
{
    size_t n = strlen(word);
    js_peek(j);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

static inline int js_skip(struct js *j, int depth)
{
    const char *s;
    size_t n;
    if (depth > JS_MAX_DEPTH)
        return -1;
    switch (js_peek(j)) {
    case '"':
        return js_str(j, &s, &n);
    case '{':
        j->p++;
        if (js_eat(j, '}'))
            return 0;
        do {
            if (js_str(j, &s, &n) || !js_eat(j, ':') || js_skip(j, depth + 1))
                return -1;
        } while (js_eat(j, ','));
        return js_eat(j, '}') ? 0 : -1;
    case '[':
        j->p++;
        if (js_eat(j, ']'))
            return 0;
        do {
            if (js_skip(j, depth + 1))
                return -1;
        } while (js_eat(j, ','));
        return js_eat(j, ']') ? 0 : -1;
    case 't':
        return js_literal(j, "true");
    case 'f':
        return js_literal(j, "false");
    case 'n':
        return js_literal(j, "null");
    default:
        return js_number(j, &s, &n);
    }
}

#endif
