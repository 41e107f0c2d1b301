/* Presets: their rows in the store, validation, the subscription index
 * built from them (with "top N" following the ranking), and memory going
 * back to the database when a store batch is lost or a handler undone. */
#include "alert/engine_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/grow.h"
#include "loop/rt.h"
#include "util/interval.h"
#include "market/market.h"
#include "store/store.h"

/* ---- presets: struct <-> store row ---- */

const char *const preset_dir_names[4] = {"both", "up", "down", NULL};

/* The row for p; its lists are written into syms and ivs, its settings
 * into params. */
static struct store_preset preset_row(const struct preset *p, char *syms, size_t symlen,
                                      char *ivs, size_t ivlen, char params[RULE_KEY_MAX + 1])
{
    char key[RULE_KEY_MAX + 1];
    alert_preset_key(p, key, sizeof key);
    snprintf(params, RULE_KEY_MAX + 1, "%s", key + strcspn(key, ":") + (p->nparams > 0));
    size_t k = 0;
    syms[0] = ivs[0] = 0;
    for (int i = 0; i < p->nsymbols && k < symlen; i++)
        k += (size_t)snprintf(syms + k, symlen - k, "%s%s", i ? " " : "", p->symbols[i]);
    k = 0;
    for (int iv = 0; iv < IV_COUNT && k < ivlen; iv++)
        if (p->intervals & 1 << iv)
            k += (size_t)snprintf(ivs + k, ivlen - k, "%s%s", k ? " " : "", interval_name(iv));
    return (struct store_preset){
        .id = p->id, .user_id = p->user_id, .chat_id = p->chat_id, .name = p->name,
        .rule = p->rule, .pairs = p->pairs == PAIRS_TOP ? "top" : "manual", .top_n = p->top_n,
        .symbols = syms, .intervals = ivs, .threshold = p->threshold,
        .direction = preset_dir_names[p->dir], .trigger = p->on_close ? "close" : "forming",
        .min_volume = p->min_volume, .active = p->active, .created_ms = p->created_ms,
        .params = params};
}

void alert_preset_free(struct preset *p)
{
    if (p) {
        free(p->symbols);
        free(p);   /* (its sym_ids are in the same block) */
    }
}

/* A row's preset, its pairs as symbol ids (names are not kept: 24 bytes a
 * pair for 100,000 users). */
static struct preset *preset_from_row(struct alert_engine *e, const struct store_preset *r)
{
    int n = 0;
    for (const char *c = r->symbols; *c; c++)
        n += *c != ' ' && (c == r->symbols || c[-1] == ' ');
    /* one block: the preset as long as its name, then its symbol ids (a
     * big start-up makes 300,000: most of a preset was room for a name) */
    size_t namelen = strnlen(r->name, PRESET_NAME_MAX * 4);
    size_t head = (offsetof(struct preset, name) + namelen + 1 + 7) / 8 * 8;
    struct preset *p = calloc(1, head + sizeof *p->sym_ids * (size_t)n);
    if (!p)
        return NULL;
    p->sym_ids = n ? (uint32_t *)(void *)((char *)p + head) : NULL;
    p->id = r->id;
    p->user_id = r->user_id;
    p->chat_id = r->chat_id;
    memcpy(p->name, r->name, namelen);
    p->name[namelen] = 0;
    snprintf(p->rule, sizeof p->rule, "%s", r->rule);
    p->pairs = strcmp(r->pairs, "manual") == 0 ? PAIRS_MANUAL : PAIRS_TOP;
    p->top_n = r->top_n;
    for (const char *c = r->symbols; *c && p->nsym_ids < n;) {
        size_t len = strcspn(c, " ");
        int id = len && len < sizeof p->symbols[0] ? symtab_add(&e->market->syms, c, len) : -1;
        if (id >= 0)
            p->sym_ids[p->nsym_ids++] = (uint32_t)id;
        c += len + (c[len] == ' ');
    }
    for (const char *c = r->intervals; *c;) {
        size_t len = strcspn(c, " ");
        int iv = interval_parse(c, len);
        if (iv >= 0)
            p->intervals |= 1 << iv;
        c += len + (c[len] == ' ');
    }
    p->threshold = r->threshold;
    p->dir = !strcmp(r->direction, "up") ? DIR_UP : !strcmp(r->direction, "down") ? DIR_DOWN
                                                                                  : DIR_BOTH;
    p->on_close = strcmp(r->trigger, "close") == 0;
    p->min_volume = r->min_volume;
    for (const char *c = r->params ? r->params : ""; *c && p->nparams < RULE_PARAMS_MAX;) {
        char *end;
        double v = strtod(c, &end);
        if (end == c)
            break;
        p->params[p->nparams++] = v;
        c = end + (*end == ',');
    }
    p->active = r->active != 0;
    p->created_ms = r->created_ms;
    return p;
}

