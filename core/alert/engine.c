#include "alert/engine.h"

#include "metrics/prom.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/fired.h"
#include "alert/index.h"
#include "market/interval.h"
#include "config/config.h"
#include "loop/rt.h"
#include "market/market.h"
#include "store/store.h"
#include "util/i64map.h"
#include "util/jsonw.h"

#define QUEUE_CAP 65536          /* candle events between two loop turns */
#define DAY_MS 86400000LL
#define PRUNE_FIRST_MS 60000    /* after start-up */
#define PRUNE_EVERY_MS 3600000

struct rule {
    char name[RULE_NAME_MAX + 1];
    int live, on_forming, on_close;
    struct index ix;
};

#define PAUSE_SCOPE "alerts.pause"
#define QUIET_SCOPE "alerts.quiet"

struct quiet {                /* daily quiet hours, in the chat's time zone */
    int from, to;             /* minutes of the local day; from == to: none */
    int tz;                   /* minutes east of UTC */
};
#define DIGEST_LINES 20

struct pause {                /* a chat's alerts held back (/stop, /snooze) */
    int64_t chat;
    int64_t until;            /* wall ms; INT64_MAX: until resumed */
    long count;               /* alerts held */
    char lines[DIGEST_LINES][48];
    int nlines;
    struct timer *timer;
    struct alert_engine *e;
};

struct match {
    int64_t chat, preset;
    const struct preset *p;
};

/* A crossing that reaches many chats is sent a slice per loop turn, so one
 * market-wide move does not hold the loop (the feed, the bot) for seconds. */
#define FANOUT_SLICE 1000

struct fanout {
    struct fanout *next;
    struct candle c;
    double arrived;
    int rule;
    double move;
    struct match *m;          /* by chat; presets re-read by id at their turn */
    size_t n, done;
};

/* A preset, pause or quiet hours written in the open store batch, and the
 * handler's savepoint it was written in (0: none). */
enum touch_what { TOUCH_PRESET, TOUCH_PAUSE, TOUCH_QUIET };
struct touched {
    int64_t id;                  /* preset id, or chat id */
    uint64_t sp;
    enum touch_what what;
};

struct alert_engine {
    const struct rt *rt;
    const struct config *cfg;
    struct store *store;
    struct market *market;
    size_t (*text_chars)(const char *s);
    unsigned long (*text_invisible)(const char *s);
    struct alert_hooks hooks;
    struct alert_sink sink;
    struct rule rules[ALERT_MAX_RULES];
    int nrules;
    struct preset **subs;        /* by subscription id; NULL: free */
    uint32_t nsubs, capsubs;
    struct timer *prune_timer;
    int loading;                 /* start-up: presets counted now, indexed after */
    struct i64map by_id;         /* preset id -> preset */
    struct i64map per_user;      /* user id -> number of presets (as a pointer-sized int) */
    struct i64map pauses;        /* chat id -> struct pause */
    struct i64map quiets;        /* chat id -> struct quiet */
    struct fired fired;
    struct candle *queue;        /* ring of events waiting for the loop */
    double *arrived;             /* and when each arrived (hist_clock) */
    double now_arrived;          /* the arrival of the event being handled */
    struct hist frame_alert;     /* an event's arrival to its alerts queued */
    uint32_t qhead, qlen;
    struct timer *drain_timer;
    struct match *scratch;
    size_t nscratch, capscratch;
    struct fanout *fanouts, *fanouts_tail;
    struct {                     /* what was written in the open store batch */
        uint64_t batch;
        struct touched *v;
        size_t n, cap;
        int resyncing;           /* (memory catching up writes nothing new down) */
    } touched;
    struct alert_stats st;
};

/* ---- presets: struct <-> store row ---- */

static const char *const dir_names[] = {"both", "up", "down"};

/* The row for p; its lists are written into syms and ivs. */
static struct store_preset preset_row(const struct preset *p, char *syms, size_t symlen,
                                      char *ivs, size_t ivlen)
{
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
        .direction = dir_names[p->dir], .trigger = p->on_close ? "close" : "forming",
        .min_volume = p->min_volume, .active = p->active, .created_ms = p->created_ms};
}

static void preset_free(struct preset *p)
{
    if (p) {
        free(p->symbols);
        free(p->sym_ids);
        free(p->indexed);
        free(p);
    }
}

