/* Bybit's WebSocket text: real pushes and replies (tests/fixtures/bybit),
 * several candles in one push, and every kind of bad input dropped with
 * its reason and never turned into a candle; the requests it writes. */
#include <stdlib.h>

#include "market/bybit.h"
#include "market/symbols.h"
#include "util/interval.h"
#include "slurp.h"
#include "tap.h"

static struct symtab syms;

static int find(const void *ud, const char *name, size_t n)
{
    return symtab_find(ud, name, n);
}

#define MAXC 8
static struct candle got[MAXC];
static int ngot;

static void take(void *ud, const struct candle *c)
{
    (void)ud;
    if (ngot < MAXC)
        got[ngot] = *c;
    ngot++;
}

static enum bybit_kind parse(const char *s, size_t n, struct bybit_info *bi)
{
    ngot = 0;
    return bybit_parse(s, n, find, &syms, take, NULL, bi);
}

static enum kline_drop drop_of(const char *s)
{
    struct bybit_info bi;
    enum bybit_kind k = parse(s, strlen(s), &bi);
    return k == BYBIT_DROP && ngot == 0 ? bi.drop : KD_NONE;
}

/* A valid push to mutate (the docs' frame, on one line). */
#define GOOD                                                                                 \
    "{\"topic\":\"kline.5.BTCUSDT\",\"data\":[{\"start\":1672324800000,\"end\":1672325099999,"  \
    "\"interval\":\"5\",\"open\":\"16649.5\",\"close\":\"16677\",\"high\":\"16677\","           \
    "\"low\":\"16608\",\"volume\":\"2.081\",\"turnover\":\"34666.4005\",\"confirm\":false,"     \
    "\"timestamp\":1672324988882}],\"ts\":1672324988882,\"type\":\"snapshot\"}"

