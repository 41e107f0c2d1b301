/* What the kline parser's two paths share (market/kline.c: the general
 * JSON walker, the checks and the entry points; market/kline_fast.c: the
 * fast path for Binance's own layout).  Internal to market/. */
#ifndef CW_KLINE_PARSE_H
#define CW_KLINE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "market/candle.h"

enum {
    F_t = 1 << 0, F_T = 1 << 1, F_s = 1 << 2, F_i = 1 << 3, F_o = 1 << 4, F_c = 1 << 5,
    F_h = 1 << 6, F_l = 1 << 7, F_v = 1 << 8, F_n = 1 << 9, F_x = 1 << 10, F_q = 1 << 11,
    F_ALL = (1 << 12) - 1,
};

struct parse {
    struct candle *c;
    unsigned seen;
    const char *sym, *iv, *data_sym, *stream, *event;
    size_t sym_n, iv_n, data_sym_n, stream_n, event_n;
    int64_t event_time;
    int has_event_time, has_k, has_reply, has_id, has_error, bad_number;
    int64_t id;
    int dp;
    int venue;            /* whose symbols: enum venue */
};

/* Exact powers of ten for decimals (both paths divide by them). */
static const double kline_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Reads a frame laid out exactly as Binance writes kline events into ps;
 * 0 at the first byte that differs (the general walker then parses it). */
int kline_fast(const char *buf, size_t len, struct parse *ps);

#endif