static struct preset *preset_from_row(const struct store_preset *r)
{
    struct preset *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->id = r->id;
    p->user_id = r->user_id;
    p->chat_id = r->chat_id;
    snprintf(p->name, sizeof p->name, "%s", r->name);
    snprintf(p->rule, sizeof p->rule, "%s", r->rule);
    p->pairs = strcmp(r->pairs, "manual") == 0 ? PAIRS_MANUAL : PAIRS_TOP;
    p->top_n = r->top_n;
    int n = 0;
    for (const char *c = r->symbols; *c; c++)
        n += *c != ' ' && (c == r->symbols || c[-1] == ' ');
    if (n && !(p->symbols = calloc((size_t)n, sizeof *p->symbols))) {
        free(p);
        return NULL;
    }
    for (const char *c = r->symbols; *c && p->nsymbols < n;) {
        size_t len = strcspn(c, " ");
        if (len && len < sizeof p->symbols[0]) {
            memcpy(p->symbols[p->nsymbols], c, len);
            p->symbols[p->nsymbols++][len] = 0;
        }
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
    p->active = r->active != 0;
    p->created_ms = r->created_ms;
    return p;
}

/* ---- rules and indexing ---- */

static int rule_slot(struct alert_engine *e, const char *name, int create)
{
    for (int i = 0; i < e->nrules; i++)
        if (strcmp(e->rules[i].name, name) == 0)
            return i;
    if (!create || e->nrules == ALERT_MAX_RULES)
        return -1;
    struct rule *r = &e->rules[e->nrules];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    index_init(&r->ix);
    return e->nrules++;
}

/* The symbol ids a preset covers now. */
static uint32_t covered(struct alert_engine *e, const struct preset *p, uint32_t **out)
{
    struct market *m = e->market;
    uint32_t n = 0;
    if (p->pairs == PAIRS_TOP) {
        uint32_t k = (uint32_t)p->top_n < m->nranked ? (uint32_t)p->top_n : m->nranked;
        *out = malloc(sizeof **out * (k ? k : 1));
        if (*out)
            for (uint32_t i = 0; i < k; i++)
                (*out)[n++] = m->ranked[i];
        return n;
    }
    *out = malloc(sizeof **out * (size_t)(p->nsym_ids ? p->nsym_ids : 1));
    if (*out && p->nsym_ids)
        memcpy(*out, p->sym_ids, sizeof **out * (size_t)p->nsym_ids);
    return *out ? (uint32_t)p->nsym_ids : 0;
}

enum index_op { OP_ADD, OP_REMOVE, OP_EXPECT };

static void index_symbol(struct alert_engine *e, struct preset *p, uint32_t sym,
                         enum index_op op)
{
    struct index *ix = &e->rules[p->rule_slot].ix;
    enum index_trigger trig = p->on_close ? INDEX_CLOSE : INDEX_FORMING;
    for (int iv = 0; iv < IV_COUNT; iv++) {
        if (!(p->intervals & 1 << iv))
            continue;
        for (int d = INDEX_UP; d <= INDEX_DOWN; d++) {
            if ((d == INDEX_UP && p->dir == DIR_DOWN) || (d == INDEX_DOWN && p->dir == DIR_UP))
                continue;
            if (op == OP_ADD) {
                index_add(ix, sym, iv, d, trig, (float)p->threshold, p->sub);
                e->st.subscriptions++;
            } else if (op == OP_REMOVE) {
                e->st.subscriptions -= index_remove(ix, sym, iv, d, trig, p->sub);
            } else {
                index_expect(ix, sym, iv, d, trig);
            }
        }
    }
}

static void unindex(struct alert_engine *e, struct preset *p)
{
    for (uint32_t i = 0; i < p->nindexed; i++)
        index_symbol(e, p, p->indexed[i], OP_REMOVE);
    free(p->indexed);
    p->indexed = NULL;
    p->nindexed = 0;
}

static void reindex(struct alert_engine *e, struct preset *p)
{
    unindex(e, p);
    if (!p->active || p->rule_slot < 0)
        return;
    uint32_t *syms = NULL;
    uint32_t n = covered(e, p, &syms);
    for (uint32_t i = 0; i < n; i++)
        index_symbol(e, p, syms[i], e->loading ? OP_EXPECT : OP_ADD);
    p->indexed = syms;
    p->nindexed = n;
}

/* The second pass of a load: every list reserved at its size, then filled. */
static void index_loaded(struct alert_engine *e)
{
    for (int r = 0; r < e->nrules; r++)
        index_reserve(&e->rules[r].ix);
    for (uint32_t i = 0; i < e->nsubs; i++) {
        struct preset *p = e->subs[i];
        for (uint32_t k = 0; p && k < p->nindexed; k++)
            index_symbol(e, p, p->indexed[k], OP_ADD);
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

/* A manual list's names as symbol ids, the names dropped. */
static void resolve_symbols(struct alert_engine *e, struct preset *p)
{
    if (!p->nsymbols)
        return;
    p->sym_ids = malloc(sizeof *p->sym_ids * (size_t)p->nsymbols);
    for (int i = 0; p->sym_ids && i < p->nsymbols; i++) {
        int id = symtab_add(&e->market->syms, p->symbols[i], strlen(p->symbols[i]));
        if (id >= 0)
            p->sym_ids[p->nsym_ids++] = (uint32_t)id;
    }
    free(p->symbols);
    p->symbols = NULL;
    p->nsymbols = 0;
}

/* Takes a parsed preset into memory (not the store). */
static int adopt(struct alert_engine *e, struct preset *p)
{
    resolve_symbols(e, p);
    if (e->nsubs == e->capsubs) {
        uint32_t cap = e->capsubs ? e->capsubs * 2 : 1024;
        struct preset **v = realloc(e->subs, sizeof *v * cap);
        if (!v)
            return -1;
        e->subs = v;
        e->capsubs = cap;
    }
    if (i64map_put(&e->by_id, p->id, p) != 0)
        return -1;
    p->sub = e->nsubs;
    e->subs[e->nsubs++] = p;
    p->rule_slot = rule_slot(e, p->rule, 1);
    e->st.presets++;
    add_user(e, p->user_id, 1);
    reindex(e, p);
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
    preset_free(p);
}

/* p takes old's place: same subscription id, new settings. */
static void replace(struct alert_engine *e, struct preset *old, struct preset *p)
{
    resolve_symbols(e, p);
    unindex(e, old);
    p->sub = old->sub;
    e->subs[p->sub] = p;
    i64map_put(&e->by_id, p->id, p);
    p->rule_slot = rule_slot(e, p->rule, 1);
    preset_free(old);
    reindex(e, p);
}

/* It was written in the open batch: if the batch is lost (presets), or
 * the handler's savepoint rolled back (all), memory must follow the
 * database back (alert_engine_batch_lost, alert_engine_undo). */
static void touch(struct alert_engine *e, int64_t id, enum touch_what what)
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
    if (e->touched.n == e->touched.cap) {
        size_t cap = e->touched.cap ? e->touched.cap * 2 : 16;
        struct touched *v = realloc(e->touched.v, sizeof *v * cap);
        if (!v)
            return;
        e->touched.v = v;
        e->touched.cap = cap;
    }
    e->touched.v[e->touched.n++] = (struct touched){id, store_savepoint_id(st), what};
}

const char *alert_rule_name(struct alert_engine *e, int rule)
{
    return rule >= 0 && rule < e->nrules ? e->rules[rule].name : "";
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
    double t = round(p->threshold * 100) / 100;
    if (!(t >= 0.1 && t <= 100)) {
        snprintf(err, errlen, "The threshold is a percentage from 0.1 to 100, like 2.5.");
        return -1;
    }
    p->threshold = t;
    if (p->dir < DIR_BOTH || p->dir > DIR_DOWN || !(p->min_volume >= 0)) {
        snprintf(err, errlen, "Unknown direction or volume.");
        return -1;
    }
    if (strlen(p->rule) == 0)
        snprintf(p->rule, sizeof p->rule, "move");
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
    struct store_preset row = syms ? preset_row(in, syms, symlen, ivs, sizeof ivs)
                                   : (struct store_preset){0};
    if (!syms || !e->store ||
        store_preset_put(e->store, &row, rt_wall_ms(e->rt)) != 0) {
        free(syms);
        snprintf(err, errlen, "The preset could not be saved; please try again.");
        return -1;
    }
    in->id = row.id;
    struct preset *p = preset_from_row(&row);   /* a copy, as it will load */
    free(syms);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    touch(e, p->id, TOUCH_PRESET);
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
    touch(e, id, TOUCH_PRESET);
    forget(e, p);
    return 0;
}

/* ---- a lost store batch: memory goes back to what the database holds ---- */

static int resync_row(void *ud, const struct store_preset *row)
{
    struct alert_engine *e = ud;
    struct preset *p = preset_from_row(row), *old = i64map_get(&e->by_id, row->id);
    if (p && old)
        replace(e, old, p);
    else if (p && adopt(e, p) != 0)
        preset_free(p);
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

static void pause_resync(struct alert_engine *e, int64_t chat);
static void quiet_resync(struct alert_engine *e, int64_t chat);

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
            pause_resync(e, t->id);
        else
            quiet_resync(e, t->id);
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

/* ---- events ---- */

static void drain_events(struct alert_engine *e);
static int fanout_slice(struct alert_engine *e, size_t max);
static int defer(struct alert_engine *e, int rule, const struct candle *c, double move,
                 size_t k);

int alert_drain_turn(struct alert_engine *e)
{
    drain_events(e);
    return fanout_slice(e, FANOUT_SLICE);
}

static void drain_due(void *ud)
{
    struct alert_engine *e = ud;
    e->drain_timer = NULL;
    if (alert_drain_turn(e) && !e->drain_timer)   /* the rest next turn */
        e->drain_timer = timers_add(e->rt->timers, rt_now_ms(e->rt), drain_due, e);
}

/* The market's callback: runs inside network callbacks, so it only
 * queues (no Lua there) and asks the loop to drain. */
static void on_event(void *ud, const struct candle *c, enum candle_event ev)
{
    struct alert_engine *e = ud;
    if (ev == CANDLE_IGNORED)
        return;
    if (e->qlen == QUEUE_CAP) {
        e->st.dropped_events++;
        return;
    }
    e->arrived[(e->qhead + e->qlen) % QUEUE_CAP] = hist_clock();
    e->queue[(e->qhead + e->qlen++) % QUEUE_CAP] = *c;
    if (!e->drain_timer)
        e->drain_timer = timers_add(e->rt->timers, rt_now_ms(e->rt), drain_due, e);
}

static void collect(void *ud, uint32_t sub, float threshold)
{
    (void)threshold;
    struct alert_engine *e = ud;
    const struct preset *p = sub < e->nsubs ? e->subs[sub] : NULL;
    if (!p)
        return;
    if (e->nscratch == e->capscratch) {
        size_t cap = e->capscratch ? e->capscratch * 2 : 256;
        struct match *v = realloc(e->scratch, sizeof *v * cap);
        if (!v)
            return;
        e->scratch = v;
        e->capscratch = cap;
    }
    e->scratch[e->nscratch++] = (struct match){p->chat_id, p->id, p};
}

static int by_chat(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    if (x->chat != y->chat)
        return x->chat < y->chat ? -1 : 1;
    return (x->preset > y->preset) - (x->preset < y->preset);
}

static char *default_text(const struct alert_view *a)
{
    char *s = malloc(512);
    if (s)
        snprintf(s, 512, "<b>%s</b> %s %s %+.2f%% (%s)", a->symbol,
                 interval_name(a->candle->interval), a->move >= 0 ? "▲" : "▼", a->move,
                 a->npresets ? a->presets[0] : "");
    return s;
}

/* The candle fired for the chat: marked (never again) and logged. */
static void mark(struct alert_engine *e, const struct candle *c, const char *sym, double move,
                 const struct match *m, size_t n)
{
    fired_set(&e->fired, m->chat, c->symbol, c->interval, c->open_time);
    e->st.fired++;
    struct store *st = e->store;
    if (st) {
        store_fired_set(st, m->chat, sym, c->interval, c->open_time);
        for (size_t i = 0; i < n; i++)
            store_alert_log(st, m[i].preset, m->chat, sym, c->interval, c->open_time, move,
                            rt_wall_ms(e->rt));
    }
}

/* ---- pauses and their digests ---- */

static void pause_save(struct alert_engine *e, struct pause *pz)
{
    if (!e->store)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "until", (double)pz->until);
    cJSON_AddNumberToObject(o, "count", (double)pz->count);
    cJSON *a = cJSON_AddArrayToObject(o, "lines");
    for (int i = 0; i < pz->nlines; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(pz->lines[i]));
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)pz->chat);
    if (json)
        store_kv_set(e->store, PAUSE_SCOPE, key, json);
    free(json);
}

