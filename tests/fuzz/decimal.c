/* libFuzzer target for the decimal module's parsers and arithmetic (make
 * fuzz): the input, cut in two at its first tab, goes through dec_parse
 * (rates arrive as text from outside) and dec_parse_input (what people
 * type; the first byte's low bit sets comma).  Whatever the bytes, nothing
 * may crash or hit undefined behaviour; a refusal must say something; a
 * value read must be in range and read back the same from its canonical
 * text; and the two values must obey arithmetic: a + b - b == a, a * b ==
 * b * a, and a quotient rounded down is within one unit of its last place
 * (|a - q b| < |b| 10^-scale, checked exactly at scale 0..2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/dec.h"

static int valid(struct dec d)
{
    __int128 lim = 1;
    for (int i = 0; i < DEC_MAX_DIGITS; i++)
        lim *= 10;
    return d.scale >= 0 && d.scale <= DEC_MAX_SCALE && d.coef < lim && d.coef > -lim;
}

static void check_read(int rc, struct dec d, const char *why)
{
    if (rc == DEC_OK) {
        char s[DEC_STR_MAX];
        struct dec back;
        size_t n = dec_str(d, s, sizeof s);
        if (!valid(d) || dec_parse(s, n, &back) != DEC_OK || back.coef != d.coef ||
            back.scale != d.scale)
            abort();
    } else if (why && !why[0]) {
        abort();
    }
}

/* |a - q b| < |b| 10^-scale for q = a / b rounded down at scale */
static void check_div(struct dec a, struct dec b, int scale)
{
    struct dec q, qb, diff, unit = {1, scale}, bound;
    if (dec_div(a, b, scale, DEC_DOWN, &q) != DEC_OK || !valid(q) || q.scale != scale)
        return;
    if (dec_mul(q, b, &qb) != DEC_OK || dec_sub(a, qb, &diff) != DEC_OK ||
        dec_mul(dec_abs(b), unit, &bound) != DEC_OK)
        return;   /* beyond the range: nothing to compare with */
    if (dec_cmp(dec_abs(diff), bound) >= 0)
        abort();
}

static void check_ops(struct dec a, struct dec b)
{
    struct dec s, back, p, q;
    if (dec_add(a, b, &s) == DEC_OK && dec_sub(s, b, &back) == DEC_OK &&
        (!valid(s) || dec_cmp(back, a) != 0))
        abort();
    int r1 = dec_mul(a, b, &p), r2 = dec_mul(b, a, &q);
    if (r1 != r2 || (r1 == DEC_OK && (!valid(p) || dec_cmp(p, q) != 0 || p.scale != q.scale)))
        abort();
    if (b.coef == 0 && dec_div(a, b, 2, DEC_HALF_EVEN, &q) != DEC_EDIV0)
        abort();
    for (int scale = 0; scale <= 2 && b.coef; scale++)
        check_div(a, b, scale);
    for (int m = 0; m < DEC_MODES; m++)
        if (dec_round(a, 1, (enum dec_mode)m, &q) == DEC_OK && (!valid(q) || q.scale != 1))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int comma = data[0] & 1;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    const char *tab = memchr(s, '\t', len);
    size_t la = tab ? (size_t)(tab - s) : len;
    /* exact-size copies: ASan catches any read past them */
    char *x = malloc(la ? la : 1), *y = malloc(len - la ? len - la : 1);
    memcpy(x, s, la);
    memcpy(y, s + la, len - la);
    struct dec a = {0, 0}, b = {0, 0}, c;
    char why[160] = "";
    int ra = dec_parse(x, la, &a);
    check_read(ra, a, NULL);
    int rb = dec_parse_input(y, len - la, comma, &b, why, sizeof why);
    check_read(rb, b, why);
    why[0] = 0;
    check_read(dec_parse_input(x, la, comma, &c, why, sizeof why), c, why);
    if (ra == DEC_OK && rb == DEC_OK)
        check_ops(a, b);
    free(x);
    free(y);
    return 0;
}
