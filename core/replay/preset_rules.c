#include "replay/preset_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/engine.h"
#include "store/store.h"

/* A preset as (chat, a hash of its name) -> its rule: names are up to 256
 * bytes, and a backtest of a large database holds one of these each. */
struct row {
    int64_t chat;
    uint64_t name;
    char rule[RULE_NAME_MAX + 1];
};

struct preset_rules {
    struct row *v;
    size_t n, cap;
    int failed;   /* out of memory while reading */
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int by_key(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->chat != y->chat)
        return x->chat < y->chat ? -1 : 1;
    return x->name < y->name ? -1 : x->name > y->name;
}

static int add_row(void *ud, const struct store_preset *p)
{
    struct preset_rules *pr = ud;
    if (pr->n == pr->cap) {
        size_t cap = pr->cap ? pr->cap * 2 : 64;
        struct row *v = realloc(pr->v, sizeof *v * cap);
        if (!v) {
            pr->failed = 1;
            return 1;   /* stops the walk: the map is dropped */
        }
        pr->v = v;
        pr->cap = cap;
    }
    struct row *r = &pr->v[pr->n++];
    r->chat = p->chat_id;
    r->name = name_hash(p->name);
    snprintf(r->rule, sizeof r->rule, "%s", p->rule && p->rule[0] ? p->rule : "move");
    return 0;
}

struct preset_rules *preset_rules_load(struct store *s)
{
    struct preset_rules *pr = calloc(1, sizeof *pr);
    if (!pr)
        return NULL;
    if (store_presets_each(s, add_row, pr) != 0 || pr->failed) {
        preset_rules_free(pr);
        return NULL;
    }
    if (pr->n)   /* (no presets: v is NULL) */
        qsort(pr->v, pr->n, sizeof *pr->v, by_key);
    return pr;
}

const char *preset_rules_find(const struct preset_rules *pr, int64_t chat, const char *name)
{
    if (!pr || !pr->n)
        return NULL;
    struct row key = {.chat = chat, .name = name_hash(name)};
    const struct row *r = bsearch(&key, pr->v, pr->n, sizeof *pr->v, by_key);
    return r ? r->rule : NULL;
}

void preset_rules_free(struct preset_rules *pr)
{
    if (pr)
        free(pr->v);
    free(pr);
}
