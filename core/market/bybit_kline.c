/* Bybit's kline pushes and op replies.  Two passes over a frame with a
 * small validating JSON walker: the first reads the envelope (the topic
 * may follow "data"), the second each entry of data[] knowing its topic.
 * Nothing is allocated or copied.
 */
#include "market/bybit.h"

#include <stdio.h>
#include <string.h>

#include "market/fast_lex.h"
#include "market/json_scan.h"
#include "util/interval.h"

static int key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* ---- values: 0 ok, BAD_JSON, or BAD_VALUE (well-formed, wrong type or range) ---- */

#define BAD_JSON (-1)
#define BAD_VALUE (-2)

/* A whole JSON number of at most 18 digits (a ms time). */
static int val_int(struct js *j, int64_t *out)
{
    const char *s;
    size_t n;
    int c = js_peek(j);
    if (c != '-' && !js_digit(c))
        return js_skip(j, 0) ? BAD_JSON : BAD_VALUE;
    if (js_number(j, &s, &n))
        return BAD_JSON;
    int neg = s[0] == '-';
    if (n - (size_t)neg > 18)
        return BAD_VALUE;
    int64_t v = 0;
    for (size_t i = (size_t)neg; i < n; i++) {
        if (!js_digit(s[i]))
            return BAD_VALUE;   /* a fraction or an exponent */
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static int val_str(struct js *j, const char **s, size_t *n)
{
    if (js_peek(j) != '"')
        return js_skip(j, 0) ? BAD_JSON : BAD_VALUE;
    return js_str(j, s, n) ? BAD_JSON : 0;
}

static int val_dec(struct js *j, double *out, int *dp)
{
    const char *s;
    size_t n;
    int rc = val_str(j, &s, &n);
    if (rc)
        return rc;
    return kline_decimal(s, n, out, dp) ? BAD_VALUE : 0;
}

static int val_bool(struct js *j, int *out)
{
    int c = js_peek(j);
    if (c == 't' && js_literal(j, "true") == 0)
        *out = 1;
    else if (c == 'f' && js_literal(j, "false") == 0)
        *out = 0;
    else
        return js_skip(j, 0) ? BAD_JSON : BAD_VALUE;
    return 0;
}

/* ---- the envelope ---- */

struct env {
    const char *topic, *op, *ret_msg, *req_id, *data;
    size_t topic_n, op_n, ret_msg_n, req_id_n;
    int64_t ts;
    int has_ts, has_success, success, bad;
};

static int env_field(struct js *j, struct env *e, const char *k, size_t kn)
{
    int rc;
    if (key_is(k, kn, "data")) {
        js_peek(j);
        e->data = j->p;   /* read in the second pass */
        return js_skip(j, 0);
    }
    if (key_is(k, kn, "topic"))
        rc = val_str(j, &e->topic, &e->topic_n);
    else if (key_is(k, kn, "ts"))
        e->has_ts = (rc = val_int(j, &e->ts)) == 0;
    else if (key_is(k, kn, "op"))
        rc = val_str(j, &e->op, &e->op_n);
    else if (key_is(k, kn, "ret_msg"))
        rc = val_str(j, &e->ret_msg, &e->ret_msg_n);
    else if (key_is(k, kn, "req_id"))
        rc = val_str(j, &e->req_id, &e->req_id_n);
    else if (key_is(k, kn, "success"))
        e->has_success = (rc = val_bool(j, &e->success)) == 0;
    else
        return js_skip(j, 0);
    if (rc == BAD_VALUE)
        e->bad = 1;
    return rc == BAD_JSON ? -1 : 0;
}

static int env_read(struct js *j, struct env *e)
{
    const char *k;
    size_t kn;
    if (!js_eat(j, '{'))
        return -1;
    if (js_eat(j, '}'))
        return 0;
    do {
        if (js_str(j, &k, &kn) || !js_eat(j, ':') || env_field(j, e, k, kn))
            return -1;
    } while (js_eat(j, ','));
    return js_eat(j, '}') && js_peek(j) == -1 ? 0 : -1;
}

/* ---- one entry of data[] ---- */

/* every field but timestamp (bit EF_x - EF_START each) */
#define E_ALL ((1u << 10) - 1)

struct entry {
    struct candle c;
    unsigned seen;
    int bad, dp, confirm, has_stamp;
    int64_t stamp;
    const char *iv;
    size_t iv_n;
};

static int max_dp(int a, int b)
{
    return a > b ? a : b;
}

/* The field a key names: one switch on length and first byte, then one
 * compare (the hot path reads eleven keys a candle). */
enum efield { EF_NONE, EF_START, EF_END, EF_IV, EF_OPEN, EF_CLOSE, EF_HIGH, EF_LOW, EF_VOL,
              EF_TURN, EF_CONFIRM, EF_STAMP };

static enum efield entry_key(const char *k, size_t kn)
{
    static const struct {
        const char *name;
        enum efield f;
    } by_len[10][3] = {
        [3] = {{"end", EF_END}, {"low", EF_LOW}},
        [4] = {{"open", EF_OPEN}, {"high", EF_HIGH}},
        [5] = {{"start", EF_START}, {"close", EF_CLOSE}},
        [6] = {{"volume", EF_VOL}},
        [7] = {{"confirm", EF_CONFIRM}},
        [8] = {{"interval", EF_IV}, {"turnover", EF_TURN}},
        [9] = {{"timestamp", EF_STAMP}},
    };
    if (kn >= 10)
        return EF_NONE;
    for (int i = 0; i < 3 && by_len[kn][i].name; i++)
        if (by_len[kn][i].name[0] == k[0] && memcmp(by_len[kn][i].name, k, kn) == 0)
            return by_len[kn][i].f;
    return EF_NONE;
}

static int entry_field(struct js *j, struct entry *e, const char *k, size_t kn)
{
    struct candle *c = &e->c;
    int rc, dp = 0;
    enum efield f = entry_key(k, kn);
    switch (f) {
    case EF_START: rc = val_int(j, &c->open_time); break;
    case EF_END: rc = val_int(j, &c->close_time); break;
    case EF_IV: rc = val_str(j, &e->iv, &e->iv_n); break;
    case EF_OPEN: rc = val_dec(j, &c->open, &dp); break;
    case EF_CLOSE: rc = val_dec(j, &c->close, &dp); break;
    case EF_HIGH: rc = val_dec(j, &c->high, &dp); break;
    case EF_LOW: rc = val_dec(j, &c->low, &dp); break;
    case EF_VOL: rc = val_dec(j, &c->volume, &dp); dp = 0; break;
    case EF_TURN: rc = val_dec(j, &c->quote_volume, &dp); dp = 0; break;
    case EF_CONFIRM: rc = val_bool(j, &e->confirm); break;
    case EF_STAMP: e->has_stamp = (rc = val_int(j, &e->stamp)) == 0; break;
    default: return js_skip(j, 0);
    }
    if (f != EF_STAMP)
        e->seen |= 1u << (f - EF_START);
    e->dp = max_dp(e->dp, dp);   /* Bybit drops trailing zeros: the most shown */
    if (rc == BAD_VALUE)
        e->bad = 1;
    return rc == BAD_JSON ? -1 : 0;
}

/* The topic's parts: "kline.5.BTCUSDT" -> "5", "BTCUSDT". */
struct topic {
    const char *iv, *sym;
    size_t iv_n, sym_n;
};

static int topic_split(const char *t, size_t n, struct topic *out)
{
    if (n < 6 || memcmp(t, "kline.", 6) != 0)
        return -1;
    const char *iv = t + 6, *end = t + n;
    const char *dot = memchr(iv, '.', (size_t)(end - iv));
    if (!dot || dot == iv || dot + 1 == end)
        return -1;
    *out = (struct topic){iv, dot + 1, (size_t)(dot - iv), (size_t)(end - dot - 1)};
    return 0;
}

static enum kline_drop entry_check(struct entry *e, const struct topic *tp, int sym, int64_t ts)
{
    struct candle *c = &e->c;
    if ((e->seen & E_ALL) != E_ALL)
        return KD_MISSING_FIELD;
    if (e->bad)
        return KD_BAD_NUMBER;
    int iv = bybit_interval_parse(e->iv, e->iv_n);
    if (iv < 0)
        return KD_UNKNOWN_INTERVAL;
    if (e->iv_n != tp->iv_n || memcmp(e->iv, tp->iv, e->iv_n) != 0)
        return KD_STREAM_MISMATCH;
    if (sym < 0)
        return KD_UNKNOWN_SYMBOL;
    /* end is start + interval - 1 (in the frames seen); older docs said a
     * forming candle's end is "the current timestamp", so that is let in */
    int64_t ms = interval_ms(iv), last = c->open_time + ms - 1;
    if (c->open_time <= 0 || c->open_time % ms != 0 || c->close_time > last ||
        (e->confirm ? c->close_time != last : c->close_time < c->open_time))
        return KD_BAD_TIME;
    int64_t when = ts > 0 ? ts : e->has_stamp ? e->stamp : 0;
    if (when <= 0)
        return KD_BAD_TIME;
    if (!(c->open > 0 && c->close > 0 && c->low > 0 && c->high >= c->low && c->high >= c->open &&
          c->high >= c->close && c->low <= c->open && c->low <= c->close))
        return KD_BAD_PRICES;
    c->close_time = last;
    c->event_time = when;
    c->symbol = (uint32_t)sym;
    c->interval = (uint8_t)iv;
    c->closed = (uint8_t)e->confirm;
    c->backfilled = 0;
    c->trades = 0;   /* Bybit does not count them */
    c->price_dp = (uint8_t)(e->dp > 18 ? 18 : e->dp);
    return KD_NONE;
}

static int entry_read(struct js *j, struct entry *e)
{
    const char *k;
    size_t kn;
    memset(e, 0, sizeof *e);
    if (!js_eat(j, '{'))
        return js_skip(j, 0) ? -1 : 1;   /* not an object: dropped */
    if (js_eat(j, '}'))
        return 0;
    do {
        if (js_str(j, &k, &kn) || !js_eat(j, ':') || entry_field(j, e, k, kn))
            return -1;
    } while (js_eat(j, ','));
    return js_eat(j, '}') ? 0 : -1;
}

static void note_drop(struct bybit_info *info, enum kline_drop why)
{
    if (info->drop == KD_NONE)
        info->drop = why;
    info->dropped++;
}

/* Every entry of data[] (already checked to be well-formed JSON). */
static enum bybit_kind klines(const char *data, const char *end, const struct env *e,
                              bybit_find_fn find, const void *find_ud, bybit_candle_fn fn,
                              void *fn_ud, struct bybit_info *info)
{
    struct topic tp;
    struct js j = {data, end};
    if (topic_split(e->topic, e->topic_n, &tp) != 0) {
        info->drop = KD_STREAM_MISMATCH;
        return BYBIT_DROP;
    }
    if (!js_eat(&j, '[')) {
        info->drop = KD_MISSING_FIELD;
        return BYBIT_DROP;
    }
    int sym = find(find_ud, tp.sym, tp.sym_n);
    if (!js_eat(&j, ']')) {
        do {
            struct entry en;
            int rc = entry_read(&j, &en);
            enum kline_drop why = rc < 0 ? KD_JSON : rc > 0 ? KD_MISSING_FIELD
                                                              : entry_check(&en, &tp, sym, e->ts);
            if (rc < 0) {   /* cannot happen after the first pass; stop rather than loop */
                note_drop(info, why);
                break;
            }
            if (why != KD_NONE) {
                note_drop(info, why);
                continue;
            }
            info->candles++;
            fn(fn_ud, &en.c);
        } while (js_eat(&j, ','));
    }
    if (info->candles)
        return BYBIT_KLINE;
    if (info->drop == KD_NONE)
        info->drop = KD_MISSING_FIELD;   /* an empty data[] */
    return BYBIT_DROP;
}

static int64_t req_number(const char *s, size_t n)
{
    int64_t v = 0;
    if (!s || n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!js_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static enum bybit_kind op_reply(const struct env *e, struct bybit_info *info)
{
    info->success = e->has_success && e->success;
    info->req_id = req_number(e->req_id, e->req_id_n);
    info->ret_msg = e->ret_msg;
    info->ret_msg_n = e->ret_msg_n;
    /* linear answers a ping with op "ping", ret_msg "pong"; other
     * categories with op "pong" */
    if (key_is(e->op, e->op_n, "ping") || key_is(e->op, e->op_n, "pong"))
        return BYBIT_PONG;
    return BYBIT_REPLY;
}

enum bybit_kind bybit_parse_general(const char *buf, size_t len, bybit_find_fn find,
                                    const void *find_ud, bybit_candle_fn fn, void *fn_ud,
                                    struct bybit_info *info)
{
    struct env e;
    struct js j = {buf, buf + len};
    memset(&e, 0, sizeof e);
    memset(info, 0, sizeof *info);
    info->req_id = -1;
    if (env_read(&j, &e) != 0) {
        info->drop = KD_JSON;
        return BYBIT_DROP;
    }
    if (e.topic && e.topic_n >= 6 && memcmp(e.topic, "kline.", 6) == 0) {
        if (!e.data || e.bad) {
            info->drop = e.data ? KD_BAD_NUMBER : KD_MISSING_FIELD;
            return BYBIT_DROP;
        }
        return klines(e.data, buf + len, &e, find, find_ud, fn, fn_ud, info);
    }
    if (e.topic)
        return BYBIT_OTHER;   /* a topic we did not ask for */
    if (e.op)
        return op_reply(&e, info);
    info->drop = KD_MISSING_FIELD;
    return BYBIT_DROP;
}

/* ---- fast path ----
 * Bybit writes every kline push with the same keys in one of two orders
 * (topic, data, ts, type as in the docs; topic, type, ts, data as seen
 * live) and each entry of data[] in the docs' order.  This path reads
 * exactly those layouts with literal compares (market/fast_lex.h); at the
 * first byte that differs it gives up before anything is handed on, and
 * the general walker above reads the frame from the start.  The entries
 * then go through the same checks as the general walker's, so both paths
 * hand on the same candles and drop with the same reasons. */

#define BYBIT_FAST_MAX 8   /* entries one push may hold on the fast path */

static int fast_price(struct fp *f, double *v, int *dp)
{
    int d;
    if (!fdec(f, v, &d))
        return 0;
    *dp = max_dp(*dp, d);   /* as entry_field: the most shown */
    return 1;
}

static int fast_entry(struct fp *f, const struct topic *tp, struct entry *e)
{
    struct candle *c = &e->c;
    int dp = 0, unused;   /* (volumes' decimals are not shown) */
    if (!(LIT(f, "{\"start\":") && ftime(f, &c->open_time) && LIT(f, ",\"end\":") &&
          ftime(f, &c->close_time) && LIT(f, ",\"interval\":\"") &&
          fsame(f, tp->iv, tp->iv_n, &e->iv, &e->iv_n) && LIT(f, ",\"open\":") &&
          fast_price(f, &c->open, &dp) && LIT(f, ",\"close\":") &&
          fast_price(f, &c->close, &dp) && LIT(f, ",\"high\":") &&
          fast_price(f, &c->high, &dp) && LIT(f, ",\"low\":") && fast_price(f, &c->low, &dp) &&
          LIT(f, ",\"volume\":") && fdec(f, &c->volume, &unused) && LIT(f, ",\"turnover\":") &&
          fdec(f, &c->quote_volume, &unused) && LIT(f, ",\"confirm\":")))
        return 0;
    if (LIT(f, "true"))
        e->confirm = 1;
    else if (LIT(f, "false"))
        e->confirm = 0;
    else
        return 0;
    if (!(LIT(f, ",\"timestamp\":") && ftime(f, &e->stamp) && LIT(f, "}")))
        return 0;
    e->dp = dp;
    e->seen = E_ALL;
    e->bad = 0;
    e->has_stamp = 1;
    return 1;
}

/* data[]'s entries (the '[' already read) up to its ']'; how many, or 0. */
static int fast_data(struct fp *f, const struct topic *tp, struct entry *en)
{
    int n = 0;
    do {
        if (n == BYBIT_FAST_MAX || !fast_entry(f, tp, &en[n]))
            return 0;
        n++;
    } while (LIT(f, ","));
    return LIT(f, "]") ? n : 0;
}

/* 1 when the frame was read here (info filled, candles handed on); 0 when
 * it is left to the general walker (nothing handed on). */
static int bybit_fast(const char *buf, size_t len, bybit_find_fn find, const void *find_ud,
                      bybit_candle_fn fn, void *fn_ud, struct bybit_info *info)
{
    struct fp f = {buf, buf + len};
    struct entry en[BYBIT_FAST_MAX];
    struct topic tp;
    const char *topic, *type;
    size_t topic_n, type_n;
    int64_t ts;
    int n;
    if (len < 2 || buf[len - 1] != '}')
        return 0;
    if (!(LIT(&f, "{\"topic\":\"kline.") && fstr(&f, &topic, &topic_n) &&
          topic_split(topic - 6, topic_n + 6, &tp) == 0))
        return 0;
    if (LIT(&f, ",\"data\":[")) {   /* the docs' order */
        if (!((n = fast_data(&f, &tp, en)) && LIT(&f, ",\"ts\":") && ftime(&f, &ts) &&
              LIT(&f, ",\"type\":\"") && fstr(&f, &type, &type_n) && LIT(&f, "}")))
            return 0;
    } else if (!(LIT(&f, ",\"type\":\"") && fstr(&f, &type, &type_n) && LIT(&f, ",\"ts\":") &&
                 ftime(&f, &ts) && LIT(&f, ",\"data\":[") && (n = fast_data(&f, &tp, en)) &&
                 LIT(&f, "}"))) {
        return 0;
    }
    if (f.p != f.end)
        return 0;
    int sym = find(find_ud, tp.sym, tp.sym_n);
    for (int i = 0; i < n; i++) {
        enum kline_drop why = entry_check(&en[i], &tp, sym, ts);
        if (why != KD_NONE) {
            note_drop(info, why);
            continue;
        }
        info->candles++;
        fn(fn_ud, &en[i].c);
    }
    return 1;
}

enum bybit_kind bybit_parse(const char *buf, size_t len, bybit_find_fn find, const void *find_ud,
                            bybit_candle_fn fn, void *fn_ud, struct bybit_info *info)
{
    memset(info, 0, sizeof *info);
    info->req_id = -1;
    if (bybit_fast(buf, len, find, find_ud, fn, fn_ud, info)) {
        if (info->candles)
            return BYBIT_KLINE;
        return BYBIT_DROP;   /* (info->drop is set: data[] was not empty) */
    }
    enum bybit_kind k = bybit_parse_general(buf, len, find, find_ud, fn, fn_ud, info);
    info->slow = 1;
    return k;
}

/* ---- names and requests ---- */

static const char *const iv_names[IV_COUNT] = {
    [IV_1M] = "1",   [IV_3M] = "3",   [IV_5M] = "5",   [IV_15M] = "15",
    [IV_30M] = "30", [IV_1H] = "60",  [IV_2H] = "120", [IV_4H] = "240",
    [IV_6H] = "360", [IV_8H] = NULL,  [IV_12H] = "720", [IV_1D] = "D",
};

int bybit_interval_parse(const char *name, size_t len)
{
    for (int iv = 0; iv < IV_COUNT; iv++)
        if (iv_names[iv] && strlen(iv_names[iv]) == len && memcmp(iv_names[iv], name, len) == 0)
            return iv;
    return -1;
}

const char *bybit_interval_name(int iv)
{
    return iv >= 0 && iv < IV_COUNT ? iv_names[iv] : NULL;
}

int bybit_topic(char *out, size_t cap, int iv, const char *sym)
{
    const char *name = bybit_interval_name(iv);
    if (!name)
        return -1;
    int n = snprintf(out, cap, "kline.%s.%s", name, sym);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int bybit_request(char *out, size_t cap, const char *op, const char *const *args, int nargs,
                  int64_t req_id)
{
    size_t len = 0;
    int n = snprintf(out, cap, "{\"req_id\":\"%lld\",\"op\":\"%s\"", (long long)req_id, op);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    len = (size_t)n;
    for (int i = 0; i < nargs; i++) {
        n = snprintf(out + len, cap - len, "%s\"%s\"", i ? "," : ",\"args\":[", args[i]);
        if (n < 0 || (size_t)n >= cap - len)
            return -1;
        len += (size_t)n;
    }
    n = snprintf(out + len, cap - len, "%s}", nargs ? "]" : "");
    if (n < 0 || (size_t)n >= cap - len)
        return -1;
    return (int)(len + (size_t)n);
}
