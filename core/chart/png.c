/* The PNG encoder: an RGB24 cairo image into PNG bytes in memory.
 *
 * Why not cairo_surface_write_to_png_stream: libpng's defaults (every
 * filter tried on every row, zlib level 6) took 17 of the 19 ms of the
 * bench's chart (tests/bench/chart.c).  A chart is flat colour with thin
 * lines: each row filtered with "Up" (mostly zeros against the row above)
 * and deflated at zlib's level 1 is some 20% bigger (40 KB) and several
 * times faster (2.5 ms). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "chart/chart_int.h"

static int png_reserve(struct chart_png *p, size_t more)
{
    if (p->len + more <= p->cap)
        return 0;
    size_t cap = p->cap ? p->cap : 64 * 1024;
    while (cap < p->len + more)
        cap *= 2;
    unsigned char *d = realloc(p->data, cap);
    if (!d)
        return -1;
    p->data = d;
    p->cap = cap;
    return 0;
}

static void put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24), b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8), b[3] = (unsigned char)v;
}

/* A chunk of type (4 letters) whose data is already at p->data + at + 8,
 * len bytes long: its length before, its CRC after. */
static int chunk_close(struct chart_png *p, size_t at, const char *type, size_t len)
{
    put32(p->data + at, (uint32_t)len);
    memcpy(p->data + at + 4, type, 4);
    uLong crc = crc32(0L, p->data + at + 4, (uInt)(len + 4));
    if (png_reserve(p, 4) < 0)
        return -1;
    put32(p->data + at + 8 + len, (uint32_t)crc);
    p->len = at + 8 + len + 4;
    return 0;
}

static int png_header(struct chart_png *p, int w, int h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (png_reserve(p, 8 + 8 + 13 + 4) < 0)
        return -1;
    memcpy(p->data, sig, 8);
    unsigned char *d = p->data + 16;
    put32(d, (uint32_t)w);
    put32(d + 4, (uint32_t)h);
    d[8] = 8;    /* bits per channel */
    d[9] = 2;    /* truecolour, no alpha */
    d[10] = d[11] = d[12] = 0;   /* deflate, adaptive filtering, no interlace */
    return chunk_close(p, 8, "IHDR", 13);
}

/* Row y as filter byte 2 ("Up") and R G B bytes less the row above's. */
static void filter_row(const unsigned char *px, int stride, int w, int y, unsigned char *out)
{
    const uint32_t *row = (const uint32_t *)(px + (size_t)y * stride);
    const uint32_t *up = y ? (const uint32_t *)(px + (size_t)(y - 1) * stride) : NULL;
    out[0] = 2;
    for (int x = 0; x < w; x++) {
        uint32_t v = row[x], u = up ? up[x] : 0;
        out[1 + 3 * x] = (unsigned char)((v >> 16) - (u >> 16));
        out[2 + 3 * x] = (unsigned char)((v >> 8) - (u >> 8));
        out[3 + 3 * x] = (unsigned char)(v - u);
    }
}

/* The image data: every filtered row through one deflate stream, straight
 * into the IDAT chunk's room in p. */
static int png_idat(struct chart_png *p, const unsigned char *px, int stride, int w, int h)
{
    size_t rowlen = 1 + (size_t)w * 3, at = p->len;
    unsigned char *row = malloc(rowlen);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!row || deflateInit2(&z, 1, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(row);
        return -1;
    }
    size_t bound = deflateBound(&z, (uLong)(rowlen * (size_t)h));
    int rc = png_reserve(p, 8 + bound + 4);
    for (int y = 0; rc == 0 && y < h; y++) {
        filter_row(px, stride, w, y, row);
        z.next_in = row;
        z.avail_in = (uInt)rowlen;
        z.next_out = p->data + at + 8 + z.total_out;
        z.avail_out = (uInt)(bound - z.total_out);
        if (deflate(&z, y == h - 1 ? Z_FINISH : Z_NO_FLUSH) == Z_STREAM_ERROR || z.avail_in)
            rc = -1;
    }
    size_t out = z.total_out;
    deflateEnd(&z);
    free(row);
    return rc < 0 ? -1 : chunk_close(p, at, "IDAT", out);
}

int chart_png_encode(const unsigned char *px, int stride, int w, int h, struct chart_png *out)
{
    memset(out, 0, sizeof *out);
    if (png_header(out, w, h) < 0 || png_idat(out, px, stride, w, h) < 0 ||
        png_reserve(out, 12) < 0 || chunk_close(out, out->len, "IEND", 0) < 0) {
        chart_png_free(out);
        return -1;
    }
    return 0;
}
