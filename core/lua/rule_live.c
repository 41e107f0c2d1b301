/* A generation's rules going live (the engine gets their declarations,
 * the book their indicators, the cache what each engine slot calls) and
 * the hooks the engine calls: a rule's value and an alert's text. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/rule_view.h"
#include "lua/rules_int.h"
#include "util/interval.h"

/* ---- the hooks the engine calls ---- */

static void rule_error(struct lh_host *h, struct rules_cache *c, int slot, const char *what,
                       const char *err)
{
    c->errors++;
    uint64_t now = app_now_ms(h->app);
    if (c->last_error_log[slot] && now - c->last_error_log[slot] < RULE_ERROR_LOG_MS)
        return;   /* a broken rule runs on every candle: report it now and then */
    c->last_error_log[slot] = now;
    lh_report(h, h->gen, c->script[slot], what, err);
}

/* The cached rule for the engine's slot, or -1 (mapped at go-live and when
 * slots appear: no name lookups per event). */
static int slot_of(struct rules_cache *c, int rule)
{
    if (c->dirty)
        rules_map(c);
    return rule >= 0 && rule < ALERT_MAX_SLOTS ? c->by_engine[rule] : -1;
}

static double hook_value(void *ud, int rule, const struct candle *cd, const char *symbol, int *ok)
{
    (void)symbol;
    struct rules_cache *c = ud;
    struct lh_host *h = c->h;
    lua_State *L = h->L;
    int slot = slot_of(c, rule);
    *ok = 0;
    if (slot < 0 || !h->gen)
        return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->value_ref[slot]);
    int nargs = rule_views_push(L, c->views, cd, c->nargs[slot], c->history[slot],
                                c->state_ref[rule], c->needs[rule], c->params_ref[rule]);
    char err[1024];
    struct lh_ctx ctx = {.gen = h->gen, .script = c->script[slot], .phase = LH_PHASE_HANDLER};
    int failed = lh_pcall(h, nargs, 1, ctx, err, sizeof err) != 0;
    rule_views_end(c->views);
    if (failed) {
        rule_error(h, c, slot, "rule", err);
        return 0;
    }
    double v = 0;
    if (lua_type(L, -1) == LUA_TNUMBER) {
        v = lua_tonumber(L, -1);
        *ok = isfinite(v);
    }
    lua_pop(L, 1);
    return v;
}

/* How a rule speaks, into the table on top: its label, unit and mode. */
void rules_set_words(lua_State *L, const struct alert_rule_def *r)
{
    lua_pushstring(L, r->label);
    lua_setfield(L, -2, "label");
    lua_pushstring(L, r->unit);
    lua_setfield(L, -2, "unit");
    lua_pushstring(L, rule_mode_names[r->mode]);
    lua_setfield(L, -2, "mode");
}

/* The alert table format() gets: the candle, the rule's value (move, for
 * rules written before there were others) and the level it reached. */
