/* The indicator book: a series kept only once read, asking for its history
 * then; values only once warm, equal to a state fed the same candles by
 * hand; forming and "one candle earlier" values; a gap restarts the series
 * and asks for its history once; history rows replace or extend what is
 * held; specs that stay keep their states across a change, and the kept
 * series ask for their history again when specs are added; the history of
 * a series that took a newer candle from the stream meanwhile keeps that
 * candle. */
#include <math.h>
#include <stdlib.h>

#include "indicator/book.h"
#include "market/market.h"
#include "tap.h"
#include "util/interval.h"

#define MIN 60000LL

static struct candle bar(uint32_t sym, int64_t i, int closed)
{
    double p = 100 + 10 * sin((double)i / 7) + (double)(i % 5);
    struct candle c = {0};
    c.open_time = i * MIN;
    c.close_time = c.open_time + MIN - 1;
    c.open = p - 0.5;
    c.close = p;
    c.high = p + 1 + (double)(i % 3);
    c.low = p - 1.5;
    c.volume = 10 + (double)(i % 11);
    c.symbol = sym;
    c.interval = IV_1M;
    c.closed = (uint8_t)closed;
    return c;
}

static void push(struct ind_book *b, uint32_t sym, int64_t i)
{
    struct candle c = bar(sym, i, 1);
    ind_book_closed(b, &c);
}

static int asked, asked_sym, asked_iv;

static void need(void *ud, uint32_t sym, int iv)
{
    (void)ud;
    asked++;
    asked_sym = (int)sym;
    asked_iv = iv;
}

static int close_to(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1, fabs(b));
}

/* rsi(14) from a state fed candles [from, to) by hand */
static double by_hand(int64_t from, int64_t to, int *n)
{
    struct ind_spec s = {.kind = IND_RSI, .p1 = 14};
    struct ind *st = ind_new(&s);
    for (int64_t i = from; i < to; i++) {
        struct candle c = bar(0, i, 1);
        ind_push_closed(st, &(struct ind_bar){c.high, c.low, c.close, c.volume});
    }
    double v[IND_MAXOUT] = {0};
    *n = ind_value(st, v);
    ind_free(st);
    return v[0];
}

static void test_warm_and_values(void)
{
    struct ind_book b;
    ind_book_init(&b);
    struct ind_spec specs[] = {{.kind = IND_RSI, .p1 = 14}, {.kind = IND_SMA, .p1 = 5},
                               {.kind = IND_RSI}};
    is_int(ind_book_set_specs(&b, specs, 3), 1, "specs set: one was added");
    is_int(b.nspecs, 2, "rsi(14) twice (the default period) is kept once");
    int warm = ind_warmup(&specs[0]);
    is_int(ind_book_want(&b), warm, "the book wants rsi(14)'s warm-up: %d candles", warm);
    double v[IND_MAXOUT];
    push(&b, 0, 0);
    ok(!b.pushed, "a series no rule read is not kept");
    ok(ind_book_keep(&b, 0, IV_1M) != NULL, "a series read is kept");
    int64_t i = 0;
    for (; i < warm - 1; i++)
        push(&b, 0, i);
    struct candle c = bar(0, i - 1, 1);
    is_int(ind_book_value(&b, 0, &c, 0, v), 0, "no value before the warm-up (%lld candles)",
           (long long)i);
    ok(ind_book_value(&b, 1, &c, 0, v) == 1, "sma(5) is warm long before");
    struct candle f = bar(0, i, 0);
    int n;
    double want = by_hand(0, i + 1, &n);
    ok(ind_book_value(&b, 0, &f, 0, v) == 1 && close_to(v[0], want),
       "the forming candle that completes the warm-up: its if-closed-now value");
    is_int(ind_book_value(&b, 0, &f, 1, v), 0, "but none one candle earlier (not warm then)");
    struct candle cl = bar(0, i, 1);
    ind_book_closed(&b, &cl);
    ok(ind_book_value(&b, 0, &cl, 0, v) == 1 && close_to(v[0], want),
       "closed: the value after it equals the forming one's peek");
    ind_book_closed(&b, &cl);
    ok(ind_book_value(&b, 0, &cl, 0, v) == 1 && close_to(v[0], want), "a repeat is ignored");
    struct candle next = bar(0, i + 1, 1);
    ind_book_closed(&b, &next);
    double want2 = by_hand(0, i + 2, &n);
    ok(ind_book_value(&b, 0, &next, 0, v) == 1 && close_to(v[0], want2), "the next close");
    ok(ind_book_value(&b, 0, &next, 1, v) == 1 && close_to(v[0], want),
       "and one candle earlier: the value before it");
    is_int(ind_book_value(&b, 0, &cl, 0, v), 0, "an older candle: no value (the series moved on)");
    struct candle other = bar(1, i + 1, 1);
    is_int(ind_book_value(&b, 0, &other, 0, v), 0, "another symbol: nothing held");
    is_int(asked, 0, "no history asked for without a gap");
    ind_book_free(&b);
}

