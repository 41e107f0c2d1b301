/* The chart's pixels: panes, candles, overlays, axes and labels, on cairo.
 * Candle bodies sit on whole pixels so their colour is exact inside (the
 * tests sample it). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cairo.h>

#include "chart/chart_int.h"

#define FONT "DejaVu Sans"

struct rgb {
    double r, g, b;
};
#define RGB(h) {((h) >> 16 & 255) / 255.0, ((h) >> 8 & 255) / 255.0, ((h) & 255) / 255.0}

struct theme {
    struct rgb bg, grid, text, dim, up, down, threshold, accent, tag_text;
    struct rgb slots[CHART_COLOURS];
};

static const struct theme themes[] = {
    [CHART_DARK] = {RGB(0x131722), RGB(0x242a38), RGB(0xd1d4dc), RGB(0x8a8f9c), RGB(0x26a69a),
                    RGB(0xef5350), RGB(0xff9800), RGB(0x2196f3), RGB(0x131722),
                    {RGB(0xf7c948), RGB(0xc77dff), RGB(0x4dd0e1), RGB(0xff80ab)}},
    [CHART_LIGHT] = {RGB(0xffffff), RGB(0xe9ecf1), RGB(0x2a2e39), RGB(0x6a6f7c), RGB(0x089981),
                     RGB(0xf23645), RGB(0xef6c00), RGB(0x1565c0), RGB(0xffffff),
                     {RGB(0xb58900), RGB(0x8e24aa), RGB(0x00838f), RGB(0xd81b60)}},
};

static uint32_t hex_of(struct rgb c)
{
    return (uint32_t)lround(c.r * 255) << 16 | (uint32_t)lround(c.g * 255) << 8 |
           (uint32_t)lround(c.b * 255);
}

uint32_t chart_colour(enum chart_theme theme, enum chart_role r)
{
    const struct theme *t = &themes[theme == CHART_LIGHT ? CHART_LIGHT : CHART_DARK];
    switch (r) {
    case CHART_BG: return hex_of(t->bg);
    case CHART_UP: return hex_of(t->up);
    case CHART_DOWN: return hex_of(t->down);
    case CHART_THRESHOLD: return hex_of(t->threshold);
    case CHART_ACCENT: return hex_of(t->accent);
    default: return hex_of(t->slots[(r - CHART_SLOT0) % CHART_COLOURS]);
    }
}

struct pen {
    cairo_t *cr;
    const struct chart_spec *s;
    const struct chart_geo *g;
    const struct theme *t;
    /* where the price axis' tags go: the lines' then the last price's,
     * each moved clear of those before it (place_tags); NAN: none */
    double tags[CHART_MAX_LINES + 1];
};

static void colour(cairo_t *cr, struct rgb c, double alpha)
{
    cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

static void font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_w(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* text with its left edge (align 0), centre (1) or right edge (2) at x */
static void text_at(cairo_t *cr, double x, double y, int align, const char *s)
{
    if (align)
        x -= text_w(cr, s) * (align == 1 ? 0.5 : 1);
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, s);
}

static void hline(cairo_t *cr, double x0, double x1, double y, double width)
{
    y = floor(y) + 0.5;
    cairo_set_line_width(cr, width);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x1, y);
    cairo_stroke(cr);
}

static void clip_main(const struct pen *p)
{
    const struct chart_layout *l = &p->g->l;
    cairo_rectangle(p->cr, l->x, l->y, l->w, l->h);
    cairo_clip(p->cr);
}

static void price_text(const struct chart_geo *g, double v, int dp, char *buf, size_t n)
{
    snprintf(buf, n, "%.*f", dp, v);
    if (!strcmp(buf, "-0") || (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1)))
        memmove(buf, buf + 1, strlen(buf));   /* no "-0.00" */
    (void)g;
}

/* The tags' places: at their prices, each moved clear of those before it
 * (a threshold next to the last price). */
static void place_tags(struct pen *p)
{
    const struct chart_geo *g = p->g;
    double h = g->font * 1.55;
    size_t n = p->s->nlines;
    for (size_t k = 0; k <= n; k++) {
        double y = NAN;
        if (k < n)
            y = chart_price_y(g, p->s->lines[k].price);
        else if (p->s->last_marker && p->s->ncandles)
            y = chart_price_y(g, p->s->candles[p->s->ncandles - 1].close);
        if (!(y >= g->l.y && y <= g->l.y + g->l.h))
            y = NAN;   /* (off the pane: no tag) */
        for (size_t i = 0; i < k && !isnan(y); i++)
            if (fabs(y - p->tags[i]) < h)
                y = y >= p->tags[i] ? p->tags[i] + h : p->tags[i] - h;
        p->tags[k] = y;
    }
}