static void push_alert(lua_State *L, struct lh_host *h, const struct alert_view *a,
                       const struct alert_rule_def *r)
{
    lua_createtable(L, 0, 14);
    lua_pushnumber(L, a->move);
    lua_setfield(L, -2, "value");
    lua_pushnumber(L, a->level);
    lua_setfield(L, -2, "level");
    lua_pushstring(L, a->up ? "up" : "down");
    lua_setfield(L, -2, "direction");
    if (r) {
        lua_pushstring(L, r->name);
        lua_setfield(L, -2, "rule");
        rules_set_words(L, r);
        lua_pushinteger(L, r->decimals);
        lua_setfield(L, -2, "decimals");
    }
    lh_push_candle(L, &h->app->market, a->candle);
    lua_setfield(L, -2, "candle");
    lua_pushstring(L, a->symbol);
    lua_setfield(L, -2, "symbol");
    lua_pushstring(L, interval_name(a->candle->interval));
    lua_setfield(L, -2, "interval");
    lua_pushnumber(L, a->move);
    lua_setfield(L, -2, "move");
    lua_createtable(L, a->npresets, 0);
    for (int i = 0; i < a->npresets; i++) {
        lua_pushstring(L, a->presets[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "presets");
}

/* () -> fn | nil: the shared formatter, require('alertfmt').format (its
 * module may be anything a script wrote: read under protection). */
static int require_format(lua_State *L)
{
    lua_pushcfunction(L, lh_require);
    lua_pushliteral(L, "alertfmt");
    lua_call(L, 1, 1);
    if (lua_istable(L, -1) || lua_isuserdata(L, -1))
        lua_getfield(L, -1, "format");
    else
        lua_pushnil(L);
    return 1;
}

static char *hook_format(void *ud, int rule, const struct alert_view *a, char **heading)
{
    struct rules_cache *c = ud;
    struct lh_host *h = c->h;
    lua_State *L = h->L;
    int slot = slot_of(c, rule);
    if (slot < 0 || !h->gen)
        return NULL;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref[slot]);
    if (lua_getfield(L, -1, "format") != LUA_TFUNCTION) {
        lua_settop(L, top);
        /* the shared formatter: scripts/lib/alertfmt.lua */
        lua_pushcfunction(L, require_format);
        char err[1024];
        struct lh_ctx ctx = {.gen = h->gen, .script = c->script[slot], .phase = LH_PHASE_HANDLER};
        if (lh_pcall(h, 0, 1, ctx, err, sizeof err) != 0 || !lua_isfunction(L, -1)) {
            lua_settop(L, top);
            return NULL;
        }
    }
    int fn = lua_gettop(L);
    lua_pushvalue(L, fn);
    push_alert(L, h, a, alert_rule_get(h->app->alerts, rule));
    if (c->params_ref[rule] != LUA_NOREF) {   /* the settings of the presets' rule */
        lua_rawgeti(L, LUA_REGISTRYINDEX, c->params_ref[rule]);
        lua_setfield(L, -2, "params");
    }
    char err[1024];
    struct lh_ctx ctx = {.gen = h->gen, .script = c->script[slot], .phase = LH_PHASE_HANDLER};
    char *out = NULL;
    if (lh_pcall(h, 1, 2, ctx, err, sizeof err) != 0) {
        rule_error(h, c, slot, "alert format", err);
    } else if (lua_type(L, -2) == LUA_TSTRING) {
        out = strdup(lua_tostring(L, -2));
        if (lua_type(L, -1) == LUA_TSTRING)
            *heading = strdup(lua_tostring(L, -1));
    }
    lua_settop(L, top);
    return out;
}

/* How many arguments a rule's value() (on top) takes: history, state,
 * ind and params are made only for a rule that reads them. */
static int value_nargs(lua_State *L)
{
    lua_Debug ar;
    lua_pushvalue(L, -1);
    if (!lua_getinfo(L, ">u", &ar) || ar.isvararg || ar.nparams >= 5)
        return 5;
    return ar.nparams < 1 ? 1 : ar.nparams;
}

/* The candle store keeps what the live rules read: a rule's n closed
 * candles before the one evaluated, and that one when it closed.  The
 * store only grows (a rule that comes back finds its candles). */
static void rules_history(struct lh_host *h, const struct alert_rule_def *defs, int n)
{
    struct candles *cs = &h->app->market.candles;
    uint32_t want = 0;
    for (int i = 0; i < n; i++)
        if (defs[i].history > 0 && (uint32_t)defs[i].history + 1 > want)
            want = (uint32_t)defs[i].history + 1;
    if (want <= cs->history)
        return;
    uint32_t had = cs->history;
    if (candles_reserve(cs, want) != 0) {
        log_error(&h->app->log, "scripts", "out of memory growing the candle history to %u: "
                  "rules see at most %u candles", want, had);
        return;
    }
    log_info(&h->app->log, "scripts", "the rules read more history: %u closed candles are "
             "kept per pair and timeframe (was %u)", want, had);
}

static void map_due(void *ud)
{
    struct rules_cache *c = ud;
    c->map_timer = NULL;
    if (c->dirty)
        rules_map(c);
}

void rules_slots_changed(void *ud)
{
    struct rules_cache *c = ud;
    c->dirty = 1;
    if (c->h->cur.phase == LH_PHASE_NONE) {   /* from C (a backtest's preset): now */
        rules_map(c);
        return;
    }
    /* inside alerts.save: Lua runs later, on the loop; soon, so that the
     * book asks for the history at once */
    if (!c->map_timer)
        c->map_timer = timers_add(&c->h->app->timers, app_now_ms(c->h->app), map_due, c);
}

/* (pushes) the slot's settings as a table by name; their count */
static int push_params(lua_State *L, struct alert_engine *e, int slot, const struct rule_decl *d)
{
    double v[RULE_PARAMS_MAX];
    int n = alert_rule_params(e, slot, v);
    lua_createtable(L, 0, n);
    for (int i = 0; i < n && i < d->def.nparams; i++) {
        lua_pushnumber(L, v[i]);
        lua_setfield(L, -2, d->ptext[i].name);
    }
    return n;
}

/* (fn, params, out) -> count: the specs fn(params) lists, into out */
static int needs_call(lua_State *L)
{
    struct ind_spec *out = lua_touserdata(L, 3);
    lua_settop(L, 2);
    lua_call(L, 1, 1);
    lua_pushinteger(L, rule_needs_table(L, lua_gettop(L), "needs(params)", out));
    return 1;
}

/* The indicators slot's rule i reads with its settings (pushed on top as
 * their table): its needs, or what its needs function gives for them. */
static int slot_needs(struct rules_cache *c, int i, struct ind_spec *out)
{
    const struct rule_decl *d = c->decl[i];
    if (d->nneeds >= 0) {
        memcpy(out, d->needs, sizeof *out * (size_t)d->nneeds);
        return d->nneeds;
    }
    struct lh_host *h = c->h;
    lua_State *L = h->L;
    lua_pushcfunction(L, needs_call);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref[i]);
    lua_getfield(L, -1, "needs");
    lua_replace(L, -2);
    lua_pushvalue(L, -3);   /* the settings */
    lua_pushlightuserdata(L, out);
    char err[1024];
    struct lh_ctx ctx = {.gen = h->gen, .script = c->script[i], .phase = LH_PHASE_HANDLER};
    if (lh_pcall(h, 3, 1, ctx, err, sizeof err) != 0) {
        rule_error(h, c, i, "rule needs", err);
        return 0;
    }
    int n = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return n;
}

