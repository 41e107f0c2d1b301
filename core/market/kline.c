/* The kline frame parser.  A single forward pass over the frame with a
 * small JSON walker that validates as it goes, skips fields it does not
 * need, and writes only into the caller's struct candle.
 */
#include "market/kline.h"

#include <stdlib.h>
#include <string.h>

#include "util/interval.h"
#include "util/bytes.h"

#define MAX_DEPTH 32

struct jp {
    const char *p, *end;
};

static const char *const drop_names[KD_COUNT] = {
    "none",          "invalid_json",     "oversize",          "missing_field",
    "bad_number",    "bad_prices",       "bad_time",          "unknown_symbol",
    "unknown_interval", "stream_mismatch",
};

const char *kline_drop_name(enum kline_drop d)
{
    return d >= 0 && d < KD_COUNT ? drop_names[d] : "?";
}

static inline int peek(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

static inline int eat(struct jp *j, char c)
{
    if (peek(j) != (unsigned char)c)
        return 0;
    j->p++;
    return 1;
}

/* A string's raw contents (escapes are checked for form, not decoded). */
static int str(struct jp *j, const char **s, size_t *n)
{
    if (!eat(j, '"'))
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

static inline int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A JSON number token, as text. */
static int number_token(struct jp *j, const char **s, size_t *n)
{
    peek(j);
    const char *start = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end || !is_digit(*j->p))
        return -1;
    while (j->p < j->end && is_digit(*j->p))
        j->p++;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || !is_digit(*j->p))
            return -1;
        while (j->p < j->end && is_digit(*j->p))
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || !is_digit(*j->p))
            return -1;
        while (j->p < j->end && is_digit(*j->p))
            j->p++;
    }
    *s = start;
    *n = (size_t)(j->p - start);
    return 0;
}

