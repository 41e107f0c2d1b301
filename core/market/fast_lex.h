/* The fast paths' lexer: literal compares a word at a time, strings and
 * digits eight bytes at a time, decimals and ms times read in place.  Each
 * helper returns 0 at the first byte it does not expect, and the caller
 * leaves the frame to its general walker.  Shared by market/kline_fast.c
 * (Binance) and market/bybit_kline.c (Bybit); internal to market/. */
#ifndef CW_FAST_LEX_H
#define CW_FAST_LEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "market/kline_parse.h"
#include "util/bytes.h"

struct fp {
    const char *p, *end;
};

/* Byte i of the string literal s, placed at bit 8i of a little-endian
 * word (0 past its end); an integer constant expression, so a literal's
 * word costs nothing at run time. */
#define LW_BYTE(s, i) \
    (sizeof(s) - 1 > (i) ? (uint64_t)(unsigned char)(s)[sizeof(s) - 1 > (i) ? (i) : 0] << (8 * (i)) : 0)
#define LIT_WORD(s) \
    (LW_BYTE(s, 0) | LW_BYTE(s, 1) | LW_BYTE(s, 2) | LW_BYTE(s, 3) | LW_BYTE(s, 4) | \
     LW_BYTE(s, 5) | LW_BYTE(s, 6))

/* Equal to a literal of compile-time length, compared a word at a time
 * (memcmp would be a call per literal).  Short literals are one masked
 * 8-byte load: copying n < 8 bytes into a word goes through the stack and
 * stalls on store forwarding, which cost about a tenth of the parse. */
static inline __attribute__((always_inline)) int lit_eq(const char *p, const char *end,
                                                        const char *s, size_t n, uint64_t word)
{
    uint64_t a, b;
    if (n < 8) {
        if (end - p >= 8) {
            memcpy(&a, p, 8);
            return (a & ((1ull << (8 * n)) - 1)) == word;
        }
        return memcmp(p, s, n) == 0;
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&a, p + i, 8);
        memcpy(&b, s + i, 8);
        if (a != b)
            return 0;
    }
    if (i == n)
        return 1;
    memcpy(&a, p + n - 8, 8);   /* the tail, overlapping what was compared */
    memcpy(&b, s + n - 8, 8);
    return a == b;
}

#define LIT(f, s) \
    ((size_t)((f)->end - (f)->p) >= sizeof(s) - 1 && lit_eq((f)->p, (f)->end, (s), sizeof(s) - 1, LIT_WORD(s)) \
         ? ((f)->p += sizeof(s) - 1, 1) : 0)

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* High bit set in each byte of x equal to b (SWAR).  Borrows can also set
 * it above a true match, never below one, so the lowest bit is exact. */
static inline __attribute__((always_inline)) uint64_t match_byte(uint64_t x, unsigned char b)
{
    uint64_t y = x ^ (ONES * b);
    return (y - ONES) & ~y & HIGHS;
}

/* The contents up to the closing quote (the opening one already read),
 * eight bytes at a time; refuses escapes and control bytes, which the
 * general walker handles. */
static inline __attribute__((always_inline)) int fstr(struct fp *f, const char **s, size_t *n)
{
    const char *c = f->p;
    for (; f->end - c >= 8; c += 8) {
        uint64_t x;
        memcpy(&x, c, 8);
        uint64_t quote = match_byte(x, '"');
        uint64_t special = ((x - ONES * 0x20) & ~x & HIGHS) | match_byte(x, '\\');
        if (quote) {
            /* a special byte below the first quote is a true one */
            if (special & ((quote & -quote) - 1))
                return 0;
            c += __builtin_ctzll(quote) / 8;
            goto found;
        }
        if (special)
            return 0;
    }
    for (;; c++) {
        if (c == f->end || *c == '\\' || (unsigned char)*c < 0x20)
            return 0;
        if (*c == '"')
            break;
    }
found:
    *s = f->p;
    *n = (size_t)(c - f->p);
    f->p = c + 1;
    return 1;
}

static const uint64_t pow10_u64[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000};

/* The value of eight digit values (0..9), one per byte, the first byte
 * most significant: adjacent digits, then pairs, then quads are combined
 * in place, each step one multiply (no lane overflows: 9*10+9, 99*100+99
 * and 9999*10000+9999 all fit their lanes). */
static inline __attribute__((always_inline)) uint64_t eight_digits(uint64_t t)
{
    t = (t * 10 + (t >> 8)) & 0x00FF00FF00FF00FFull;
    t = (t * 100 + (t >> 16)) & 0x0000FFFF0000FFFFull;
    return (t * 10000 + (t >> 32)) & 0xFFFFFFFFull;
}