static void hold(struct alert_engine *e, struct pause *pz, const struct candle *c,
                 const char *sym, double move)
{
    pz->count++;
    if (pz->nlines < DIGEST_LINES)
        snprintf(pz->lines[pz->nlines++], sizeof pz->lines[0], "%s %s %+.2f%%", sym,
                 interval_name(c->interval), move);
    e->st.held++;
    pause_save(e, pz);
}

static void resume_due(void *ud)
{
    struct pause *pz = ud;
    pz->timer = NULL;
    alert_resume(pz->e, pz->chat);
}

static void arm_pause(struct alert_engine *e, struct pause *pz)
{
    if (pz->timer)
        timers_cancel(e->rt->timers, pz->timer);
    pz->timer = NULL;
    if (pz->until == INT64_MAX)
        return;
    int64_t left = pz->until - rt_wall_ms(e->rt);
    pz->timer = timers_add(e->rt->timers, rt_now_ms(e->rt) + (left > 0 ? (uint64_t)left : 0),
                           resume_due, pz);
}

int alert_pause(struct alert_engine *e, int64_t chat, int64_t until_ms)
{
    struct pause *pz = i64map_get(&e->pauses, chat);
    if (!pz) {
        if (!(pz = calloc(1, sizeof *pz)) || i64map_put(&e->pauses, chat, pz) != 0) {
            free(pz);
            return -1;
        }
        pz->chat = chat;
        pz->e = e;
    }
    pz->until = until_ms;
    arm_pause(e, pz);
    pause_save(e, pz);
    touch(e, chat, TOUCH_PAUSE);
    return 0;
}