/* ---- indexing ---- */

/* The pairs a preset covers now. */
static uint32_t covered(struct alert_engine *e, const struct preset *p)
{
    if (p->pairs == PAIRS_MANUAL)
        return (uint32_t)p->nsym_ids;
    uint32_t n = e->market->nranked[VENUE_USDM];
    return p->top_n < 1 ? 0 : (uint32_t)p->top_n < n ? (uint32_t)p->top_n : n;
}

/* Pair x timeframe x direction: what the statistics count. */
static uint64_t preset_subs(const struct preset *p)
{
    if (!p->in_index)
        return 0;
    return (uint64_t)p->nindexed * (uint64_t)__builtin_popcount((unsigned)p->intervals) *
           (p->dir == DIR_BOTH ? 2u : 1u);
}

enum index_op { OP_ADD, OP_REMOVE, OP_EXPECT };

/* One entry per (pair, timeframe), both directions in it; a top N one
 * entry per timeframe, whatever the ranking. */
static void index_preset(struct alert_engine *e, struct preset *p, enum index_op op)
{
    struct index *ix = &e->rules[p->rule_slot].ix;
    enum index_trigger trig = p->on_close ? INDEX_CLOSE : INDEX_FORMING;
    unsigned dirs = p->dir == DIR_UP     ? INDEX_UP
                    : p->dir == DIR_DOWN ? INDEX_DOWN
                                         : INDEX_UP | INDEX_DOWN;
    double t = (double)p->threshold;
    int top = p->pairs == PAIRS_TOP;
    uint32_t n = top ? (p->top_n >= 1) : (uint32_t)p->nsym_ids;
    for (int iv = 0; iv < IV_COUNT; iv++) {
        if (!(p->intervals & 1 << iv))
            continue;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t sym = top ? 0 : p->sym_ids[k], tn = top ? (uint32_t)p->top_n : 0;
            if (op == OP_ADD)
                index_add(ix, sym, tn, iv, trig, t, p->sub, dirs);
            else if (op == OP_REMOVE)
                index_remove(ix, sym, tn, iv, trig, dirs, t, p->sub);
            else
                index_expect(ix, sym, tn, iv, trig, dirs);
        }
    }
}

static void unindex(struct alert_engine *e, struct preset *p)
{
    if (!p->in_index)
        return;
    e->st.subscriptions -= preset_subs(p);
    index_preset(e, p, OP_REMOVE);
    p->in_index = 0;
    p->nindexed = 0;
}

void alert_reindex(struct alert_engine *e, struct preset *p)
{
    unindex(e, p);
    if (!p->active || p->rule_slot < 0)
        return;
    index_preset(e, p, e->loading ? OP_EXPECT : OP_ADD);
    p->in_index = 1;
    p->nindexed = covered(e, p);
    e->st.subscriptions += preset_subs(p);
}

/* The second pass of a load: every list reserved at its size, then filled. */
void alert_index_loaded(struct alert_engine *e)
{
    for (int r = 0; r < e->nrules; r++)
        index_reserve(&e->rules[r].ix);
    for (uint32_t i = 0; i < e->nsubs; i++) {
        struct preset *p = e->subs[i];
        if (p && p->in_index)
            index_preset(e, p, OP_ADD);
    }
}

static int count_user(struct alert_engine *e, int64_t user)
{
    return (int)(intptr_t)i64map_get(&e->per_user, user) - 1;   /* stored as n + 1 */
}

