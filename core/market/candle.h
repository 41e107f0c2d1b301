/* One kline update as the core holds it: fixed size, no pointers. */
#ifndef CW_CANDLE_H
#define CW_CANDLE_H

#include <stdint.h>

struct candle {
    int64_t open_time;     /* ms since the epoch */
    int64_t close_time;    /* open_time + interval - 1 */
    int64_t event_time;    /* when the exchange produced this update */
    double open, high, low, close;
    double volume;         /* base asset */
    double quote_volume;
    int32_t trades;
    uint32_t symbol;       /* id in the symbol table */
    uint8_t interval;      /* enum interval */
    uint8_t closed;        /* the candle is final */
    uint8_t backfilled;    /* came from REST gap repair, not the live stream */
    uint8_t price_dp;      /* decimals the exchange used for prices (display) */
};

#endif