int64_t alert_paused_until(struct alert_engine *e, int64_t chat)
{
    struct pause *pz = i64map_get(&e->pauses, chat);
    return pz ? pz->until : 0;
}

long alert_resume(struct alert_engine *e, int64_t chat)
{
    struct pause *pz = i64map_del(&e->pauses, chat);
    if (!pz)
        return -1;
    if (pz->timer)
        timers_cancel(e->rt->timers, pz->timer);
    long held = pz->count;
    if (held) {   /* one digest instead of the alerts one by one */
        char text[DIGEST_LINES * 56 + 160];
        size_t k = (size_t)snprintf(text, sizeof text, "<b>While your alerts were paused, %ld "
                                    "fired:</b>", held);
        for (int i = 0; i < pz->nlines && k < sizeof text; i++)
            k += (size_t)snprintf(text + k, sizeof text - k, "\n%s", pz->lines[i]);
        if (held > pz->nlines && k < sizeof text)
            snprintf(text + k, sizeof text - k, "\n… and %ld more", held - pz->nlines);
        struct alert_msg msg = {.kind = ALERT_DIGEST, .text = text, .held = held};
        if (e->sink.alert)
            e->sink.alert(e->sink.ud, chat, &msg);
    }
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)chat);
    if (e->store)
        store_kv_set(e->store, PAUSE_SCOPE, key, NULL);
    touch(e, chat, TOUCH_PAUSE);
    free(pz);
    return held;
}

