/* A map from 64-bit ids (chat, user and preset ids) to pointers: open
 * addressing with linear probing. */
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
/* Removes key; its value, or NULL when it was not there. */
void *i64map_del(struct i64map *m, int64_t key);
/* Frees the map's arrays (not the values). */
void i64map_free(struct i64map *m);

#endif