static char *replace(const char *s, const char *from, const char *to)
{
    static char out[4096];
    const char *at = strstr(s, from);
    if (!at)
        return NULL;
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

static void real_pushes(void)
{
    size_t len;
    struct bybit_info bi;
    char *doc = slurp("tests/fixtures/bybit/ws_kline_docs.json", &len);
    ok(doc && parse(doc, len, &bi) == BYBIT_KLINE && ngot == 1, "the docs' push is one candle");
    struct candle *c = &got[0];
    ok(c->open_time == 1672324800000 && c->close_time == 1672325099999 && c->interval == IV_5M,
       "its times and interval (\"5\" is 5m)");
    ok(c->open == 16649.5 && c->close == 16677 && c->high == 16677 && c->low == 16608,
       "its prices");
    ok(c->volume == 2.081 && c->quote_volume == 34666.4005, "volume is base, turnover is quote");
    ok(!c->closed && c->event_time == 1672324988882 && !c->backfilled, "forming, stamped with ts");
    is_int(c->price_dp, 1, "the most decimals any price shows");
    is_int((int)c->symbol, symtab_find(&syms, "BTCUSDT", 7), "the topic's symbol");
    free(doc);

    doc = slurp("tests/fixtures/bybit/ws_kline_ccxt_linear.json", &len);
    ok(doc && parse(doc, len, &bi) == BYBIT_KLINE && ngot == 1 && got[0].interval == IV_1M &&
           got[0].high == 22214.5 && got[0].quote_volume == 121193.36,
       "a linear push as ccxt quotes it (pretty-printed)");
    free(doc);
}

static void replies(void)
{
    size_t len;
    struct bybit_info bi;
    char *doc = slurp("tests/fixtures/bybit/ws_pong_linear_docs.json", &len);
    ok(doc && parse(doc, len, &bi) == BYBIT_PONG && bi.success && ngot == 0,
       "linear's pong (op ping, ret_msg pong)");
    free(doc);
    const char *pong = "{\"op\":\"pong\",\"args\":[\"1672916271846\"]}";
    ok(parse(pong, strlen(pong), &bi) == BYBIT_PONG,
       "the other categories' pong (op pong)");
    doc = slurp("tests/fixtures/bybit/ws_subscribe_ok_docs.json", &len);
    ok(doc && parse(doc, len, &bi) == BYBIT_REPLY && bi.success && bi.req_id == -1,
       "a subscribe answered (req_id empty: none)");
    free(doc);
    doc = slurp("tests/fixtures/bybit/ws_subscribe_fail_linear.json", &len);
    ok(doc && parse(doc, len, &bi) == BYBIT_REPLY && !bi.success && bi.ret_msg_n == 12 &&
           memcmp(bi.ret_msg, "Params Error", 12) == 0 && bi.req_id == -1,
       "a refused subscribe: not a success, its ret_msg, a req_id that is no number");
    free(doc);
    doc = slurp("tests/fixtures/bybit/ws_subscribe_fail_handler.json", &len);
    ok(doc && parse(doc, len, &bi) == BYBIT_REPLY && !bi.success, "a topic withdrawn: refused");
    free(doc);
    const char *ack = "{\"success\":true,\"ret_msg\":\"\",\"conn_id\":\"x\",\"req_id\":\"42\",\"op\":\"subscribe\"}";
    ok(parse(ack, strlen(ack), &bi) == BYBIT_REPLY && bi.req_id == 42 && bi.success,
       "our numeric req_id comes back as a number");
}

static void several(void)
{
    struct bybit_info bi;
    /* two entries: the one just closed and the next one opening */
    const char *two =
        "{\"topic\":\"kline.1.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1790409780010,\"data\":["
        "{\"start\":1790409720000,\"end\":1790409779999,\"interval\":\"1\",\"open\":\"84045\","
        "\"close\":\"84017.8\",\"high\":\"84045\",\"low\":\"84017.8\",\"volume\":\"7.316\","
        "\"turnover\":\"614833.7084\",\"confirm\":true,\"timestamp\":1790409779990},"
        "{\"start\":1790409780000,\"end\":1790409839999,\"interval\":\"1\",\"open\":\"84017.8\","
        "\"close\":\"84018\",\"high\":\"84018\",\"low\":\"84017.8\",\"volume\":\"0.01\","
        "\"turnover\":\"840.18\",\"confirm\":false,\"timestamp\":1790409780005}]}";
    ok(parse(two, strlen(two), &bi) == BYBIT_KLINE && ngot == 2 && bi.candles == 2,
       "data[] with two candles yields both (topic after data is fine)");
    ok(got[0].closed && !got[1].closed && got[0].open_time + 60000 == got[1].open_time,
       "in order: the closed one, then the new one");
    char *bad = replace(two, "\"open\":\"84017.8\"", "\"open\":\"x\"");
    ok(parse(bad, strlen(bad), &bi) == BYBIT_KLINE && ngot == 1 && bi.dropped == 1 &&
           bi.drop == KD_BAD_NUMBER && got[0].closed,
       "a bad entry is dropped, the good one kept");
    ok(drop_of("{\"topic\":\"kline.1.BTCUSDT\",\"data\":[],\"ts\":1}") == KD_MISSING_FIELD,
       "an empty data[] is dropped");
    ok(drop_of("{\"topic\":\"kline.1.BTCUSDT\",\"data\":[1,\"x\"],\"ts\":1}") == KD_MISSING_FIELD,
       "entries that are not objects are dropped");
}

static void drops(void)
{
    is_int(drop_of(GOOD), KD_NONE, "the template is valid");
    is_int(drop_of(replace(GOOD, "\"open\":\"16649.5\"", "\"open\":16649.5")), KD_BAD_NUMBER,
           "a price as a JSON number");
    is_int(drop_of(replace(GOOD, "\"16649.5\"", "\"-1\"")), KD_BAD_NUMBER, "a negative price");
    is_int(drop_of(replace(GOOD, "\"16649.5\"", "\"1e4\"")), KD_BAD_NUMBER, "exponent notation");
    is_int(drop_of(replace(GOOD, "\"16649.5\"", "\"\"")), KD_BAD_NUMBER, "an empty price");
    is_int(drop_of(replace(GOOD, "\"start\":1672324800000", "\"start\":\"1672324800000\"")),
           KD_BAD_NUMBER, "a time as a string");
    is_int(drop_of(replace(GOOD, "\"confirm\":false", "\"confirm\":0")), KD_BAD_NUMBER,
           "confirm not a boolean");
    is_int(drop_of(replace(GOOD, "\"low\":\"16608\"", "\"low\":\"16700\"")), KD_BAD_PRICES,
           "low above open");
    is_int(drop_of(replace(GOOD, "\"low\":\"16608\"", "\"low\":\"0\"")), KD_BAD_PRICES, "a zero low");
    is_int(drop_of(replace(GOOD, "1672325099999", "1672325100000")), KD_BAD_TIME,
           "end past the interval");
    is_int(drop_of(replace(GOOD, "\"start\":1672324800000", "\"start\":1672324800001")), KD_BAD_TIME,
           "start not on the interval");
    is_int(drop_of(replace(GOOD, "1672325099999", "1672324988882")), KD_NONE,
           "a forming candle's end may be 'now' (older docs)");
    char closed[1024];
    snprintf(closed, sizeof closed, "%s", replace(GOOD, "\"confirm\":false", "\"confirm\":true"));
    is_int(drop_of(replace(closed, "1672325099999", "1672324988882")), KD_BAD_TIME,
           "but a closed one ends at start + interval - 1");
    is_int(drop_of(replace(GOOD, "\"ts\":1672324988882", "\"ts\":0")), KD_NONE,
           "no usable ts: the entry's timestamp");
    char nots[1024];
    snprintf(nots, sizeof nots, "%s", replace(GOOD, ",\"ts\":1672324988882", ""));
    is_int(drop_of(replace(nots, ",\"timestamp\":1672324988882", "")), KD_BAD_TIME,
           "no ts and no timestamp: no time");
    is_int(drop_of(replace(GOOD, "kline.5.BTCUSDT", "kline.5.DOGEUSDT")), KD_UNKNOWN_SYMBOL,
           "a symbol not in the table");
    is_int(drop_of(replace(GOOD, "kline.5.BTCUSDT", "kline.1.BTCUSDT")), KD_STREAM_MISMATCH,
           "the entry's interval is not the topic's");
    is_int(drop_of(replace(GOOD, "\"interval\":\"5\"", "\"interval\":\"W\"")), KD_UNKNOWN_INTERVAL,
           "W is not an interval here");
    is_int(drop_of(replace(GOOD, "kline.5.BTCUSDT", "kline.5")), KD_STREAM_MISMATCH,
           "a topic without a symbol");
    is_int(drop_of(replace(GOOD, "kline.5.BTCUSDT", "kline..BTCUSDT")), KD_STREAM_MISMATCH,
           "a topic without an interval");
    is_int(drop_of(replace(GOOD, "\"volume\":\"2.081\",", "")), KD_MISSING_FIELD, "no volume");
    is_int(drop_of(replace(GOOD, "\"turnover\":\"34666.4005\",", "")), KD_MISSING_FIELD, "no turnover");
    is_int(drop_of(replace(GOOD, "\"confirm\":false,", "")), KD_MISSING_FIELD, "no confirm");
    is_int(drop_of("{\"topic\":\"kline.5.BTCUSDT\",\"ts\":1}"), KD_MISSING_FIELD, "no data");
    is_int(drop_of("{\"topic\":\"kline.5.BTCUSDT\",\"data\":{},\"ts\":1}"), KD_MISSING_FIELD,
           "data not a list");
    is_int(drop_of("{}"), KD_MISSING_FIELD, "an empty object");
    is_int(drop_of("[1,2]"), KD_JSON, "an array");
    is_int(drop_of(GOOD "x"), KD_JSON, "trailing junk");
    char deep[200];
    snprintf(deep, sizeof deep, "{\"x\":%.*s", 150, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
    is_int(drop_of(deep), KD_JSON, "nesting too deep is refused, not recursed into");
    struct bybit_info bi;
    const char *tick = "{\"topic\":\"tickers.BTCUSDT\",\"data\":{}}";
    ok(parse(tick, strlen(tick), &bi) == BYBIT_OTHER,
       "another topic is other, not dropped");

    int leaked = 0;
    size_t glen = strlen(GOOD);
    for (size_t n = 0; n < glen; n++) {
        parse(GOOD, n, &bi);
        leaked += ngot;
    }
    is_int(leaked, 0, "none of the %zu truncations of a push yields a candle", glen);
}

static void names_and_requests(void)
{
    const char *want[IV_COUNT] = {"1", "3", "5", "15", "30", "60", "120", "240", "360", NULL, "720", "D"};
    int all = 1;
    for (int iv = 0; iv < IV_COUNT; iv++) {
        const char *n = bybit_interval_name(iv);
        all &= want[iv] ? n && !strcmp(n, want[iv]) && bybit_interval_parse(n, strlen(n)) == iv : !n;
    }
    ok(all, "Bybit's interval names, both ways; 8h has none");
    ok(bybit_interval_parse("W", 1) < 0 && bybit_interval_parse("M", 1) < 0 &&
           bybit_interval_parse("1m", 2) < 0 && bybit_interval_parse("", 0) < 0,
       "W, M, Binance's names and nothing are refused");
    char t[64];
    ok(bybit_topic(t, sizeof t, IV_1H, "ETHUSDT") == 16 && !strcmp(t, "kline.60.ETHUSDT"), "a topic");
    ok(bybit_topic(t, sizeof t, IV_8H, "ETHUSDT") < 0, "no topic for 8h");
    ok(bybit_topic(t, 10, IV_1H, "ETHUSDT") < 0, "a topic that does not fit");
    char m[256];
    const char *args[] = {"kline.1.BTCUSDT", "kline.5.BTCUSDT"};
    int n = bybit_request(m, sizeof m, "subscribe", args, 2, 7);
    is_str(m, "{\"req_id\":\"7\",\"op\":\"subscribe\",\"args\":[\"kline.1.BTCUSDT\",\"kline.5.BTCUSDT\"]}",
           "a subscribe request");
    ok(n == (int)strlen(m), "its length");
    bybit_request(m, sizeof m, "ping", NULL, 0, 8);
    is_str(m, "{\"req_id\":\"8\",\"op\":\"ping\"}", "a ping");
    ok(bybit_request(m, 30, "subscribe", args, 2, 7) < 0, "a request that does not fit");
}

int main(void)
{
    symtab_init(&syms);
    symtab_add(&syms, "BTCUSDT", 7);
    symtab_add(&syms, "ETHUSDT", 7);
    real_pushes();
    replies();
    several();
    drops();
    names_and_requests();
    symtab_free(&syms);
    return done();
}