/* When the chat's quiet hours in progress end (wall ms), or 0. */
static int64_t quiet_until(struct alert_engine *e, int64_t chat)
{
    struct quiet *q = i64map_get(&e->quiets, chat);
    if (!q || q->from == q->to)
        return 0;
    int64_t now = rt_wall_ms(e->rt);
    int64_t local = now + (int64_t)q->tz * 60000;
    int minute = (int)((local / 60000) % 1440);
    int in = q->from < q->to ? minute >= q->from && minute < q->to
                             : minute >= q->from || minute < q->to;
    if (!in)
        return 0;
    int left = (q->to - minute + 1440) % 1440;
    return (now / 60000 + left) * 60000;
}

static int quiet_save(struct alert_engine *e, int64_t chat, int from, int to, int tz);

int alert_set_quiet(struct alert_engine *e, int64_t chat, int from, int to, int tz)
{
    int rc = quiet_save(e, chat, from, to, tz);
    touch(e, chat, TOUCH_QUIET);
    return rc;
}

static int quiet_save(struct alert_engine *e, int64_t chat, int from, int to, int tz)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)chat);
    if (from == to) {   /* none */
        free(i64map_del(&e->quiets, chat));
        return e->store ? store_kv_set(e->store, QUIET_SCOPE, key, NULL) : 0;
    }
    if (from < 0 || from >= 1440 || to < 0 || to >= 1440 || tz < -720 || tz > 840)
        return -1;
    struct quiet *q = i64map_get(&e->quiets, chat);
    if (!q && (!(q = malloc(sizeof *q)) || i64map_put(&e->quiets, chat, q) != 0)) {
        free(q);
        return -1;
    }
    *q = (struct quiet){from, to, tz};
    char json[96];
    snprintf(json, sizeof json, "{\"from\":%d,\"to\":%d,\"tz\":%d}", from, to, tz);
    return e->store ? store_kv_set(e->store, QUIET_SCOPE, key, json) : 0;
}

int alert_quiet_of(struct alert_engine *e, int64_t chat, int *from, int *to, int *tz)
{
    struct quiet *q = i64map_get(&e->quiets, chat);
    if (!q)
        return 0;
    *from = q->from;
    *to = q->to;
    *tz = q->tz;
    return 1;
}

static double jnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int load_quiet(void *ud, const char *key, const char *value)
{
    struct alert_engine *e = ud;
    cJSON *o = cJSON_Parse(value);
    if (o)
        alert_set_quiet(e, strtoll(key, NULL, 10), (int)jnum(o, "from", 0), (int)jnum(o, "to", 0),
                        (int)jnum(o, "tz", 0));
    cJSON_Delete(o);
    return 0;
}

static int load_pause(void *ud, const char *key, const char *value)
{
    struct alert_engine *e = ud;
    cJSON *o = cJSON_Parse(value);
    int64_t chat = strtoll(key, NULL, 10);
    if (o && chat && alert_pause(e, chat, (int64_t)jnum(o, "until", 0)) == 0) {
        struct pause *pz = i64map_get(&e->pauses, chat);
        pz->count = (long)jnum(o, "count", 0);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "lines"))
            if (cJSON_IsString(it) && pz->nlines < DIGEST_LINES)
                snprintf(pz->lines[pz->nlines++], sizeof pz->lines[0], "%s", it->valuestring);
    }
    cJSON_Delete(o);
    return 0;
}

/* A pause, or quiet hours, back to what the database holds. */
static void pause_resync(struct alert_engine *e, int64_t chat)
{
    struct pause *pz = i64map_del(&e->pauses, chat);
    if (pz && pz->timer)
        timers_cancel(e->rt->timers, pz->timer);
    free(pz);
    char key[32], *v = NULL;
    snprintf(key, sizeof key, "%lld", (long long)chat);
    if (store_kv_get(e->store, PAUSE_SCOPE, key, &v) == 1)
        load_pause(e, key, v);
    free(v);
}

static void quiet_resync(struct alert_engine *e, int64_t chat)
{
    free(i64map_del(&e->quiets, chat));
    char key[32], *v = NULL;
    snprintf(key, sizeof key, "%lld", (long long)chat);
    if (store_kv_get(e->store, QUIET_SCOPE, key, &v) == 1)
        load_quiet(e, key, v);
    free(v);
}

/* One chat's alert for this candle: once per candle, every matching
 * preset named. */
