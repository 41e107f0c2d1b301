/* The kline frame parser: real frames, replies, and every kind of bad
 * input dropped with its reason and never turned into a candle. */
#include <math.h>
#include <stdlib.h>

#include "util/interval.h"
#include "market/kline.h"
#include "slurp.h"
#include "tap.h"

static struct symtab syms;

static enum frame_kind parse(const char *s, struct candle *c, struct frame_info *fi)
{
    return kline_parse(s, strlen(s), &syms, c, fi);
}

static enum kline_drop drop_of(const char *s)
{
    struct candle c;
    struct frame_info fi;
    enum frame_kind k = parse(s, &c, &fi);
    return k == FRAME_DROP ? fi.drop : KD_NONE;
}

/* A valid futures frame to mutate. */
#define GOOD                                                                              \
    "{\"stream\":\"btcusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1653818762502,"    \
    "\"s\":\"BTCUSDT\",\"k\":{\"t\":1653818760000,\"T\":1653818819999,\"s\":\"BTCUSDT\"," \
    "\"i\":\"1m\",\"f\":1384844002,\"L\":1384844032,\"o\":\"29038.46000000\","           \
    "\"c\":\"29038.47000000\",\"h\":\"29038.47000000\",\"l\":\"29038.46000000\","        \
    "\"v\":\"0.20926000\",\"n\":31,\"x\":false,\"q\":\"6076.58918320\","                 \
    "\"V\":\"0.10436000\",\"Q\":\"3030.45472920\",\"B\":\"0\"}}}"

static char *replace(const char *s, const char *from, const char *to)
{
    static char out[4096];
    const char *at = strstr(s, from);
    if (!at)
        return NULL;
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

/* Both paths give the same answer for this frame: kind, reason, and every
 * field of a candle. */
static int paths_agree(const char *s, size_t n)
{
    struct candle a, b;
    struct frame_info fa, fb;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    enum frame_kind ka = kline_parse(s, n, &syms, &a, &fa);
    enum frame_kind kb = kline_parse_general(s, n, &syms, &b, &fb);
    if (ka != kb || fa.drop != fb.drop || fa.reply_id != fb.reply_id ||
        fa.reply_error != fb.reply_error)
        return 0;
    return ka != FRAME_KLINE ||
           (a.symbol == b.symbol && a.interval == b.interval && a.open_time == b.open_time &&
            a.close_time == b.close_time && a.event_time == b.event_time && a.open == b.open &&
            a.high == b.high && a.low == b.low && a.close == b.close && a.volume == b.volume &&
            a.quote_volume == b.quote_volume && a.trades == b.trades && a.closed == b.closed &&
            a.price_dp == b.price_dp && a.backfilled == b.backfilled);
}

/* Every one-byte change, insertion and deletion of a frame: the fast path
 * bails out exactly where the walker would disagree.  The count of frames
 * where the paths differ. */
static int mutations_disagreeing(const char *frame, int *tried)
{
    static const char bytes[] = "0159.-+eE\"} ,x\n:";
    size_t n = strlen(frame);
    char *m = malloc(n + 2);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        for (const char *b = bytes; *b; b++) {
            memcpy(m, frame, n);
            m[i] = *b;   /* replaced */
            bad += !paths_agree(m, n);
            memcpy(m, frame, i);
            m[i] = *b;   /* inserted */
            memcpy(m + i + 1, frame + i, n - i);
            bad += !paths_agree(m, n + 1);
            *tried += 2;
        }
        memcpy(m, frame, i);   /* deleted */
        memcpy(m + i, frame + i + 1, n - i - 1);
        bad += !paths_agree(m, n - 1);
        (*tried)++;
    }
    free(m);
    return bad;
}

