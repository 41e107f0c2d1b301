/* The exchange's REST bodies as the feed reads them: klines for backfill,
 * exchangeInfo for the universe, 24 h tickers for the ranking. */
#include <stdint.h>
#include <stdlib.h>

#include "util/interval.h"
#include "market/restparse.h"
#include "tap.h"

#define NOW 1700000000000LL

struct got {
    struct candle c[8];
    int n;
    enum kline_drop drops[8];
    int ndrops;
};

static void on_row(void *ud, const struct candle *c, enum kline_drop why)
{
    struct got *g = ud;
    if (c && g->n < 8)
        g->c[g->n++] = *c;
    else if (!c && g->ndrops < 8)
        g->drops[g->ndrops++] = why;
}

static int klines(const char *body, int iv, struct got *g)
{
    memset(g, 0, sizeof *g);
    return restparse_klines(body, strlen(body), 3, iv, NOW, on_row, g);
}

/* One 1m row of BTCUSDT (data.binance.vision, 2022-09-05), with the times
 * and trade count given. */
static const char *row(char *buf, size_t cap, const char *t, const char *ct, const char *n)
{
    snprintf(buf, cap, "[[%s,\"19992.70\",\"20000.00\",\"19988.10\",\"19996.80\",\"482.638\",%s,"
             "\"9650791.43440\",%s,\"302.950\",\"6057727.57980\",\"0\"]]", t, ct, n);
    return buf;
}