static void fire(struct alert_engine *e, int rule, const struct candle *c, const char *sym,
                 double move, const struct match *m, size_t n)
{
    /* once per candle, and never for one older than the last that fired
     * (a restart's warm start replays the last closes) */
    int64_t last = fired_get(&e->fired, m->chat, c->symbol, c->interval);
    if (last && c->open_time <= last) {
        e->st.duplicates++;
        return;
    }
    struct pause *pz = i64map_get(&e->pauses, m->chat);
    int64_t quiet_end = quiet_until(e, m->chat);
    if (quiet_end && (!pz || pz->until < quiet_end) && alert_pause(e, m->chat, quiet_end) == 0)
        pz = i64map_get(&e->pauses, m->chat);   /* held until the quiet hours end */
    if (pz && rt_wall_ms(e->rt) < pz->until) {
        hold(e, pz, c, sym, move);
        mark(e, c, sym, move, m, n);
        return;
    }
    const char *names[16];
    int nn = 0;
    for (size_t i = 0; i < n && nn < 16; i++)
        names[nn++] = m[i].p->name;
    struct alert_view v = {c, sym, move, names, nn};
    char *heading = NULL;
    char *text = e->hooks.format ? e->hooks.format(e->hooks.ud, rule, &v, &heading) : NULL;
    if (!text)
        text = default_text(&v);
    if (!text) {
        free(heading);
        return;
    }
    /* grouped by timeframe in a merged message, bigger moves first */
    struct alert_msg msg = {ALERT_LIVE, text, heading, fabs(move), 1 + c->interval, &v, 0};
    if (e->sink.alert)
        e->sink.alert(e->sink.ud, m->chat, &msg);
    if (e->now_arrived > 0)
        hist_observe(&e->frame_alert, hist_clock() - e->now_arrived);
    free(text);
    free(heading);
    mark(e, c, sym, move, m, n);
}

static void evaluate(struct alert_engine *e, const struct candle *c)
{
    struct market *m = e->market;
    const char *sym = m->syms.v[c->symbol].name;
    int64_t now = market_exchange_now(m, rt_wall_ms(e->rt));
    int64_t age = now - (c->closed ? c->close_time : c->event_time);
    int late = age > (int64_t)(e->cfg->exchange.late_alert_max * 1000);
    for (int r = 0; r < e->nrules; r++) {
        struct rule *ru = &e->rules[r];
        if (!ru->live || !(c->closed ? ru->on_close : ru->on_forming) || !e->hooks.value)
            continue;
        int ok = 0;
        double v = e->hooks.value(e->hooks.ud, r, c, sym, &ok);
        if (!ok || !isfinite(v))
            continue;
        e->st.evaluated++;
        enum index_dir d = v >= 0 ? INDEX_UP : INDEX_DOWN;
        float mag = (float)fabs(v);
        e->nscratch = 0;
        index_match(&ru->ix, c->symbol, c->interval, d, INDEX_FORMING, mag, collect, e);
        if (c->closed)
            index_match(&ru->ix, c->symbol, c->interval, d, INDEX_CLOSE, mag, collect, e);
        if (!e->nscratch)
            continue;
        e->st.matched += e->nscratch;
        if (late) {   /* history is complete, but nobody wants old news */
            e->st.late++;
            continue;
        }
        double qv = c->symbol < m->nqv && m->quote_volume ? m->quote_volume[c->symbol] : 0;
        size_t k = 0;   /* drop presets whose volume floor this pair is under */
        for (size_t i = 0; i < e->nscratch; i++)
            if (!(e->scratch[i].p->min_volume > 0 && qv < e->scratch[i].p->min_volume))
                e->scratch[k++] = e->scratch[i];
        qsort(e->scratch, k, sizeof *e->scratch, by_chat);
        if (k > FANOUT_SLICE && defer(e, r, c, v, k))
            continue;
        for (size_t i = 0, j; i < k; i = j) {
            for (j = i; j < k && e->scratch[j].chat == e->scratch[i].chat; j++)
                ;
            fire(e, r, c, sym, v, e->scratch + i, j - i);
        }
    }
}

/* Keeps the k matches in scratch for later slices; 0 when out of memory
 * (then they are sent at once). */
static int defer(struct alert_engine *e, int rule, const struct candle *c, double move, size_t k)
{
    struct fanout *f = calloc(1, sizeof *f);
    if (!f || !(f->m = malloc(sizeof *f->m * k))) {
        free(f);
        return 0;
    }
    memcpy(f->m, e->scratch, sizeof *f->m * k);
    f->c = *c;
    f->arrived = e->now_arrived;
    f->rule = rule;
    f->move = move;
    f->n = k;
    if (e->fanouts_tail)
        e->fanouts_tail->next = f;
    else
        e->fanouts = f;
    e->fanouts_tail = f;
    if (!e->drain_timer)
        e->drain_timer = timers_add(e->rt->timers, rt_now_ms(e->rt), drain_due, e);
    return 1;
}

/* Sends up to max chats of the oldest fan-out; 1 while any remain. */
static int fanout_slice(struct alert_engine *e, size_t max)
{
    struct fanout *f = e->fanouts;
    if (!f)
        return 0;
    const char *sym = e->market->syms.v[f->c.symbol].name;
    size_t chats = 0;
    e->now_arrived = f->arrived;
    while (f->done < f->n && chats < max) {
        size_t i = f->done, j = i, k = i;
        for (; j < f->n && f->m[j].chat == f->m[i].chat; j++) {
            const struct preset *p = alert_preset_get(e, f->m[j].preset);
            if (p && p->active) {   /* (deleted or paused since: skipped) */
                f->m[k] = f->m[j];
                f->m[k++].p = p;
            }
        }
        if (k > i)
            fire(e, f->rule, &f->c, sym, f->move, f->m + i, k - i);
        f->done = j;
        chats++;
    }
    if (f->done == f->n) {
        if (!(e->fanouts = f->next))
            e->fanouts_tail = NULL;
        free(f->m);
        free(f);
    }
    return e->fanouts != NULL;
}

