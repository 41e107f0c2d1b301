/* Technical indicators kept incrementally, one state per (series, spec).
 *
 * Each state takes the closed candles of one series in order, each once
 * (ind_push_closed: O(1), nothing allocated; a gap repaired out of order
 * means ind_reset and the history again) and answers two questions:
 * its value after the last closed candle (ind_value), and the value it
 * would have if the forming candle closed now (ind_peek_forming: a pure
 * function of the closed state and that candle; the state is untouched,
 * and pushing the same candle closed gives exactly the peeked value).
 * Until enough candles have closed an indicator gives no value (the
 * functions return 0), never a partial one.
 *
 *   struct ind_spec spec = {.kind = IND_RSI, .p1 = 14};
 *   char err[128];
 *   if (ind_spec_normalize(&spec, err, sizeof err) != 0) -> say err
 *   struct ind *rsi = ind_new(&spec);          // or ind_size + ind_init
 *   for each closed candle: ind_push_closed(rsi, &(struct ind_bar){h, l, c, v});
 *   double v[IND_MAXOUT];
 *   if (ind_value(rsi, v))                     -> v[0] is RSI(14)
 *   if (ind_peek_forming(rsi, &forming, v))    -> v[0] if it closed now
 *   ind_free(rsi);
 *
 * Parameters (0 means the default; unused ones are set to 0):
 *   kind          p1 p2 p3 k   values (v[0], v[1], v[2])
 *   IND_SMA       20           mean of the last p1 closes
 *   IND_EMA       20           EMA, alpha 2/(p1+1), seeded with SMA(p1)
 *   IND_RSI       14           Wilder's RSI, seeded with the mean of the
 *                              first p1 gains and losses; 100 when no loss,
 *                              50 when the price did not move at all
 *   IND_MACD      12 26 9      line EMA(p1)-EMA(p2), signal EMA(p3) of the
 *                              line (seeded with the SMA of its first p3),
 *                              histogram line-signal; p1 < p2
 *   IND_BB        20       2   middle SMA(p1), upper and lower middle±k·σ,
 *                              σ the population standard deviation
 *   IND_ATR       14           Wilder's ATR: first true range high-low, then
 *                              max(h-l, |h-prev close|, |l-prev close|);
 *                              seeded with the mean of the first p1
 *   IND_STOCH     14 3  3      %K (raw %K over p1 candles, its SMA(p2)), %D
 *                              SMA(p3) of %K; raw %K is 50 when the p1
 *                              candles' high equals their low
 *   IND_VOL_AVG   20           mean volume of the last p1 candles
 *   IND_VOL_RATIO 20           volume / mean volume of the p1 candles
 *                              before it, and that mean; none while it is 0
 *   IND_ROC       12           100·(close - close p1 candles ago) / that close
 * Periods are 1 to IND_MAX_PERIOD; bb's k is above 0, up to 100.
 *
 * Warm-up: ind_first(spec) is the number of closed candles before the first
 * value; ind_warmup(spec) the number the host should fetch so that the
 * value no longer depends on where the series started: the weight left to
 * the seed of an EMA, a Wilder average or MACD's three EMAs is below 1e-6
 * (on a real day of BTCUSDT 1m candles, two series started 300 candles
 * apart then differ by < 1e-6 relative; see tests/unit/indicator.c).
 * Windowed indicators have no seed: exact as soon as they are warm.
 *   spec            first  warmup     spec            first  warmup
 *   sma(n), bb(n)   n      n          rsi(6)          7      83
 *   ema(9)          9      71         rsi(14)         15     202
 *   ema(20)         20     159        rsi(21)         22     306
 *   ema(21)         21     166        atr(14)         14     201
 *   ema(50)         50     396        macd(12,26,9)   34     211
 *   ema(200)        200    1582       stoch(14,3,3)   18     18
 *   vol_avg(n)      n      n          vol_ratio(n)    n+1    n+1
 *   roc(n)          n+1    n+1
 * (EMA(n): n + ln 1e-6 / ln(1 - 2/(n+1)); Wilder's RSI(n) and ATR(n): their
 * first + ln 1e-6 / ln(1 - 1/n), about 13.8·n.)
 *
 * Windowed sums (SMA, BB, volume) are rolling sums around a pivot near the
 * mean, rebuilt from scratch over every pass of the window, so they do not
 * drift however many candles go through them.  Stoch's highest high and
 * lowest low come from monotonic deques (amortized O(1)).  A state lives in
 * one block of ind_size bytes, its rings sized at creation; it may be moved
 * with memcpy, and nothing else is ever allocated. */
#ifndef CW_INDICATOR_H
#define CW_INDICATOR_H

#include <stddef.h>
#include <stdint.h>

#define IND_MAXOUT 3
#define IND_MAX_PERIOD 10000

enum ind_kind {
    IND_SMA, IND_EMA, IND_RSI, IND_MACD, IND_BB, IND_ATR, IND_STOCH,
    IND_VOL_AVG, IND_VOL_RATIO, IND_ROC,
    IND_KIND_COUNT
};

struct ind_spec {
    enum ind_kind kind;
    int p1, p2, p3;
    double k;
};

/* What a closed or forming candle gives the indicators. */
struct ind_bar {
    double high, low, close, volume;
};

struct ind;

/* Fills defaults, clears unused parameters (so equal specs compare equal
 * field by field) and checks ranges.  0, or -1 with a sentence in err
 * naming the parameter and its range. */
int ind_spec_normalize(struct ind_spec *spec, char *err, size_t errlen);

/* "rsi", "macd", "vol_ratio", ...; ind_kind_parse gives -1 for others. */
const char *ind_kind_name(enum ind_kind kind);
int ind_kind_parse(const char *name);
/* How many values the kind gives (1 to IND_MAXOUT). */
int ind_outputs(enum ind_kind kind);

/* Closed candles before the first value, and the candles to fetch for a
 * converged value (see above); -1 for an invalid spec. */
int ind_first(const struct ind_spec *spec);
int ind_warmup(const struct ind_spec *spec);

/* Bytes a state needs (0 for an invalid spec); ind_init makes one in mem
 * (NULL when the spec is invalid or size too small). */
size_t ind_size(const struct ind_spec *spec);
struct ind *ind_init(void *mem, size_t size, const struct ind_spec *spec);
/* Back to no candles, same spec. */
void ind_reset(struct ind *s);
/* ind_size + ind_init on the heap; NULL on an invalid spec or no memory. */
struct ind *ind_new(const struct ind_spec *spec);
void ind_free(struct ind *s);

const struct ind_spec *ind_spec_of(const struct ind *s);
/* Closed candles taken so far. */
int64_t ind_count(const struct ind *s);

/* Takes the next closed candle.  Returns the number of values now
 * available (0 while not warm), or -1 when a field is not finite (the
 * candle is refused and the state unchanged). */
int ind_push_closed(struct ind *s, const struct ind_bar *bar);
/* The values after the last closed candle: their number, 0 if none. */
int ind_value(const struct ind *s, double out[IND_MAXOUT]);
/* The values if bar, the forming candle, closed now: their number, 0 if
 * none (not warm once it closed, or a field not finite).  s is unchanged. */
int ind_peek_forming(const struct ind *s, const struct ind_bar *bar, double out[IND_MAXOUT]);

#endif
