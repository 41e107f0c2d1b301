/* The renderer's front: checks a spec, lays it out, draws it (draw.c) and
 * encodes the PNG into memory. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "chart/chart_int.h"

void chart_spec_init(struct chart_spec *s)
{
    memset(s, 0, sizeof *s);
    s->width = 800;
    s->height = 500;
    s->theme = CHART_DARK;
    s->price_dp = -1;
    s->lower_min = 0;
    s->lower_max = 100;
    s->lower_guides[0] = 30;
    s->lower_guides[1] = 70;
    s->highlight = -1;
    s->last_marker = 1;
}

static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (n)
        vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int price_ok(double p)
{
    return isfinite(p) && fabs(p) <= CHART_MAX_PRICE;
}

static int check_candles(const struct chart_spec *s, char *err, size_t n)
{
    for (size_t i = 0; i < s->ncandles; i++) {
        const struct candle *c = &s->candles[i];
        if (!price_ok(c->open) || !price_ok(c->high) || !price_ok(c->low) || !price_ok(c->close))
            return fail(err, n, "candle %zu: a price is not a number within +-1e15", i + 1);
        if (!(c->volume >= 0 && c->volume <= CHART_MAX_PRICE))
            return fail(err, n, "candle %zu: volume is not a number within 0..1e15", i + 1);
        if (c->high < c->low || c->high < fmax(c->open, c->close) || c->low > fmin(c->open, c->close))
            return fail(err, n, "candle %zu: high/low do not contain open and close", i + 1);
        if (i && c->open_time <= s->candles[i - 1].open_time)
            return fail(err, n, "candle %zu: open_time is not after the previous candle's", i + 1);
    }
    for (size_t i = 1; i < s->nx; i++)
        if (s->x[i] <= s->x[i - 1])
            return fail(err, n, "x %zu: not after the previous time", i + 1);
    return 0;
}

/* values may hold NaN (no value there), never an infinity or a huge value */
static int values_ok(const double *v, size_t cnt)
{
    for (size_t i = 0; i < cnt; i++)
        if (!isnan(v[i]) && !price_ok(v[i]))
            return 0;
    return 1;
}

static int check_overlays(const struct chart_spec *s, size_t np, char *err, size_t n)
{
    for (size_t i = 0; i < s->nseries; i++) {
        const struct chart_series *v = &s->series[i];
        if (v->n != np)
            return fail(err, n, "series %zu: %zu values for %zu points", i + 1, v->n, np);
        if (v->colour < 0 || v->colour >= CHART_COLOURS)
            return fail(err, n, "series %zu: colour slot out of 0..%d", i + 1, CHART_COLOURS - 1);
        if (!values_ok(v->values, v->n))
            return fail(err, n, "series %zu: a value is infinite or beyond +-1e15", i + 1);
    }
    for (size_t i = 0; i < s->nbands; i++) {
        const struct chart_band *b = &s->bands[i];
        if (b->n != np)
            return fail(err, n, "band %zu: %zu values for %zu points", i + 1, b->n, np);
        if (b->colour < 0 || b->colour >= CHART_COLOURS)
            return fail(err, n, "band %zu: colour slot out of 0..%d", i + 1, CHART_COLOURS - 1);
        if (!values_ok(b->upper, b->n) || !values_ok(b->lower, b->n))
            return fail(err, n, "band %zu: a value is infinite or beyond +-1e15", i + 1);
    }
    for (size_t i = 0; i < s->nlines; i++)
        if (!price_ok(s->lines[i].price))
            return fail(err, n, "line %zu: price is not a number within +-1e15", i + 1);
    return 0;
}

static int check_spec(const struct chart_spec *s, char *err, size_t n)
{
    if (s->width < CHART_MIN_W || s->width > CHART_MAX_W)
        return fail(err, n, "width %d: expected %d..%d", s->width, CHART_MIN_W, CHART_MAX_W);
    if (s->height < CHART_MIN_H || s->height > CHART_MAX_H)
        return fail(err, n, "height %d: expected %d..%d", s->height, CHART_MIN_H, CHART_MAX_H);
    if (s->ncandles && s->nx)
        return fail(err, n, "candles and x together: x is for line charts only");
    size_t np = s->ncandles ? s->ncandles : s->nx;
    if (!np)
        return fail(err, n, "nothing to draw: no candles and no x");
    if (np > CHART_MAX_POINTS)
        return fail(err, n, "%zu points: at most %d", np, CHART_MAX_POINTS);
    if ((s->ncandles && !s->candles) || (s->nx && !s->x))
        return fail(err, n, "candles or x missing");
    if (s->nseries > CHART_MAX_SERIES || s->nbands > CHART_MAX_BANDS || s->nlines > CHART_MAX_LINES)
        return fail(err, n, "too many overlays: at most %d series, %d bands, %d lines",
                    CHART_MAX_SERIES, CHART_MAX_BANDS, CHART_MAX_LINES);
    if (s->price_dp < -1 || s->price_dp > 15)
        return fail(err, n, "price decimals %d: expected 0..15", s->price_dp);
    if (s->highlight < -1 || (s->highlight >= 0 && (size_t)s->highlight >= s->ncandles))
        return fail(err, n, "highlight %ld: no such candle", s->highlight);
    if (!price_ok(s->lower_min) || !price_ok(s->lower_max) || s->lower_min > s->lower_max)
        return fail(err, n, "lower pane range: expected finite min <= max");
    for (int i = 0; i < 2; i++)
        if (!isnan(s->lower_guides[i]) && !price_ok(s->lower_guides[i]))
            return fail(err, n, "lower pane guide %d: not a finite number", i + 1);
    if (check_candles(s, err, n) < 0)
        return -1;
    return check_overlays(s, np, err, n);
}