int main(void)
{
    struct got g;
    char b[512];
    is_int(klines(row(b, sizeof b, "1662336000000", "1662336059999", "4263"), IV_1M, &g), 0,
           "a klines answer is read");
    ok(g.n == 1 && g.ndrops == 0, "one candle");
    struct candle *c = &g.c[0];
    ok(c->open_time == 1662336000000 && c->close_time == 1662336059999 &&
           c->event_time == c->close_time,
       "its times (the event time is its close)");
    ok(c->open == 19992.70 && c->high == 20000.00 && c->low == 19988.10 && c->close == 19996.80 &&
           c->volume == 482.638 && c->quote_volume == 9650791.43440 && c->trades == 4263,
       "its prices, volumes and trades");
    ok(c->symbol == 3 && c->interval == IV_1M && c->closed && c->backfilled && c->price_dp == 2,
       "its symbol and interval; closed, backfilled, 2 decimals");

    /* Binance's documented example is a weekly row: not a 1m candle */
    klines("[[1499040000000,\"0.01634790\",\"0.80000000\",\"0.01575800\",\"0.01577100\","
           "\"148976.11427815\",1499644799999,\"2434.19055334\",308,\"1756.87402397\","
           "\"28.46694368\",\"17928899.62484339\"]]",
           IV_1M, &g);
    ok(g.n == 0 && g.ndrops == 1 && g.drops[0] == KD_BAD_PRICES,
       "a row whose times are not its interval's: dropped (bad prices, as before)");
    klines(row(b, sizeof b, "1699999980000", "1700000039999", "1"), IV_1M, &g);
    ok(g.n == 0 && g.ndrops == 0, "a row still forming is skipped: the stream has it");
    klines("[[1,2,3],{\"a\":1},5,[]]", IV_1M, &g);
    ok(g.n == 0 && g.ndrops == 0, "rows of fewer than 9 items are skipped");
    klines("[[1662336000000,\"1\",\"2\",\"x\",\"1\",\"1\",1662336059999,\"1\",1]]", IV_1M, &g);
    ok(g.ndrops == 1 && g.drops[0] == KD_BAD_NUMBER, "a price that is no decimal: bad number");
    klines("[[\"1662336000000\",\"1\",\"2\",\"1\",\"1\",\"1\",1662336059999,\"1\",1]]", IV_1M, &g);
    ok(g.ndrops == 1 && g.drops[0] == KD_BAD_NUMBER, "a time as a string: bad number");
    klines("[[1662336000000,\"1\",\"2\",\"3\",\"1\",\"1\",1662336059999,\"1\",1]]", IV_1M, &g);
    ok(g.ndrops == 1 && g.drops[0] == KD_BAD_PRICES, "low above high: bad prices");
    is_int(klines("[[1662336000000,", IV_1M, &g), -1, "a cut body is not JSON");
    is_int(klines("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", IV_1M, &g), 0,
           "an error object is JSON");
    ok(g.n == 0 && g.ndrops == 0, "with no rows");

    /* numbers a cast cannot take (undefined behaviour before) */
    klines(row(b, sizeof b, "1e300", "1662336059999", "4263"), IV_1M, &g);
    ok(g.n == 0 && g.ndrops == 1 && g.drops[0] == KD_BAD_NUMBER, "an open time of 1e300: bad number");
    /* a whole number of days just below 2^63: open_time + 1 day - 1
     * overflowed int64 */
    klines(row(b, sizeof b, "9223372036828800000", "1662336059999", "4263"), IV_1D, &g);
    ok(g.n == 0 && g.ndrops == 1 && g.drops[0] == KD_BAD_NUMBER,
       "a daily open time near 2^63: bad number, not an overflow");
    klines(row(b, sizeof b, "1662336000000", "1662336059999", "1e10"), IV_1M, &g);
    ok(g.n == 0 && g.ndrops == 1 && g.drops[0] == KD_BAD_NUMBER,
       "10^10 trades (past int32): bad number");
    klines(row(b, sizeof b, "1662336000000", "1662336059999", "-5"), IV_1M, &g);
    ok(g.n == 0 && g.ndrops == 1 && g.drops[0] == KD_BAD_NUMBER,
       "a negative trade count: bad number, as on the stream");
    klines(row(b, sizeof b, "1662336000000", "1662336059999", "2147483647"), IV_1M, &g);
    ok(g.n == 1 && g.c[0].trades == INT32_MAX, "INT32_MAX trades are taken");

    /* exchangeInfo: Binance's documented example, plus symbols to filter */
    const char *info =
        "{\"serverTime\":1565613908500,\"symbols\":["
        "{\"symbol\":\"BLZUSDT\",\"contractType\":\"PERPETUAL\",\"status\":\"TRADING\","
        "\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"BTCUSDT_230929\",\"contractType\":\"CURRENT_QUARTER\","
        "\"status\":\"TRADING\",\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"ETHBUSD\",\"contractType\":\"PERPETUAL\",\"status\":\"TRADING\","
        "\"quoteAsset\":\"BUSD\"},"
        "{\"symbol\":\"LUNAUSDT\",\"contractType\":\"PERPETUAL\",\"status\":\"SETTLING\","
        "\"quoteAsset\":\"USDT\"},"
        "{\"contractType\":\"PERPETUAL\",\"status\":\"TRADING\",\"quoteAsset\":\"USDT\"},"
        "{\"SYMBOL\":\"ETHUSDT\",\"contracttype\":\"PERPETUAL\",\"Status\":\"TRADING\","
        "\"quoteasset\":\"USDT\"}]}";
    struct restparse_universe u;
    is_int(restparse_exchange_info(info, strlen(info), "PERPETUAL", "USDT", &u), 0,
           "exchangeInfo is read");
    ok(u.n == 2 && !strcmp(u.names[0], "BLZUSDT") && !strcmp(u.names[1], "ETHUSDT"),
       "the perpetual USDT symbols trading, in order (names matched without case)");
    ok(u.listed == 6 && u.server_time == 1565613908500, "six listed; the server's time");
    restparse_universe_free(&u);
    const char *far = "{\"serverTime\":1e300,\"symbols\":[]}";
    ok(restparse_exchange_info(far, strlen(far), "PERPETUAL", "USDT", &u) == 0 &&
           u.server_time == 0 && u.n == 0,
       "a server time of 1e300 is no time");
    restparse_universe_free(&u);
    ok(restparse_exchange_info("{\"code\":-1}", 11, "PERPETUAL", "USDT", &u) == -1 && !u.doc &&
           !u.names,
       "without a symbols list: unusable");
    ok(restparse_exchange_info("{\"symbols\":{}}", 14, "PERPETUAL", "USDT", &u) == -1,
       "symbols that are not a list: unusable");

    /* spot's exchangeInfo (the shape of /api/v3/exchangeInfo): no
     * contractType; trading symbols of the quote asset, whatever else */
    const char *spot =
        "{\"timezone\":\"UTC\",\"serverTime\":1565246363776,\"symbols\":["
        "{\"symbol\":\"ETHBTC\",\"status\":\"TRADING\",\"baseAsset\":\"ETH\",\"quoteAsset\":\"BTC\"},"
        "{\"symbol\":\"BTCUSDT\",\"status\":\"TRADING\",\"baseAsset\":\"BTC\",\"quoteAsset\":\"USDT\","
        "\"isSpotTradingAllowed\":true},"
        "{\"symbol\":\"LUNAUSDT\",\"status\":\"BREAK\",\"baseAsset\":\"LUNA\",\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"ETHUSDT\",\"status\":\"TRADING\",\"baseAsset\":\"ETH\",\"quoteAsset\":\"USDT\"}]}";
    is_int(restparse_exchange_info(spot, strlen(spot), NULL, "USDT", &u), 0,
           "spot's exchangeInfo is read without a contract type");
    ok(u.n == 2 && !strcmp(u.names[0], "BTCUSDT") && !strcmp(u.names[1], "ETHUSDT"),
       "its USDT symbols trading (not BREAK, not another quote)");
    restparse_universe_free(&u);
    is_int(restparse_exchange_info(spot, strlen(spot), "PERPETUAL", "USDT", &u), 0,
           "the same answer read as futures'");
    is_int(u.n, 0, "has no perpetuals");
    restparse_universe_free(&u);

    /* tickers, ranked by 24 h quote volume among active symbols */
    struct symtab st;
    symtab_init(&st);
    const char *names[] = {"BTCUSDT", "ETHUSDT", "XRPUSDT", "BLZUSDT"};
    for (int i = 0; i < 4; i++) {
        int id = symtab_add(&st, names[i], strlen(names[i]));
        st.v[id].active = i != 2;
    }
    const char *tick =
        "[{\"symbol\":\"ETHUSDT\",\"quoteVolume\":\"15.30000000\"},"
        "{\"symbol\":\"BTCUSDT\",\"quoteVolume\":\"99.5\"},"
        "{\"symbol\":\"XRPUSDT\",\"quoteVolume\":\"1000\"},"
        "{\"symbol\":\"DOGEUSDT\",\"quoteVolume\":\"2000\"},"
        "{\"symbol\":\"BLZUSDT\",\"quoteVolume\":\"-1\"},"
        "{\"symbol\":\"BLZUSDT\"}]";
    struct restparse_ranking r;
    is_int(restparse_ticker(tick, strlen(tick), &st, &r), 0, "tickers are read");
    ok(r.n == 2 && r.ids[0] == 0 && r.ids[1] == 1 && r.qv[0] == 99.5 && r.qv[1] == 15.3,
       "active known symbols by falling volume; delisted, unknown and unreadable ones left out");
    restparse_ranking_free(&r);
    const char *twice = "[{\"symbol\":\"ETHUSDT\",\"quoteVolume\":\"5\"},"
                        "{\"symbol\":\"BTCUSDT\",\"quoteVolume\":\"7\"},"
                        "{\"symbol\":\"ethusdt\",\"quoteVolume\":\"9\"}]";
    restparse_ticker(twice, strlen(twice), &st, &r);
    ok(r.n == 2 && r.ids[0] == 1 && r.qv[0] == 9 && r.ids[1] == 0,
       "a symbol listed twice takes one place, at its bigger volume");
    restparse_ranking_free(&r);
    ok(restparse_ticker("{\"symbol\":\"BTCUSDT\"}", 20, &st, &r) == -1 && !r.ids && !r.n,
       "one ticker object, not a list: unusable");
    ok(restparse_ticker("[]", 2, &st, &r) == 0 && r.n == 0, "an empty list: an empty ranking");
    restparse_ranking_free(&r);
    symtab_free(&st);

    /* response headers: the used weight, Retry-After */
    const char *h = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                    "retry-after: 7\r\nX-MBX-USED-WEIGHT-1M:  2401\r\n\r\n";
    is_int(restparse_header(h, "retry-after"), 7, "Retry-After");
    is_int(restparse_header(h, "x-mbx-used-weight-1m"), 2401, "the used weight, any case");
    is_int(restparse_header(h, "x-mbx-used-weight"), -1, "a prefix of a name is not the name");
    is_int(restparse_header(NULL, "retry-after"), -1, "no headers");
    is_int(restparse_header("Retry-After: -5\r\n", "retry-after"), -1, "negative: none");
    /* atol of this was LONG_MAX (undefined in C), and the pause computed
     * from it, LONG_MAX * 1000 ms, overflowed */
    is_int(restparse_header("Retry-After: 99999999999999999999\r\n", "retry-after"),
           RESTPARSE_HEADER_MAX, "an absurd value is held to a bound arithmetic can take");
    return done();
}
