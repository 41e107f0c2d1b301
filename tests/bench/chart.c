/* make bench: the chart renderer's cost.  200 one-minute candles of
 * BTCUSDT (tests/fixtures/klines) at 800x500 with volume bars, an EMA 21
 * and a threshold line: median ms per chart, PNG included, against the 5
 * ms target, and the split between drawing and PNG encoding.  Numbers
 * only; nothing here asserts a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chart/chart.h"
#include "../unit/chart_data.h"

#define BTC_1M "tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv"
#define NCANDLES 200
#define RUNS 101
#define TARGET_MS 5.0

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);   /* CPU time: other work on the machine does not count */
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

int main(void)
{
    static struct candle c[NCANDLES];
    static double ema[NCANDLES];
    int n = chart_data_load(BTC_1M, "1m", 600, c, NCANDLES);
    if (n != NCANDLES)
        return 1;
    chart_data_same_dp(c, NCANDLES);
    chart_data_ema(c, NCANDLES, 21, ema);
    struct chart_series sv = {ema, NCANDLES, 0, "EMA 21", CHART_PANE_MAIN};
    struct chart_hline line = {19720, "price above", CHART_LINE_THRESHOLD};
    struct chart_spec s;
    chart_spec_init(&s);
    s.title = "BTCUSDT 1m";
    s.candles = c, s.ncandles = NCANDLES;
    s.series = &sv, s.nseries = 1;
    s.lines = &line, s.nlines = 1;
    s.highlight = NCANDLES - 1;
    static double total[RUNS], draw[RUNS], encode[RUNS];
    size_t bytes = 0;
    char err[200];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_ms();
        struct chart_image *img = chart_draw(&s, err, sizeof err);
        double t1 = now_ms();
        struct chart_png png;
        if (!img || chart_encode(img, &png, err, sizeof err) < 0) {
            fprintf(stderr, "chart: %s\n", err);
            return 1;
        }
        double t2 = now_ms();
        bytes = png.len;
        chart_png_free(&png);
        chart_image_free(img);
        total[r] = t2 - t0, draw[r] = t1 - t0, encode[r] = t2 - t1;
    }
    double med = median(total, RUNS);
    printf("chart 800x500, %d candles + volume + EMA + threshold: %.2f ms median of %d "
           "(draw %.2f ms, PNG encode %.2f ms), %zu bytes\n",
           NCANDLES, med, RUNS, median(draw, RUNS), median(encode, RUNS), bytes);
    printf("target <= %.0f ms per chart: %s (%.2f ms)\n", TARGET_MS, med <= TARGET_MS ? "met" : "MISSED",
           med);
    return 0;
}
