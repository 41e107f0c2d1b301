/* Exact decimal numbers for money: fixed point on a signed 128-bit integer.
 *
 * A value is coef / 10^scale with scale 0..18 and |coef| < 10^38: at most
 * 38 digits in all, of which at most 18 after the point (amounts up to 10^20
 * with 18 places, 10^36 with 2).  Every operation either gives the exact
 * result (or the one its rounding mode says) or an error: never a wrong
 * number.  +, - and * keep the natural scale (the larger scale, the sum of
 * the scales), dropping trailing zeros only when that is needed to fit;
 * division and rounding give exactly the scale asked for.  There is no
 * negative zero.
 *
 * Why fixed point on __int128 rather than a library such as libmpdec: a
 * value is 32 bytes with no pointer, so the Lua binding keeps it in a
 * fixed-size userdata that counts against the script state's memory limit,
 * needs no finalizer and allocates nothing outside it; its range is bounded,
 * so no operation can take unbounded time or memory; and money needs no more
 * than 38 digits.  Intermediate results (a product of two coefficients, a
 * dividend scaled up) take 256 bits, in the small helpers of dec.c.
 */
#ifndef CW_DEC_H
#define CW_DEC_H

#include <stddef.h>
#include <stdint.h>

#define DEC_MAX_SCALE 18
#define DEC_MAX_DIGITS 38
#define DEC_STR_MAX 48    /* dec_str's longest text, its NUL included */
#define DEC_FMT_MAX 128   /* dec_format's, with 4-byte separators */

struct dec {
    __int128 coef;
    int scale;
};

enum dec_err {
    DEC_OK = 0,
    DEC_ERANGE,   /* more than 38 digits */
    DEC_ESCALE,   /* more than 18 places after the point */
    DEC_EDIV0,    /* division by zero */
    DEC_ESYNTAX,  /* not a number */
};

/* The rounding modes, as Python's decimal names them (ROUND_HALF_EVEN ...). */
enum dec_mode {
    DEC_HALF_EVEN, DEC_HALF_UP, DEC_HALF_DOWN, DEC_DOWN, DEC_UP, DEC_FLOOR, DEC_CEILING,
    DEC_MODES
};

/* "half_even" ... "ceiling" -> the mode, or -1. */
int dec_mode_parse(const char *name);
const char *dec_mode_name(int mode);
/* What an error means, as a sentence fragment ("more than 18 decimal places"). */
const char *dec_strerror(int err);

struct dec dec_from_int(int64_t v);
/* A double as the shortest decimal that reads back as the same double (what
 * Python's Decimal(repr(x)) gives: 0.1 is 0.1, 3.0 is 3.0, 1e-05 is
 * 0.00001), or that decimal rounded half-even to digits significant digits
 * (1..17; 0: not rounded).  The shortest is the first of 15, 16 and 17
 * significant digits that reads back: a decimal of at most 15 digits reads
 * back from its nearest double, and printf gives exactly that one.  NaN and
 * infinities: DEC_ESYNTAX; more than 18 places or 38 digits: the errors. */
int dec_from_double(double x, int digits, struct dec *out);
/* v rounded half-even to digits significant digits (0: v exactly). */
int dec_from_int_digits(int64_t v, int digits, struct dec *out);
/* Each returns DEC_OK with the result in *out, or an error (*out untouched). */
int dec_add(struct dec a, struct dec b, struct dec *out);
int dec_sub(struct dec a, struct dec b, struct dec *out);
int dec_mul(struct dec a, struct dec b, struct dec *out);
/* a / b rounded to scale places (0..18) by mode. */
int dec_div(struct dec a, struct dec b, int scale, enum dec_mode mode, struct dec *out);
/* a at exactly scale places (0..18): rounded by mode, or zeros added. */
int dec_round(struct dec a, int scale, enum dec_mode mode, struct dec *out);
int dec_cmp(struct dec a, struct dec b);   /* -1, 0, 1 */
int dec_sign(struct dec a);
struct dec dec_neg(struct dec a);          /* the range is symmetric: always fits */
struct dec dec_abs(struct dec a);

/* Machine text, strictly: [+-]digits[.digits][(e|E)[+-]digits], nothing
 * around it ("2.5e3" is 2500, "1.50" keeps its two places). */
int dec_parse(const char *s, size_t len, struct dec *out);
/* What a person types: spaces around it, a sign (also U+2212), groups of
 * three digits set apart by spaces (also no-break and thin ones) or '_',
 * '.' as the decimal point, or ',' too when comma is set.  DEC_OK, or an
 * error with a sentence saying what is wrong and how to write it in why
 * (never with < > & or quotes from s: safe to send as HTML). */
int dec_parse_input(const char *s, size_t len, int comma, struct dec *out, char *why,
                    size_t whylen);

/* The canonical text: "-1234.50" (the scale's digits kept).  Its length. */
size_t dec_str(struct dec a, char *buf, size_t size);

struct dec_fmt {
    int decimals;          /* places shown (rounded by mode); -1: the value's own */
    enum dec_mode mode;
    const char *group;     /* between groups of three integer digits; "" none */
    const char *point;     /* the decimal point */
};
/* a as people read it: "1 234 567,89".  group and point at most 4 bytes
 * each; size at least DEC_FMT_MAX.  DEC_OK, or the rounding's error. */
int dec_format(struct dec a, const struct dec_fmt *f, char *buf, size_t size);

#endif