static int literal(struct jp *j, const char *word)
{
    size_t n = strlen(word);
    peek(j);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

static int skip_value(struct jp *j, int depth)
{
    const char *s;
    size_t n;
    if (depth > MAX_DEPTH)
        return -1;
    switch (peek(j)) {
    case '"':
        return str(j, &s, &n);
    case '{':
        j->p++;
        if (eat(j, '}'))
            return 0;
        do {
            if (str(j, &s, &n) || !eat(j, ':') || skip_value(j, depth + 1))
                return -1;
        } while (eat(j, ','));
        return eat(j, '}') ? 0 : -1;
    case '[':
        j->p++;
        if (eat(j, ']'))
            return 0;
        do {
            if (skip_value(j, depth + 1))
                return -1;
        } while (eat(j, ','));
        return eat(j, ']') ? 0 : -1;
    case 't':
        return literal(j, "true");
    case 'f':
        return literal(j, "false");
    case 'n':
        return literal(j, "null");
    default:
        return number_token(j, &s, &n);
    }
}

/* Result of a field parse: 0 ok, -1 bad JSON, -2 bad number. */
#define BAD_JSON (-1)
#define BAD_NUMBER (-2)

static int integer(struct jp *j, int64_t *out)
{
    const char *s;
    size_t n;
    int c = peek(j);
    if (c != '-' && !is_digit(c))   /* a string, null, ... where a number belongs */
        return skip_value(j, 0) ? BAD_JSON : BAD_NUMBER;
    if (number_token(j, &s, &n))
        return BAD_JSON;
    size_t i = 0;
    int neg = s[0] == '-';
    i += (size_t)neg;
    if (n - i > 18)
        return BAD_NUMBER;
    int64_t v = 0;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return BAD_NUMBER;   /* a fraction or exponent */
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static const double pow10_tab[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int kline_decimal(const char *s, size_t n, double *out, int *decimals)
{
    const char *p = s, *end = s + n;
    uint64_t m = 0;
    /* integer part */
    const char *d = p;
    while (p < end && is_digit(*p))
        m = m * 10 + (uint64_t)(*p++ - '0');
    size_t int_digits = (size_t)(p - d);
    if (int_digits == 0)
        return -1;
    int dp = 0;
    if (p < end) {
        if (*p != '.')
            return -1;
        const char *f = ++p;
        while (p < end && is_digit(*p))
            m = m * 10 + (uint64_t)(*p++ - '0');
        dp = (int)(p - f);
        if (dp == 0 || p != end)
            return -1;   /* "12." or trailing junk */
    }
    if (int_digits + (size_t)dp > 19 || dp > 22) {
        /* more digits than a uint64 holds: the exact (slow) conversion */
        char buf[48];
        if (n >= sizeof buf)
            return -1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        *out = strtod(buf, NULL);
    } else {
        /* 10^dp is exact, so this is one correctly rounded division */
        *out = (double)m / pow10_tab[dp];
    }
    *decimals = dp;
    return 0;
}

static int decimal_field(struct jp *j, double *out, int *dp)
{
    const char *s;
    size_t n;
    if (peek(j) != '"')
        return skip_value(j, 0) ? BAD_JSON : BAD_NUMBER;
    if (str(j, &s, &n))
        return BAD_JSON;
    return kline_decimal(s, n, out, dp) ? BAD_NUMBER : 0;
}

static int string_field(struct jp *j, const char **s, size_t *n)
{
    if (peek(j) != '"')
        return skip_value(j, 0) ? BAD_JSON : BAD_NUMBER;
    return str(j, s, n) ? BAD_JSON : 0;
}

enum {
    F_t = 1 << 0, F_T = 1 << 1, F_s = 1 << 2, F_i = 1 << 3, F_o = 1 << 4, F_c = 1 << 5,
    F_h = 1 << 6, F_l = 1 << 7, F_v = 1 << 8, F_n = 1 << 9, F_x = 1 << 10, F_q = 1 << 11,
    F_ALL = (1 << 12) - 1,
};

struct parse {
    struct candle *c;
    unsigned seen;
    const char *sym, *iv, *data_sym, *stream, *event;
    size_t sym_n, iv_n, data_sym_n, stream_n, event_n;
    int64_t event_time;
    int has_event_time, has_k, has_reply, has_id, has_error, bad_number;
    int64_t id;
    int dp;
};

static int k_field(struct jp *j, struct parse *ps, const char *key, size_t kn)
{
    struct candle *c = ps->c;
    int rc, dp = 0;
    int64_t v;
    if (kn != 1)
        return skip_value(j, 0);
    switch (key[0]) {
    case 't': rc = integer(j, &c->open_time); ps->seen |= F_t; break;
    case 'T': rc = integer(j, &c->close_time); ps->seen |= F_T; break;
    case 'n':
        rc = integer(j, &v);
        if (rc == 0 && (v < 0 || v > INT32_MAX))
            rc = BAD_NUMBER;
        c->trades = (int32_t)v;
        ps->seen |= F_n;
        break;
    case 's': rc = string_field(j, &ps->sym, &ps->sym_n); ps->seen |= F_s; break;
    case 'i': rc = string_field(j, &ps->iv, &ps->iv_n); ps->seen |= F_i; break;
    case 'o': rc = decimal_field(j, &c->open, &ps->dp); ps->seen |= F_o; break;
    case 'c': rc = decimal_field(j, &c->close, &dp); ps->seen |= F_c; break;
    case 'h': rc = decimal_field(j, &c->high, &dp); ps->seen |= F_h; break;
    case 'l': rc = decimal_field(j, &c->low, &dp); ps->seen |= F_l; break;
    case 'v': rc = decimal_field(j, &c->volume, &dp); ps->seen |= F_v; break;
    case 'q': rc = decimal_field(j, &c->quote_volume, &dp); ps->seen |= F_q; break;
    case 'x':
        if (peek(j) == 't') {
            rc = literal(j, "true");
            c->closed = 1;
        } else {
            rc = literal(j, "false");
            c->closed = 0;
        }
        if (rc)
            rc = skip_value(j, 0) ? BAD_JSON : BAD_NUMBER;
        ps->seen |= F_x;
        break;
    default:
        return skip_value(j, 0);
    }
    if (rc == BAD_NUMBER) {
        ps->bad_number = 1;
        return 0;
    }
    return rc;
}

static int object(struct jp *j, struct parse *ps, int level);

static int key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* A field of the event object (which is the top object for raw streams). */
static int event_field(struct jp *j, struct parse *ps, const char *key, size_t kn)
{
    int rc;
    if (key_is(key, kn, "k")) {
        ps->has_k = 1;
        return object(j, ps, 2);
    }
    if (key_is(key, kn, "e"))
        return string_field(j, &ps->event, &ps->event_n) == BAD_JSON ? -1 : 0;
    if (key_is(key, kn, "E")) {
        rc = integer(j, &ps->event_time);
        ps->has_event_time = rc == 0;
        return rc == BAD_JSON ? -1 : 0;
    }
    if (key_is(key, kn, "s"))
        return string_field(j, &ps->data_sym, &ps->data_sym_n) == BAD_JSON ? -1 : 0;
    return skip_value(j, 0);
}

/* level 0: the frame; 1: "data"; 2: "k". */
static int object(struct jp *j, struct parse *ps, int level)
{
    const char *key;
    size_t kn;
    if (!eat(j, '{'))
        return -1;
    if (eat(j, '}'))
        return 0;
    do {
        if (str(j, &key, &kn) || !eat(j, ':'))
            return -1;
        int rc;
        if (level == 2) {
            rc = k_field(j, ps, key, kn);
        } else if (level == 0 && key_is(key, kn, "stream")) {
            rc = string_field(j, &ps->stream, &ps->stream_n) == BAD_JSON ? -1 : 0;
        } else if (level == 0 && key_is(key, kn, "data")) {
            rc = peek(j) == '{' ? object(j, ps, 1) : skip_value(j, 0);
        } else if (level == 0 && key_is(key, kn, "result")) {
            ps->has_reply = 1;
            rc = skip_value(j, 0);
        } else if (level == 0 && key_is(key, kn, "id")) {
            ps->has_reply = 1;   /* ids may also be strings or null */
            int r = integer(j, &ps->id);
            ps->has_id = r == 0;
            rc = r == BAD_JSON ? -1 : 0;
        } else if (level == 0 && (key_is(key, kn, "error") || key_is(key, kn, "code"))) {
            ps->has_reply = ps->has_error = 1;
            rc = skip_value(j, 0);
        } else {
            rc = event_field(j, ps, key, kn);
        }
        if (rc)
            return -1;
    } while (eat(j, ','));
    return eat(j, '}') ? 0 : -1;
}

static int ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'a' && x <= 'z')
            x = (unsigned char)(x - 32);
        if (y >= 'a' && y <= 'z')
            y = (unsigned char)(y - 32);
        if (x != y)
            return 0;
    }
    return 1;
}

