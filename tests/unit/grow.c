/* core/util/grow.h: the growth helper of the hand-grown arrays. */
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "util/grow.h"

int main(void)
{
    int *v = NULL;
    size_t cap = 0;
    int *nv = grow(v, &cap, 1, sizeof *v);
    ok(nv && cap == GROW_FIRST, "an empty array gets GROW_FIRST elements");
    v = nv;
    for (int i = 0; i < GROW_FIRST; i++)
        v[i] = i;
    ok(grow(v, &cap, GROW_FIRST, sizeof *v) == v && cap == GROW_FIRST,
       "room enough: the same array, the same capacity");
    nv = grow(v, &cap, GROW_FIRST + 1, sizeof *v);
    ok(nv && cap == 2 * GROW_FIRST, "one more: the capacity doubles");
    v = nv;
    int same = 1;
    for (int i = 0; i < GROW_FIRST; i++)
        same &= v[i] == i;
    ok(same, "what it held is kept");
    nv = grow(v, &cap, 1000, sizeof *v);
    ok(nv && cap == 1024, "a bigger need: doubled until it fits (%zu)", cap);
    v = nv;
    v[999] = 7;
    size_t before = cap;
    ok(!grow(v, &cap, SIZE_MAX / 2 + 2, sizeof *v) && cap == before,
       "past size_t: NULL, the capacity unchanged");
    ok(!grow(v, &cap, SIZE_MAX / sizeof *v, sizeof *v) && cap == before,
       "elements times size past size_t: NULL");
    ok(v[999] == 7, "the array is still the caller's");
    free(v);
    return done();
}
