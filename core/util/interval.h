/* Kline intervals, by the names Binance uses ("1m" ... "1d"). */
#ifndef CW_INTERVAL_H
#define CW_INTERVAL_H

#include <stddef.h>
#include <stdint.h>

enum interval {
    IV_1M, IV_3M, IV_5M, IV_15M, IV_30M, IV_1H, IV_2H, IV_4H, IV_6H, IV_8H, IV_12H, IV_1D,
    IV_COUNT
};

/* -1 when name (not NUL-terminated) is not a known interval. */
int interval_parse(const char *name, size_t len);
const char *interval_name(int iv);
int64_t interval_ms(int iv);

#endif