static void test_gap_and_history(void)
{
    struct ind_book b;
    ind_book_init(&b);
    b.need_history = need;
    struct ind_spec s = {.kind = IND_RSI, .p1 = 14};
    ind_book_set_specs(&b, &s, 1);
    int warm = b.warm[0];
    asked = 0;
    double v[IND_MAXOUT];
    struct candle first = bar(3, 0, 1);
    is_int(ind_book_value(&b, 0, &first, 0, v), 0, "read the first time: no value yet");
    is_int(asked, 1, "and the series asks for its history");
    ok(asked_sym == 3 && asked_iv == IV_1M, "(that series')");
    ind_book_value(&b, 0, &first, 0, v);
    is_int(asked, 1, "once, until it comes");
    int64_t n = warm + 15;
    struct candle *rows = malloc(sizeof *rows * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        rows[i] = bar(3, i, 1);
    ind_book_history(&b, 3, IV_1M, rows, (size_t)(warm + 10));
    struct candle gap = bar(3, warm + 12, 1);   /* warm + 10 and 11 missing */
    ind_book_closed(&b, &gap);
    is_int(asked, 2, "a gap asks for the history again");
    is_int(ind_book_value(&b, 0, &gap, 0, v), 0, "and the series gives no value until then");
    struct candle after = bar(3, warm + 14, 1);
    ind_book_closed(&b, &after);
    is_int(asked, 2, "a second gap before the history came: not asked again");
    ind_book_history(&b, 3, IV_1M, rows, (size_t)n);   /* every closed candle to warm + 14 */
    int k;
    double want = by_hand(0, n, &k);
    ok(ind_book_value(&b, 0, &after, 0, v) == 1 && close_to(v[0], want),
       "the history replaced the restarted series: the value is the one from every candle");
    /* history that continues what is held: only the newer rows are taken */
    uint64_t pushed = b.pushed;
    ind_book_history(&b, 3, IV_1M, rows + n - 5, 5);
    is_int(b.pushed, pushed, "rows already held are not taken again");
    struct candle more[3] = {bar(3, n - 1, 1), bar(3, n, 1), bar(3, n + 1, 1)};
    ind_book_history(&b, 3, IV_1M, more, 3);
    is_int(b.pushed, pushed + 2, "rows that continue it: the new ones taken");
    want = by_hand(0, n + 2, &k);
    ok(ind_book_value(&b, 0, &more[2], 0, v) == 1 && close_to(v[0], want), "and its value");
    push(&b, 3, n + 5);
    is_int(asked, 3, "after the history came, a new gap asks again");
    free(rows);
    ind_book_free(&b);
}

/* A candle closes while the series' history is on its way: the engine
 * hands it to the book before the rows (which end before it) come.  The
 * series restarts from the rows and takes that candle again from the
 * store: no gap, no second history. */
static void test_history_behind_the_stream(void)
{
    struct market m;
    market_init(&m, 6, NULL);
    m.ind.need_history = need;
    struct ind_spec s = {.kind = IND_RSI, .p1 = 14};
    ind_book_set_specs(&m.ind, &s, 1);
    int warm = m.ind.warm[0];
    ind_book_keep(&m.ind, 0, IV_1M);     /* a rule read it: its history is asked for */
    struct candle live = bar(0, warm + 1, 1);
    market_apply(&m, &live);             /* the stream's close, stored */
    ind_book_closed(&m.ind, &live);      /* and drained by the engine */
    int64_t n = warm + 1;                /* the rows: candles 0 .. warm */
    struct candle *rows = malloc(sizeof *rows * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        rows[i] = bar(0, i, 1);
    market_history(&m, 0, IV_1M, rows, (size_t)n, 6);
    asked = 0;
    struct candle next = bar(0, warm + 2, 1);
    market_apply(&m, &next);
    ind_book_closed(&m.ind, &next);
    is_int(asked, 0, "the next close is no gap: no history asked for again");
    int k;
    double v[IND_MAXOUT], want = by_hand(0, warm + 3, &k);
    ok(ind_book_value(&m.ind, 0, &next, 0, v) == 1 && close_to(v[0], want),
       "its value is the one from every candle, the one taken before the rows included");
    free(rows);
    market_free(&m);
}

static void test_specs_change(void)
{
    struct ind_book b;
    ind_book_init(&b);
    struct ind_spec a[] = {{.kind = IND_SMA, .p1 = 3}, {.kind = IND_EMA, .p1 = 4}};
    ind_book_set_specs(&b, a, 2);
    ind_book_keep(&b, 0, IV_1M);
    b.need_history = need;
    asked = 0;
    for (int64_t i = 0; i < 200; i++)
        push(&b, 0, i);
    struct candle last = bar(0, 199, 1);
    double before[IND_MAXOUT], v[IND_MAXOUT];
    ok(ind_book_value(&b, 1, &last, 0, before) == 1, "ema(4) warm");
    struct ind_spec c[] = {{.kind = IND_EMA, .p1 = 4}, {.kind = IND_ROC, .p1 = 2}};
    is_int(ind_book_set_specs(&b, c, 2), 1, "roc(2) is new");
    is_int(asked, 1, "the kept series asks for its history again");
    is_int(ind_book_find(&b, &a[0]), -1, "sma(3) is gone");
    int e = ind_book_find(&b, &c[0]);
    ok(e >= 0 && ind_book_value(&b, e, &last, 0, v) == 1 && v[0] == before[0],
       "ema(4) kept its state across the change");
    is_int(ind_book_value(&b, ind_book_find(&b, &c[1]), &last, 0, v), 0, "roc(2) starts cold");
    is_int(ind_book_set_specs(&b, c, 2), 0, "the same specs again: nothing added");
    struct ind_spec bad = {.kind = IND_MACD, .p1 = 30, .p2 = 10};
    is_int(ind_book_set_specs(&b, &bad, 1), 0, "an invalid spec is left out");
    is_int(b.nspecs, 0, "(and the book holds none)");
    ind_book_free(&b);
}

static void test_format(void)
{
    char s[64];
    ind_spec_format(&(struct ind_spec){.kind = IND_MACD, .p1 = 12, .p2 = 26, .p3 = 9}, s, sizeof s);
    is_str(s, "macd(12,26,9)", "macd's name");
    ind_spec_format(&(struct ind_spec){.kind = IND_BB, .p1 = 20, .k = 2.5}, s, sizeof s);
    is_str(s, "bb(20,2.5)", "bb's name");
    struct ind_spec sp;
    char err[160];
    ok(ind_spec_parse("macd(12,26,9)", &sp, err, sizeof err) == 0 && sp.kind == IND_MACD &&
       sp.p1 == 12 && sp.p2 == 26 && sp.p3 == 9, "macd(12,26,9) parsed");
    ok(ind_spec_parse("rsi", &sp, err, sizeof err) == 0 && sp.p1 == 14, "rsi: its default period");
    ok(ind_spec_parse("bb(20,2.5)", &sp, err, sizeof err) == 0 && sp.k == 2.5, "bb's k");
    const char *bad[] = {"rsi(14", "rsi(1.5)", "foo(3)", "macd(26,12)", "rsi(14,2)", "(3)",
                         "ema(0)", "ema(x)"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        ok(ind_spec_parse(bad[i], &sp, err, sizeof err) == -1 && err[0], "%s refused: %s", bad[i],
           err);
    }
}

int main(void)
{
    test_warm_and_values();
    test_gap_and_history();
    test_history_behind_the_stream();
    test_specs_change();
    test_format();
    return done();
}
