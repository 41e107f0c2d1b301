#include "alert/fired.h"

#include <stdlib.h>

static size_t slot(const struct fired *f, int64_t chat, uint32_t symbol, int iv)
{
    uint64_t h = (uint64_t)chat * 0x9E3779B97F4A7C15ull;
    h ^= ((uint64_t)symbol << 8 | (uint64_t)iv) * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ h >> 29) & (f->cap - 1);
}

static struct fired_slot *find(const struct fired *f, int64_t chat, uint32_t symbol, int iv)
{
    if (!f->cap)
        return NULL;
    for (size_t i = slot(f, chat, symbol, iv);; i = (i + 1) & (f->cap - 1)) {
        struct fired_slot *s = &f->v[i];
        if (!s->open_time ||
            (s->chat == chat && s->symbol == symbol && s->interval == (uint8_t)iv))
            return s;
    }
}

int64_t fired_get(const struct fired *f, int64_t chat, uint32_t symbol, int iv)
{
    const struct fired_slot *s = find(f, chat, symbol, iv);
    return s ? s->open_time : 0;
}

int fired_set(struct fired *f, int64_t chat, uint32_t symbol, int iv, int64_t open_time)
{
    if ((f->n + 1) * 2 > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 1024;
        struct fired old = *f;
        f->v = calloc(cap, sizeof *f->v);
        if (!f->v) {
            *f = old;
            return -1;
        }
        f->cap = cap;
        f->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.v[i].open_time) {
                *find(f, old.v[i].chat, old.v[i].symbol, old.v[i].interval) = old.v[i];
                f->n++;
            }
        free(old.v);
    }
    struct fired_slot *s = find(f, chat, symbol, iv);
    if (!s->open_time)
        f->n++;
    *s = (struct fired_slot){chat, open_time ? open_time : 1, symbol, (uint8_t)iv};
    return 0;
}

void fired_free(struct fired *f)
{
    free(f->v);
    f->v = NULL;
    f->n = f->cap = 0;
}
