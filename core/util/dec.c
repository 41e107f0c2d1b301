/* Exact decimals (see dec.h).  Every operation works on the magnitude in
 * 256 bits (sign apart), then fits the result back into 38 digits and 18
 * places or says why it cannot.  256 bits hold any intermediate: a product
 * of two coefficients (< 10^76), a coefficient times 10^36 (< 10^74). */
#include "util/dec.h"

#include <string.h>

typedef unsigned __int128 u128;

/* 256-bit magnitudes: four 64-bit limbs, least significant first. */
typedef struct {
    uint64_t w[4];
} u256;

static u128 p10(int n)
{
    u128 r = 1;
    while (n-- > 0)
        r *= 10;
    return r;
}

static u256 u256_of(u128 x)
{
    u256 r = {{(uint64_t)x, (uint64_t)(x >> 64), 0, 0}};
    return r;
}

static int u256_is_zero(u256 a)
{
    return !(a.w[0] | a.w[1] | a.w[2] | a.w[3]);
}

static int u256_cmp(u256 a, u256 b)
{
    for (int i = 3; i >= 0; i--)
        if (a.w[i] != b.w[i])
            return a.w[i] < b.w[i] ? -1 : 1;
    return 0;
}

static u256 u256_add(u256 a, u256 b)   /* callers stay far below 2^256 */
{
    u128 carry = 0;
    for (int i = 0; i < 4; i++) {
        carry += (u128)a.w[i] + b.w[i];
        a.w[i] = (uint64_t)carry;
        carry >>= 64;
    }
    return a;
}

static u256 u256_sub(u256 a, u256 b)   /* a >= b */
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t d = a.w[i] - b.w[i] - borrow;
        borrow = a.w[i] < b.w[i] || (a.w[i] == b.w[i] && borrow);
        a.w[i] = d;
    }
    return a;
}

/* x * y, schoolbook on 64-bit limbs: each partial product and its carries
 * fit in 128 bits ((2^64-1)^2 + 2 (2^64-1) = 2^128 - 1). */
