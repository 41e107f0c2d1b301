/* A map from 64-bit ids (chat and user ids) to pointers: open addressing,
 * no removal (entries live as long as the map). */
#ifndef CW_I64MAP_H
#define CW_I64MAP_H

#include <stddef.h>
#include <stdint.h>

struct i64map {
    int64_t *keys;
    void **vals;              /* NULL marks a free slot */
    size_t n, cap;            /* cap: a power of two */
};

void *i64map_get(const struct i64map *m, int64_t key);
/* Adds or replaces; val must not be NULL.  0, or -1 when out of memory. */
int i64map_put(struct i64map *m, int64_t key, void *val);
/* Frees the map's arrays (not the values). */
void i64map_free(struct i64map *m);

#endif