int main(void)
{
    struct candle c;
    struct frame_info fi;
    symtab_init(&syms);
    symtab_add(&syms, "BTCUSDT", 7);
    symtab_add(&syms, "BTCUSD_220624", 13);
    symtab_add(&syms, "ETHUSDT", 7);

    /* the real frames */
    size_t len;
    char *all = slurp("tests/fixtures/binance/crypto-msg-parser_binance_kline_frames.jsonl", &len);
    ok(all != NULL, "the recorded frames are readable");
    int frames = 0, klines = 0, disagree = 0;
    for (char *line = all, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n == 0)
            continue;
        frames++;
        /* every symbol in the recording is known for this test */
        const char *s = strstr(line, "\"s\":\"");
        if (s)
            symtab_add(&syms, s + 5, strcspn(s + 5, "\""));
        disagree += !paths_agree(line, n);
        if (kline_parse(line, n, &syms, &c, &fi) == FRAME_KLINE)
            klines++;
        else if (strstr(line, "\"i\":\"1M\""))
            is_int(fi.drop, KD_UNKNOWN_INTERVAL, "the monthly frame is refused: 1M is not an interval we use");
    }
    is_int(klines, frames - 1, "the other %d recorded mainnet frames parse as klines", frames - 1);
    is_int(disagree, 0, "the fast path and the general walker agree on every recorded frame");
    free(all);

    is_int(parse(GOOD, &c, &fi), FRAME_KLINE, "a combined-stream frame parses");
    ok(c.open == 29038.46 && c.close == 29038.47 && c.high == 29038.47 && c.low == 29038.46,
       "prices are exact");
    ok(c.volume == 0.20926 && c.quote_volume == 6076.5891832, "volumes are exact");
    is_int(c.open_time, 1653818760000LL, "open time");
    is_int(c.close_time, 1653818819999LL, "close time");
    is_int(c.event_time, 1653818762502LL, "event time");
    is_int(c.trades, 31, "trade count");
    is_int(c.closed, 0, "not closed");
    is_int(c.interval, IV_1M, "interval");
    is_int(c.symbol, symtab_find(&syms, "BTCUSDT", 7), "symbol id");
    is_int(c.price_dp, 8, "the exchange's price precision is kept");

    is_int(parse(replace(GOOD, "\"x\":false", "\"x\":true"), &c, &fi), FRAME_KLINE, "closed");
    is_int(c.closed, 1, "the closed flag is read");

    /* the same event as a raw stream, pretty-printed, fields reordered */
    const char *raw = "{ \"k\" : { \"x\": true, \"q\": \"1.5\", \"n\": 2, \"v\": \"3\","
                      " \"l\": \"1.0\", \"h\": \"2.5\", \"c\": \"2.0\", \"o\": \"1.5\","
                      " \"i\": \"5m\", \"s\": \"ETHUSDT\", \"T\": 1653818699999,"
                      " \"t\": 1653818400000, \"extra\": [1, {\"a\": \"\\u00e9\\\"\"}] },\n"
                      "  \"s\": \"ETHUSDT\", \"E\": 1, \"e\": \"kline\", \"st\": 1 }";
    is_int(parse(raw, &c, &fi), FRAME_KLINE, "a raw event with reordered, extra and escaped fields parses");
    ok(c.interval == IV_5M && c.closed && c.price_dp == 1, "its fields are read");

    /* replies and other events */
    is_int(parse("{\"result\":null,\"id\":7}", &c, &fi), FRAME_REPLY, "a SUBSCRIBE reply");
    is_int(fi.reply_id, 7, "with its id");
    is_int(fi.reply_error, 0, "and no error");
    is_int(parse("{\"error\":{\"code\":2,\"msg\":\"Invalid request\"},\"id\":8}", &c, &fi),
           FRAME_REPLY, "an error reply");
    ok(fi.reply_error && fi.reply_id == 8, "is marked as an error with its id");
    is_int(parse("{\"result\":[\"btcusdt@kline_1m\"],\"id\":\"x1\"}", &c, &fi), FRAME_REPLY,
           "a LIST_SUBSCRIPTIONS reply with a string id");
    is_int(parse("{\"stream\":\"!serverShutdown\",\"data\":{\"e\":\"serverShutdown\",\"E\":1}}",
                 &c, &fi), FRAME_OTHER, "another event is not a drop");

    /* the documentation's sample has low above open: not a real candle */
    char *doc = slurp("tests/fixtures/binance/binance_futures_ws_kline.json", &len);
    symtab_add(&syms, "BTCUSDT", 7);
    is_int(kline_parse(doc, len, &syms, &c, &fi), FRAME_DROP, "the docs' illustrative event is refused");
    is_int(fi.drop, KD_BAD_PRICES, "because its low is above its open");
    free(doc);

    /* every reason */
    is_int(drop_of("{\"stream\":"), KD_JSON, "truncated JSON");
    is_int(drop_of("not json"), KD_JSON, "not JSON");
    is_int(drop_of(GOOD "x"), KD_JSON, "trailing garbage");
    is_int(drop_of(replace(GOOD, "\"o\":\"29038.46000000\",", "")), KD_MISSING_FIELD, "missing open");
    is_int(drop_of(replace(GOOD, "\"e\":\"kline\",", "")), KD_MISSING_FIELD, "missing event type");
    is_int(drop_of(replace(GOOD, "\"E\":1653818762502,", "")), KD_MISSING_FIELD, "missing event time");
    is_int(drop_of(replace(GOOD, "\"29038.46000000\"", "\"abc\"")), KD_BAD_NUMBER, "non-numeric price");
    is_int(drop_of(replace(GOOD, "\"29038.46000000\"", "\"-1\"")), KD_BAD_NUMBER, "negative price");
    is_int(drop_of(replace(GOOD, "\"29038.46000000\"", "29038.46")), KD_BAD_NUMBER, "a price as a JSON number");
    is_int(drop_of(replace(GOOD, "\"29038.46000000\"", "\"1e5\"")), KD_BAD_NUMBER, "exponent notation");
    is_int(drop_of(replace(GOOD, "\"n\":31", "\"n\":\"31\"")), KD_BAD_NUMBER, "a count as a string");
    is_int(drop_of(replace(GOOD, "\"n\":31", "\"n\":-31")), KD_BAD_NUMBER, "a negative count");
    is_int(drop_of(replace(GOOD, "\"t\":1653818760000", "\"t\":1.5")), KD_BAD_NUMBER, "a fractional time");
    is_int(drop_of(replace(GOOD, "\"x\":false", "\"x\":0")), KD_BAD_NUMBER, "closed flag not boolean");
    is_int(drop_of(replace(GOOD, "\"l\":\"29038.46000000\"", "\"l\":\"0\"")), KD_BAD_PRICES, "a zero low");
    is_int(drop_of(replace(GOOD, "\"h\":\"29038.47000000\"", "\"h\":\"29000\"")), KD_BAD_PRICES, "high below close");
    is_int(drop_of(replace(GOOD, "\"T\":1653818819999", "\"T\":1653818819998")), KD_BAD_TIME, "close time off by one");
    is_int(drop_of(replace(GOOD, "\"t\":1653818760000", "\"t\":1653818760001")), KD_BAD_TIME, "open time not on the interval");
    is_int(drop_of("{\"stream\":\"dogeusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1,\"s\":\"DOGEUSDT\","
                   "\"k\":{\"t\":60000,\"T\":119999,\"s\":\"DOGEUSDT\",\"i\":\"1m\",\"o\":\"1\",\"c\":\"1\","
                   "\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"n\":1,\"x\":false,\"q\":\"1\"}}}"),
           KD_UNKNOWN_SYMBOL, "unknown symbol");
    is_int(drop_of(replace(GOOD, "\"i\":\"1m\"", "\"i\":\"7m\"")), KD_UNKNOWN_INTERVAL, "unknown interval");
    is_int(drop_of(replace(GOOD, "btcusdt@kline_1m", "ethusdt@kline_1m")), KD_STREAM_MISMATCH, "stream of another symbol");
    is_int(drop_of(replace(GOOD, "btcusdt@kline_1m", "btcusdt@kline_5m")), KD_STREAM_MISMATCH, "stream of another interval");
    is_int(drop_of(replace(GOOD, "\"s\":\"BTCUSDT\",\"k\"", "\"s\":\"ETHUSDT\",\"k\"")), KD_STREAM_MISMATCH, "event symbol disagrees with the kline's");
    is_int(drop_of("{}"), KD_MISSING_FIELD, "an empty object");
    is_int(drop_of("[1,2]"), KD_JSON, "an array");
    char deep[200];
    memset(deep, '[', sizeof deep);
    snprintf(deep, sizeof deep, "{\"x\":%.*s", 150, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
    is_int(drop_of(deep), KD_JSON, "nesting too deep is refused, not recursed into");

    /* the fast path reads Binance's exact layout; near it, both paths agree */
    int tried = 0;
    is_int(mutations_disagreeing(GOOD, &tried), 0,
           "fast path and walker agree on all %d one-byte edits of a combined frame", tried);
    const char *raw_good = strchr(GOOD, ',') + 8;   /* the "data" object alone */
    char raw_frame[1024];
    snprintf(raw_frame, sizeof raw_frame, "%.*s", (int)strlen(raw_good) - 1, raw_good);
    tried = 0;
    is_int(mutations_disagreeing(raw_frame, &tried), 0,
           "and on all %d one-byte edits of a raw-stream frame", tried);
    const char *lengths[] = {"1", "12", "123456789012", "16538187620", "165381876250",
                             "16538187625020", "1653818762502000000", "01653818762502",
                             "-1653818762502", "1653818762502.0", "1653818762502e3"};
    int mismatched = 0;
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        char *t = replace(GOOD, "1653818762502", lengths[i]);
        mismatched += !paths_agree(t, strlen(t));
    }
    is_int(mismatched, 0, "both paths agree on event times of every length and form");

    /* spot prints 8 fixed decimals: a volume of 1e11 or more has 20 digits
     * and more, which must stay on the fast path (issue 19) */
    const char *bigs[] = {"123456789012.12345678", "99999999999.99999999", "1234567890123456789.12345678",
                          "0.1234567890123456789", "100000000000.00000001"};
    int slow = 0, wrong = 0, disagreeing = 0;
    for (size_t i = 0; i < sizeof bigs / sizeof *bigs; i++) {
        char frame[1024];
        snprintf(frame, sizeof frame, "%s", replace(GOOD, "\"v\":\"0.20926000\"", "\"v\":\"X\""));
        char *t = replace(frame, "X", bigs[i]);
        snprintf(frame, sizeof frame, "%s", t);
        t = replace(frame, "\"q\":\"6076.58918320\"", "\"q\":\"X\"");
        snprintf(frame, sizeof frame, "%s", t);
        t = replace(frame, "X", bigs[i]);
        if (kline_parse(t, strlen(t), &syms, &c, &fi) != FRAME_KLINE) {
            wrong++;
            continue;
        }
        slow += fi.slow;
        double exact = strtod(bigs[i], NULL);
        wrong += fabs(c.volume - exact) > fabs(exact) * 0x1p-51 || c.quote_volume != c.volume;
        disagreeing += !paths_agree(t, strlen(t));
        if (i == 0) {
            tried = 0;
            disagreeing += mutations_disagreeing(t, &tried);
        }
    }
    is_int(slow, 0, "volumes of 20 to 27 digits with 8 decimals stay on the fast path");
    is_int(wrong, 0, "and are read within an ulp of their exact value");
    is_int(disagreeing, 0, "the walker reads them the same (and all %d one-byte edits of one)", tried);
    parse(GOOD, &c, &fi);
    is_int(fi.slow, 0, "(a frame of the usual size is on the fast path too)");
    /* the recorded spot frame, as Binance spot's feed reads it */
    int spot_id = symtab_add(&syms, "spot:BTCUSDT", 12);
    ok(kline_parse_in(GOOD, strlen(GOOD), &syms, VENUE_SPOT, &c, &fi) == FRAME_KLINE &&
           c.symbol == (uint32_t)spot_id && !fi.slow,
       "a spot frame is spot:BTCUSDT's, on the fast path");

    /* spot's serverShutdown event (combined, as documented, and raw): said
     * so, for the feed to replace the connection at once */
    size_t sdn;
    char *sd = slurp("tests/fixtures/binance/binance_spot_ws_servershutdown_combined.json", &sdn);
    ok(sd && kline_parse_in(sd, sdn, &syms, VENUE_SPOT, &c, &fi) == FRAME_OTHER && fi.shutdown,
       "spot's documented serverShutdown event is read as the server going away");
    free(sd);
    const char *sd_raw = "{\"e\":\"serverShutdown\",\"E\":1770123456789}";
    ok(kline_parse_in(sd_raw, strlen(sd_raw), &syms, VENUE_SPOT, &c, &fi) == FRAME_OTHER && fi.shutdown,
       "and so is its raw-stream form");
    kline_parse_in(GOOD, strlen(GOOD), &syms, VENUE_SPOT, &c, &fi);
    ok(!fi.shutdown, "a kline frame is no shutdown");
    const char *other = "{\"e\":\"serverShutdownX\",\"E\":1}";
    ok(kline_parse_in(other, strlen(other), &syms, VENUE_SPOT, &c, &fi) == FRAME_OTHER && !fi.shutdown,
       "nor is another event whose name starts the same");

    /* no prefix of a valid frame is ever a candle */
    int leaked = 0;
    size_t glen = strlen(GOOD);
    for (size_t n = 0; n < glen; n++)
        if (kline_parse(GOOD, n, &syms, &c, &fi) == FRAME_KLINE)
            leaked++;
    is_int(leaked, 0, "none of the %zu truncations of a frame yields a candle", glen);

    /* every interval name round-trips; near misses do not parse */
    int names_ok = 1;
    for (int iv = 0; iv < IV_COUNT; iv++)
        names_ok &= interval_parse(interval_name(iv), strlen(interval_name(iv))) == iv;
    ok(names_ok, "every interval name parses back to itself");
    const char *bad_iv[] = {"2m", "1M", "1w", "15h", "45m", "1", "", "1mm", "30h"};
    int rejected = 0;
    for (size_t i = 0; i < sizeof bad_iv / sizeof *bad_iv; i++)
        rejected += interval_parse(bad_iv[i], strlen(bad_iv[i])) < 0;
    is_int(rejected, (int)(sizeof bad_iv / sizeof *bad_iv), "near-miss interval names are refused");

    /* decimals */
    double v;
    int dp;
    ok(kline_decimal("0.00100", 7, &v, &dp) == 0 && v == 0.001 && dp == 5, "0.00100");
    ok(kline_decimal("42", 2, &v, &dp) == 0 && v == 42 && dp == 0, "an integer string");
    ok(kline_decimal("12.", 3, &v, &dp) != 0, "12. is refused");
    ok(kline_decimal(".5", 2, &v, &dp) != 0, ".5 is refused");
    ok(kline_decimal("1.2.3", 5, &v, &dp) != 0, "two dots are refused");
    ok(kline_decimal("", 0, &v, &dp) != 0, "empty is refused");
    const char *longnum = "12345678901234567890.123456";
    ok(kline_decimal(longnum, strlen(longnum), &v, &dp) == 0 && fabs(v - 12345678901234567890.123456) < 1e4 && dp == 6,
       "more than 19 digits take the exact slow path");
    ok(kline_decimal("0.1234567890123456789000", 24, &v, &dp) == 0 && fabs(v - 0.123456789012345679) < 1e-17,
       "long fractions round correctly");

    symtab_free(&syms);
    return done();
}