void rules_map(struct rules_cache *c)
{
    struct lh_host *h = c->h;
    lua_State *L = h->L;
    struct alert_engine *e = h->app->alerts;
    /* every slot's indicators, slot by slot (12 KB: not on the stack) */
    static struct ind_spec all[ALERT_MAX_SLOTS * RULE_NEEDS_MAX];
    int first[ALERT_MAX_SLOTS] = {0}, nspecs[ALERT_MAX_SLOTS] = {0}, nall = 0;
    c->dirty = 0;
    for (int slot = 0; slot < ALERT_MAX_SLOTS; slot++) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->state_ref[slot]);
        luaL_unref(L, LUA_REGISTRYINDEX, c->params_ref[slot]);
        c->state_ref[slot] = c->params_ref[slot] = LUA_NOREF;
        c->by_engine[slot] = -1;
        const struct alert_rule_def *def = alert_rule_get(e, slot);
        for (int i = 0; def && i < c->n; i++)
            if (!strcmp(c->name[i], def->name))
                c->by_engine[slot] = i;
        int i = c->by_engine[slot];
        if (i < 0)
            continue;
        c->state_ref[slot] = rule_states_ref(L, alert_rule_name(e, slot));
        push_params(L, e, slot, c->decl[i]);
        first[slot] = nall;
        nspecs[slot] = slot_needs(c, i, all + nall);
        nall += nspecs[slot];
        c->params_ref[slot] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    /* the book keeps what the live rules read (a rule gone: its indicators
     * go too); new ones are warmed from the series' history, fetched again */
    struct ind_book *b = &h->app->market.ind;
    if (ind_book_set_specs(b, all, nall) < 0)
        log_error(&h->app->log, "scripts", "the rules need more than %d indicators, or memory "
                  "ran out: the indicators stay as they were", BOOK_SPECS_MAX);
    for (int slot = 0; slot < ALERT_MAX_SLOTS; slot++) {
        c->needs[slot] = 0;
        for (int k = first[slot]; k < first[slot] + nspecs[slot]; k++) {
            int at = ind_book_find(b, &all[k]);
            if (at >= 0)
                c->needs[slot] |= 1u << at;
        }
    }
}

/* The declaration the engine gets for rule i (its strings in the decl). */
static struct alert_rule_def rule_def(struct rules_cache *c, int i)
{
    const struct rule_decl *d = c->decl[i];
    struct alert_rule_def def = d->def;
    def.name = c->name[i];
    def.label = d->label;
    def.unit = d->unit;
    def.prompt = d->prompt;
    for (int k = 0; k < def.nparams; k++) {
        def.params[k].name = d->ptext[k].name;
        def.params[k].label = d->ptext[k].label;
        def.params[k].prompt = d->ptext[k].prompt;
    }
    return def;
}

void lh_alerts_live(struct lh_host *h, struct lh_gen *g)
{
    struct app *a = h->app;
    lua_State *L = h->L;
    struct rules_cache *c = rules_cache_of(L);
    if (!c || !a->alerts)
        return;
    for (int i = 0; i < c->n; i++) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->ref[i]);
        luaL_unref(L, LUA_REGISTRYINDEX, c->value_ref[i]);
    }
    c->n = 0;
    memset(c->last_error_log, 0, sizeof c->last_error_log);
    struct alert_rule_def defs[ALERT_MAX_RULES];
    struct lh_reg *regs[ALERT_MAX_RULES];   /* in the order they were declared */
    int nregs = 0;
    for (struct lh_reg *r = g->regs; r; r = r->next)
        if (r->kind == LH_REG_RULE && nregs < ALERT_MAX_RULES)
            regs[nregs++] = r;
    while (nregs--) {
        struct lh_reg *r = regs[nregs];
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->fn_ref);
        lua_getfield(L, -1, "decl");
        c->decl[c->n] = lua_touserdata(L, -1);   /* (kept alive by the rule's table) */
        lua_pop(L, 1);
        lua_getfield(L, -1, "value");
        c->nargs[c->n] = value_nargs(L);
        c->value_ref[c->n] = luaL_ref(L, LUA_REGISTRYINDEX);
        c->history[c->n] = c->decl[c->n]->def.history;
        c->ref[c->n] = luaL_ref(L, LUA_REGISTRYINDEX);
        c->script[c->n] = r->script;
        snprintf(c->name[c->n], sizeof c->name[0], "%s", r->name);
        defs[c->n] = rule_def(c, c->n);   /* (the engine copies the strings) */
        c->n++;
    }
    rule_states_keep(L, c->name, c->n);   /* a rule gone: its states go too */
    rules_history(h, defs, c->n);
    alert_set_rules(a->alerts, defs, c->n);
    struct alert_hooks hooks = {hook_value, hook_format, rules_slots_changed, c};
    alert_set_hooks(a->alerts, &hooks);
    rules_map(c);
}