static void add_user(struct alert_engine *e, int64_t user, int delta)
{
    int n = count_user(e, user);
    i64map_put(&e->per_user, user, (void *)(intptr_t)((n < 0 ? 0 : n) + delta + 1));
}

/* Takes a parsed preset into memory (not the store). */
static int adopt(struct alert_engine *e, struct preset *p)
{
    struct preset **v = grow_from(e->subs, &e->capsubs, (size_t)e->nsubs + 1, sizeof *v, 1024);
    if (!v || e->nsubs == UINT32_MAX)
        return -1;
    e->subs = v;
    if (i64map_put(&e->by_id, p->id, p) != 0)
        return -1;
    p->sub = e->nsubs;
    e->subs[e->nsubs++] = p;
    char key[RULE_KEY_MAX + 1];
    alert_preset_key(p, key, sizeof key);
    p->rule_slot = alert_rule_slot(e, key, 1);
    e->st.presets++;
    add_user(e, p->user_id, 1);
    alert_reindex(e, p);
    return 0;
}

/* Out of memory and the index (not the store). */
static void forget(struct alert_engine *e, struct preset *p)
{
    unindex(e, p);
    e->subs[p->sub] = NULL;
    i64map_del(&e->by_id, p->id);
    add_user(e, p->user_id, -1);
    e->st.presets--;
    alert_preset_free(p);
}

/* p takes old's place: same subscription id, new settings. */
static void replace(struct alert_engine *e, struct preset *old, struct preset *p)
{
    unindex(e, old);
    p->sub = old->sub;
    e->subs[p->sub] = p;
    i64map_put(&e->by_id, p->id, p);
    char key[RULE_KEY_MAX + 1];
    alert_preset_key(p, key, sizeof key);
    p->rule_slot = alert_rule_slot(e, key, 1);
    alert_preset_free(old);
    alert_reindex(e, p);
}

/* It was written in the open batch: if the batch is lost (presets), or
 * the handler's savepoint rolled back (all), memory must follow the
 * database back (alert_engine_batch_lost, alert_engine_undo). */
void alert_touch(struct alert_engine *e, int64_t id, enum touch_what what)
{
    struct store *st = e->store;
    uint64_t batch = st ? store_batch_id(st) : 0;
    if (!batch || e->touched.resyncing)
        return;
    store_batch_user_data(st);
    if (e->touched.batch != batch) {
        e->touched.batch = batch;
        e->touched.n = 0;
    }
    struct touched *v = grow_from(e->touched.v, &e->touched.cap, e->touched.n + 1, sizeof *v, 16);
    if (!v)
        return;
    e->touched.v = v;
    e->touched.v[e->touched.n++] = (struct touched){id, store_savepoint_id(st), what};
}

/* ---- the public preset API ---- */

static int universe_loaded(const struct market *m)
{
    for (uint32_t i = 0; i < m->syms.n; i++)
        if (m->syms.v[i].active)
            return 1;
    return 0;
}

/* Checks a manual list against the live universe: upper-cases it, drops
 * repeats, and names what is unknown. */
static int check_symbols(struct alert_engine *e, struct preset *p, char *err, size_t errlen)
{
    struct market *m = e->market;
    int live = universe_loaded(m), n = 0;
    char unknown[300] = "";
    for (int i = 0; i < p->nsymbols; i++) {
        char *s = p->symbols[i];
        for (char *c = s; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 32);
        int id = symtab_find(&m->syms, s, strlen(s));
        if (id < 0 || (live && !m->syms.v[id].active)) {
            size_t u = strlen(unknown);
            if (u < sizeof unknown - 40)
                snprintf(unknown + u, sizeof unknown - u, "%s%s", u ? ", " : "", s);
            continue;
        }
        int dup = 0;
        for (int j = 0; j < n; j++)
            dup |= strcmp(p->symbols[j], s) == 0;
        if (!dup)
            memmove(p->symbols[n++], s, sizeof p->symbols[0]);
    }
    if (unknown[0]) {
        snprintf(err, errlen, "Unknown pairs: %s. Use the exchange's names, like BTCUSDT.",
                 unknown);
        return -1;
    }
    p->nsymbols = n;
    return 0;
}