/* Case-insensitive equality of symbol-name bytes, eight at a time: OR-ing
 * 0x20 into each byte maps A-Z onto a-z and leaves digits alone.  (It also
 * equates a few punctuation pairs; symbols are checked against the table
 * anyway, so that cannot let a wrong one through.) */
static int sym_ieq(const char *a, const char *b, size_t n)
{
    const uint64_t lower = 0x2020202020202020ull;
    uint64_t x, y;
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if ((x | lower) != (y | lower))
            return 0;
    }
    return n == 0 || ieq(a, b, n);
}

/* "btcusdt@kline_1m" must name this symbol and interval. */
static int stream_matches(const struct parse *ps)
{
    size_t sn = ps->sym_n;
    return ps->stream_n == sn + 7 + ps->iv_n && ps->stream[sn] == '@' &&
           sym_ieq(ps->stream, ps->sym, sn) && memcmp(ps->stream + sn + 1, "kline_", 6) == 0 &&
           memcmp(ps->stream + sn + 7, ps->iv, ps->iv_n) == 0;
}

static enum frame_kind drop(struct frame_info *info, enum kline_drop why)
{
    info->drop = why;
    return FRAME_DROP;
}

static enum frame_kind finish_kline(struct parse *ps, const struct symtab *syms,
                                    struct frame_info *info)
{
    struct candle *c = ps->c;
    if ((ps->seen & F_ALL) != F_ALL || !ps->has_event_time || !ps->event)
        return drop(info, KD_MISSING_FIELD);
    if (ps->bad_number)
        return drop(info, KD_BAD_NUMBER);
    int iv = interval_parse(ps->iv, ps->iv_n);
    if (iv < 0)
        return drop(info, KD_UNKNOWN_INTERVAL);
    if (ps->stream && !stream_matches(ps))
        return drop(info, KD_STREAM_MISMATCH);
    if (ps->data_sym && (ps->data_sym_n != ps->sym_n || !(bytes_equal(ps->data_sym, ps->sym, ps->sym_n) ||
                                                          ieq(ps->data_sym, ps->sym, ps->sym_n))))
        return drop(info, KD_STREAM_MISMATCH);
    int id = symtab_find(syms, ps->sym, ps->sym_n);
    if (id < 0)
        return drop(info, KD_UNKNOWN_SYMBOL);
    int64_t ms = interval_ms(iv);
    if (c->open_time <= 0 || c->open_time % ms != 0 || c->close_time != c->open_time + ms - 1 ||
        ps->event_time <= 0)
        return drop(info, KD_BAD_TIME);
    if (!(c->open > 0 && c->close > 0 && c->low > 0 && c->high >= c->low &&
          c->high >= c->open && c->high >= c->close && c->low <= c->open && c->low <= c->close))
        return drop(info, KD_BAD_PRICES);
    c->symbol = (uint32_t)id;
    c->interval = (uint8_t)iv;
    c->event_time = ps->event_time;
    c->backfilled = 0;
    c->price_dp = (uint8_t)(ps->dp > 18 ? 18 : ps->dp);
    return FRAME_KLINE;
}