static u256 u256_mul(u128 x, u128 y)
{
    uint64_t a[2] = {(uint64_t)x, (uint64_t)(x >> 64)};
    uint64_t b[2] = {(uint64_t)y, (uint64_t)(y >> 64)};
    u256 r = {{0, 0, 0, 0}};
    for (int i = 0; i < 2; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 2; j++) {
            u128 t = (u128)a[i] * b[j] + r.w[i + j] + carry;
            r.w[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        r.w[i + 2] = carry;
    }
    return r;
}

/* a /= d; the remainder. */
static uint64_t u256_divsmall(u256 *a, uint64_t d)
{
    u128 rem = 0;
    for (int i = 3; i >= 0; i--) {
        u128 cur = rem << 64 | a->w[i];
        a->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    return (uint64_t)rem;
}

/* n = q d + r, bit by bit (shift and subtract): slow but short, and money
 * math is far from any hot path.  d < 2^255, so r << 1 cannot overflow. */
static void u256_divmod(u256 n, u256 d, u256 *q, u256 *r)
{
    u256 quo = {{0, 0, 0, 0}}, rem = {{0, 0, 0, 0}};
    for (int bit = 255; bit >= 0; bit--) {
        for (int i = 3; i > 0; i--)
            rem.w[i] = rem.w[i] << 1 | rem.w[i - 1] >> 63;
        rem.w[0] = rem.w[0] << 1 | (n.w[bit / 64] >> (bit % 64) & 1);
        if (u256_cmp(rem, d) >= 0) {
            rem = u256_sub(rem, d);
            quo.w[bit / 64] |= (uint64_t)1 << (bit % 64);
        }
    }
    *q = quo;
    *r = rem;
}

static u128 u128_abs(__int128 v)
{
    return v < 0 ? -(u128)v : (u128)v;
}

/* A result before it is fitted: sign, magnitude, scale (0..36). */
struct wide {
    int neg;
    u256 mag;
    int scale;
};

/* w into *out.  With drop, trailing zeros go while the scale is over 18 or
 * the digits over 38 (the value stays exact); without, the scale is kept. */
static int wide_fit(struct wide w, int drop, struct dec *out)
{
    u256 limit = u256_of(p10(DEC_MAX_DIGITS));
    while (drop && w.scale > 0 && (w.scale > DEC_MAX_SCALE || u256_cmp(w.mag, limit) >= 0)) {
        u256 t = w.mag;
        if (u256_divsmall(&t, 10) != 0)
            break;
        w.mag = t;
        w.scale--;
    }
    if (w.scale > DEC_MAX_SCALE)
        return DEC_ESCALE;
    if (u256_cmp(w.mag, limit) >= 0)
        return DEC_ERANGE;
    u128 m = (u128)w.mag.w[1] << 64 | w.mag.w[0];
    out->coef = w.neg ? -(__int128)m : (__int128)m;
    out->scale = w.scale;
    return DEC_OK;
}

/* |a| at scale s (>= a.scale). */
static u256 mag_at(struct dec a, int s)
{
    return u256_mul(u128_abs(a.coef), p10(s - a.scale));
}

static const char *const mode_names[DEC_MODES] = {
    "half_even", "half_up", "half_down", "down", "up", "floor", "ceiling"};

int dec_mode_parse(const char *name)
{
    for (int m = 0; m < DEC_MODES; m++)
        if (!strcmp(name, mode_names[m]))
            return m;
    return -1;
}

const char *dec_mode_name(int mode)
{
    return mode >= 0 && mode < DEC_MODES ? mode_names[mode] : "?";
}

const char *dec_strerror(int err)
{
    switch (err) {
    case DEC_OK: return "no error";
    case DEC_ERANGE: return "out of range (more than 38 digits)";
    case DEC_ESCALE: return "more than 18 decimal places";
    case DEC_EDIV0: return "division by zero";
    case DEC_ESYNTAX: return "not a decimal number";
    }
    return "unknown error";
}

struct dec dec_from_int(int64_t v)
{
    struct dec d = {v, 0};
    return d;
}

int dec_sign(struct dec a)
{
    return (a.coef > 0) - (a.coef < 0);
}

struct dec dec_neg(struct dec a)
{
    a.coef = -a.coef;
    return a;
}

struct dec dec_abs(struct dec a)
{
    return a.coef < 0 ? dec_neg(a) : a;
}

int dec_cmp(struct dec a, struct dec b)
{
    int sa = dec_sign(a), sb = dec_sign(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    int s = a.scale > b.scale ? a.scale : b.scale;
    int c = u256_cmp(mag_at(a, s), mag_at(b, s));
    return sa < 0 ? -c : c;
}

int dec_add(struct dec a, struct dec b, struct dec *out)
{
    int s = a.scale > b.scale ? a.scale : b.scale;
    u256 ma = mag_at(a, s), mb = mag_at(b, s);
    struct wide w = {a.coef < 0, ma, s};
    if ((a.coef < 0) == (b.coef < 0))
        w.mag = u256_add(ma, mb);
    else if (u256_cmp(ma, mb) >= 0)
        w.mag = u256_sub(ma, mb);
    else
        w = (struct wide){b.coef < 0, u256_sub(mb, ma), s};
    return wide_fit(w, 1, out);
}

int dec_sub(struct dec a, struct dec b, struct dec *out)
{
    return dec_add(a, dec_neg(b), out);
}

int dec_mul(struct dec a, struct dec b, struct dec *out)
{
    struct wide w = {(a.coef < 0) != (b.coef < 0), u256_mul(u128_abs(a.coef), u128_abs(b.coef)),
                     a.scale + b.scale};
    return wide_fit(w, 1, out);
}

/* Whether the quotient q (a magnitude) of a division that left r of d goes
 * up by one under mode; neg: the true quotient is negative. */
static int round_away(int neg, u256 q, u256 r, u256 d, enum dec_mode mode)
{
    if (u256_is_zero(r))
        return 0;
    int half = u256_cmp(u256_add(r, r), d);   /* the remainder against d / 2 */
    switch (mode) {
    case DEC_HALF_EVEN: return half > 0 || (half == 0 && (q.w[0] & 1));
    case DEC_HALF_UP: return half >= 0;
    case DEC_HALF_DOWN: return half > 0;
    case DEC_DOWN: return 0;
    case DEC_UP: return 1;
    case DEC_FLOOR: return neg;
    case DEC_CEILING: return !neg;
    case DEC_MODES: break;
    }
    return 0;
}

/* n / d (magnitudes) rounded to an integer by mode, at scale. */
static int divround(int neg, u256 n, u256 d, int scale, enum dec_mode mode, struct dec *out)
{
    u256 q, r;
    u256_divmod(n, d, &q, &r);
    if (round_away(neg, q, r, d, mode))
        q = u256_add(q, u256_of(1));
    struct wide w = {neg, q, scale};
    return wide_fit(w, 0, out);
}

static int scale_ok(int scale, enum dec_mode mode)
{
    return scale >= 0 && scale <= DEC_MAX_SCALE && (int)mode >= 0 && mode < DEC_MODES;
}

/* a / b at scale: |a| 10^e / |b| with e = scale + b.scale - a.scale, the
 * power on the divisor's side when e < 0 (both stay under 10^74). */
int dec_div(struct dec a, struct dec b, int scale, enum dec_mode mode, struct dec *out)
{
    if (!scale_ok(scale, mode))
        return DEC_ESCALE;
    if (b.coef == 0)
        return DEC_EDIV0;
    int e = scale + b.scale - a.scale;
    u256 n = u256_mul(u128_abs(a.coef), p10(e > 0 ? e : 0));
    u256 d = u256_mul(u128_abs(b.coef), p10(e < 0 ? -e : 0));
    return divround((a.coef < 0) != (b.coef < 0), n, d, scale, mode, out);
}

int dec_round(struct dec a, int scale, enum dec_mode mode, struct dec *out)
{
    if (!scale_ok(scale, mode))
        return DEC_ESCALE;
    if (scale >= a.scale) {
        struct wide w = {a.coef < 0, mag_at(a, scale), scale};
        return wide_fit(w, 0, out);
    }
    return divround(a.coef < 0, u256_of(u128_abs(a.coef)), u256_of(p10(a.scale - scale)),
                    scale, mode, out);
}
