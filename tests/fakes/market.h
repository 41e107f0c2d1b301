/* The stand-in exchange's market: deterministic prices, so that any closed
 * candle can be recomputed exactly (the "truth" tests compare against).
 *
 * A 1m candle is made of 60 one-second steps of a price path that is a pure
 * function of (symbol, second); higher intervals aggregate 1m candles.
 */
#ifndef CW_FAKE_MARKET_H
#define CW_FAKE_MARKET_H

#include <stdint.h>

#define FAKE_MAX_SYMBOLS 2048

struct fake_symbol {
    char name[24];
    char lower[24];
    int dp;               /* price decimals */
    double base;          /* price level */
    double quote_volume;  /* 24 h, for the ranking */
    int trading;          /* listed and trading */
};

struct fake_candle {
    int64_t open_time, close_time;
    double open, high, low, close, volume, quote_volume;
    int trades;
};

#define FAKE_TRENDS 64   /* trend changes kept (each one's past stays as it was) */
#define FAKE_CACHE 512   /* closed 1m candles kept per symbol (> 4 h) */
#define FAKE_HOUR_CACHE 64   /* closed 1h aggregates kept per symbol (> 2 days):
                              * a forming 1d candle sums at most 24 of them and
                              * 60 minutes, not 1,440 minutes, on every tick */

struct fake_cached {
    int64_t minute;       /* open_time / 60000, or -1 */
    struct fake_candle c;
};

struct fake_replay {       /* recorded 1m candles driving one symbol */
    struct fake_candle *rows;
    int n;
    int64_t first_minute;  /* open_time / 60000 of the first row */
};

struct fake_market {
    struct fake_symbol sym[FAKE_MAX_SYMBOLS];
    int nsym;
    struct fake_replay replay[FAKE_MAX_SYMBOLS];   /* n == 0: synthetic prices */
    struct fake_cached *cache[FAKE_MAX_SYMBOLS];   /* allocated on first use */
    struct fake_cached *hours[FAKE_MAX_SYMBOLS];   /* (minute: the hour's first) */
    double volatility;     /* the synthetic prices' waves scaled (1: as they are) */
    int64_t move_sec;      /* from this second on, every synthetic price is */
    double move_factor;    /* multiplied by this (a market-wide move); 0: none */
    struct fake_trend {    /* from second sec on, synthetic prices drift by */
        int64_t sec;       /* bp basis points a minute, compounding, from */
        double bp, f0;     /* the factor f0 the drift before had reached */
    } trend[FAKE_TRENDS];
    int ntrend;
};

void market_init(struct fake_market *m, int nsym);
int market_add(struct fake_market *m, const char *name);
int market_find(const struct fake_market *m, const char *name);
/* Every synthetic price moves by pct percent from the second after now_ms
 * on (moves compound); closed candles stay as they were. */
void market_move(struct fake_market *m, double pct, int64_t now_ms);
/* Every synthetic price drifts bp basis points a minute (compounding;
 * negative: down) from the second after now_ms on, continuing from where
 * the drift before had brought it (0 ends a drift); closed candles stay as
 * they were.  -1 when FAKE_TRENDS changes were made already. */
int market_trend(struct fake_market *m, double bp, int64_t now_ms);
/* Loads a data.binance.vision 1m kline CSV (header or not, ms or us) as the
 * candles of symbol `name`, added if needed; they repeat after the last row.
 * Returns the first row's open time (ms), or -1. */
int64_t market_replay(struct fake_market *m, const char *name, const char *csv_path);
/* The candle of `interval_ms` opening at open_ms, as of time now_ms (closed
 * when now_ms is past its end; forming otherwise). */
void market_candle(struct fake_market *m, int sym, int64_t interval_ms, int64_t open_ms,
                   int64_t now_ms, struct fake_candle *out);

#endif
