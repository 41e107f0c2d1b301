/* Bybit's market REST answers: the docs' own (tests/fixtures/bybit),
 * klines turned oldest first, instruments filtered and paged, tickers
 * ranked by turnover, refusals told apart from garbage. */
#include <stdlib.h>

#include "market/bybit_rest.h"
#include "market/symbols.h"
#include "util/interval.h"
#include "slurp.h"
#include "tap.h"

static struct symtab syms;

static int find(const void *ud, const char *name, size_t n)
{
    return symtab_find(ud, name, n);
}

#define MAXR 16
static struct candle rows[MAXR];
static int nrows, ndrops;
static enum kline_drop last_drop;

static void row(void *ud, const struct candle *c, enum kline_drop why)
{
    (void)ud;
    if (!c) {
        ndrops++;
        last_drop = why;
    } else if (nrows < MAXR) {
        rows[nrows++] = *c;
    }
}

static int klines(const char *body, int iv, int64_t now)
{
    nrows = ndrops = 0;
    return bybit_rest_klines(body, strlen(body), 0, iv, now, row, NULL);
}

static void test_klines(void)
{
    size_t len;
    char *doc = slurp("tests/fixtures/bybit/rest_kline_docs.json", &len);
    ok(doc && bybit_rest_klines(doc, len, 3, IV_1H, 1672025956592, row, NULL) == 0 && nrows == 3,
       "the docs' three hourly rows");
    ok(rows[0].open_time == 1670601600000 && rows[1].open_time == 1670605200000 &&
           rows[2].open_time == 1670608800000,
       "handed on oldest first (Bybit sends newest first)");
    ok(rows[0].open == 17086.5 && rows[0].high == 17088 && rows[0].low == 16978 &&
           rows[0].close == 17071.5 && rows[0].volume == 6356 && rows[0].quote_volume == 0.37288112,
       "open, high, low, close, volume, turnover in that order");
    ok(rows[2].close_time == 1670608800000 + 3600000 - 1 && rows[2].closed && rows[2].backfilled &&
           rows[2].symbol == 3 && rows[2].interval == IV_1H && rows[2].price_dp == 1,
       "closed, backfilled, end = start + interval - 1, the most decimals shown");
    nrows = 0;
    ok(bybit_rest_klines(doc, len, 3, IV_1H, 1670608800000 + 1800000, row, NULL) == 0 && nrows == 2,
       "the row still forming is left to the stream");
    free(doc);

    const char *head = "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"symbol\":\"BTCUSDT\","
                       "\"category\":\"linear\",\"list\":[";
    char b[1024];
    snprintf(b, sizeof b, "%s%s]},\"time\":1}", head,
             "[\"120000\",\"2\",\"3\",\"1\",\"2\",\"5\",\"10\"],"
             "[\"60000\",\"2\",\"1\",\"3\",\"2\",\"5\",\"10\"],"
             "[\"x\",\"2\",\"3\",\"1\",\"2\",\"5\",\"10\"],"
             "[\"60000\",\"2\",\"3\",\"1\"],"
             "[60000,\"2\",\"3\",\"1\",\"2\",\"5\",\"10\"]");
    ok(klines(b, IV_1M, 1000000) == 0 && nrows == 1 && ndrops == 3,
       "one good row; bad prices, a bad time and a number for a time dropped; a short row skipped");
    ok(rows[0].open_time == 120000, "the good one");
    snprintf(b, sizeof b, "%s%s]},\"time\":1}", head, "[\"60001\",\"2\",\"3\",\"1\",\"2\",\"5\",\"10\"]");
    ok(klines(b, IV_1M, 1000000) == 0 && ndrops == 1 && last_drop == KD_BAD_PRICES,
       "a start off the interval is dropped");
    is_int(klines("{\"retCode\":10001,\"retMsg\":\"Not supported symbols\",\"result\":{},\"time\":1}",
                  IV_1M, 1),
           BYBIT_REST_REFUSED, "a refusal");
    is_int(klines("<html>403 Forbidden</html>", IV_1M, 1), BYBIT_REST_NOT_ANSWER, "not JSON");
    is_int(klines("{\"retCode\":0,\"result\":{\"list\":{}}}", IV_1M, 1), BYBIT_REST_NOT_ANSWER,
           "a list that is not one");
    is_int(klines("{\"retCode\":0,\"result\":{\"list\":[]}}", IV_1M, 1), 0, "an empty list");
}

