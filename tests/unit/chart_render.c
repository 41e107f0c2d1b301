/* The chart renderer's output, by its properties rather than its bytes:
 * the PNG decodes (with cairo) to the size asked for, and pixels sampled
 * where the data says things are have their colours (an up candle's body,
 * a down candle's, the threshold line, the highlight marker, the
 * background); dark and light differ; specs full of NaN, infinities and
 * huge numbers are refused or drawn, never a crash or a hang. */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chart/chart.h"
#include "chart_data.h"
#include "tap.h"

#define ETH_1H "tests/fixtures/klines/um_ETHUSDT-1h-2022-08-24.csv"

struct reader {
    const struct chart_png *png;
    size_t at;
};

static cairo_status_t read_png(void *closure, unsigned char *data, unsigned int len)
{
    struct reader *r = closure;
    if (r->at + len > r->png->len)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->png->data + r->at, len);
    r->at += len;
    return CAIRO_STATUS_SUCCESS;
}

static cairo_surface_t *decode(const struct chart_png *png)
{
    struct reader r = {png, 0};
    return cairo_image_surface_create_from_png_stream(read_png, &r);
}

static uint32_t pixel(cairo_surface_t *img, int x, int y)
{
    cairo_surface_flush(img);
    const unsigned char *d = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    uint32_t v;
    memcpy(&v, d + (size_t)y * stride + (size_t)x * 4, 4);
    return v & 0xffffff;
}

static double x_of(const struct chart_layout *l, size_t i, size_t n)
{
    return l->x + (i + 0.5) * l->w / n;
}

static double y_of(const struct chart_layout *l, double p)
{
    return l->y + (l->top - p) / (l->top - l->bottom) * l->h;
}

static struct candle eth[64];
static int neth;

/* ETH's day of 1h candles with a threshold line and one candle marked */
static void eth_spec(struct chart_spec *s, enum chart_theme theme, struct chart_hline *line)
{
    chart_spec_init(s);
    s->theme = theme;
    s->title = "ETHUSDT 1h";
    s->candles = eth;
    s->ncandles = (size_t)neth;
    *line = (struct chart_hline){1690, "alert", CHART_LINE_THRESHOLD};
    s->lines = line;
    s->nlines = 1;
    s->highlight = 10;
}

static cairo_surface_t *render(const struct chart_spec *s, struct chart_png *png)
{
    char err[200] = "";
    int rc = chart_render(s, png, err, sizeof err);
    ok(rc == 0, "renders (%s)", err);
    ok(png->len > 8 && !memcmp(png->data, "\x89PNG\r\n\x1a\n", 8), "PNG signature");
    cairo_surface_t *img = decode(png);
    ok(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS, "decodes");
    is_int(cairo_image_surface_get_width(img), s->width, "width");
    is_int(cairo_image_surface_get_height(img), s->height, "height");
    return img;
}

/* Every candle with a body 3 px or more tall has its colour at the body's
 * centre (unless a line crosses there). */
static void bodies(const struct chart_spec *s, const struct chart_layout *l, cairo_surface_t *img)
{
    uint32_t up = chart_colour(s->theme, CHART_UP), down = chart_colour(s->theme, CHART_DOWN);
    int checked_up = 0, checked_down = 0, wrong = 0;
    double y_line = y_of(l, s->lines[0].price), y_last = y_of(l, eth[neth - 1].close);
    for (int i = 0; i < neth; i++) {
        const struct candle *c = &eth[i];
        double ya = y_of(l, fmax(c->open, c->close)), yb = y_of(l, fmin(c->open, c->close));
        double y = (ya + yb) / 2;
        if (yb - ya < 3 || fabs(y - y_line) < 4 || fabs(y - y_last) < 4)
            continue;
        int is_up = c->close >= c->open;
        uint32_t got = pixel(img, (int)x_of(l, (size_t)i, (size_t)neth), (int)y);
        if (got != (is_up ? up : down)) {
            printf("# candle %d: %06x at its body, expected %06x\n", i, got, is_up ? up : down);
            wrong++;
        }
        is_up ? checked_up++ : checked_down++;
    }
    ok(checked_up >= 5 && checked_down >= 5, "sampled %d up and %d down bodies", checked_up,
       checked_down);
    is_int(wrong, 0, "every body sampled has its direction's colour");
}

/* the threshold's colour along most of its row */
static void threshold(const struct chart_spec *s, const struct chart_layout *l, cairo_surface_t *img)
{
    int y = (int)floor(y_of(l, s->lines[0].price)), hits = 0, w = (int)l->w;
    for (int x = (int)l->x; x < (int)(l->x + l->w); x++)
        hits += pixel(img, x, y) == chart_colour(s->theme, CHART_THRESHOLD);
    ok(hits > w / 3, "threshold line at y=%d: %d of %d pixels", y, hits, w);
}

