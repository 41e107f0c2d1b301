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

    char *b = NULL;
    size_t bcap = 0;
    char *nb = grow_from(b, &bcap, 1, 1, 4096);
    ok(nb && bcap == 4096, "grow_from: an empty array gets the first capacity asked for");
    b = nb;
    nb = grow_from(b, &bcap, 4096, 1, 4096);
    ok(nb == b && bcap == 4096, "grow_from: room enough, the same array");
    nb = grow_from(b, &bcap, 9000, 1, 4096);
    ok(nb && bcap == 16384, "grow_from: past it, doubled until it fits (%zu)", bcap);
    b = nb;
    free(b);
    b = NULL, bcap = 0;
    nb = grow_from(b, &bcap, 5000, 1, 4096);
    ok(nb && bcap == 8192, "grow_from: a first need above the first capacity doubles it (%zu)",
       bcap);
    free(nb);
    bcap = 0;
    nb = grow_from(NULL, &bcap, 3, 1, 0);
    ok(nb && bcap == 4, "grow_from: a first capacity of 0 is taken as 1, then doubled (%zu)",
       bcap);
    free(nb);
    return done();
}