/* ---- fast path ----
 * Binance serialises every kline event with the same fields in the same
 * order.  This path reads exactly that layout with literal compares and no
 * key dispatch; at the first byte that differs (other order, whitespace,
 * escapes, a malformed value) it gives up and the general walker parses the
 * frame from the start, so both paths accept and refuse the same frames. */

struct fp {
    const char *p, *end;
};

/* Byte i of the string literal s, placed at bit 8i of a little-endian
 * word (0 past its end); an integer constant expression, so a literal's
 * word costs nothing at run time. */
#define LW_BYTE(s, i) \
    (sizeof(s) - 1 > (i) ? (uint64_t)(unsigned char)(s)[sizeof(s) - 1 > (i) ? (i) : 0] << (8 * (i)) : 0)
#define LIT_WORD(s) \
    (LW_BYTE(s, 0) | LW_BYTE(s, 1) | LW_BYTE(s, 2) | LW_BYTE(s, 3) | LW_BYTE(s, 4) | \
     LW_BYTE(s, 5) | LW_BYTE(s, 6))

/* Equal to a literal of compile-time length, compared a word at a time
 * (memcmp would be a call per literal).  Short literals are one masked
 * 8-byte load: copying n < 8 bytes into a word goes through the stack and
 * stalls on store forwarding, which cost about a tenth of the parse. */
static inline __attribute__((always_inline)) int lit_eq(const char *p, const char *end,
                                                        const char *s, size_t n, uint64_t word)
{
    uint64_t a, b;
    if (n < 8) {
        if (end - p >= 8) {
            memcpy(&a, p, 8);
            return (a & ((1ull << (8 * n)) - 1)) == word;
        }
        return memcmp(p, s, n) == 0;
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&a, p + i, 8);
        memcpy(&b, s + i, 8);
        if (a != b)
            return 0;
    }
    if (i == n)
        return 1;
    memcpy(&a, p + n - 8, 8);   /* the tail, overlapping what was compared */
    memcpy(&b, s + n - 8, 8);
    return a == b;
}