static int validate(struct alert_engine *e, struct preset *p, char *err, size_t errlen)
{
    const struct config *cfg = e->cfg;
    size_t chars = e->text_chars(p->name);
    if (chars < 1 || chars > PRESET_NAME_MAX) {
        snprintf(err, errlen, "A name has 1 to %d characters.", PRESET_NAME_MAX);
        return -1;
    }
    /* (a right-to-left override or a zero-width space would make it read
     * as another name) */
    if (e->text_invisible(p->name)) {
        snprintf(err, errlen, "A name is one line of visible text: no control, "
                              "right-to-left or zero-width characters.");
        return -1;
    }
    if (p->pairs == PAIRS_TOP && (p->top_n < 1 || p->top_n > 1000)) {
        snprintf(err, errlen, "Top N takes N from 1 to 1000.");
        return -1;
    }
    if (p->pairs == PAIRS_MANUAL) {
        if (p->nsymbols < 1 || p->nsymbols > cfg->limits.pairs_per_preset) {
            snprintf(err, errlen, "A list has 1 to %ld pairs.", cfg->limits.pairs_per_preset);
            return -1;
        }
        if (check_symbols(e, p, err, errlen) != 0)
            return -1;
    }
    if (!p->intervals || (p->intervals & ~cfg->exchange.intervals)) {
        snprintf(err, errlen, "Choose timeframes among the ones the bot watches.");
        return -1;
    }
    if (alert_validate_rule(e, p, err, errlen) != 0)
        return -1;
    if (!(p->min_volume >= 0)) {
        snprintf(err, errlen, "The minimum 24 h volume is a number of USDT, 0 or more.");
        return -1;
    }
    return 0;
}

int alert_preset_save(struct alert_engine *e, struct preset *in, char *err, size_t errlen)
{
    struct preset *old = in->id ? i64map_get(&e->by_id, in->id) : NULL;
    if (in->id && (!old || old->user_id != in->user_id)) {
        snprintf(err, errlen, "No such preset.");
        return -1;
    }
    if (!old && count_user(e, in->user_id) >= e->cfg->limits.presets_per_user) {
        snprintf(err, errlen, "You have %ld presets, the most there can be. Delete one first.",
                 e->cfg->limits.presets_per_user);
        return -1;
    }
    if (validate(e, in, err, errlen) != 0)
        return -1;
    if (!in->created_ms)
        in->created_ms = rt_wall_ms(e->rt);
    if (old)
        in->chat_id = old->chat_id;   /* a preset stays in the chat it was made in */
    size_t symlen = (size_t)in->nsymbols * sizeof in->symbols[0] + 1;
    char *syms = malloc(symlen), ivs[IV_COUNT * 4];
    char params[RULE_KEY_MAX + 1];
    struct store_preset row = syms ? preset_row(in, syms, symlen, ivs, sizeof ivs, params)
                                   : (struct store_preset){0};
    if (!syms || !e->store ||
        store_preset_put(e->store, &row, rt_wall_ms(e->rt)) != 0) {
        free(syms);
        snprintf(err, errlen, "The preset could not be saved; please try again.");
        return -1;
    }
    in->id = row.id;
    struct preset *p = preset_from_row(e, &row);   /* a copy, as it will load */
    free(syms);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    alert_touch(e, p->id, TOUCH_PRESET);
    if (old) {
        replace(e, old, p);
        return 0;
    }
    return adopt(e, p);
}

int alert_preset_delete(struct alert_engine *e, int64_t id)
{
    struct preset *p = i64map_get(&e->by_id, id);
    if (!p || !e->subs[p->sub])
        return -1;
    /* refused while the database fails: it would come back at the restart */
    if (e->store && store_preset_delete(e->store, id) != 0)
        return -2;
    alert_touch(e, id, TOUCH_PRESET);
    forget(e, p);
    return 0;
}

/* ---- a lost store batch: memory goes back to what the database holds ---- */

static int resync_row(void *ud, const struct store_preset *row)
{
    struct alert_engine *e = ud;
    struct preset *p = preset_from_row(e, row), *old = i64map_get(&e->by_id, row->id);
    if (p && old)
        replace(e, old, p);
    else if (p && adopt(e, p) != 0)
        alert_preset_free(p);
    return 1;
}

