/* Short byte strings compared and hashed a word at a time, reading only
 * the bytes given.  memcpy of a variable length n < 8 into a word is a
 * libc call or a trip through the stack; two overlapping loads of fixed
 * size are neither.  For the hot path's symbol and stream names.
 * Little-endian only (amd64, arm64), which the build checks.
 */
#ifndef CW_BYTES_H
#define CW_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the word-at-a-time byte helpers assume a little-endian machine"
#endif

/* The first k (0..8) bytes of s in a word, byte i at bits 8i..8i+7 in
 * memory order (unused high bytes zero). */
static inline __attribute__((always_inline)) uint64_t bytes_load(const char *s, size_t k)
{
    uint64_t lo = 0, hi = 0;
    if (k >= 8) {
        memcpy(&lo, s, 8);
        return lo;
    }
    if (k >= 4) {   /* overlapping bytes are the same bytes: OR is exact */
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + k - 4, 4);
        lo = a;
        hi = b;
        return lo | hi << (8 * (k - 4));
    }
    if (k >= 2) {
        uint16_t a, b;
        memcpy(&a, s, 2);
        memcpy(&b, s + k - 2, 2);
        lo = a;
        hi = b;
        return lo | hi << (8 * (k - 2));
    }
    return k ? (unsigned char)s[0] : 0;
}

/* a[0..n) == b[0..n), exactly. */
static inline __attribute__((always_inline)) int bytes_equal(const char *a, const char *b, size_t n)
{
    for (; n >= 8; a += 8, b += 8, n -= 8)
        if (bytes_load(a, 8) != bytes_load(b, 8))
            return 0;
    return bytes_load(a, n) == bytes_load(b, n);
}

#endif