#define LIT(f, s) \
    ((size_t)((f)->end - (f)->p) >= sizeof(s) - 1 && lit_eq((f)->p, (f)->end, (s), sizeof(s) - 1, LIT_WORD(s)) \
         ? ((f)->p += sizeof(s) - 1, 1) : 0)

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* High bit set in each byte of x equal to b (SWAR).  Borrows can also set
 * it above a true match, never below one, so the lowest bit is exact. */
static inline uint64_t match_byte(uint64_t x, unsigned char b)
{
    uint64_t y = x ^ (ONES * b);
    return (y - ONES) & ~y & HIGHS;
}

/* The contents up to the closing quote (the opening one already read),
 * eight bytes at a time; refuses escapes and control bytes, which the
 * general walker handles. */
static inline __attribute__((always_inline)) int fstr(struct fp *f, const char **s, size_t *n)
{
    const char *c = f->p;
    for (; f->end - c >= 8; c += 8) {
        uint64_t x;
        memcpy(&x, c, 8);
        uint64_t quote = match_byte(x, '"');
        uint64_t special = ((x - ONES * 0x20) & ~x & HIGHS) | match_byte(x, '\\');
        if (quote) {
            /* a special byte below the first quote is a true one */
            if (special & ((quote & -quote) - 1))
                return 0;
            c += __builtin_ctzll(quote) / 8;
            goto found;
        }
        if (special)
            return 0;
    }
    for (;; c++) {
        if (c == f->end || *c == '\\' || (unsigned char)*c < 0x20)
            return 0;
        if (*c == '"')
            break;
    }
found:
    *s = f->p;
    *n = (size_t)(c - f->p);
    f->p = c + 1;
    return 1;
}

static const uint64_t pow10_u64[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000};

/* The value of eight digit values (0..9), one per byte, the first byte
 * most significant: adjacent digits, then pairs, then quads are combined
 * in place, each step one multiply (no lane overflows: 9*10+9, 99*100+99
 * and 9999*10000+9999 all fit their lanes). */
static inline __attribute__((always_inline)) uint64_t eight_digits(uint64_t t)
{
    t = (t * 10 + (t >> 8)) & 0x00FF00FF00FF00FFull;
    t = (t * 100 + (t >> 16)) & 0x0000FFFF0000FFFFull;
    return (t * 10000 + (t >> 32)) & 0xFFFFFFFFull;
}

/* A run of decimal digits at f->p, eight at a time, appended to *m; the
 * number of digits (more than 19 means too many for *m).  Returns -1
 * when fewer than eight bytes remain: the general walker takes over. */
static inline __attribute__((always_inline)) int fdigits(struct fp *f, uint64_t *m)
{
    int total = 0;
    uint64_t x = *m;
    for (;;) {
        if (f->end - f->p < 8)
            return -1;
        uint64_t w;
        memcpy(&w, f->p, 8);
        /* each byte minus '0': a digit is 0..9, so both it and it + 6
         * have a zero high nibble; the first byte that is not a digit is
         * flagged exactly (borrows and carries only move upwards) */
        uint64_t t = w - ONES * '0';
        uint64_t non = (t | (t + ONES * 6)) & (ONES * 0xF0);
        int k = non ? __builtin_ctzll(non) / 8 : 8;
        if (k)
            x = x * pow10_u64[k] + eight_digits(t << (8 * (8 - k)));
        f->p += k;
        total += k;
        if (k < 8 || total > 19)
            break;
    }
    *m = x;
    return total;
}

/* A string expected to hold the n bytes at want, which were read from
 * this frame by fstr (so hold no quote, escape or control byte): when it
 * does, its end is known without scanning for it; otherwise fstr. */
