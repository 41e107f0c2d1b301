/* Growing arrays: one way to make room, doubling, with overflow checked.
 *
 *   char **nv = grow(ns->v, &ns->cap, ns->n + 1, sizeof *ns->v);
 *   if (!nv)
 *       return -1;      // out of memory: ns->v and ns->cap are as they were
 *   ns->v = nv;
 *
 * grow_from() is the same with the first capacity given (a byte buffer
 * starts at a few KB rather than at GROW_FIRST bytes).
 *
 * (It returns the array rather than taking a void **: writing a char **
 * through a void ** is not portable C.)
 */
#ifndef CW_GROW_H
#define CW_GROW_H

#include <stdint.h>
#include <stdlib.h>

#define GROW_FIRST 8   /* elements, when the array has none */

/* The array v (capacity *cap elements of size bytes) with room for need
 * elements: v itself when it has it, else v reallocated to double its
 * capacity (or more, as need asks; first elements when it has none), *cap
 * updated.  NULL when memory or size_t runs out (v is then untouched and
 * still the caller's). */
static inline void *grow_from(void *v, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return v;
    size_t n = *cap ? *cap : first ? first : 1;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return NULL;
        n *= 2;
    }
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *nv = realloc(v, n * size);
    if (nv)
        *cap = n;
    return nv;
}

/* grow_from with GROW_FIRST elements for an empty array. */
static inline void *grow(void *v, size_t *cap, size_t need, size_t size)
{
    return grow_from(v, cap, need, size, GROW_FIRST);
}

#endif
