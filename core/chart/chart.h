/* The chart renderer: one spec in, PNG bytes out.
 *
 * Candles (with wicks and volume bars), overlay lines and bands, a lower
 * pane (RSI-style: a fixed range with guide lines), horizontal lines
 * (thresholds), a highlighted candle and the last price's tag, drawn with
 * cairo and encoded as PNG into memory.  A pure function of its input (no
 * clock, no globals), so it may run on a worker thread; nothing here knows
 * Lua or the loop.
 */
#ifndef CW_CHART_H
#define CW_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "market/candle.h"

/* What one render may ask for: beyond these a spec is refused, so that no
 * caller can make a render take seconds. */
#define CHART_MIN_W 200
#define CHART_MIN_H 150
#define CHART_MAX_W 2000
#define CHART_MAX_H 2000
#define CHART_MAX_POINTS 2000   /* candles, or x values of a line chart */
#define CHART_MAX_SERIES 8
#define CHART_MAX_BANDS 4
#define CHART_MAX_LINES 16
#define CHART_MAX_PRICE 1e15    /* |price| and volume; past it a spec is refused */
#define CHART_COLOURS 4         /* colour slots of series and bands */

enum chart_theme { CHART_DARK, CHART_LIGHT };
enum chart_pane { CHART_PANE_MAIN, CHART_PANE_LOWER };
enum chart_line_style { CHART_LINE_THRESHOLD, CHART_LINE_SOLID };

/* values[i] goes with candle i (or x[i] in a line chart); NaN: no value
 * there (an indicator's warm-up). */
struct chart_series {
    const double *values;
    size_t n;
    int colour;              /* slot 0..CHART_COLOURS-1 */
    const char *label;       /* or NULL */
    enum chart_pane pane;
};

struct chart_band {
    const double *upper, *lower;
    size_t n;
    int colour;
    const char *label;
};

struct chart_hline {
    double price;
    const char *label;       /* or NULL */
    enum chart_line_style style;
};

struct chart_spec {
    int width, height;
    enum chart_theme theme;
    const char *title, *subtitle;      /* or NULL */
    int price_dp;                      /* decimals of prices; -1: candles[0].price_dp */
    const struct candle *candles;      /* oldest first; may be NULL (a line chart) */
    size_t ncandles;
    const int64_t *x;                  /* a line chart's times (ms), oldest first */
    size_t nx;
    const struct chart_series *series;
    size_t nseries;
    const struct chart_band *bands;
    size_t nbands;
    const struct chart_hline *lines;
    size_t nlines;
    double lower_min, lower_max;       /* the lower pane's range (equal: fitted) */
    double lower_guides[2];            /* NaN: no guide */
    long highlight;                    /* index of the candle to mark, or -1 */
    int last_marker;                   /* tag the last close on the price axis */
};

/* A spec with the defaults: 800x500 dark, RSI's 0..100 lower pane with
 * guides at 30 and 70, nothing highlighted, last price tagged. */
void chart_spec_init(struct chart_spec *s);

/* PNG bytes, malloc'd; free with chart_png_free. */
struct chart_png {
    unsigned char *data;
    size_t len, cap;
};
void chart_png_free(struct chart_png *p);

/* Renders s as PNG into *out (which it initialises).  0, or -1 with a
 * sentence in err naming what is wrong with the spec (or out of memory). */
int chart_render(const struct chart_spec *s, struct chart_png *out, char *err, size_t n);

/* The same in two steps, for the bench: draw into an image, encode it. */
struct chart_image;
struct chart_image *chart_draw(const struct chart_spec *s, char *err, size_t n);
int chart_encode(struct chart_image *img, struct chart_png *out, char *err, size_t n);
void chart_image_free(struct chart_image *img);

/* Where things are drawn, for the tests: the main pane's rectangle (x, y,
 * w, h in pixels) and the prices at its top and bottom edge.  Candle i's
 * centre is at x + (i + 0.5) * w / ncandles; price p at
 * y + (top - p) / (top - bottom) * h.  0, or -1 when s is refused. */
struct chart_layout {
    double x, y, w, h;
    double top, bottom;
    double vol_y, vol_h;     /* the volume bars' band inside the main pane */
    double lower_y, lower_h; /* the lower pane (lower_h 0: none) */
};
int chart_layout(const struct chart_spec *s, struct chart_layout *l, char *err, size_t n);

/* Frees the font caches cairo and fontconfig keep across renders, so that
 * a leak checker sees nothing at exit.  Only when no render is running
 * (or will: at exit). */
void chart_release(void);

/* The colours a theme draws things in, as 0xRRGGBB (for the tests and
 * for captions that name them). */
enum chart_role { CHART_BG, CHART_UP, CHART_DOWN, CHART_THRESHOLD, CHART_ACCENT, CHART_SLOT0 };
uint32_t chart_colour(enum chart_theme t, enum chart_role r);

/* axis.c: "nice" steps (1, 2 or 5 times a power of ten) of at most
 * max_ticks ticks over range; the decimals a step needs; the UTC time step
 * (ms) for labels at least min_gap_ms apart. */
double chart_nice_step(double range, int max_ticks);
int chart_step_decimals(double step);
int64_t chart_time_step(int64_t min_gap_ms);

#endif