static inline __attribute__((always_inline)) int fsame(struct fp *f, const char *want,
                                                       size_t n, const char **s, size_t *sn)
{
    if ((size_t)(f->end - f->p) > n && f->p[n] == '"' && bytes_equal(f->p, want, n)) {
        *s = f->p;
        *sn = n;
        f->p += n + 1;
        return 1;
    }
    return fstr(f, s, sn);
}

/* An integer of at most 18 digits, not followed by a fraction or an
 * exponent (those are not integers: the general path refuses them). */
static inline __attribute__((always_inline)) int fint(struct fp *f, int64_t *v)
{
    int neg = *f->p == '-';
    f->p += neg;
    uint64_t x = 0;
    int n = fdigits(f, &x);
    if (n < 1 || n > 18 || *f->p == '.' || *f->p == 'e' || *f->p == 'E')
        return 0;
    *v = neg ? -(int64_t)x : (int64_t)x;
    return 1;
}

/* A millisecond timestamp: 13 digits until the year 2286.  Read as two
 * overlapping fixed loads, so where the next field starts does not wait
 * on counting digits (the parse is one long dependency chain through the
 * read position); any other length goes through fint. */
static inline __attribute__((always_inline)) int ftime(struct fp *f, int64_t *v)
{
    const char *p = f->p;
    if (f->end - p >= 16) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + 5, 8);   /* digits 5..12; 5..7 are dropped below */
        a -= ONES * '0';
        b -= ONES * '0';
        uint64_t non = ((a | (a + ONES * 6)) | (b | (b + ONES * 6))) & (ONES * 0xF0);
        unsigned char next = (unsigned char)p[13];
        if (!non && (next < '0' || next > '9') && next != '.' && next != 'e' && next != 'E') {
            *v = (int64_t)(eight_digits(a) * 100000 + eight_digits(b & ~0xFFFFFFull));
            f->p = p + 13;
            return 1;
        }
    }
    return fint(f, v);
}

/* "digits[.digits]" including the quotes, read in place. */
static inline __attribute__((always_inline)) int fdec(struct fp *f, double *v, int *dp)
{
    if (*f->p != '"')
        return 0;
    f->p++;
    uint64_t m = 0;
    int int_digits = fdigits(f, &m), frac = 0;
    if (int_digits < 1)
        return 0;
    if (*f->p == '.') {
        f->p++;
        frac = fdigits(f, &m);
        if (frac < 1)
            return 0;
    }
    if (*f->p != '"' || int_digits + frac > 19)
        return 0;   /* the general path handles (or refuses) the rest */
    *v = (double)m / pow10_tab[frac];
    *dp = frac;
    f->p++;
    return 1;
}

