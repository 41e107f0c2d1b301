/* Bybit's kline fast path against the general walker (the reference):
 * every fixture frame (as written and on one line) and a few thousand
 * generated pushes, well-formed or spoiled one way each, must give the
 * same kind, the same candles field by field and the same drop counts and
 * reasons; the well-formed ones in Bybit's own layouts never leave the
 * fast path. */
#include <math.h>
#include <stdlib.h>

#include "market/bybit.h"
#include "market/symbols.h"
#include "util/interval.h"
#include "slurp.h"
#include "tap.h"

#define MAXC 8

struct run {
    struct candle c[MAXC];
    int n;
    enum bybit_kind kind;
    struct bybit_info bi;
};

static struct symtab syms;

static int find(const void *ud, const char *name, size_t n)
{
    return symtab_find(ud, name, n);
}

static void take(void *ud, const struct candle *c)
{
    struct run *r = ud;
    if (r->n < MAXC)
        r->c[r->n] = *c;
    r->n++;
}

static int same_candle(const struct candle *a, const struct candle *b)
{
    return a->open_time == b->open_time && a->close_time == b->close_time &&
           a->event_time == b->event_time && a->open == b->open && a->high == b->high &&
           a->low == b->low && a->close == b->close && a->volume == b->volume &&
           a->quote_volume == b->quote_volume && a->trades == b->trades &&
           a->symbol == b->symbol && a->interval == b->interval && a->closed == b->closed &&
           a->backfilled == b->backfilled && a->price_dp == b->price_dp;
}

/* Both paths on s; 1 when they agree.  *slow: the fast path gave up. */
static int agree(const char *s, size_t n, int *slow)
{
    struct run f = {0}, g = {0};
    f.kind = bybit_parse(s, n, find, &syms, take, &f, &f.bi);
    g.kind = bybit_parse_general(s, n, find, &syms, take, &g, &g.bi);
    *slow = f.bi.slow;
    if (f.kind != g.kind || f.n != g.n || f.bi.candles != g.bi.candles ||
        f.bi.dropped != g.bi.dropped || f.bi.drop != g.bi.drop)
        return 0;
    for (int i = 0; i < f.n && i < MAXC; i++)
        if (!same_candle(&f.c[i], &g.c[i]))
            return 0;
    return 1;
}

/* The JSON on one line: whitespace outside strings removed. */
static size_t compact(char *s, size_t n)
{
    size_t o = 0;
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in && c == '\\' && i + 1 < n) {
            s[o++] = c;
            s[o++] = s[++i];
            continue;
        }
        if (c == '"')
            in = !in;
        if (in || (c != ' ' && c != '\n' && c != '\r' && c != '\t'))
            s[o++] = c;
    }
    return o;
}

static void fixtures(void)
{
    static const char *const files[] = {
        "ws_kline_docs.json", "ws_kline_ccxt_linear.json", "ws_pong_linear_docs.json",
        "ws_subscribe_ok_docs.json", "ws_subscribe_fail_linear.json",
        "ws_subscribe_fail_handler.json",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[256];
        size_t len;
        int slow;
        snprintf(path, sizeof path, "tests/fixtures/bybit/%s", files[i]);
        char *doc = slurp(path, &len);
        ok(doc && agree(doc, len, &slow), "%s: both paths agree", files[i]);
        if (!doc)
            continue;
        len = compact(doc, len);
        ok(agree(doc, len, &slow), "%s on one line: both paths agree", files[i]);
        if (strncmp(files[i], "ws_kline", 8) == 0)
            ok(!slow, "%s on one line: on the fast path", files[i]);
        free(doc);
    }
}

static const char *const names[] = {"BTCUSDT", "ETHUSDT", "1000PEPEUSDT", "NOTLISTED"};
static const int ivs[] = {IV_1M, IV_3M, IV_5M, IV_15M, IV_1H, IV_4H, IV_12H, IV_1D};

/* %.*f without the trailing zeros (and dot), as Bybit prints */
static void num(char *out, size_t cap, int dp, double v)
{
    snprintf(out, cap, "%.*f", dp, v);
    char *e = out + strlen(out);
    if (strchr(out, '.')) {
        while (e[-1] == '0')
            *--e = '\0';
        if (e[-1] == '.')
            e[-1] = '\0';
    }
}

