/* Exact decimals from Lua's numbers (see dec.h): a double becomes the
 * shortest decimal that reads back as the same double, the digits Python's
 * repr() shows, so a JSON number such as 95.31 becomes exactly 95.31 rather
 * than the binary value 95.31000000000000227...  Rounding to significant
 * digits is done on those decimal digits (half-even), never by printf on
 * the binary value, where 2.675 would round down. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/dec.h"

#define FLOAT_DIGITS_MIN 15   /* every double with at most 15 digits reads back */
#define FLOAT_DIGITS_MAX 17   /* and every double with 17 */

static int ndigits(uint64_t m)
{
    int n = 1;
    while (m >= 10) {
        m /= 10;
        n++;
    }
    return n;
}

static uint64_t pow10u(int n)
{
    uint64_t p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* |x| as m 10^e with m its shortest round-trip digits (no trailing zero, or
 * 0): the first of %.15e .. %.17e that strtod reads back as x.  That is the
 * shortest, as shown in dec.h's comment on dec_from_double. */
static void shortest(double x, uint64_t *m, int *e)
{
    char buf[40];
    int p = FLOAT_DIGITS_MIN;
    for (;; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, fabs(x));
        if (p == FLOAT_DIGITS_MAX || strtod(buf, NULL) == fabs(x))
            break;
    }
    uint64_t v = 0;
    char *c = buf;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            v = v * 10 + (uint64_t)(*c - '0');
    int exp = *c == 'e' ? atoi(c + 1) - (p - 1) : 0;
    while (v && v % 10 == 0) {
        v /= 10;
        exp++;
    }
    *m = v;
    *e = v ? exp : 0;
}

/* (neg) m 10^e rounded half-even to digits significant digits (0: as it
 * is), then as a struct dec: trailing zeros dropped only when needed to fit
 * 18 places, as arithmetic does. */
static int from_parts(int neg, uint64_t m, int e, int digits, struct dec *out)
{
    int n = ndigits(m);
    if (digits > 0 && n > digits) {
        uint64_t p = pow10u(n - digits), q = m / p, r = m % p;
        if (r > p - r || (r == p - r && (q & 1)))
            q++;
        m = q;
        e += n - digits;
    }
    while (e < -DEC_MAX_SCALE && m % 10 == 0 && m) {
        m /= 10;
        e++;
    }
    if (e < -DEC_MAX_SCALE)
        return DEC_ESCALE;
    if (m && e > 0 && ndigits(m) + e > DEC_MAX_DIGITS)
        return DEC_ERANGE;
    __int128 c = (__int128)m;
    for (int k = 0; k < e; k++)
        c *= 10;
    out->coef = neg ? -c : c;
    out->scale = e < 0 ? -e : 0;
    return DEC_OK;
}

int dec_from_double(double x, int digits, struct dec *out)
{
    if (!isfinite(x))
        return DEC_ESYNTAX;
    uint64_t m;
    int e;
    shortest(x, &m, &e);
    /* repr writes a whole number below 10^16 with ".0", and Decimal keeps
     * that place: 3.0 is 3.0, 1e16 is 10000000000000000 */
    if (e >= 0 && fabs(x) < 1e16) {
        m *= pow10u(e + 1);
        e = -1;
    }
    return from_parts(x < 0, m, e, digits, out);
}

int dec_from_int_digits(int64_t v, int digits, struct dec *out)
{
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return from_parts(v < 0, m, 0, digits, out);
}