/* the accent's marker just below the highlighted candle's low */
static void marker(const struct chart_spec *s, const struct chart_layout *l, cairo_surface_t *img)
{
    const struct candle *c = &eth[s->highlight];
    int x = (int)x_of(l, (size_t)s->highlight, (size_t)neth), y0 = (int)ceil(y_of(l, c->low));
    int found = 0;
    for (int y = y0 + 1; y < y0 + 40 && y < s->height; y++)
        found |= pixel(img, x, y) == chart_colour(s->theme, CHART_ACCENT);
    ok(found, "highlight marker under candle %ld", s->highlight);
    int other = 0;   /* and under no other candle */
    for (int i = 0; i < neth; i++) {
        if (i == s->highlight)
            continue;
        int xi = (int)x_of(l, (size_t)i, (size_t)neth), yi = (int)ceil(y_of(l, eth[i].low));
        for (int y = yi + 1; y < yi + 40 && y < s->height; y++)
            other |= pixel(img, xi, y) == chart_colour(s->theme, CHART_ACCENT);
    }
    ok(!other, "no marker under the other candles");
}

/* the pane above the highest high is background, bar grid lines */
static void background(const struct chart_spec *s, const struct chart_layout *l, cairo_surface_t *img)
{
    uint32_t bg = chart_colour(s->theme, CHART_BG);
    is_int(pixel(img, 0, s->height / 2), bg, "left margin is background");
    double hi = -INFINITY;
    for (int i = 0; i < neth; i++)
        hi = fmax(hi, eth[i].high);
    hi = fmax(hi, s->lines[0].price);
    int y1 = (int)y_of(l, hi) - 3, total = 0, bgs = 0;
    for (int y = (int)l->y + 20; y < y1; y++)
        for (int x = (int)l->x; x < (int)(l->x + l->w) - 80; x += 3, total++)
            bgs += pixel(img, x, y) == bg;
    ok(total == 0 || bgs > total * 9 / 10, "above the candles: %d of %d background", bgs, total);
}

static void test_properties(enum chart_theme theme, uint32_t *bg_out)
{
    struct chart_spec s;
    struct chart_hline line;
    eth_spec(&s, theme, &line);
    struct chart_layout l;
    char err[200];
    ok(chart_layout(&s, &l, err, sizeof err) == 0, "layout (%s)", err);
    struct chart_png png;
    cairo_surface_t *img = render(&s, &png);
    bodies(&s, &l, img);
    threshold(&s, &l, img);
    marker(&s, &l, img);
    background(&s, &l, img);
    *bg_out = pixel(img, 0, 0);
    cairo_surface_destroy(img);
    chart_png_free(&png);
}

