/* The candle store: exactly-once closes across duplicates, late updates,
 * gap repair out of order, and a full ring. */
#include "market/candles.h"
#include "tap.h"

static struct candle k(int64_t open_min, int closed, int64_t event)
{
    struct candle c;
    memset(&c, 0, sizeof c);
    c.symbol = 3;
    c.interval = IV_1M;
    c.open_time = open_min * 60000;
    c.close_time = c.open_time + 59999;
    c.event_time = event;
    c.open = c.high = c.low = c.close = 100 + (double)open_min;
    c.closed = (uint8_t)closed;
    return c;
}

int main(void)
{
    struct candles cs;
    candles_init(&cs, 5);
    struct candle c;

    ok(candles_series(&cs, 3, IV_1M) == NULL, "nothing is held before the first update");
    c = k(10, 0, 1);
    is_int(candles_apply(&cs, &c), CANDLE_FORMING, "a forming update");
    c = k(10, 0, 2);
    is_int(candles_apply(&cs, &c), CANDLE_FORMING, "a newer forming update");
    c = k(10, 0, 1);
    is_int(candles_apply(&cs, &c), CANDLE_IGNORED, "an older update of the same candle is ignored");
    c = k(10, 0, 2);
    is_int(candles_apply(&cs, &c), CANDLE_IGNORED, "the same update twice is ignored");
    c = k(10, 1, 3);
    is_int(candles_apply(&cs, &c), CANDLE_CLOSED, "the close is emitted");
    is_int(candles_apply(&cs, &c), CANDLE_IGNORED, "the same close again is not");
    c = k(10, 0, 4);
    is_int(candles_apply(&cs, &c), CANDLE_IGNORED, "a forming update of a closed candle is ignored");
    const struct series *s = candles_series(&cs, 3, IV_1M);
    ok(s && !s->has_forming, "closing clears the forming candle");

    /* a reconnect: minutes 11..13 were missed, the live stream resumes at 14 */
    c = k(14, 1, 10);
    is_int(candles_apply(&cs, &c), CANDLE_CLOSED, "the first close after a gap");
    int emitted = 0;
    for (int m = 11; m <= 14; m++) {   /* backfill, overlapping the live close */
        c = k(m, 1, 20);
        c.backfilled = 1;
        emitted += candles_apply(&cs, &c) == CANDLE_CLOSED;
    }
    is_int(emitted, 3, "backfill emits exactly the three missing candles");
    int64_t want[] = {14, 13, 12, 11, 10};
    int order = 1;
    for (uint32_t i = 0; i < 5; i++)
        order &= series_closed(s, cs.history, i)->open_time == want[i] * 60000;
    ok(order, "history is in open-time order, newest first");
    ok(series_closed(s, cs.history, 5) == NULL, "no more than held");

    c = k(15, 1, 30);
    candles_apply(&cs, &c);
    is_int(series_closed(s, cs.history, 4)->open_time, 11 * 60000, "a full ring drops the oldest");
    c = k(9, 1, 31);
    is_int(candles_apply(&cs, &c), CANDLE_IGNORED, "older than everything held is ignored");

    /* gaps inside a full ring */
    struct candles cs2;
    candles_init(&cs2, 4);
    int mins[] = {1, 2, 4, 5};
    for (int i = 0; i < 4; i++) {
        c = k(mins[i], 1, i);
        candles_apply(&cs2, &c);
    }
    c = k(3, 1, 9);
    is_int(candles_apply(&cs2, &c), CANDLE_CLOSED, "a missing candle inside a full ring is inserted");
    s = candles_series(&cs2, 3, IV_1M);
    ok(series_closed(s, 4, 0)->open_time == 5 * 60000 && series_closed(s, 4, 2)->open_time == 3 * 60000 &&
       series_closed(s, 4, 3)->open_time == 2 * 60000, "in place, dropping the oldest");

    /* many symbols: the series table grows without losing data */
    for (uint32_t sym = 0; sym < 500; sym++) {
        c = k(1, 1, 1);
        c.symbol = sym;
        c.interval = IV_4H;
        c.open_time = 4 * 3600000;
        candles_apply(&cs, &c);
    }
    is_int(series_closed(candles_series(&cs, 3, IV_1M), cs.history, 0)->open_time, 15 * 60000,
           "earlier series survive the table growing");
    ok(candles_series(&cs, 499, IV_4H) != NULL, "the 500th symbol is held");
    /* a rule asks for more history: a wrapped ring grows in place, in order */
    struct candles cs3;
    candles_init(&cs3, 4);
    for (int m = 1; m <= 6; m++) {   /* 6 into 4 slots: the ring has wrapped */
        c = k(m, 1, m);
        candles_apply(&cs3, &c);
    }
    is_int(candles_reserve(&cs3, 2), 0, "a smaller size is no change");
    is_int((int)cs3.history, 4, "the ring never shrinks");
    is_int(candles_reserve(&cs3, 7), 0, "the rings grow");
    is_int((int)cs3.history, 7, "to the size asked");
    s = candles_series(&cs3, 3, IV_1M);
    int kept = s->count == 4;
    for (uint32_t i = 0; i < 4; i++)
        kept &= series_closed(s, cs3.history, i)->open_time == (6 - (int64_t)i) * 60000 &&
                series_closed(s, cs3.history, i)->close == 106 - (double)i;
    ok(kept, "what was held stays, newest first");
    for (int m = 7; m <= 12; m++) {
        c = k(m, 1, m);
        candles_apply(&cs3, &c);
    }
    is_int((int)s->count, 7, "the ring now holds the new size");
    int order3 = 1;
    for (uint32_t i = 0; i < 7; i++)
        order3 &= series_closed(s, cs3.history, i)->open_time == (12 - (int64_t)i) * 60000;
    ok(order3, "in open-time order across the growth");
    c = k(20, 1, 20);
    c.interval = IV_5M;
    candles_apply(&cs3, &c);
    c = k(21, 1, 21);
    c.interval = IV_5M;
    candles_apply(&cs3, &c);
    is_int((int)candles_series(&cs3, 3, IV_5M)->count, 2, "a series begun after the growth");

    candles_free(&cs);
    candles_free(&cs2);
    candles_free(&cs3);
    return done();
}