static void preset_resync(struct alert_engine *e, int64_t id)
{
    struct preset *p = i64map_get(&e->by_id, id);
    if (p)   /* (put back below if the database still has it) */
        forget(e, p);
    store_preset_get(e->store, id, resync_row, e);
}

void alert_engine_batch_lost(struct alert_engine *e, uint64_t batch)
{
    if (e->touched.batch != batch)
        return;
    size_t n = 0;
    for (size_t i = 0; i < e->touched.n; i++)
        if (e->touched.v[i].what == TOUCH_PRESET) {
            preset_resync(e, e->touched.v[i].id);
            n++;
        }
    if (n)
        log_warn(e->rt->log, "alerts", "%zu preset changes were not saved (the database "
                 "failed); their users were told", n);
    e->touched.n = 0;
}

void alert_engine_undo(struct alert_engine *e, uint64_t batch, uint64_t sp)
{
    if (e->touched.batch != batch)
        return;
    e->touched.resyncing = 1;
    for (size_t i = 0; i < e->touched.n; i++) {
        const struct touched *t = &e->touched.v[i];
        if (t->sp != sp)
            continue;
        if (t->what == TOUCH_PRESET)
            preset_resync(e, t->id);
        else if (t->what == TOUCH_PAUSE)
            alert_pause_resync(e, t->id);
        else
            alert_quiet_resync(e, t->id);
    }
    e->touched.resyncing = 0;
}

const struct preset *alert_preset_get(struct alert_engine *e, int64_t id)
{
    return i64map_get(&e->by_id, id);
}

int alert_presets_of(struct alert_engine *e, int64_t user, const struct preset **out, int max)
{
    int n = 0;
    for (uint32_t i = 0; i < e->nsubs && n < max; i++)
        if (e->subs[i] && e->subs[i]->user_id == user)
            out[n++] = e->subs[i];
    return n;
}

long alert_subscriptions_of(struct alert_engine *e, int64_t user)
{
    long n = 0;
    for (uint32_t i = 0; i < e->nsubs; i++) {
        const struct preset *p = e->subs[i];
        if (p && p->user_id == user && p->active)
            n += (long)p->nindexed * __builtin_popcount((unsigned)p->intervals);
    }
    return n;
}

void alert_prepare(struct alert_engine *e)
{
    for (int i = 0; i < e->nrules; i++)
        index_sort(&e->rules[i].ix);
}

void alert_ranks_update(struct alert_engine *e)
{
    const struct market *m = e->market;
    uint32_t n = m->syms.n;
    if (n > e->nrank) {
        uint32_t *r = realloc(e->rank, sizeof *r * n);
        if (!r)
            return;   /* (the old ranks stay) */
        e->rank = r;
        e->nrank = n;
    }
    if (e->rank)   /* (none before the first symbol) */
        memset(e->rank, 0, sizeof *e->rank * e->nrank);
    for (int v = 0; v < VENUE_COUNT; v++)   /* each venue's own ranks */
        for (uint32_t i = 0; i < m->nranked[v]; i++)
            if (m->ranked[v][i] < e->nrank)
                e->rank[m->ranked[v][i]] = i + 1;
}

/* A symbol entering a top N matches its presets from its next value on;
 * one leaving it no longer does.  Only the ranks change. */
void alert_on_ranking(void *ud)
{
    struct alert_engine *e = ud;
    alert_ranks_update(e);
    for (uint32_t i = 0; i < e->nsubs; i++) {
        struct preset *p = e->subs[i];
        if (p && p->pairs == PAIRS_TOP && p->in_index) {
            e->st.subscriptions -= preset_subs(p);
            p->nindexed = covered(e, p);
            e->st.subscriptions += preset_subs(p);
        }
    }
}

int alert_load_preset(void *ud, const struct store_preset *row)
{
    struct alert_engine *e = ud;
    struct preset *p = preset_from_row(e, row);
    if (!p || adopt(e, p) != 0) {
        log_warn(e->rt->log, "alerts", "preset %lld could not be loaded (out of memory)",
                 (long long)row->id);
        alert_preset_free(p);
    }
    return 0;
}