/* a line chart over times, with the lower pane */
static void test_line_chart(void)
{
    int64_t x[100];
    double v[100], r[100];
    for (int i = 0; i < 100; i++) {
        x[i] = 1700000000000LL + i * 3600000LL;
        v[i] = i < 5 ? NAN : 20 + sin(i / 7.0) * 5;
        r[i] = 50 + 40 * sin(i / 5.0);
    }
    struct chart_series sv[2] = {{v, 100, 0, "gas", CHART_PANE_MAIN},
                                 {r, 100, 1, "RSI", CHART_PANE_LOWER}};
    struct chart_spec s;
    chart_spec_init(&s);
    s.width = 640, s.height = 400;
    s.x = x, s.nx = 100;
    s.series = sv, s.nseries = 2;
    struct chart_png png;
    cairo_surface_t *img = render(&s, &png);
    struct chart_layout l;
    chart_layout(&s, &l, NULL, 0);
    ok(l.lower_h > 0 && l.lower_y > l.y + l.h, "a lower pane below the main one");
    int y = (int)round(y_of(&l, v[50])), found = 0;
    for (int dy = -2; dy <= 2; dy++)
        found |= pixel(img, (int)round(l.x + 50.0 / 99 * l.w), y + dy) == chart_colour(CHART_DARK, CHART_SLOT0);
    ok(found, "the series passes through its 50th value");
    cairo_surface_destroy(img);
    chart_png_free(&png);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

/* what a careless caller might pass for a number, wild_pct times in 100 */
static unsigned wild_pct;
static double wild(double sane)
{
    static const double odd[] = {NAN, INFINITY, -INFINITY, 1e300, -1e300, 1e15, -1e15, 0, 1e-300,
                                 5e-324, -0.0};
    return next() % 100 >= wild_pct ? sane : odd[next() % (sizeof odd / sizeof odd[0])];
}

/* Random specs over wild numbers: each renders or is refused with a
 * reason; under ASan nothing leaks or overflows. */
static void test_wild_numbers(void)
{
    struct candle c[40];
    double v[40], up[40], lo[40];
    int refused = 0, drawn = 0, bad_err = 0;
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + next() % 40;
        wild_pct = (unsigned[]){0, 1, 25}[round % 3];
        for (size_t i = 0; i < n; i++) {
            c[i] = eth[i % (size_t)neth];
            c[i].open_time = (int64_t)i * 60000;
            c[i].open = wild(c[i].open), c[i].close = wild(c[i].close);
            c[i].high = wild(c[i].high), c[i].low = wild(c[i].low);
            c[i].volume = wild(c[i].volume);
            v[i] = wild(c[i].close), up[i] = wild(v[i] + 5), lo[i] = wild(v[i] - 5);
        }
        struct chart_series sv = {v, n, (int)(next() % 4), "s", (enum chart_pane)(next() % 2)};
        struct chart_band b = {up, lo, n, 1, "b"};
        struct chart_hline h = {wild(1600), "t", CHART_LINE_THRESHOLD};
        struct chart_spec s;
        chart_spec_init(&s);
        s.width = 200 + (int)(next() % 200), s.height = 150 + (int)(next() % 150);
        s.candles = c, s.ncandles = n, s.series = &sv, s.nseries = 1;
        s.bands = &b, s.nbands = 1, s.lines = &h, s.nlines = 1;
        s.highlight = (long)(next() % (n + 1)) - 1;
        s.lower_min = wild(0), s.lower_max = wild(100);
        struct chart_png png;
        char err[200] = "";
        if (chart_render(&s, &png, err, sizeof err) == 0) {
            drawn++;
            chart_png_free(&png);
        } else {
            refused++;
            bad_err += err[0] == 0;
        }
    }
    ok(drawn > 10 && refused > 10, "wild specs: %d drawn, %d refused", drawn, refused);
    is_int(bad_err, 0, "each refusal says why");
}

/* one candle; all candles alike (a zero range); the largest prices */
static void test_degenerate(void)
{
    struct candle c[3];
    for (int i = 0; i < 3; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].open_time = i * 60000;
        c[i].open = c[i].high = c[i].low = c[i].close = 1e15;
    }
    struct chart_spec s;
    chart_spec_init(&s);
    struct chart_png png;
    char err[200] = "";
    for (size_t n = 1; n <= 3; n++) {
        s.candles = c, s.ncandles = n;
        ok(chart_render(&s, &png, err, sizeof err) == 0, "%zu flat candles at 1e15 (%s)", n, err);
        chart_png_free(&png);
    }
    c[1].open = c[1].low = -1e15;
    ok(chart_render(&s, &png, err, sizeof err) == 0, "a range of 2e15 (%s)", err);
    chart_png_free(&png);
    s.width = 5000;
    ok(chart_render(&s, &png, err, sizeof err) < 0 && strstr(err, "width"), "width 5000: %s", err);
}

/* The renderer asks cairo's toy API for "DejaVu Sans": fontconfig must
 * find that family itself (fonts-dejavu-core), not a stand-in. */
static void test_font(void)
{
    FcPattern *pat = FcNameParse((const FcChar8 *)"DejaVu Sans");
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    FcPattern *match = FcFontMatch(NULL, pat, &res);
    FcChar8 *family = NULL;
    ok(match && FcPatternGetString(match, FC_FAMILY, 0, &family) == FcResultMatch &&
           !strcmp((const char *)family, "DejaVu Sans"),
       "fontconfig resolves DejaVu Sans (got %s)", family ? (const char *)family : "nothing");
    if (match)
        FcPatternDestroy(match);
    FcPatternDestroy(pat);
}

int main(void)
{
    test_font();
    neth = chart_data_load(ETH_1H, "1h", 0, eth, 64);
    ok(neth == 24, "24 ETH candles read");
    if (neth != 24)
        return done();
    chart_data_same_dp(eth, (size_t)neth);
    uint32_t dark_bg, light_bg;
    test_properties(CHART_DARK, &dark_bg);
    test_properties(CHART_LIGHT, &light_bg);
    ok(dark_bg != light_bg, "dark and light backgrounds differ (%06x, %06x)", dark_bg, light_bg);
    test_line_chart();
    test_wild_numbers();
    test_degenerate();
    chart_release();
    return done();
}
