/* Renders fixture klines as a chart, to look at (and docs/chart.png):
 *   chartpng CSV INTERVAL OUT.png [from=N] [count=N] [theme=light]
 *            [ema=P] [rsi=P] [bands=P] [threshold=PRICE] [highlight=I]
 *            [width=W] [height=H] [title=TEXT] [subtitle=TEXT]
 * Exit 0, or 1 with the renderer's error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart/chart.h"
#include "../unit/chart_data.h"

#define MAX_C 2000

static const char *opt(int argc, char **argv, const char *key, const char *dflt)
{
    size_t k = strlen(key);
    for (int i = 4; i < argc; i++)
        if (!strncmp(argv[i], key, k) && argv[i][k] == '=')
            return argv[i] + k + 1;
    return dflt;
}

/* Bollinger-style bands: the closes' mean +- 2 standard deviations. */
static void bands_of(const struct candle *c, size_t n, int p, double *up, double *lo)
{
    for (size_t i = 0; i < n; i++) {
        if ((int)i + 1 < p) {
            up[i] = lo[i] = NAN;
            continue;
        }
        double s = 0, s2 = 0;
        for (int k = 0; k < p; k++) {
            s += c[i - k].close;
            s2 += c[i - k].close * c[i - k].close;
        }
        double m = s / p, sd = sqrt(fmax(0, s2 / p - m * m));
        up[i] = m + 2 * sd;
        lo[i] = m - 2 * sd;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: chartpng CSV INTERVAL OUT.png [key=value ...]\n");
        return 2;
    }
    static struct candle c[MAX_C];
    static double ema[MAX_C], rsi[MAX_C], up[MAX_C], lo[MAX_C];
    size_t count = (size_t)atoi(opt(argc, argv, "count", "120"));
    int n = chart_data_load(argv[1], argv[2], (size_t)atoi(opt(argc, argv, "from", "0")), c,
                            count < MAX_C ? count : MAX_C);
    if (n <= 0)
        return 1;
    chart_data_same_dp(c, (size_t)n);
    struct chart_spec s;
    chart_spec_init(&s);
    s.width = atoi(opt(argc, argv, "width", "800"));
    s.height = atoi(opt(argc, argv, "height", "500"));
    s.theme = strcmp(opt(argc, argv, "theme", "dark"), "light") ? CHART_DARK : CHART_LIGHT;
    s.title = opt(argc, argv, "title", NULL);
    s.subtitle = opt(argc, argv, "subtitle", NULL);
    s.candles = c;
    s.ncandles = (size_t)n;
    struct chart_series sv[2];
    struct chart_band b;
    char ema_label[32], rsi_label[32], band_label[32];
    int p = atoi(opt(argc, argv, "ema", "0"));
    if (p > 0) {
        chart_data_ema(c, (size_t)n, p, ema);
        snprintf(ema_label, sizeof ema_label, "EMA %d", p);
        sv[s.nseries++] = (struct chart_series){ema, (size_t)n, 0, ema_label, CHART_PANE_MAIN};
    }
    if ((p = atoi(opt(argc, argv, "rsi", "0"))) > 0) {
        chart_data_rsi(c, (size_t)n, p, rsi);
        snprintf(rsi_label, sizeof rsi_label, "RSI %d", p);
        sv[s.nseries++] = (struct chart_series){rsi, (size_t)n, 1, rsi_label, CHART_PANE_LOWER};
    }
    if ((p = atoi(opt(argc, argv, "bands", "0"))) > 0) {
        bands_of(c, (size_t)n, p, up, lo);
        snprintf(band_label, sizeof band_label, "BB %d", p);
        b = (struct chart_band){up, lo, (size_t)n, 2, band_label};
        s.bands = &b;
        s.nbands = 1;
    }
    s.series = sv;
    struct chart_hline line = {atof(opt(argc, argv, "threshold", "0")), "threshold",
                               CHART_LINE_THRESHOLD};
    if (line.price != 0) {
        s.lines = &line;
        s.nlines = 1;
    }
    s.highlight = atol(opt(argc, argv, "highlight", "-1"));
    struct chart_png png;
    char err[200];
    if (chart_render(&s, &png, err, sizeof err) < 0) {
        fprintf(stderr, "chartpng: %s\n", err);
        return 1;
    }
    FILE *f = fopen(argv[3], "wb");
    if (!f || fwrite(png.data, 1, png.len, f) != png.len || fclose(f) != 0) {
        fprintf(stderr, "chartpng: cannot write %s\n", argv[3]);
        return 1;
    }
    printf("%s: %zu bytes\n", argv[3], png.len);
    chart_png_free(&png);
    return 0;
}
