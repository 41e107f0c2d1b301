/* libFuzzer target for the chart renderer (make fuzz): the input's bytes
 * are the spec's numbers, read 8 at a time as doubles (so NaN, infinities,
 * denormals and huge values all come up): candles, an overlay series, a
 * band, a line, the lower pane's range, the size and the highlight.
 * Whatever they are, chart_render must draw the chart or refuse it with a
 * reason, never crash, hang or hit undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chart/chart.h"

#define MAXN 64

struct input {
    const uint8_t *p;
    size_t left;
};

static double take(struct input *in)
{
    double d = 0;
    size_t n = in->left < sizeof d ? in->left : sizeof d;
    memcpy(&d, in->p, n);
    in->p += n;
    in->left -= n;
    return d;
}

static uint8_t byte(struct input *in)
{
    uint8_t b = in->left ? *in->p : 0;
    if (in->left)
        in->p++, in->left--;
    return b;
}

/* the fonts' caches freed at exit, before the leak check */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    atexit(chart_release);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    static struct candle c[MAXN];
    static double v[MAXN], up[MAXN], lo[MAXN];
    size_t n = 1 + byte(&in) % MAXN;
    struct chart_spec s;
    chart_spec_init(&s);
    s.width = CHART_MIN_W + byte(&in);    /* small: many runs a second */
    s.height = CHART_MIN_H + byte(&in);
    s.theme = byte(&in) & 1 ? CHART_LIGHT : CHART_DARK;
    s.highlight = (long)(byte(&in) % (n + 1)) - 1;
    for (size_t i = 0; i < n; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].open_time = (int64_t)i * 60000 + (byte(&in) == 255 ? -120000 : 0);
        c[i].open = take(&in), c[i].high = take(&in), c[i].low = take(&in), c[i].close = take(&in);
        c[i].volume = take(&in);
        v[i] = take(&in), up[i] = take(&in), lo[i] = take(&in);
    }
    struct chart_series sv = {v, n, byte(&in) % CHART_COLOURS, "s",
                              byte(&in) & 1 ? CHART_PANE_LOWER : CHART_PANE_MAIN};
    struct chart_band b = {up, lo, n, 0, "b"};
    struct chart_hline h = {take(&in), "t", CHART_LINE_THRESHOLD};
    s.candles = c, s.ncandles = n;
    s.series = &sv, s.nseries = 1, s.bands = &b, s.nbands = 1, s.lines = &h, s.nlines = 1;
    s.lower_min = take(&in), s.lower_max = take(&in);
    s.lower_guides[0] = take(&in);
    struct chart_png png;
    char err[200] = "";
    if (chart_render(&s, &png, err, sizeof err) == 0)
        chart_png_free(&png);
    else if (!err[0])
        abort();   /* a refusal must say why */
    return 0;
}