/* A tag on the price axis: the price on a filled box at y. */
static void axis_tag(const struct pen *p, double y, struct rgb bg, const char *txt)
{
    cairo_t *cr = p->cr;
    double f = p->g->font, x = p->g->l.x + p->g->l.w + 1;
    font(cr, f, 1);
    double w = text_w(cr, txt) + f * 0.9;
    colour(cr, bg, 1);
    cairo_rectangle(cr, x, y - f * 0.75, w, f * 1.5);
    cairo_fill(cr);
    colour(cr, p->t->tag_text, 1);
    text_at(cr, p->g->axis_x, y + f * 0.36, 0, txt);
}

/* Whether a tick label at y would be hidden by a line's or the last
 * price's tag. */
static int under_tag(const struct pen *p, double y)
{
    for (size_t k = 0; k <= p->s->nlines; k++)
        if (fabs(p->tags[k] - y) < p->g->font * 1.4)
            return 1;
    return 0;
}

static void grid_and_price_axis(const struct pen *p)
{
    const struct chart_geo *g = p->g;
    cairo_t *cr = p->cr;
    double first = ceil(g->l.bottom / g->step);
    double y_floor = g->l.h - g->l.vol_h + g->l.y;
    font(cr, g->font, 0);
    for (int k = 0; k < 64; k++) {
        double v = (first + k) * g->step;
        if (v > g->l.top)
            break;
        double y = chart_price_y(g, v);
        if (y > y_floor - g->font * 0.3 || under_tag(p, y))
            continue;   /* the volume bars' band has no price scale */
        colour(cr, p->t->grid, 1);
        hline(cr, g->l.x, g->l.x + g->l.w, y, 1);
        char buf[64];
        price_text(g, v, g->tick_dp, buf, sizeof buf);
        colour(cr, p->t->dim, 1);
        text_at(cr, g->axis_x, y + g->font * 0.36, 0, buf);
    }
}

static int64_t point_time(const struct pen *p, size_t i)
{
    return p->s->ncandles ? p->s->candles[i].open_time : p->s->x[i];
}

#define DAY_MS 86400000LL

