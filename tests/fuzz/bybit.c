/* libFuzzer target for Bybit's text (make fuzz): every input goes through
 * the WebSocket parser and the three REST readers.  Whatever the bytes,
 * nothing may crash, read out of bounds or hit undefined behaviour, and
 * what comes out must hold: a candle is whole, of its interval and of a
 * known symbol (and goes through the candle store), the counts add up, a
 * drop has a reason, a backfilled row is closed, the universe lists only
 * wanted names, the ranking holds each known symbol once by falling
 * turnover; and the fast path for kline pushes agrees with the general
 * walker on every input (kind, candles field by field, drops and their
 * reasons).  The first byte picks the interval; the rest is the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/bybit_rest.h"
#include "market/candles.h"
#include "util/interval.h"

#define EXCH_NOW 1700000000000LL

static struct symtab syms;
static struct candles store;

static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    symtab_init(&syms);
    const char *names[] = {"BTCUSDT", "ETHUSDT", "XRPUSDT", "BTCUSD", "X"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        symtab_add(&syms, names[i], strlen(names[i]));
    candles_init(&store, 16);
}

static int find(const void *ud, const char *name, size_t n)
{
    return symtab_find(ud, name, n);
}

static void whole(const struct candle *c)
{
    int64_t ms = interval_ms(c->interval);
    if (!(c->open > 0 && c->low > 0 && c->high >= c->low && c->high >= c->open &&
          c->high >= c->close && c->low <= c->open && c->low <= c->close && c->symbol < syms.n &&
          c->interval < IV_COUNT && c->open_time % ms == 0 &&
          c->close_time == c->open_time + ms - 1 && c->volume >= 0 && c->quote_volume >= 0 &&
          c->event_time > 0))
        abort();
    candles_apply(&store, c);
}

static int pushed;

static void on_candle(void *ud, const struct candle *c)
{
    (void)ud;
    if (c->backfilled)
        abort();
    pushed++;
    whole(c);
}

static void on_row(void *ud, const struct candle *c, enum kline_drop why)
{
    (void)ud;
    if (c ? why != KD_NONE || !c->closed || !c->backfilled || c->close_time >= EXCH_NOW
          : why <= KD_NONE || why >= KD_COUNT)
        abort();
    if (c)
        whole(c);
}

/* The general walker alone, for the fast path to agree with. */
#define REF_MAX 16
static struct candle ref[REF_MAX];
static int nref;

static void on_ref(void *ud, const struct candle *c)
{
    (void)ud;
    if (nref < REF_MAX)
        ref[nref] = *c;
    nref++;
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

static void on_candle_check(void *ud, const struct candle *c)
{
    /* the fast path's nth candle is the general walker's nth */
    if (pushed < REF_MAX && (pushed >= nref || !same_candle(c, &ref[pushed])))
        abort();
    on_candle(ud, c);
}

static void ws(const char *buf, size_t size)
{
    struct bybit_info bi, gi;
    nref = 0;
    enum bybit_kind gk = bybit_parse_general(buf, size, find, &syms, on_ref, NULL, &gi);
    pushed = 0;
    enum bybit_kind k = bybit_parse(buf, size, find, &syms, on_candle_check, NULL, &bi);
    /* both paths agree on every input: kind, candles, drops and why */
    if (k != gk || pushed != nref || bi.candles != gi.candles || bi.dropped != gi.dropped ||
        bi.drop != gi.drop || bi.success != gi.success || bi.req_id != gi.req_id)
        abort();
    if (pushed != bi.candles || (k == BYBIT_KLINE) != (pushed > 0) ||
        (k == BYBIT_DROP && (bi.drop <= KD_NONE || bi.drop >= KD_COUNT)) ||
        (bi.dropped && (bi.drop <= KD_NONE || bi.drop >= KD_COUNT)) ||
        (bi.ret_msg && (bi.ret_msg < buf || bi.ret_msg + bi.ret_msg_n > buf + size)))
        abort();
}

static void rest(const char *buf, size_t size, int iv)
{
    bybit_rest_klines(buf, size, 0, iv, EXCH_NOW, on_row, NULL);
    struct restparse_universe u;
    char cursor[64];
    if (bybit_rest_instruments(buf, size, "LinearPerpetual", "USDT", &u, cursor, sizeof cursor) == 0) {
        if (u.n > u.listed || strlen(cursor) >= sizeof cursor)
            abort();
        for (size_t i = 0; i < u.n; i++)
            if (!u.names[i] || !u.price_dp || u.price_dp[i] < -1 || u.price_dp[i] > 18)
                abort();
    }
    restparse_universe_free(&u);
    struct restparse_ranking r;
    if (bybit_rest_tickers(buf, size, find, &syms, syms.n, &r) == 0) {
        uint8_t seen[8] = {0};
        for (uint32_t i = 0; i < r.n; i++) {
            if (r.ids[i] >= syms.n || seen[r.ids[i]]++ || (i && r.qv[i] > r.qv[i - 1]))
                abort();
        }
    }
    restparse_ranking_free(&r);
    long code;
    char msg[32];
    bybit_rest_code(buf, size, &code, msg, sizeof msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size < 1)
        return 0;
    int iv = data[0] % IV_COUNT;
    if (!bybit_interval_name(iv))
        iv = IV_1M;
    /* an exact-size copy: ASan then catches any read past the text */
    char *buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    ws(buf, size - 1);
    rest(buf, size - 1, iv);
    free(buf);
    return 0;
}