static int fast_kline(const char *buf, size_t len, struct parse *ps)
{
    if (len < 2 || buf[len - 1] != '}')
        return 0;
    struct fp f = {buf, buf + len};
    struct candle *c = ps->c;
    const char *skip;
    size_t skip_n;
    int64_t i64;
    int dp;
    int combined = LIT(&f, "{\"stream\":\"");
    if (combined && !(fstr(&f, &ps->stream, &ps->stream_n) && LIT(&f, ",\"data\":")))
        return 0;
    if (!(LIT(&f, "{\"e\":\"kline\",\"E\":") && ftime(&f, &ps->event_time) &&
          LIT(&f, ",\"s\":\"") && fstr(&f, &ps->data_sym, &ps->data_sym_n)))
        return 0;
    /* The symbol recurs in the kline, and the interval ends the stream name
     * ("btcusdt@kline_1m"): checking they are there saves scanning for
     * their ends.  (Whether they agree is checked after, on both paths.) */
    const char *iv_want = "";
    size_t iv_want_n = 0;
    if (combined && ps->stream_n > ps->data_sym_n + 7) {
        iv_want = ps->stream + ps->data_sym_n + 7;
        iv_want_n = ps->stream_n - ps->data_sym_n - 7;
    }
    if (!(LIT(&f, ",\"k\":{\"t\":") && ftime(&f, &c->open_time) && LIT(&f, ",\"T\":") &&
          ftime(&f, &c->close_time) && LIT(&f, ",\"s\":\"") &&
          fsame(&f, ps->data_sym, ps->data_sym_n, &ps->sym, &ps->sym_n) &&
          LIT(&f, ",\"i\":\"") && fsame(&f, iv_want, iv_want_n, &ps->iv, &ps->iv_n) &&
          LIT(&f, ",\"f\":") &&
          fint(&f, &i64) && LIT(&f, ",\"L\":") && fint(&f, &i64) && LIT(&f, ",\"o\":") &&
          fdec(&f, &c->open, &ps->dp) && LIT(&f, ",\"c\":") && fdec(&f, &c->close, &dp) &&
          LIT(&f, ",\"h\":") && fdec(&f, &c->high, &dp) && LIT(&f, ",\"l\":") &&
          fdec(&f, &c->low, &dp) && LIT(&f, ",\"v\":") && fdec(&f, &c->volume, &dp) &&
          LIT(&f, ",\"n\":") && fint(&f, &i64) && i64 >= 0 && i64 <= INT32_MAX &&
          LIT(&f, ",\"x\":")))
        return 0;
    c->trades = (int32_t)i64;
    if (LIT(&f, "true"))
        c->closed = 1;
    else if (LIT(&f, "false"))
        c->closed = 0;
    else
        return 0;
    if (!(LIT(&f, ",\"q\":") && fdec(&f, &c->quote_volume, &dp) && LIT(&f, ",\"V\":\"") &&
          fstr(&f, &skip, &skip_n) && LIT(&f, ",\"Q\":\"") && fstr(&f, &skip, &skip_n) &&
          LIT(&f, ",\"B\":\"") && fstr(&f, &skip, &skip_n) && LIT(&f, "}}")))
        return 0;
    if (combined && !LIT(&f, "}"))
        return 0;
    if (f.p != f.end)
        return 0;
    static const char kline[] = "kline";
    ps->event = kline;
    ps->event_n = 5;
    ps->has_event_time = 1;
    ps->has_k = 1;
    ps->seen = F_ALL;
    return 1;
}

/* A fresh parse into out, and info as for a kline. */
static void parse_start(struct parse *ps, struct candle *out, struct frame_info *info)
{
    memset(ps, 0, sizeof *ps);
    ps->c = out;
    info->drop = KD_NONE;
    info->reply_id = -1;
    info->reply_error = 0;
}

enum frame_kind kline_parse(const char *buf, size_t len, const struct symtab *syms,
                            struct candle *out, struct frame_info *info)
{
    struct parse ps;
    parse_start(&ps, out, info);
    if (fast_kline(buf, len, &ps))
        return finish_kline(&ps, syms, info);
    return kline_parse_general(buf, len, syms, out, info);
}

enum frame_kind kline_parse_general(const char *buf, size_t len, const struct symtab *syms,
                                    struct candle *out, struct frame_info *info)
{
    struct jp j = {buf, buf + len};
    struct parse ps;
    parse_start(&ps, out, info);
    if (object(&j, &ps, 0) != 0 || peek(&j) != -1)
        return drop(info, KD_JSON);
    if (ps.has_k) {
        if (!ps.event || ps.event_n != 5 || memcmp(ps.event, "kline", 5) != 0)
            return ps.event ? FRAME_OTHER : drop(info, KD_MISSING_FIELD);
        return finish_kline(&ps, syms, info);
    }
    if (ps.has_reply) {
        info->reply_id = ps.has_id ? ps.id : -1;
        info->reply_error = ps.has_error;
        return FRAME_REPLY;
    }
    if (ps.event)
        return FRAME_OTHER;
    return drop(info, KD_MISSING_FIELD);
}