static void drain_events(struct alert_engine *e)
{
    while (e->qlen) {
        struct candle c = e->queue[e->qhead];
        e->now_arrived = e->arrived[e->qhead];
        e->qhead = (e->qhead + 1) % QUEUE_CAP;
        e->qlen--;
        e->st.events++;
        evaluate(e, &c);
    }
}

void alert_drain(struct alert_engine *e)
{
    drain_events(e);
    while (fanout_slice(e, SIZE_MAX))
        ;
}

void alert_prepare(struct alert_engine *e)
{
    for (int i = 0; i < e->nrules; i++)
        index_sort(&e->rules[i].ix);
}

static void on_ranking(void *ud)
{
    struct alert_engine *e = ud;
    for (uint32_t i = 0; i < e->nsubs; i++)
        if (e->subs[i] && e->subs[i]->pairs == PAIRS_TOP)
            reindex(e, e->subs[i]);
}

/* ---- set-up ---- */

void alert_set_sink(struct alert_engine *e, const struct alert_sink *s)
{
    e->sink = *s;
}

void alert_set_hooks(struct alert_engine *e, const struct alert_hooks *h)
{
    e->hooks = *h;
}

void alert_set_rules(struct alert_engine *e, const char *const *names, const int *on_forming,
                     const int *on_close, int n)
{
    for (int i = 0; i < e->nrules; i++)
        e->rules[i].live = 0;
    for (int i = 0; i < n; i++) {
        int s = rule_slot(e, names[i], 1);
        if (s < 0)
            continue;
        e->rules[s].live = 1;
        e->rules[s].on_forming = on_forming[i];
        e->rules[s].on_close = on_close[i];
    }
    /* presets of a rule that just appeared */
    for (uint32_t i = 0; i < e->nsubs; i++)
        if (e->subs[i] && e->subs[i]->rule_slot < 0) {
            e->subs[i]->rule_slot = rule_slot(e, e->subs[i]->rule, 1);
            reindex(e, e->subs[i]);
        }
}

static int load_preset(void *ud, const struct store_preset *row)
{
    struct alert_engine *e = ud;
    struct preset *p = preset_from_row(row);
    if (!p || adopt(e, p) != 0) {
        log_warn(e->rt->log, "alerts", "preset %lld could not be loaded (out of memory)",
                 (long long)row->id);
        preset_free(p);
    }
    return 0;
}

static int load_fired(void *ud, int64_t chat, const char *symbol, int iv, int64_t open_time)
{
    struct alert_engine *e = ud;
    int id = symtab_add(&e->market->syms, symbol, strlen(symbol));
    if (id >= 0 && iv >= 0 && iv < IV_COUNT)
        fired_set(&e->fired, chat, (uint32_t)id, iv, open_time);
    return 0;
}

/* Old marks and statistics go now and then: a week of the log is kept for
 * /preset's statistics, and the marks an alert could still need. */
static void prune_due(void *ud)
{
    struct alert_engine *e = ud;
    store_fired_prune(e->store, e->fired.late_ms);
    int n = store_alert_log_prune(e->store, rt_wall_ms(e->rt) - 8 * DAY_MS);
    if (n > 0)
        e->st.log_pruned += (uint64_t)n;
    e->prune_timer = timers_add(e->rt->timers, rt_now_ms(e->rt) + PRUNE_EVERY_MS, prune_due, e);
}

struct alert_engine *alert_engine_new(const struct alert_deps *d)
{
    struct alert_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->queue = malloc(sizeof *e->queue * QUEUE_CAP)) ||
        !(e->arrived = malloc(sizeof *e->arrived * QUEUE_CAP))) {
        if (e)
            free(e->queue);
        free(e);
        return NULL;
    }
    e->rt = d->rt;
    e->cfg = d->cfg;
    e->store = d->store;
    e->market = d->market;
    e->text_chars = d->text_chars;
    e->text_invisible = d->text_invisible;
    /* a mark matters while an alert for its candle could still be news */
    e->fired.late_ms = (int64_t)(d->cfg->exchange.late_alert_max * 1000);
    if (d->store) {
        e->loading = 1;   /* presets indexed in two passes */
        store_presets_each(d->store, load_preset, e);
        e->loading = 0;
        index_loaded(e);
        fired_reserve(&e->fired, (size_t)store_fired_count(d->store, e->fired.late_ms));
        store_fired_each(d->store, e->fired.late_ms, load_fired, e);
        store_kv_each(d->store, PAUSE_SCOPE, load_pause, e);
        store_kv_each(d->store, QUIET_SCOPE, load_quiet, e);
        store_commit(d->store);
        alert_prepare(e);
    }
    if (d->store)   /* not in the way of start-up */
        e->prune_timer = timers_add(e->rt->timers, rt_now_ms(e->rt) + PRUNE_FIRST_MS, prune_due, e);
    e->market->on_event = on_event;
    e->market->on_event_ud = e;
    e->market->on_ranking = on_ranking;
    e->market->on_ranking_ud = e;
    if (e->st.presets)
        log_info(e->rt->log, "alerts", "%llu presets, %llu subscriptions",
                 (unsigned long long)e->st.presets, (unsigned long long)e->st.subscriptions);
    return e;
}