/* One entry of data[] at out; spoil picks a field to get wrong (0: none). */
static int entry(char *out, size_t cap, int iv, int64_t open, int64_t ts, int spoil)
{
    int dp = rand() % 9;
    double p = exp((rand() % 2000) / 100.0 - 8);
    char o[48], c[48], h[48], l[48], v[48], q[48];
    num(o, sizeof o, dp, p);
    num(c, sizeof c, dp, p * (1 + (rand() % 11 - 5) / 1000.0));
    num(h, sizeof h, dp, p * 1.01);
    num(l, sizeof l, dp, p * 0.99);
    num(v, sizeof v, rand() % 4, (rand() % 1000000) * 17.3);
    num(q, sizeof q, rand() % 9, (rand() % 1000000) * 1234.5678);
    int64_t ms = interval_ms(iv);
    int confirm = rand() % 4 == 0;
    int64_t end = open + ms - 1;
    if (spoil == 1)
        end = open + ms;                        /* bad time */
    if (spoil == 2)
        snprintf(h, sizeof h, "%s", l[0] == '0' ? "0.0000000001" : "0.5");   /* high < low? */
    if (spoil == 3)
        snprintf(o, sizeof o, "-1");            /* not a decimal */
    if (spoil == 4)
        snprintf(v, sizeof v, "123456789012345678901.5");   /* past the fast path's digits */
    return snprintf(out, cap,
                    "{\"start\":%lld,\"end\":%lld,\"interval\":\"%s\",\"open\":\"%s\","
                    "\"close\":\"%s\",\"high\":\"%s\",\"low\":\"%s\",\"volume\":\"%s\","
                    "\"turnover\":\"%s\",\"confirm\":%s,\"timestamp\":%lld}",
                    (long long)open, (long long)end,
                    spoil == 5 ? "7" : bybit_interval_name(iv), o, c, h, l, v, q,
                    confirm ? "true" : "false", (long long)ts);
}

/* A push of 1..4 entries in one of Bybit's two key orders; *plain: no
 * entry spoiled, so well-formed in Bybit's layout. */
static size_t push(char *out, size_t cap, int *plain)
{
    int iv = ivs[rand() % 8];
    const char *sym = names[rand() % 4];
    int64_t ms = interval_ms(iv), ts = 1767225600000LL + (rand() % 100000000LL);
    int64_t open = ts / ms * ms;
    char data[2048];
    int n = 1 + rand() % 4, len = 0;
    *plain = 1;
    for (int i = 0; i < n; i++) {
        int spoil = rand() % 4 == 0 ? 1 + rand() % 5 : 0;
        *plain &= spoil == 0;
        len += snprintf(data + len, sizeof data - (size_t)len, "%s", i ? "," : "");
        len += entry(data + len, sizeof data - (size_t)len, iv, open - (n - 1 - i) * ms, ts,
                     spoil);
    }
    char topic[64];
    snprintf(topic, sizeof topic, "kline.%s.%s", bybit_interval_name(iv), sym);
    if (rand() % 2)
        return (size_t)snprintf(out, cap,
                                "{\"topic\":\"%s\",\"data\":[%s],\"ts\":%lld,\"type\":\"snapshot\"}",
                                topic, data, (long long)ts);
    return (size_t)snprintf(out, cap,
                            "{\"topic\":\"%s\",\"type\":\"snapshot\",\"ts\":%lld,\"data\":[%s]}",
                            topic, (long long)ts, data);
}

static void generated(void)
{
    int disagree = 0, slow_plain = 0, plain_n = 0, cut_disagree = 0;
    srand(19);
    for (int i = 0; i < 4000; i++) {
        char buf[4096];
        int plain, slow;
        size_t n = push(buf, sizeof buf, &plain);
        if (!agree(buf, n, &slow)) {
            if (!disagree)
                printf("# first disagreement: %s\n", buf);
            disagree++;
        }
        plain_n += plain;
        slow_plain += plain && slow && !strstr(buf, "123456789012345678901");
        /* the same text cut short or with one byte changed */
        size_t at = (size_t)rand() % n;
        char keep = buf[at];
        buf[at] = "x\" ,:{}[]0.9-e"[rand() % 14];
        cut_disagree += !agree(buf, n, &slow);
        buf[at] = keep;
        cut_disagree += !agree(buf, at, &slow);
    }
    is_int(disagree, 0, "4000 generated pushes: both paths agree");
    is_int(cut_disagree, 0, "the same with a byte changed, or cut short: both paths agree");
    ok(plain_n > 1000, "(%d of them well-formed)", plain_n);
    is_int(slow_plain, 0, "no well-formed push left the fast path");
}

int main(void)
{
    symtab_init(&syms);
    for (size_t i = 0; i + 1 < sizeof names / sizeof *names; i++)
        symtab_add(&syms, names[i], strlen(names[i]));
    fixtures();
    generated();
    symtab_free(&syms);
    return done();
}