/* [lo, hi] widened to take v (NaN: no value) */
static void widen(double *lo, double *hi, double v)
{
    if (isnan(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

static void main_range(const struct chart_spec *s, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < s->ncandles; i++) {
        widen(lo, hi, s->candles[i].low);
        widen(lo, hi, s->candles[i].high);
    }
    for (size_t k = 0; k < s->nseries; k++)
        if (s->series[k].pane == CHART_PANE_MAIN)
            for (size_t i = 0; i < s->series[k].n; i++)
                widen(lo, hi, s->series[k].values[i]);
    for (size_t k = 0; k < s->nbands; k++)
        for (size_t i = 0; i < s->bands[k].n; i++) {
            widen(lo, hi, s->bands[k].upper[i]);
            widen(lo, hi, s->bands[k].lower[i]);
        }
    for (size_t k = 0; k < s->nlines; k++)
        widen(lo, hi, s->lines[k].price);
}

static int has_lower(const struct chart_spec *s)
{
    for (size_t k = 0; k < s->nseries; k++)
        if (s->series[k].pane == CHART_PANE_LOWER)
            return 1;
    return 0;
}

/* The lower pane's range: the spec's, or fitted to its series. */
static void lower_range(const struct chart_spec *s, struct chart_geo *g)
{
    g->lower_min = s->lower_min;
    g->lower_max = s->lower_max;
    if (s->lower_min < s->lower_max)
        return;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < s->nseries; k++)
        if (s->series[k].pane == CHART_PANE_LOWER)
            for (size_t i = 0; i < s->series[k].n; i++)
                widen(&lo, &hi, s->series[k].values[i]);
    if (!(lo <= hi))
        lo = 0, hi = 1;
    double pad = hi > lo ? (hi - lo) * 0.08 : fmax(fabs(hi) * 0.01, 1);
    g->lower_min = lo - pad;
    g->lower_max = hi + pad;
}

static void volume_of(const struct chart_spec *s, struct chart_geo *g)
{
    g->vol_max = 0;
    for (size_t i = 0; i < s->ncandles; i++)
        if (s->candles[i].volume > g->vol_max)
            g->vol_max = s->candles[i].volume;
    g->has_volume = g->vol_max > 0;
}

/* The panes top to bottom: header, main (volume at its foot), lower, time. */
static void vertical(const struct chart_spec *s, struct chart_geo *g)
{
    double scale = s->width / 800.0;
    g->font = fmax(13, 13 * scale);
    g->title_font = fmax(16, 18 * scale);
    double top = (s->title || s->subtitle) ? g->title_font * 2.0 : g->font;
    double time_h = g->font * 2.0;
    double avail = s->height - top - time_h;
    g->l.y = top;
    g->l.lower_h = has_lower(s) ? floor(avail * 0.24) : 0;
    double gap = g->l.lower_h > 0 ? g->font * 0.6 : 0;
    g->l.h = avail - g->l.lower_h - gap;
    g->l.lower_y = g->l.y + g->l.h + gap;
    g->l.vol_h = g->has_volume ? floor(g->l.h * 0.18) : 0;
    g->l.vol_y = g->l.y + g->l.h - g->l.vol_h;
    g->time_y = s->height - g->font * 0.6;
}

/* Prices at the pane's edges: the data with a margin, kept clear of the
 * volume bars below. */
static void price_scale(const struct chart_spec *s, struct chart_geo *g)
{
    double lo, hi;
    main_range(s, &lo, &hi);
    if (!(lo <= hi))   /* a line chart whose values are all missing */
        lo = 0, hi = 1;
    double pad = hi > lo ? (hi - lo) * 0.06 : fmax(fabs(hi) * 0.01, 1e-6);
    lo -= pad;
    hi += pad;
    double used = g->l.h - g->l.vol_h - g->font * 0.5 * (g->l.vol_h > 0);
    g->l.top = hi;
    g->l.bottom = hi - (hi - lo) * g->l.h / used;
    int max_ticks = (int)fmax(2, g->l.h / (g->font * 2.4));
    g->step = chart_nice_step(g->l.top - g->l.bottom, max_ticks);
    g->tick_dp = chart_step_decimals(g->step);
    g->price_dp = s->price_dp >= 0 ? s->price_dp
                  : s->ncandles ? (s->candles[0].price_dp <= 15 ? s->candles[0].price_dp : 15)
                  : g->tick_dp;
}

/* The price axis is as wide as its longest label (DejaVu Sans' digits are
 * 0.64 em wide). */
static void horizontal(const struct chart_spec *s, struct chart_geo *g)
{
    int dp = g->price_dp > g->tick_dp ? g->price_dp : g->tick_dp;
    double big = fmax(fabs(g->l.top), fabs(g->l.bottom));
    char buf[64];
    int chars = snprintf(buf, sizeof buf, "-%.*f", dp, big);
    double axis_w = (chars + 1) * 0.64 * g->font + g->font;
    g->l.x = g->font * 0.8;
    g->l.w = floor(s->width - g->l.x - axis_w);
    g->axis_x = g->l.x + g->l.w + g->font * 0.6;
}

int chart_geometry(const struct chart_spec *s, struct chart_geo *g, char *err, size_t n)
{
    if (check_spec(s, err, n) < 0)
        return -1;
    memset(g, 0, sizeof *g);
    g->npoints = s->ncandles ? s->ncandles : s->nx;
    volume_of(s, g);
    vertical(s, g);
    price_scale(s, g);
    horizontal(s, g);
    lower_range(s, g);
    if (g->l.w < 40 || g->l.h < 40)
        return fail(err, n, "%dx%d: too small for the price labels", s->width, s->height);
    return 0;
}

int chart_layout(const struct chart_spec *s, struct chart_layout *l, char *err, size_t n)
{
    struct chart_geo g;
    if (chart_geometry(s, &g, err, n) < 0)
        return -1;
    *l = g.l;
    return 0;
}

double chart_point_x(const struct chart_spec *s, const struct chart_geo *g, size_t i)
{
    if (s->ncandles || g->npoints < 2)
        return g->l.x + (i + 0.5) * g->l.w / g->npoints;
    double t0 = (double)s->x[0], t1 = (double)s->x[g->npoints - 1];
    return g->l.x + ((double)s->x[i] - t0) / (t1 - t0) * g->l.w;
}

double chart_price_y(const struct chart_geo *g, double p)
{
    return g->l.y + (g->l.top - p) / (g->l.top - g->l.bottom) * g->l.h;
}

struct chart_image {
    cairo_surface_t *surface;
};

struct chart_image *chart_draw(const struct chart_spec *s, char *err, size_t n)
{
    struct chart_geo g;
    if (chart_geometry(s, &g, err, n) < 0)
        return NULL;
    struct chart_image *img = malloc(sizeof *img);
    if (!img) {
        fail(err, n, "out of memory");
        return NULL;
    }
    /* RGB24: no alpha channel to encode */
    img->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, s->width, s->height);
    cairo_t *cr = cairo_create(img->surface);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        fail(err, n, "drawing: %s", cairo_status_to_string(cairo_status(cr)));
        cairo_destroy(cr);
        chart_image_free(img);
        return NULL;
    }
    chart_paint(cr, s, &g);
    cairo_destroy(cr);
    return img;
}

void chart_image_free(struct chart_image *img)
{
    if (!img)
        return;
    cairo_surface_destroy(img->surface);
    free(img);
}

void chart_png_free(struct chart_png *p)
{
    free(p->data);
    memset(p, 0, sizeof *p);
}

int chart_encode(struct chart_image *img, struct chart_png *out, char *err, size_t n)
{
    cairo_surface_flush(img->surface);
    if (chart_png_encode(cairo_image_surface_get_data(img->surface),
                         cairo_image_surface_get_stride(img->surface),
                         cairo_image_surface_get_width(img->surface),
                         cairo_image_surface_get_height(img->surface), out) < 0)
        return fail(err, n, "PNG: out of memory");
    return 0;
}

int chart_render(const struct chart_spec *s, struct chart_png *out, char *err, size_t n)
{
    memset(out, 0, sizeof *out);
    struct chart_image *img = chart_draw(s, err, n);
    if (!img)
        return -1;
    int rc = chart_encode(img, out, err, n);
    chart_image_free(img);
    return rc;
}

void chart_release(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}