void alert_engine_free(struct alert_engine *e)
{
    if (!e)
        return;
    free(e->touched.v);
    if (e->drain_timer)
        timers_cancel(e->rt->timers, e->drain_timer);
    if (e->prune_timer)
        timers_cancel(e->rt->timers, e->prune_timer);
    if (e->market->on_event_ud == e) {
        e->market->on_event = NULL;
        e->market->on_ranking = NULL;
    }
    for (uint32_t i = 0; i < e->nsubs; i++)
        preset_free(e->subs[i]);
    free(e->subs);
    i64map_free(&e->by_id);
    i64map_free(&e->per_user);
    for (size_t i = 0; i < e->pauses.cap; i++) {
        struct pause *pz = e->pauses.vals[i];
        if (pz && pz->timer)
            timers_cancel(e->rt->timers, pz->timer);
        free(pz);
    }
    i64map_free(&e->pauses);
    for (size_t i = 0; i < e->quiets.cap; i++)
        free(e->quiets.vals[i]);
    i64map_free(&e->quiets);
    for (int i = 0; i < e->nrules; i++)
        index_free(&e->rules[i].ix);
    fired_free(&e->fired);
    while (e->fanouts) {
        struct fanout *f = e->fanouts;
        e->fanouts = f->next;
        free(f->m);
        free(f);
    }
    free(e->queue);
    free(e->arrived);
    free(e->scratch);
    free(e);
}

void alert_stats(struct alert_engine *e, struct alert_stats *out)
{
    *out = e->st;
}

size_t alert_users(struct alert_engine *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->per_user.cap; i++)
        n += (intptr_t)e->per_user.vals[i] > 1;   /* (stored as presets + 1) */
    return n;
}

size_t alert_chats(struct alert_engine *e, int64_t **out)
{
    struct i64map seen = {0};
    size_t n = 0;
    *out = malloc(sizeof **out * (e->nsubs ? e->nsubs : 1));
    for (uint32_t i = 0; *out && i < e->nsubs; i++) {
        const struct preset *p = e->subs[i];
        if (p && !i64map_get(&seen, p->chat_id) && i64map_put(&seen, p->chat_id, (void *)1) == 0)
            (*out)[n++] = p->chat_id;
    }
    i64map_free(&seen);
    return n;
}

void alert_metrics(struct alert_engine *e, struct prom *p)
{
    const struct alert_stats *s = &e->st;
    prom_gauge(p, "candlewatch_presets", "Presets in memory.", NULL, (double)s->presets);
    prom_gauge(p, "candlewatch_subscriptions", "Entries in the subscription index.", NULL,
               (double)s->subscriptions);
    prom_counter(p, "candlewatch_candle_events_total", "Candle events handed to the rules.",
                 NULL, (double)s->events);
    prom_counter(p, "candlewatch_rule_evaluations_total", "Rule values computed.", NULL,
                 (double)s->evaluated);
    prom_counter(p, "candlewatch_alerts_fired_total", "Alerts fired (one per chat and candle).",
                 NULL, (double)s->fired);
    prom_counter(p, "candlewatch_alerts_duplicates_suppressed_total",
                 "Alerts not sent again for a candle that already fired.", NULL,
                 (double)s->duplicates);
    prom_counter(p, "candlewatch_alerts_late_total", "Crossings withheld as old news.", NULL,
                 (double)s->late);
    prom_counter(p, "candlewatch_alerts_held_total", "Alerts held while a chat was paused.",
                 NULL, (double)s->held);
    prom_counter(p, "candlewatch_candle_events_dropped_total",
                 "Candle events dropped because the queue was full.", NULL,
                 (double)s->dropped_events);
    prom_histogram(p, "candlewatch_frame_alert_seconds",
                   "From a candle event's arrival to its alerts queued for Telegram.",
                   &e->frame_alert);
}

void alert_stats_json(struct alert_engine *e, struct jsonw *w)
{
    const struct alert_stats *s = &e->st;
    jsonw_kv_int(w, "presets", (long long)s->presets);
    jsonw_kv_int(w, "subscriptions", (long long)s->subscriptions);
    jsonw_kv_int(w, "events", (long long)s->events);
    jsonw_kv_int(w, "evaluated", (long long)s->evaluated);
    jsonw_kv_int(w, "matched", (long long)s->matched);
    jsonw_kv_int(w, "fired", (long long)s->fired);
    jsonw_kv_int(w, "duplicates_suppressed", (long long)s->duplicates);
    jsonw_kv_int(w, "late_not_sent", (long long)s->late);
    jsonw_kv_int(w, "held_while_paused", (long long)s->held);
    jsonw_kv_int(w, "events_dropped", (long long)s->dropped_events);
    jsonw_kv_int(w, "log_rows_pruned", (long long)s->log_pruned);
}