static void time_label(int64_t t, int64_t step, char *buf, size_t n)
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t sec = (time_t)(t / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    if (step >= DAY_MS || t % DAY_MS == 0)
        snprintf(buf, n, "%s %02d", mon[tm.tm_mon % 12], tm.tm_mday);
    else
        snprintf(buf, n, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

/* One time label (and its grid line) at x, unless it would touch the last. */
static void time_tick(const struct pen *p, double x, int64_t t, int64_t step, double *last_end)
{
    const struct chart_geo *g = p->g;
    char buf[32];
    time_label(t, step, buf, sizeof buf);
    font(p->cr, g->font, 0);
    double w = text_w(p->cr, buf);
    if (x - w / 2 < *last_end + g->font || x + w / 2 > g->l.x + g->l.w + g->font * 2)
        return;
    *last_end = x + w / 2;
    colour(p->cr, p->t->grid, 1);
    double xs = floor(x) + 0.5;
    cairo_set_line_width(p->cr, 1);
    cairo_move_to(p->cr, xs, g->l.y);
    cairo_line_to(p->cr, xs, g->l.lower_h > 0 ? g->l.lower_y + g->l.lower_h : g->l.y + g->l.h);
    cairo_stroke(p->cr);
    colour(p->cr, p->t->dim, 1);
    text_at(p->cr, x, g->time_y, 1, buf);
}

/* Labels where the time crosses a multiple of a step wide enough for them. */
static void time_axis(const struct pen *p)
{
    const struct chart_geo *g = p->g;
    size_t n = g->npoints;
    if (n < 2)
        return;
    int64_t t0 = point_time(p, 0), t1 = point_time(p, n - 1);
    double ms_per_px = (double)(t1 - t0) / (chart_point_x(p->s, g, n - 1) - chart_point_x(p->s, g, 0));
    double label_px = g->font * 0.64 * 6 + g->font * 2;
    int64_t step = chart_time_step((int64_t)(label_px * ms_per_px));
    double last_end = -1e9;
    for (size_t i = 1; i < n; i++) {
        int64_t a = point_time(p, i - 1), b = point_time(p, i);
        /* floor division: times before 1970 step the same way */
        int64_t ka = a / step - (a % step < 0), kb = b / step - (b % step < 0);
        if (ka != kb)
            time_tick(p, chart_point_x(p->s, g, i), b, step, &last_end);
    }
}

static double slot_w(const struct chart_geo *g)
{
    return g->l.w / (double)g->npoints;
}

/* a candle's body and bar: whole pixels, at least one wide */
static void body_span(const struct chart_geo *g, double cx, double *x0, double *w)
{
    double bw = floor(slot_w(g) * 0.7);
    if (bw < 1)
        bw = 1;
    if ((int)bw % 2 == 0 && bw > 2)
        bw -= 1;   /* odd: the wick runs down the middle */
    *x0 = floor(cx - bw / 2);
    *w = bw;
}

static void volume_bars(const struct pen *p)
{
    const struct chart_geo *g = p->g;
    if (!g->has_volume)
        return;
    for (size_t i = 0; i < p->s->ncandles; i++) {
        const struct candle *c = &p->s->candles[i];
        double x0, w, h = floor(c->volume / g->vol_max * (g->l.vol_h - 2));
        body_span(g, chart_point_x(p->s, g, i), &x0, &w);
        colour(p->cr, c->close >= c->open ? p->t->up : p->t->down, 0.35);
        cairo_rectangle(p->cr, x0, g->l.y + g->l.h - h, w, h);
        cairo_fill(p->cr);
    }
}

static void candles(const struct pen *p)
{
    const struct chart_geo *g = p->g;
    cairo_t *cr = p->cr;
    cairo_set_line_width(cr, 1);
    for (size_t i = 0; i < p->s->ncandles; i++) {
        const struct candle *c = &p->s->candles[i];
        double x0, w, cx = chart_point_x(p->s, g, i);
        body_span(g, cx, &x0, &w);
        colour(cr, c->close >= c->open ? p->t->up : p->t->down, 1);
        double xw = x0 + floor(w / 2) + 0.5;
        cairo_move_to(cr, xw, round(chart_price_y(g, c->high)));
        cairo_line_to(cr, xw, round(chart_price_y(g, c->low)));
        cairo_stroke(cr);
        double ya = round(chart_price_y(g, fmax(c->open, c->close)));
        double yb = round(chart_price_y(g, fmin(c->open, c->close)));
        cairo_rectangle(cr, x0, ya, w, fmax(1, yb - ya));
        cairo_fill(cr);
    }
}

/* A series' line, broken where a value is missing. */
static void series_path(const struct pen *p, const double *v, size_t n, double (*y)(const struct pen *, double))
{
    int pen_down = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) {
            pen_down = 0;
            continue;
        }
        double x = chart_point_x(p->s, p->g, i), yy = y(p, v[i]);
        if (pen_down)
            cairo_line_to(p->cr, x, yy);
        else
            cairo_move_to(p->cr, x, yy);
        pen_down = 1;
    }
}

static double main_y(const struct pen *p, double v)
{
    return chart_price_y(p->g, v);
}

static double lower_y(const struct pen *p, double v)
{
    const struct chart_geo *g = p->g;
    return g->l.lower_y + (g->lower_max - v) / (g->lower_max - g->lower_min) * g->l.lower_h;
}

static void bands(const struct pen *p)
{
    cairo_t *cr = p->cr;
    for (size_t k = 0; k < p->s->nbands; k++) {
        const struct chart_band *b = &p->s->bands[k];
        struct rgb c = p->t->slots[b->colour];
        /* the fill: one quad per step where both edges have values */
        colour(cr, c, 0.10);
        for (size_t i = 1; i < b->n; i++) {
            if (isnan(b->upper[i - 1]) || isnan(b->upper[i]) || isnan(b->lower[i - 1]) ||
                isnan(b->lower[i]))
                continue;
            double xa = chart_point_x(p->s, p->g, i - 1), xb = chart_point_x(p->s, p->g, i);
            cairo_move_to(cr, xa, main_y(p, b->upper[i - 1]));
            cairo_line_to(cr, xb, main_y(p, b->upper[i]));
            cairo_line_to(cr, xb, main_y(p, b->lower[i]));
            cairo_line_to(cr, xa, main_y(p, b->lower[i - 1]));
            cairo_close_path(cr);
        }
        cairo_fill(cr);
        colour(cr, c, 0.7);
        cairo_set_line_width(cr, 1.2);
        series_path(p, b->upper, b->n, main_y);
        series_path(p, b->lower, b->n, main_y);
        cairo_stroke(cr);
    }
}

