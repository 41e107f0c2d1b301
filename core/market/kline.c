/* The kline frame parser.  A single forward pass over the frame with a
 * small JSON walker that validates as it goes, skips fields it does not
 * need, and writes only into the caller's struct candle.
 */
#include "market/kline.h"

#include <stdlib.h>
#include <string.h>

#include "market/json_scan.h"
#include "market/kline_parse.h"
#include "util/interval.h"
#include "util/bytes.h"

static const char *const drop_names[KD_COUNT] = {
    "none",          "invalid_json",     "oversize",          "missing_field",
    "bad_number",    "bad_prices",       "bad_time",          "unknown_symbol",
    "unknown_interval", "stream_mismatch",
};

const char *kline_drop_name(enum kline_drop d)
{
    return d >= 0 && d < KD_COUNT ? drop_names[d] : "?";
}

/* Result of a field parse: 0 ok, -1 bad JSON, -2 bad number. */
#define BAD_JSON (-1)
#define BAD_NUMBER (-2)

static int integer(struct js *j, int64_t *out)
{
    const char *s;
    size_t n;
    int c = js_peek(j);
    if (c != '-' && !js_digit(c))   /* a string, null, ... where a number belongs */
        return js_skip(j, 0) ? BAD_JSON : BAD_NUMBER;
    if (js_number(j, &s, &n))
        return BAD_JSON;
    size_t i = 0;
    int neg = s[0] == '-';
    i += (size_t)neg;
    if (n - i > 18)
        return BAD_NUMBER;
    int64_t v = 0;
    for (; i < n; i++) {
        if (!js_digit(s[i]))
            return BAD_NUMBER;   /* a fraction or exponent */
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

int kline_decimal(const char *s, size_t n, double *out, int *decimals)
{
    const char *p = s, *end = s + n;
    uint64_t ip = 0, fr = 0;
    /* integer part (the sums wrap past 19 digits: strtod takes those) */
    const char *d = p;
    while (p < end && js_digit(*p))
        ip = ip * 10 + (uint64_t)(*p++ - '0');
    size_t int_digits = (size_t)(p - d);
    if (int_digits == 0)
        return -1;
    int dp = 0;
    if (p < end) {
        if (*p != '.')
            return -1;
        const char *f = ++p;
        while (p < end && js_digit(*p))
            fr = fr * 10 + (uint64_t)(*p++ - '0');
        dp = (int)(p - f);
        if (dp == 0 || p != end)
            return -1;   /* "12." or trailing junk */
    }
    if (int_digits > 19 || dp > 19) {
        /* more digits than the parts hold: the exact (slow) conversion */
        char buf[48];
        if (n >= sizeof buf)
            return -1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        *out = strtod(buf, NULL);
    } else {
        *out = kline_dec_value(ip, fr, dp);   /* as the fast path does */
    }
    *decimals = dp;
    return 0;
}

static int decimal_field(struct js *j, double *out, int *dp)
{
    const char *s;
    size_t n;
    if (js_peek(j) != '"')
        return js_skip(j, 0) ? BAD_JSON : BAD_NUMBER;
    if (js_str(j, &s, &n))
        return BAD_JSON;
    return kline_decimal(s, n, out, dp) ? BAD_NUMBER : 0;
}

static int string_field(struct js *j, const char **s, size_t *n)
{
    if (js_peek(j) != '"')
        return js_skip(j, 0) ? BAD_JSON : BAD_NUMBER;
    return js_str(j, s, n) ? BAD_JSON : 0;
}


static int k_field(struct js *j, struct parse *ps, const char *key, size_t kn)
{
    struct candle *c = ps->c;
    int rc, dp = 0;
    int64_t v;
    if (kn != 1)
        return js_skip(j, 0);
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
        if (js_peek(j) == 't') {
            rc = js_literal(j, "true");
            c->closed = 1;
        } else {
            rc = js_literal(j, "false");
            c->closed = 0;
        }
        if (rc)
            rc = js_skip(j, 0) ? BAD_JSON : BAD_NUMBER;
        ps->seen |= F_x;
        break;
    default:
        return js_skip(j, 0);
    }
    if (rc == BAD_NUMBER) {
        ps->bad_number = 1;
        return 0;
    }
    return rc;
}

static int object(struct js *j, struct parse *ps, int level);

static int key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* A field of the event object (which is the top object for raw streams). */
static int event_field(struct js *j, struct parse *ps, const char *key, size_t kn)
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
    return js_skip(j, 0);
}