static void test_code(void)
{
    long code = 0;
    char msg[64];
    const char *busy = "{\"retCode\":10006,\"retMsg\":\"Too many visits!\",\"result\":{},\"retExtInfo\":{},\"time\":1}";
    ok(bybit_rest_code(busy, strlen(busy), &code, msg, sizeof msg) == 0 && code == BYBIT_TOO_MANY_VISITS &&
           !strcmp(msg, "Too many visits!"),
       "retCode and retMsg of a refusal");
    ok(bybit_rest_limited(busy, strlen(busy)), "10006 is the rate-limit refusal");
    const char *fine = "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[]},\"time\":1}";
    const char *other = "{\"retCode\":10001,\"retMsg\":\"params error\",\"result\":{}}";
    ok(!bybit_rest_limited(fine, strlen(fine)) && !bybit_rest_limited(other, strlen(other)) &&
           !bybit_rest_limited("", 0),
       "an answer, another refusal, nothing: not");
    ok(bybit_rest_code("{\"retCode\":1e300}", 17, &code, NULL, 0) < 0, "a retCode out of range");
    ok(bybit_rest_code("nope", 4, &code, NULL, 0) < 0, "not JSON");
}

static void test_instruments(void)
{
    size_t len;
    struct restparse_universe u;
    char cursor[64];
    char *doc = slurp("tests/fixtures/bybit/rest_instruments_linear_docs.json", &len);
    ok(doc && bybit_rest_instruments(doc, len, "LinearPerpetual", "USDT", &u, cursor, sizeof cursor) == 0 && u.n == 1 &&
           !strcmp(u.names[0], "BTCUSDT") && u.server_time == 1735809771618 && cursor[0] == '\0',
       "the docs' BTCUSDT perpetual; the last page");
    ok(u.price_dp && u.price_dp[0] == 2, "its price decimals: priceScale \"2\" (tickSize \"0.10\")");
    restparse_universe_free(&u);
    ok(bybit_rest_instruments(doc, len, "LinearPerpetual", "USDC", &u, cursor, sizeof cursor) == 0 && u.n == 0 && u.listed == 1,
       "another quote coin: listed, not wanted");
    restparse_universe_free(&u);
    free(doc);
    const char *page =
        "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"linear\",\"list\":["
        "{\"symbol\":\"AUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\"},"
        "{\"symbol\":\"BUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"PreLaunch\",\"quoteCoin\":\"USDT\"},"
        "{\"symbol\":\"C-26DEC25\",\"contractType\":\"LinearFutures\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\"},"
        "{\"symbol\":\"DUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"Closed\",\"quoteCoin\":\"USDT\"},"
        "{\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\"},"
        "{\"symbol\":\"EUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\"}],"
        "\"nextPageCursor\":\"first%3DBIOUSDT%26last%3DBIOUSDT\"},\"time\":5}";
    ok(bybit_rest_instruments(page, strlen(page), "LinearPerpetual", "USDT", &u, cursor, sizeof cursor) == 0 && u.n == 2 &&
           !strcmp(u.names[0], "AUSDT") && !strcmp(u.names[1], "EUSDT") && u.listed == 6,
       "only perpetuals Trading in the quote coin (not pre-launch, dated futures, closed, nameless)");
    is_str(cursor, "first%3DBIOUSDT%26last%3DBIOUSDT", "the next page's cursor");
    restparse_universe_free(&u);
    ok(bybit_rest_instruments(page, strlen(page), "LinearPerpetual", "USDT", &u, cursor, 8) == 0 && cursor[0] == '\0',
       "a cursor too long to keep ends the paging");
    restparse_universe_free(&u);
    ok(bybit_rest_instruments(page, strlen(page), "LinearFutures", "USDT", &u, cursor, sizeof cursor) == 0 &&
           u.n == 1 && !strcmp(u.names[0], "C-26DEC25"),
       "the contract type asked for (config's contract_type)");
    restparse_universe_free(&u);
    const char *refused = "{\"retCode\":10016,\"retMsg\":\"Server error\"}";
    ok(bybit_rest_instruments(refused, strlen(refused), "LinearPerpetual", "USDT", &u, cursor, sizeof cursor) ==
           BYBIT_REST_REFUSED && !u.names && !u.doc,
       "a refusal leaves nothing to free");
    ok(bybit_rest_instruments("[]", 2, "LinearPerpetual", "USDT", &u, cursor, sizeof cursor) == BYBIT_REST_NOT_ANSWER,
       "not an answer");
}

/* Each instrument's price decimals: priceScale, else what tickSize is
 * written with, else unknown (-1). */