static void series(const struct pen *p, enum chart_pane pane)
{
    cairo_t *cr = p->cr;
    cairo_set_line_width(cr, fmax(2, p->g->font / 6.5));
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t k = 0; k < p->s->nseries; k++) {
        const struct chart_series *v = &p->s->series[k];
        if (v->pane != pane)
            continue;
        colour(cr, p->t->slots[v->colour], 1);
        series_path(p, v->values, v->n, pane == CHART_PANE_MAIN ? main_y : lower_y);
        cairo_stroke(cr);
    }
}

static void highlight_column(const struct pen *p)
{
    if (p->s->highlight < 0)
        return;
    const struct chart_geo *g = p->g;
    double sw = fmax(slot_w(g), 3), cx = chart_point_x(p->s, g, (size_t)p->s->highlight);
    colour(p->cr, p->t->accent, 0.16);
    cairo_rectangle(p->cr, floor(cx - sw / 2), g->l.y, ceil(sw), g->l.h);
    cairo_fill(p->cr);
}

/* A solid triangle under the highlighted candle's low, pointing at it. */
static void highlight_marker(const struct pen *p)
{
    if (p->s->highlight < 0)
        return;
    const struct chart_geo *g = p->g;
    const struct candle *c = &p->s->candles[p->s->highlight];
    double cx = chart_point_x(p->s, g, (size_t)p->s->highlight);
    double size = g->font * 0.9, y = chart_price_y(g, c->low) + g->font * 0.4;
    colour(p->cr, p->t->accent, 1);
    cairo_move_to(p->cr, cx, y);
    cairo_line_to(p->cr, cx + size * 0.6, y + size);
    cairo_line_to(p->cr, cx - size * 0.6, y + size);
    cairo_close_path(p->cr);
    cairo_fill(p->cr);
}

static void hlines(const struct pen *p)
{
    cairo_t *cr = p->cr;
    const struct chart_geo *g = p->g;
    for (size_t k = 0; k < p->s->nlines; k++) {
        const struct chart_hline *h = &p->s->lines[k];
        double y = chart_price_y(g, h->price);
        struct rgb c = h->style == CHART_LINE_THRESHOLD ? p->t->threshold : p->t->dim;
        double dash[] = {g->font * 0.6, g->font * 0.3};
        cairo_save(cr);
        clip_main(p);
        colour(cr, c, 1);
        cairo_set_dash(cr, dash, h->style == CHART_LINE_THRESHOLD ? 2 : 0, 0);
        hline(cr, g->l.x, g->l.x + g->l.w, y, 2);
        if (h->label && *h->label) {
            /* right-aligned by the tag, above the line (below it at the top) */
            font(cr, g->font, 1);
            double ty = y - g->l.y < g->font * 1.6 ? floor(y) + g->font * 1.35 : floor(y) - g->font * 0.45;
            double tw = text_w(cr, h->label), tx = g->l.x + g->l.w - g->font * 0.4 - tw;
            colour(cr, p->t->bg, 0.75);   /* readable over candles */
            cairo_rectangle(cr, tx - 3, ty - g->font * 0.95, tw + 6, g->font * 1.2);
            cairo_fill(cr);
            colour(cr, c, 1);
            text_at(cr, tx, ty, 0, h->label);
        }
        cairo_restore(cr);
        char buf[64];
        price_text(g, h->price, g->price_dp, buf, sizeof buf);
        if (!isnan(p->tags[k]))
            axis_tag(p, p->tags[k], c, buf);
    }
}

static void last_price(const struct pen *p)
{
    if (!p->s->last_marker || !p->s->ncandles)
        return;
    const struct chart_geo *g = p->g;
    const struct candle *c = &p->s->candles[p->s->ncandles - 1];
    struct rgb col = c->close >= c->open ? p->t->up : p->t->down;
    double y = chart_price_y(g, c->close), dot[] = {1, 3};
    cairo_save(p->cr);
    clip_main(p);
    colour(p->cr, col, 0.8);
    cairo_set_dash(p->cr, dot, 2, 0);
    hline(p->cr, chart_point_x(p->s, g, p->s->ncandles - 1), g->l.x + g->l.w, y, 1);
    cairo_restore(p->cr);
    char buf[64];
    price_text(g, c->close, g->price_dp, buf, sizeof buf);
    if (!isnan(p->tags[p->s->nlines]))
        axis_tag(p, p->tags[p->s->nlines], col, buf);
}