/* level 0: the frame; 1: "data"; 2: "k". */
static int object(struct js *j, struct parse *ps, int level)
{
    const char *key;
    size_t kn;
    if (!js_eat(j, '{'))
        return -1;
    if (js_eat(j, '}'))
        return 0;
    do {
        if (js_str(j, &key, &kn) || !js_eat(j, ':'))
            return -1;
        int rc;
        if (level == 2) {
            rc = k_field(j, ps, key, kn);
        } else if (level == 0 && key_is(key, kn, "stream")) {
            rc = string_field(j, &ps->stream, &ps->stream_n) == BAD_JSON ? -1 : 0;
        } else if (level == 0 && key_is(key, kn, "data")) {
            rc = js_peek(j) == '{' ? object(j, ps, 1) : js_skip(j, 0);
        } else if (level == 0 && key_is(key, kn, "result")) {
            ps->has_reply = 1;
            rc = js_skip(j, 0);
        } else if (level == 0 && key_is(key, kn, "id")) {
            ps->has_reply = 1;   /* ids may also be strings or null */
            int r = integer(j, &ps->id);
            ps->has_id = r == 0;
            rc = r == BAD_JSON ? -1 : 0;
        } else if (level == 0 && (key_is(key, kn, "error") || key_is(key, kn, "code"))) {
            ps->has_reply = ps->has_error = 1;
            rc = js_skip(j, 0);
        } else {
            rc = event_field(j, ps, key, kn);
        }
        if (rc)
            return -1;
    } while (js_eat(j, ','));
    return js_eat(j, '}') ? 0 : -1;
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
    int id = symtab_find_in(syms, ps->venue, ps->sym, ps->sym_n);
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


/* A fresh parse into out, and info as for a kline. */
static void parse_start(struct parse *ps, int venue, struct candle *out,
                        struct frame_info *info)
{
    memset(ps, 0, sizeof *ps);
    ps->c = out;
    ps->venue = venue;
    info->drop = KD_NONE;
    info->reply_id = -1;
    info->reply_error = 0;
    info->slow = 0;
    info->ncandles = 1;
    info->shutdown = 0;
}

enum frame_kind kline_parse_in(const char *buf, size_t len, const struct symtab *syms, int venue,
                               struct candle *out, struct frame_info *info)
{
    struct parse ps;
    parse_start(&ps, venue, out, info);
    if (kline_fast(buf, len, &ps))
        return finish_kline(&ps, syms, info);
    enum frame_kind k = kline_parse_general_in(buf, len, syms, venue, out, info);
    info->slow = 1;
    return k;
}

enum frame_kind kline_parse(const char *buf, size_t len, const struct symtab *syms,
                            struct candle *out, struct frame_info *info)
{
    return kline_parse_in(buf, len, syms, VENUE_USDM, out, info);
}

enum frame_kind kline_parse_general(const char *buf, size_t len, const struct symtab *syms,
                                    struct candle *out, struct frame_info *info)
{
    return kline_parse_general_in(buf, len, syms, VENUE_USDM, out, info);
}

enum frame_kind kline_parse_general_in(const char *buf, size_t len, const struct symtab *syms,
                                       int venue, struct candle *out, struct frame_info *info)
{
    struct js j = {buf, buf + len};
    struct parse ps;
    parse_start(&ps, venue, out, info);
    if (object(&j, &ps, 0) != 0 || js_peek(&j) != -1)
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
    if (ps.event) {   /* spot's notice before a server goes away */
        info->shutdown = ps.event_n == 14 && memcmp(ps.event, "serverShutdown", 14) == 0;
        return FRAME_OTHER;
    }
    return drop(info, KD_MISSING_FIELD);
}
