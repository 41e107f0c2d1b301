/* Candles for the chart's tests, bench and tools: read from a kline CSV
 * of tests/fixtures/klines (core/replay/csvrow.h), and the EMA and RSI
 * overlays a chart draws on them.  Header-only: each program includes it
 * once. */
#ifndef CW_TEST_CHART_DATA_H
#define CW_TEST_CHART_DATA_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/candle.h"
#include "replay/csvrow.h"
#include "util/interval.h"

/* Up to max candles of path, from row `from` on (0 = the first).  The
 * count read, or -1 with a message on stderr. */
static inline int chart_data_load(const char *path, const char *iv_name, size_t from, struct candle *out,
                           size_t max)
{
    int iv = interval_parse(iv_name, strlen(iv_name));
    FILE *f = fopen(path, "r");
    if (!f || iv < 0) {
        fprintf(stderr, "cannot read %s (%s)\n", path, iv_name);
        if (f)
            fclose(f);
        return -1;
    }
    struct csv_layout lay;
    memset(&lay, 0, sizeof lay);
    char *line = NULL, err[200];
    size_t cap = 0, n = 0, row_no = 0;
    ssize_t len;
    while (n < max && (len = getline(&line, &cap, f)) > 0) {
        struct csv_row r;
        int rc = csvrow_read(&lay, line, (size_t)len, iv, &r, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", path, err);
            break;
        }
        if (rc == 0 || row_no++ < from)
            continue;
        struct candle *c = &out[n++];
        memset(c, 0, sizeof *c);
        c->open_time = r.open_time;
        c->close_time = r.close_time;
        c->open = r.open, c->high = r.high, c->low = r.low, c->close = r.close;
        c->volume = r.volume;
        c->quote_volume = r.quote_volume;
        c->interval = (uint8_t)iv;
        c->closed = 1;
        c->price_dp = r.price_dp;
    }
    free(line);
    fclose(f);
    return (int)n;
}

/* The same number of decimals for every candle: the most any carried. */
static inline void chart_data_same_dp(struct candle *c, size_t n)
{
    uint8_t dp = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].price_dp > dp)
            dp = c[i].price_dp;
    for (size_t i = 0; i < n; i++)
        c[i].price_dp = dp;
}

/* EMA of the closes; NaN until `period` candles were seen. */
static inline void chart_data_ema(const struct candle *c, size_t n, int period, double *out)
{
    double k = 2.0 / (period + 1), e = 0;
    for (size_t i = 0; i < n; i++) {
        e = i == 0 ? c[i].close : c[i].close * k + e * (1 - k);
        out[i] = (int)i + 1 < period ? NAN : e;
    }
}

/* Wilder's RSI of the closes; NaN during the warm-up. */
static inline void chart_data_rsi(const struct candle *c, size_t n, int period, double *out)
{
    double up = 0, down = 0;
    for (size_t i = 0; i < n; i++) {
        double d = i ? c[i].close - c[i - 1].close : 0;
        double u = d > 0 ? d : 0, w = d < 0 ? -d : 0;
        if ((int)i <= period) {
            up += u / period;
            down += w / period;
        } else {
            up = (up * (period - 1) + u) / period;
            down = (down * (period - 1) + w) / period;
        }
        out[i] = (int)i < period ? NAN : down == 0 ? 100 : 100 - 100 / (1 + up / down);
    }
}

#endif
