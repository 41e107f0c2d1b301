/* Bybit linear as a venue: its frames through venue_ops (candles of
 * bybit:SYMBOL, a pong that is no subscribe answer, a refusal), its
 * subscribe messages within 10 topics, its klines paths. */
#include <stdlib.h>

#include "market/bybit.h"
#include "market/venue.h"
#include "util/interval.h"
#include "tap.h"

static struct symtab st;

static enum frame_kind parse(const char *s, struct candle *out, struct frame_info *fi)
{
    return venue_bybit.parse(s, strlen(s), &st, VENUE_BYBIT, out, fi);
}


int main(void)
{
    symtab_init(&st);
    int usdm = symtab_add(&st, "BTCUSDT", 7), by = symtab_add(&st, "bybit:BTCUSDT", 13);
    ok(usdm >= 0 && by >= 0 && usdm != by, "BTCUSDT and bybit:BTCUSDT are two symbols");
    struct candle c[VENUE_FRAME_CANDLES];
    struct frame_info fi;
    const char *two = "{\"topic\":\"kline.1.BTCUSDT\",\"data\":["
                      "{\"start\":1790409720000,\"end\":1790409779999,\"interval\":\"1\",\"open\":\"2\",\"close\":\"2\",\"high\":\"3\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"2\",\"confirm\":true},"
                      "{\"start\":1790409780000,\"end\":1790409839999,\"interval\":\"1\",\"open\":\"2\",\"close\":\"2\",\"high\":\"3\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"2\",\"confirm\":false}"
                      "],\"ts\":1790409780010,\"type\":\"snapshot\"}";
    ok(parse(two, c, &fi) == FRAME_KLINE && fi.ncandles == 2 && fi.drop == KD_NONE,
       "a push of two candles: both");
    ok(c[0].symbol == (uint32_t)by && c[1].symbol == (uint32_t)by && c[0].closed && !c[1].closed,
       "of bybit:BTCUSDT, not Binance's BTCUSDT");
    ok(fi.slow, "a push without each entry's timestamp: left to the general walker, and said so");
    const char *live = "{\"topic\":\"kline.1.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1790409780010,\"data\":["
                       "{\"start\":1790409780000,\"end\":1790409839999,\"interval\":\"1\",\"open\":\"2\",\"close\":\"2\",\"high\":\"3\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"2\",\"confirm\":false,\"timestamp\":1790409780010}]}";
    ok(parse(live, c, &fi) == FRAME_KLINE && fi.ncandles == 1 && !fi.slow,
       "a push as Bybit writes it: on the fast path (the feed's slow-frames metric stays 0)");
    is_int(c[0].price_dp, 0, "instrument's decimals unknown: the most its prices show (\"2\": 0)");
    st.v[by].price_dp = 2;   /* as the universe sets it from instruments-info */
    ok(parse(live, c, &fi) == FRAME_KLINE && fi.ncandles == 1, "the same push again");
    is_int(c[0].price_dp, 2, "a candle shows its instrument's decimals (priceScale 2)");
    ok(parse(two, c, &fi) == FRAME_KLINE && c[0].price_dp == 2 && c[1].price_dp == 2,
       "every candle of a push, on the general walker too");
    st.v[by].price_dp = -1;
    st.v[by].active = 0;
    ok(parse(two, c, &fi) == FRAME_DROP && fi.drop == KD_UNKNOWN_SYMBOL, "a delisted symbol's push is dropped");
    st.v[by].active = 1;
    char nine[4096];
    size_t n = (size_t)snprintf(nine, sizeof nine, "{\"topic\":\"kline.1.BTCUSDT\",\"data\":[");
    for (int i = 0; i < 9; i++)
        n += (size_t)snprintf(nine + n, sizeof nine - n, "%s{\"start\":%lld,\"end\":%lld,\"interval\":\"1\",\"open\":\"2\",\"close\":\"2\",\"high\":\"3\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"2\",\"confirm\":true}",
                              i ? "," : "", 1790409720000LL + i * 60000LL, 1790409779999LL + i * 60000LL);
    snprintf(nine + n, sizeof nine - n, "],\"ts\":1790410300000}");
    ok(parse(nine, c, &fi) == FRAME_KLINE && fi.ncandles == VENUE_FRAME_CANDLES && fi.drop == KD_OVERSIZE,
       "more candles than the buffer: the first %d, the rest counted as dropped", VENUE_FRAME_CANDLES);
    ok(parse("{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"x\",\"req_id\":\"\",\"op\":\"ping\"}", c, &fi) == FRAME_OTHER,
       "a pong is no subscribe answer");
    ok(parse("{\"success\":true,\"ret_msg\":\"\",\"conn_id\":\"x\",\"req_id\":\"12\",\"op\":\"subscribe\"}", c, &fi) == FRAME_REPLY &&
           fi.reply_id == 12 && !fi.reply_error,
       "a subscribe answered, with our id");
    ok(parse("{\"success\":false,\"ret_msg\":\"Params Error\",\"conn_id\":\"x\",\"req_id\":\"13\",\"op\":\"subscribe\"}", c, &fi) == FRAME_REPLY &&
           fi.reply_error,
       "a refusal is an error reply");

    uint32_t syms[1] = {(uint32_t)by};
    char *m = venue_bybit.subscribe_msg(&st, 1, syms, 1, 1 << IV_1M | 1 << IV_1H | 1 << IV_1D, 5);
    is_str(m, "{\"req_id\":\"5\",\"op\":\"subscribe\",\"args\":[\"kline.1.BTCUSDT\",\"kline.60.BTCUSDT\",\"kline.D.BTCUSDT\"]}",
           "a subscribe message: the venue-local name, Bybit's interval names");
    free(m);
    m = venue_bybit.subscribe_msg(&st, 0, syms, 1, 1 << IV_5M, 6);
    is_str(m, "{\"req_id\":\"6\",\"op\":\"unsubscribe\",\"args\":[\"kline.5.BTCUSDT\"]}", "an unsubscribe");
    free(m);
    ok(venue_bybit.subscribe_msg(&st, 1, syms, 1, ((1 << IV_COUNT) - 1) & ~(1 << IV_8H), 7) == NULL,
       "11 topics in one message: refused (the feed splits them)");
    ok(venue_bybit.batch == BYBIT_ARGS_PER_REQUEST && venue_bybit.ping_ms == BYBIT_PING_MS &&
           !(venue_bybit.intervals & (1 << IV_8H)),
       "10 topics a request, a ping every 20 s, no 8h");
    char p[256];
    venue_bybit.klines_path(p, sizeof p, "BTCUSDT", IV_5M, -1, 1000);
    is_str(p, "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=5&limit=1000", "the newest rows");
    venue_bybit.klines_path(p, sizeof p, "BTCUSDT", IV_1M, 600000, 3);
    is_str(p, "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=3&start=600000&end=779999",
           "rows from start: start and end of exactly `limit` rows");
    symtab_free(&st);
    return done();
}