static void lower_pane(const struct pen *p)
{
    const struct chart_geo *g = p->g;
    cairo_t *cr = p->cr;
    if (g->l.lower_h <= 0)
        return;
    double x1 = g->l.x + g->l.w;
    colour(cr, p->t->grid, 1);
    hline(cr, g->l.x, x1, g->l.lower_y, 1);
    hline(cr, g->l.x, x1, g->l.lower_y + g->l.lower_h, 1);
    font(cr, g->font, 0);
    double dash[] = {4, 4};
    for (int i = 0; i < 2; i++) {
        double v = p->s->lower_guides[i];
        if (isnan(v) || v < g->lower_min || v > g->lower_max)
            continue;
        double y = lower_y(p, v);
        cairo_save(cr);
        colour(cr, p->t->dim, 0.8);
        cairo_set_dash(cr, dash, 2, 0);
        hline(cr, g->l.x, x1, y, 1);
        cairo_restore(cr);
        char buf[32];
        snprintf(buf, sizeof buf, "%g", v);
        colour(cr, p->t->dim, 1);
        text_at(cr, g->axis_x, y + g->font * 0.36, 0, buf);
    }
    cairo_save(cr);
    cairo_rectangle(cr, g->l.x, g->l.lower_y, g->l.w, g->l.lower_h);
    cairo_clip(cr);
    series(p, CHART_PANE_LOWER);
    cairo_restore(cr);
}

static void header(const struct pen *p)
{
    const struct chart_geo *g = p->g;
    cairo_t *cr = p->cr;
    double x = g->l.x, y = g->title_font * 1.3;
    if (p->s->title) {
        font(cr, g->title_font, 1);
        colour(cr, p->t->text, 1);
        text_at(cr, x, y, 0, p->s->title);
        x += text_w(cr, p->s->title) + g->font;
    }
    if (p->s->subtitle) {
        font(cr, g->font, 0);
        colour(cr, p->t->dim, 1);
        text_at(cr, x, y, 0, p->s->subtitle);
    }
}

/* The series' labels, in their colours, at the main pane's top left. */
static void legend(const struct pen *p)
{
    const struct chart_geo *g = p->g;
    cairo_t *cr = p->cr;
    double x = g->l.x + g->font * 0.4, y = g->l.y + g->font * 1.2;
    font(cr, g->font, 0);
    for (size_t k = 0; k < p->s->nseries + p->s->nbands; k++) {
        int is_band = k >= p->s->nseries;
        const char *label = is_band ? p->s->bands[k - p->s->nseries].label : p->s->series[k].label;
        int slot = is_band ? p->s->bands[k - p->s->nseries].colour : p->s->series[k].colour;
        int lower = !is_band && p->s->series[k].pane == CHART_PANE_LOWER;
        if (!label || !*label)
            continue;
        colour(cr, p->t->slots[slot], 1);
        if (lower) {
            text_at(cr, g->l.x + g->font * 0.4, g->l.lower_y + g->font * 1.2, 0, label);
            continue;
        }
        text_at(cr, x, y, 0, label);
        x += text_w(cr, label) + g->font;
    }
}

void chart_paint(cairo_t *cr, const struct chart_spec *s, const struct chart_geo *g)
{
    struct pen p = {cr, s, g, &themes[s->theme == CHART_LIGHT ? CHART_LIGHT : CHART_DARK], {0}};
    place_tags(&p);
    colour(cr, p.t->bg, 1);
    cairo_paint(cr);
    grid_and_price_axis(&p);
    time_axis(&p);
    cairo_save(cr);
    clip_main(&p);
    highlight_column(&p);
    bands(&p);
    volume_bars(&p);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);   /* crisp bodies and wicks */
    candles(&p);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
    series(&p, CHART_PANE_MAIN);
    highlight_marker(&p);
    cairo_restore(cr);
    lower_pane(&p);
    hlines(&p);
    last_price(&p);
    legend(&p);
    header(&p);
}