/* A run of decimal digits at f->p, eight at a time, appended to *m; the
 * number of digits (more than 19 means too many for *m).  Returns -1
 * when fewer than eight bytes remain: the general walker takes over. */
static inline __attribute__((always_inline)) int fdigits(struct fp *f, uint64_t *m)
{
    int total = 0;
    uint64_t x = *m;
    for (;;) {
        if (f->end - f->p < 8)
            return -1;
        uint64_t w;
        memcpy(&w, f->p, 8);
        /* each byte minus '0': a digit is 0..9, so both it and it + 6
         * have a zero high nibble; the first byte that is not a digit is
         * flagged exactly (borrows and carries only move upwards) */
        uint64_t t = w - ONES * '0';
        uint64_t non = (t | (t + ONES * 6)) & (ONES * 0xF0);
        int k = non ? __builtin_ctzll(non) / 8 : 8;
        if (k)
            x = x * pow10_u64[k] + eight_digits(t << (8 * (8 - k)));
        f->p += k;
        total += k;
        if (k < 8 || total > 19)
            break;
    }
    *m = x;
    return total;
}

/* A string expected to hold the n bytes at want, which were read from
 * this frame by fstr (so hold no quote, escape or control byte): when it
 * does, its end is known without scanning for it; otherwise fstr. */
static inline __attribute__((always_inline)) int fsame(struct fp *f, const char *want,
                                                       size_t n, const char **s, size_t *sn)
{
    if ((size_t)(f->end - f->p) > n && f->p[n] == '"' && bytes_equal(f->p, want, n)) {
        *s = f->p;
        *sn = n;
        f->p += n + 1;
        return 1;
    }
    return fstr(f, s, sn);
}

/* An integer of at most 18 digits, not followed by a fraction or an
 * exponent (those are not integers: the general path refuses them). */
static inline __attribute__((always_inline)) int fint(struct fp *f, int64_t *v)
{
    int neg = *f->p == '-';
    f->p += neg;
    uint64_t x = 0;
    int n = fdigits(f, &x);
    if (n < 1 || n > 18 || *f->p == '.' || *f->p == 'e' || *f->p == 'E')
        return 0;
    *v = neg ? -(int64_t)x : (int64_t)x;
    return 1;
}

/* A millisecond timestamp: 13 digits until the year 2286.  Read as two
 * overlapping fixed loads, so where the next field starts does not wait
 * on counting digits (the parse is one long dependency chain through the
 * read position); any other length goes through fint. */
static inline __attribute__((always_inline)) int ftime(struct fp *f, int64_t *v)
{
    const char *p = f->p;
    if (f->end - p >= 16) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + 5, 8);   /* digits 5..12; 5..7 are dropped below */
        a -= ONES * '0';
        b -= ONES * '0';
        uint64_t non = ((a | (a + ONES * 6)) | (b | (b + ONES * 6))) & (ONES * 0xF0);
        unsigned char next = (unsigned char)p[13];
        if (!non && (next < '0' || next > '9') && next != '.' && next != 'e' && next != 'E') {
            *v = (int64_t)(eight_digits(a) * 100000 + eight_digits(b & ~0xFFFFFFull));
            f->p = p + 13;
            return 1;
        }
    }
    return fint(f, v);
}

/* "digits[.digits]" including the quotes, read in place, into one
 * mantissa.  Past 19 digits (spot's 8 fixed decimals on a volume of 1e11
 * or more) the fraction is read again on its own and the parts joined by
 * kline_dec_value: still the fast path, at no cost to the usual numbers. */
static inline __attribute__((always_inline)) int fdec(struct fp *f, double *v, int *dp)
{
    if (*f->p != '"')
        return 0;
    f->p++;
    uint64_t m = 0;
    int int_digits = fdigits(f, &m), frac = 0;
    if (int_digits < 1)
        return 0;
    if (*f->p == '.') {
        f->p++;
        frac = fdigits(f, &m);
        if (frac < 1)
            return 0;
        if (int_digits + frac > 19) {   /* rare: read again, the parts apart */
            uint64_t ip = 0, fr = 0;
            if (int_digits > 19)
                return 0;
            f->p -= frac + 1 + int_digits;   /* (each digit read was one byte) */
            fdigits(f, &ip);
            f->p++;
            frac = fdigits(f, &fr);
            if (frac > 19 || *f->p != '"')
                return 0;
            *v = kline_dec_value(ip, fr, frac);
            *dp = frac;
            f->p++;
            return 1;
        }
    }
    if (*f->p != '"' || int_digits > 19)
        return 0;   /* the general path handles (or refuses) the rest */
    *v = (double)m / kline_pow10[frac];   /* = kline_dec_value's, in 64 bits */
    *dp = frac;
    f->p++;
    return 1;
}

#endif
