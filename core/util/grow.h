/* Growing arrays: one way to make room, doubling, with overflow checked.
 *
 *   char **nv = grow(ns->v, &ns->cap, ns->n + 1, sizeof *ns->v);
 *   if (!nv)
 *       return -1;      // out of memory: ns->v and ns->cap are as they were
 *   ns->v = nv;
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
 * capacity (or more, as need asks), *cap updated.  NULL when memory or
 * size_t runs out (v is then untouched and still the caller's). */
static inline void *grow(void *v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return v;
    size_t n = *cap ? *cap : GROW_FIRST;
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

#endif
