/* Shared by chart.c (checks, layout, PNG) and draw.c (pixels). */
#ifndef CW_CHART_INT_H
#define CW_CHART_INT_H

#include "chart/chart.h"

struct chart_geo {
    struct chart_layout l;
    double font, title_font;   /* pixel sizes */
    double axis_x;             /* the price axis' labels start here */
    double time_y;             /* baseline of the time labels */
    double step;               /* price tick step */
    int tick_dp, price_dp;     /* decimals of tick labels, of prices */
    size_t npoints;            /* candles, or x values */
    double lower_min, lower_max;
    int has_volume;
    double vol_max;
};

/* chart.c */
int chart_geometry(const struct chart_spec *s, struct chart_geo *g, char *err, size_t n);
double chart_point_x(const struct chart_spec *s, const struct chart_geo *g, size_t i);
double chart_price_y(const struct chart_geo *g, double p);

/* png.c: RGB24 pixels (cairo's layout: native-endian 0x00RRGGBB words,
 * rows stride bytes apart) as PNG into *out (which it initialises); 0, or
 * -1 out of memory. */
int chart_png_encode(const unsigned char *px, int stride, int w, int h, struct chart_png *out);

/* draw.c: paints s onto cr (a surface of s->width x s->height) */
struct _cairo;
void chart_paint(struct _cairo *cr, const struct chart_spec *s, const struct chart_geo *g);

#endif