static void test_price_decimals(void)
{
    struct restparse_universe u;
    char cursor[64];
    const char *page =
        "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"linear\",\"list\":["
        "{\"symbol\":\"AUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\","
        "\"priceScale\":\"5\",\"priceFilter\":{\"tickSize\":\"0.01\"}},"
        "{\"symbol\":\"BUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\","
        "\"priceFilter\":{\"minPrice\":\"0.0001\",\"tickSize\":\"0.0001\"}},"
        "{\"symbol\":\"CUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\","
        "\"priceScale\":\"x\",\"priceFilter\":{\"tickSize\":\"0.5\"}},"
        "{\"symbol\":\"DUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\","
        "\"priceScale\":\"99\",\"priceFilter\":{\"tickSize\":\"-1\"}},"
        "{\"symbol\":\"EUSDT\",\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"quoteCoin\":\"USDT\","
        "\"priceScale\":3}]},\"time\":5}";
    ok(bybit_rest_instruments(page, strlen(page), "LinearPerpetual", "USDT", &u, cursor, sizeof cursor) == 0 &&
           u.n == 5 && u.price_dp,
       "five instruments read");
    if (u.n == 5 && u.price_dp) {
        is_int(u.price_dp[0], 5, "priceScale first (tickSize 0.01 says less)");
        is_int(u.price_dp[1], 4, "no priceScale: tickSize 0.0001's decimals");
        is_int(u.price_dp[2], 1, "a priceScale that is no number: tickSize's");
        is_int(u.price_dp[3], -1, "a priceScale past 18 and a bad tickSize: unknown");
        is_int(u.price_dp[4], -1, "priceScale as a JSON number (not Bybit's string): unknown");
    }
    restparse_universe_free(&u);
}

static void test_paths(void)
{
    char b[160];
    ok(bybit_rest_instruments_path(b, sizeof b, NULL) > 0 &&
           !strcmp(b, "/v5/market/instruments-info?category=linear&limit=1000"),
       "the first page: linear, 1000 a page");
    bybit_rest_instruments_path(b, sizeof b, "first%3DBIOUSDT%26last%3DBIOUSDT");
    is_str(b, "/v5/market/instruments-info?category=linear&limit=1000&cursor=first%3DBIOUSDT%26last%3DBIOUSDT",
           "the next: the cursor as Bybit wrote it (URL-encoded already)");
    bybit_rest_instruments_path(b, sizeof b, "a=b&c d");
    is_str(b, "/v5/market/instruments-info?category=linear&limit=1000&cursor=a%3Db%26c%20d",
           "a cursor's bytes that may not stand in a query are escaped");
    ok(bybit_rest_instruments_path(b, 60, "first%3DBIOUSDT%26last%3DBIOUSDT") < 0, "a path that does not fit");
}

static void test_tickers(void)
{
    size_t len;
    struct restparse_ranking r;
    char *doc = slurp("tests/fixtures/bybit/rest_tickers_docs.json", &len);
    int btcusd = symtab_add(&syms, "BTCUSD", 6);
    ok(doc && bybit_rest_tickers(doc, len, find, &syms, syms.n, &r) == 0 && r.n == 1 &&
           r.ids[0] == (uint32_t)btcusd && r.qv[0] == 115.6907,
       "the docs' ticker, by turnover24h");
    restparse_ranking_free(&r);
    free(doc);
    const char *list =
        "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"linear\",\"list\":["
        "{\"symbol\":\"ETHUSDT\",\"turnover24h\":\"500.5\",\"volume24h\":\"1\"},"
        "{\"symbol\":\"BTCUSDT\",\"turnover24h\":\"900\",\"volume24h\":\"1\"},"
        "{\"symbol\":\"NEWUSDT\",\"turnover24h\":\"99999\"},"
        "{\"symbol\":\"ETHUSDT\",\"turnover24h\":\"1.5\"},"
        "{\"symbol\":\"XUSDT\"},"
        "{\"symbol\":\"BTCUSDT\",\"turnover24h\":\"bad\"}]},\"time\":1}";
    ok(bybit_rest_tickers(list, strlen(list), find, &syms, syms.n, &r) == 0 && r.n == 2 &&
           r.ids[0] == (uint32_t)symtab_find(&syms, "BTCUSDT", 7) && r.qv[0] == 900 && r.qv[1] == 500.5,
       "biggest turnover first, each once, unknown symbols and bad numbers left out");
    restparse_ranking_free(&r);
    const char *busy = "{\"retCode\":10006,\"retMsg\":\"Too many visits!\"}";
    ok(bybit_rest_tickers(busy, strlen(busy), find, &syms, syms.n, &r) == BYBIT_REST_REFUSED && !r.ids,
       "a refusal: the ranking stays as it was");
    ok(bybit_rest_tickers("{}", 2, find, &syms, syms.n, &r) == BYBIT_REST_NOT_ANSWER, "not an answer");
}

int main(void)
{
    symtab_init(&syms);
    symtab_add(&syms, "BTCUSDT", 7);
    symtab_add(&syms, "ETHUSDT", 7);
    test_klines();
    test_code();
    test_instruments();
    test_price_decimals();
    test_paths();
    test_tickers();
    symtab_free(&syms);
    return done();
}
