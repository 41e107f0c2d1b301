#include "util/i64map.h"

#include <stdlib.h>

static size_t slot(int64_t key, size_t cap)
{
    return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

void *i64map_get(const struct i64map *m, int64_t key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->vals[i])
            return NULL;
        if (m->keys[i] == key)
            return m->vals[i];
    }
}

static void place(int64_t *keys, void **vals, size_t cap, int64_t key, void *val)
{
    size_t i = slot(key, cap);
    while (vals[i] && keys[i] != key)
        i = (i + 1) & (cap - 1);
    keys[i] = key;
    vals[i] = val;
}

int i64map_put(struct i64map *m, int64_t key, void *val)
{
    if ((m->n + 1) * 2 > m->cap) {   /* at most half full: probes stay short */
        size_t cap = m->cap ? m->cap * 2 : 256;
        int64_t *keys = calloc(cap, sizeof *keys);
        void **vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->vals[i])
                place(keys, vals, cap, m->keys[i], m->vals[i]);
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    if (!i64map_get(m, key))
        m->n++;
    place(m->keys, m->vals, m->cap, key, val);
    return 0;
}

void *i64map_del(struct i64map *m, int64_t key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1, i = slot(key, m->cap);
    while (m->vals[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    void *val = m->vals[i];
    if (!val)
        return NULL;
    m->vals[i] = NULL;
    m->n--;
    /* backward shift: pull later entries of the run into the hole, so
     * every lookup's probe still reaches its key without tombstones */
    for (size_t j = (i + 1) & mask; m->vals[j]; j = (j + 1) & mask) {
        size_t home = slot(m->keys[j], m->cap);
        /* j may move to i when home is not cyclically within (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->vals[j] = NULL;
            i = j;
        }
    }
    return val;
}

void i64map_free(struct i64map *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->n = m->cap = 0;
}
