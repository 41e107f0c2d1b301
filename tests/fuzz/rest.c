/* libFuzzer target for the exchange's REST bodies (make fuzz): every input
 * goes through the klines, exchangeInfo and 24 h tickers readers.  Whatever
 * the bytes, nothing may crash, read out of bounds or hit undefined
 * behaviour, and what comes out must hold: a backfilled candle is closed,
 * whole and of its interval (and goes through the candle store), a drop
 * has a REST reason, the universe lists only names from the answer, and
 * the ranking holds known active symbols once each, by falling volume.
 * The body is also read as response headers (Retry-After and the used
 * weight), whose values must stay in range.  The first byte picks the
 * klines' interval; the rest is the body. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/candles.h"
#include "util/interval.h"
#include "market/restparse.h"

#define EXCH_NOW 1700000000000LL   /* 2023-11-14: older rows are closed */

static struct symtab syms;
static struct candles store;

static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    symtab_init(&syms);
    /* the fixtures' symbols, one of them delisted (inactive) */
    const char *names[] = {"BTCUSDT", "ETHUSDT", "BLZUSDT", "XRPUSDT", "X"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        int id = symtab_add(&syms, names[i], strlen(names[i]));
        syms.v[id].active = strcmp(names[i], "XRPUSDT") != 0;
    }
    candles_init(&store, 16);
}

struct rows {
    int iv;
    long candles, drops;
};

static void on_row(void *ud, const struct candle *c, enum kline_drop why)
{
    struct rows *r = ud;
    if (!c) {
        if (why != KD_BAD_NUMBER && why != KD_BAD_PRICES)
            abort();
        r->drops++;
        return;
    }
    int64_t ms = interval_ms(r->iv);
    if (why != KD_NONE || c->symbol != 0 || c->interval != r->iv || !c->closed ||
        !c->backfilled || c->open_time % ms != 0 || c->close_time != c->open_time + ms - 1 ||
        c->close_time >= EXCH_NOW || c->event_time != c->close_time || !(c->low > 0) ||
        !(c->high >= c->low) || c->high < c->open || c->high < c->close || c->low > c->open ||
        c->low > c->close || !(c->volume >= 0) || !(c->quote_volume >= 0) || c->trades < 0 ||
        !isfinite(c->high) || !isfinite(c->volume) || !isfinite(c->quote_volume))
        abort();
    r->candles++;
    candles_apply(&store, c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size < 1)
        return 0;
    /* an exact-size copy, not NUL-terminated: ASan then catches any read
     * past the body */
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    memcpy(body, data + 1, len);

    struct rows r = {data[0] % IV_COUNT, 0, 0};
    int rc = restparse_klines(body, len, 0, r.iv, EXCH_NOW, on_row, &r);
    if (rc != 0 && (rc != -1 || r.candles || r.drops))
        abort();

    struct restparse_universe u;
    rc = restparse_exchange_info(body, len, "PERPETUAL", "USDT", &u);
    if (rc != 0 && (rc != -1 || u.doc || u.names || u.n || u.server_time))
        abort();
    if (rc == 0) {
        if (u.n > u.listed || u.server_time < 0)
            abort();
        /* what the feed does with the names: a table of its own */
        struct symtab t;
        symtab_init(&t);
        for (size_t i = 0; i < u.n; i++) {
            if (!u.names[i])
                abort();
            int id = symtab_add(&t, u.names[i], strlen(u.names[i]));
            if (id >= 0 && symtab_find(&t, u.names[i], strlen(u.names[i])) != id)
                abort();
        }
        if (t.n > u.n)
            abort();
        symtab_free(&t);
    }
    restparse_universe_free(&u);

    struct restparse_ranking k;
    rc = restparse_ticker(body, len, &syms, &k);
    if (rc != 0 && (rc != -1 || k.ids || k.qv || k.n))
        abort();
    uint8_t seen[8] = {0};
    for (uint32_t i = 0; i < k.n; i++) {
        uint32_t id = k.ids[i];
        if (id >= syms.n || !syms.v[id].active || seen[id]++ || !(k.qv[i] >= 0) ||
            !isfinite(k.qv[i]) || (i > 0 && k.qv[i] > k.qv[i - 1]))
            abort();
    }
    restparse_ranking_free(&k);

    /* headers are NUL-terminated text */
    char *headers = malloc(len + 1);
    memcpy(headers, body, len);
    headers[len] = '\0';
    const char *names[] = {"retry-after", "x-mbx-used-weight-1m", "x"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        long v = restparse_header(headers, names[i]);
        if (v < -1 || v > RESTPARSE_HEADER_MAX)
            abort();
    }
    free(headers);
    free(body);
    return 0;
}
