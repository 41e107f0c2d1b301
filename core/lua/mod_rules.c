/* alerts.rule and alerts.rules: the rules of the alert engine.
 *
 *   alerts.rule{ name = "rsi", label = "RSI level", unit = "",
 *                mode = "move" | "level" | "cross",
 *                directions = {"up", "down", "both"},
 *                threshold = {min =, max =, default =, decimals = | step =, prompt =},
 *                history = n, on = {"forming", "close"},
 *                value = function(candle, history, state) return number end,
 *                format = function(alert) return html [, heading] end } -- optional
 *
 * The engine calls a rule's value once per (symbol, interval) event, as a
 * plain call (no waiting), with views valid only during that call (read
 * their fields; copy what you keep): the candle, the closed candles before
 * it (history, at most the rule's n) and the rule's state for that pair
 * (lua/rule_view.c); and its format once per chat
 * that an alert goes to (with a candle table); without format,
 * scripts/lib/alertfmt.lua's format is used.  format may also return the
 * heading of the alert's timeframe: a chat's waiting alerts are merged into
 * one message, grouped by timeframe, each group under its heading.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alert/engine.h"
#include "lua/internal.h"
#include "lua/rule_ind.h"
#include "lua/rule_view.h"
#include "market/feed.h"
#include "util/interval.h"
#include "store/store.h"

#define RULE_ERROR_LOG_MS 10000

static const char *const mode_names[] = {"move", "level", "cross", NULL};
static const char *const event_names[] = {"forming", "close", NULL};

/* The live rules, by the engine's slot: set when a generation goes live. */
struct rules_cache {
    int ref[ALERT_MAX_RULES];               /* registry refs of the rule tables, LUA_NOREF */
    int script[ALERT_MAX_RULES];
    char name[ALERT_MAX_RULES][RULE_NAME_MAX + 1];
    int n;
    uint64_t last_error_log[ALERT_MAX_RULES];   /* per rule: one cannot hide another */
    long errors;
    struct rule_views *views;  /* what value() is handed (userdata memory does not move) */
    int value_ref[ALERT_MAX_RULES];         /* each rule's value function */
    int nargs[ALERT_MAX_RULES];             /* value()'s parameters: 1 to 3 */
    int history[ALERT_MAX_RULES];           /* closed candles it reads */
    int state_ref[ALERT_MAX_RULES];         /* its table of states */
    uint32_t needs[ALERT_MAX_RULES];        /* the book's specs it declared, as bits */
    struct lh_host *h;
    int by_engine[ALERT_MAX_RULES];         /* the engine's rule slot -> index here, or -1 */
};

#define CACHE_KEY "cw.alerts.cache"

static struct rules_cache *cache_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    struct rules_cache *c = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return c;
}


/* A rule's declaration as parsed at its top level: the engine gets it when
 * the generation goes live (kept as userdata in the rule's table). */
struct rule_decl {
    struct alert_rule_def def;
    char label[RULE_LABEL_MAX + 1], unit[RULE_UNIT_MAX + 1], prompt[RULE_PROMPT_MAX + 1];
    struct ind_spec needs[RULE_NEEDS_MAX];  /* the indicators value() reads */
    int nneeds;
};

static const char rule_usage[] =
    "alerts.rule{name = s, value = fn [, label, unit, mode, directions, threshold, history, on, "
    "needs, format]}";

/* t[k] as a string of min to max bytes (dflt when nil) into out. */
static void decl_string(lua_State *L, int t, const char *k, char *out, size_t min, size_t max,
                        const char *dflt)
{
    int ty = lua_getfield(L, t, k);
    size_t n = 0;
    const char *v = ty == LUA_TNIL ? dflt : ty == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (!v || (ty == LUA_TSTRING && (n < min || n > max)))
        luaL_error(L, "expected %s: %s must be a string of %d-%d bytes", rule_usage, k, (int)min,
                   (int)max);
    snprintf(out, max + 1, "%s", v);
    lua_pop(L, 1);
}

/* t.k as one of names (an index), dflt when nil. */
static int decl_enum(lua_State *L, int t, const char *k, const char *const *names, int dflt)
{
    if (lua_getfield(L, t, k) == LUA_TNIL) {
        lua_pop(L, 1);
        return dflt;
    }
    const char *v = lua_tostring(L, -1);
    for (int i = 0; v && names[i]; i++)
        if (!strcmp(v, names[i])) {
            lua_pop(L, 1);
            return i;
        }
    return luaL_error(L, "expected %s: unknown %s \"%s\"", rule_usage, k, v ? v : "?");
}

/* t.k, a list of names, as a bit mask of their indexes (dflt when nil). */
static int decl_set(lua_State *L, int t, const char *k, const char *const *names, int dflt)
{
    int ty = lua_getfield(L, t, k), bits = 0;
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return dflt;
    }
    if (ty != LUA_TTABLE)
        return luaL_error(L, "expected %s: %s must be a list", rule_usage, k);
    for (lua_Integer i = 1; lua_geti(L, -1, i) != LUA_TNIL; i++) {
        const char *v = lua_tostring(L, -1);
        int found = -1;
        for (int j = 0; v && names[j]; j++)
            if (!strcmp(v, names[j]))
                found = j;
        if (found < 0)
            return luaL_error(L, "expected %s: unknown %s \"%s\"", rule_usage, k, v ? v : "?");
        bits |= 1 << found;
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    if (!bits)
        return luaL_error(L, "expected %s: %s must not be empty", rule_usage, k);
    return bits;
}

static double decl_number(lua_State *L, int t, const char *k, double dflt)
{
    int ty = lua_getfield(L, t, k);
    if (ty != LUA_TNIL && ty != LUA_TNUMBER)
        luaL_error(L, "expected %s: threshold.%s must be a number", rule_usage, k);
    double v = ty == LUA_TNIL ? dflt : lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!isfinite(v))
        luaL_error(L, "expected %s: threshold.%s is required", rule_usage, k);
    return v;
}

/* threshold = {min, max, default, decimals or step, prompt}: a move's
 * defaults are today's percent (0.1 to 100); a level or cross names its own. */
static void decl_threshold(lua_State *L, int t, struct rule_decl *d)
{
    struct alert_rule_def *r = &d->def;
    int move = r->mode == RULE_MOVE, ty = lua_getfield(L, t, "threshold");
    if (ty == LUA_TNIL && !move)
        luaL_error(L, "expected %s: a level or cross rule needs threshold = {min =, max =}",
                   rule_usage);
    if (ty != LUA_TNIL && ty != LUA_TTABLE)
        luaL_error(L, "expected %s: threshold must be a table", rule_usage);
    if (ty == LUA_TNIL)
        lua_newtable(L);
    int th = lua_gettop(L);
    r->min = decl_number(L, th, "min", move ? 0.1 : NAN);
    r->max = decl_number(L, th, "max", move ? 100 : NAN);
    r->dflt = decl_number(L, th, "default", move ? 2 : (r->min + r->max) / 2);
    double step = decl_number(L, th, "step", 0);
    double dec = decl_number(L, th, "decimals", 2);
    if (!(dec >= 0 && dec <= 8 && dec == floor(dec)))
        luaL_error(L, "expected %s: threshold.decimals must be a whole number from 0 to 8",
                   rule_usage);
    r->decimals = (int)dec;
    if (step > 0)   /* 0.5 -> 1 decimal, 5 -> 0 */
        for (r->decimals = 0; r->decimals < 8 && fabs(step * pow(10, r->decimals) -
                                                    round(step * pow(10, r->decimals))) > 1e-9;)
            r->decimals++;
    if (r->decimals < 0 || r->decimals > 8 || !(r->min < r->max) || r->dflt < r->min ||
        r->dflt > r->max || (move && !(r->min > 0)))
        luaL_error(L, "expected %s: threshold needs min < max, min <= default <= max, 0-8 "
                      "decimals%s", rule_usage, move ? " and, for a move, min > 0" : "");
    decl_string(L, th, "prompt", d->prompt, 0, RULE_PROMPT_MAX, "");
    lua_pop(L, 1);
}


/* alerts.rule{name =, value = fn [, label, unit, mode, directions,
 * threshold, history, on, format = fn]} -> nil   top level only */
int lh_alerts_rule(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, rule_usage, LH_PHASE_TOPLEVEL);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    struct rule_decl *d = lua_newuserdatauv(L, sizeof *d, 0);   /* 2 */
    memset(d, 0, sizeof *d);
    char name[RULE_NAME_MAX + 1];
    decl_string(L, 1, "name", name, 1, RULE_NAME_MAX, NULL);
    decl_string(L, 1, "label", d->label, 1, RULE_LABEL_MAX, name);
    struct alert_rule_def *r = &d->def;
    r->mode = decl_enum(L, 1, "mode", mode_names, RULE_MOVE);
    decl_string(L, 1, "unit", d->unit, 0, RULE_UNIT_MAX, r->mode == RULE_MOVE ? "%" : "");
    r->dirs = decl_set(L, 1, "directions", preset_dir_names, 7);
    if ((r->dirs & 1 << DIR_BOTH) && (r->dirs & 6) != 6)
        return luaL_error(L, "expected %s: directions has \"both\" only with \"up\" and \"down\"",
                          rule_usage);
    decl_threshold(L, 1, d);
    int on = decl_set(L, 1, "on", event_names, 3);
    r->on_forming = !!(on & 1);
    r->on_close = !!(on & 2);
    lua_getfield(L, 1, "history");
    lua_Integer hist = lua_isnil(L, -1) ? 0 : lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
    if (hist < 0 || hist > RULE_HISTORY_MAX)
        return luaL_error(L, "expected %s: history must be a whole number of candles, 0-%d",
                          rule_usage, RULE_HISTORY_MAX);
    r->history = (int)hist;
    lua_pop(L, 1);
    d->nneeds = rule_needs_parse(L, 1, rule_usage, d->needs);
    lua_createtable(L, 0, 3);   /* a copy: later changes to the table do nothing */
    int t = lua_gettop(L);
    if (lua_getfield(L, 1, "value") != LUA_TFUNCTION)
        return luaL_error(L, "expected %s: value must be a function", rule_usage);
    lua_setfield(L, t, "value");
    int ft = lua_getfield(L, 1, "format");
    if (ft != LUA_TNIL && ft != LUA_TFUNCTION)
        return luaL_error(L, "expected %s: format must be a function", rule_usage);
    lua_setfield(L, t, "format");
    lua_pushvalue(L, 2);
    lua_setfield(L, t, "decl");
    int nrules = 0;
    for (struct lh_reg *g = h->cur.gen->regs; g; g = g->next) {
        if (g->kind != LH_REG_RULE)
            continue;
        if (!strcmp(g->name, name))
            return luaL_error(L, "rule \"%s\" is registered twice: also by %s", name,
                              h->cur.gen->scripts[g->script].name);
        if (++nrules == ALERT_MAX_RULES)
            return luaL_error(L, "rule \"%s\": there can be at most %d rules", name,
                              ALERT_MAX_RULES);
    }
    struct lh_reg *reg = lh_reg_add(L, h->cur.gen, LH_REG_RULE, h->cur.script, t);
    if (!reg || !(reg->name = strdup(name)))
        return luaL_error(L, "out of memory");
    reg->flags = on;
    return 0;
}

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

/* The cached rule for the engine's slot, or -1 (set at go-live: no name
 * lookups per event). */
static int slot_of(struct rules_cache *c, int rule)
{
    return rule >= 0 && rule < ALERT_MAX_RULES ? c->by_engine[rule] : -1;
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
                                c->state_ref[slot], c->needs[slot]);
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
static void set_rule_words(lua_State *L, const struct alert_rule_def *r)
{
    lua_pushstring(L, r->label);
    lua_setfield(L, -2, "label");
    lua_pushstring(L, r->unit);
    lua_setfield(L, -2, "unit");
    lua_pushstring(L, mode_names[r->mode]);
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
        set_rule_words(L, r);
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

/* How many arguments a rule's value() (on top) takes: history, state and
 * ind are made only for a rule that reads them. */
static int value_nargs(lua_State *L)
{
    lua_Debug ar;
    lua_pushvalue(L, -1);
    if (!lua_getinfo(L, ">u", &ar) || ar.isvararg || ar.nparams >= 4)
        return 4;
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

/* The book keeps what the live rules read (a rule gone: its indicators go
 * too); new ones are warmed from the streams' history, fetched again. */
static void rules_needs(struct lh_host *h, struct rules_cache *c,
                        const struct rule_decl *const *decls)
{
    struct ind_spec all[ALERT_MAX_RULES * RULE_NEEDS_MAX];
    int n = 0;
    for (int i = 0; i < c->n; i++)
        for (int k = 0; k < decls[i]->nneeds; k++)
            all[n++] = decls[i]->needs[k];
    struct ind_book *b = &h->app->market.ind;
    int added = ind_book_set_specs(b, all, n);
    if (added < 0)
        log_error(&h->app->log, "scripts", "the rules need more than %d indicators, or memory "
                  "ran out: the indicators stay as they were", BOOK_SPECS_MAX);
    else if (added && h->app->feed)
        feed_history_again(h->app->feed);
    for (int i = 0; i < c->n; i++) {
        c->needs[i] = 0;
        for (int k = 0; k < decls[i]->nneeds; k++) {
            int at = ind_book_find(b, &decls[i]->needs[k]);
            if (at >= 0)
                c->needs[i] |= 1u << at;
        }
    }
}

void lh_alerts_live(struct lh_host *h, struct lh_gen *g)
{
    struct app *a = h->app;
    lua_State *L = h->L;
    struct rules_cache *c = cache_of(L);
    if (!c || !a->alerts)
        return;
    for (int i = 0; i < c->n; i++) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->ref[i]);
        luaL_unref(L, LUA_REGISTRYINDEX, c->value_ref[i]);
        luaL_unref(L, LUA_REGISTRYINDEX, c->state_ref[i]);
    }
    c->n = 0;
    memset(c->last_error_log, 0, sizeof c->last_error_log);
    struct alert_rule_def defs[ALERT_MAX_RULES];
    const struct rule_decl *decls[ALERT_MAX_RULES];
    for (struct lh_reg *r = g->regs; r && c->n < ALERT_MAX_RULES; r = r->next) {
        if (r->kind != LH_REG_RULE)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->fn_ref);
        lua_getfield(L, -1, "decl");
        struct rule_decl *d = lua_touserdata(L, -1);
        decls[c->n] = d;   /* (kept alive by the generation's registration) */
        lua_pop(L, 1);
        lua_getfield(L, -1, "value");
        c->nargs[c->n] = value_nargs(L);
        c->value_ref[c->n] = luaL_ref(L, LUA_REGISTRYINDEX);
        c->history[c->n] = d->def.history;
        c->state_ref[c->n] = rule_states_ref(L, r->name);
        c->ref[c->n] = luaL_ref(L, LUA_REGISTRYINDEX);
        c->script[c->n] = r->script;
        snprintf(c->name[c->n], sizeof c->name[0], "%s", r->name);
        defs[c->n] = d->def;   /* (the engine copies the strings) */
        defs[c->n].name = c->name[c->n];
        defs[c->n].label = d->label;
        defs[c->n].unit = d->unit;
        defs[c->n].prompt = d->prompt;
        c->n++;
    }
    rule_states_keep(L, c->name, c->n);   /* a rule gone: its states go too */
    rules_history(h, defs, c->n);
    rules_needs(h, c, decls);
    alert_set_rules(a->alerts, defs, c->n);
    for (int slot = 0; slot < ALERT_MAX_RULES; slot++) {
        const char *name = alert_rule_name(a->alerts, slot);
        c->by_engine[slot] = -1;
        for (int i = 0; i < c->n; i++)
            if (!strcmp(c->name[i], name))
                c->by_engine[slot] = i;
    }
    struct alert_hooks hooks = {hook_value, hook_format, c};
    alert_set_hooks(a->alerts, &hooks);
}

static void push_set(lua_State *L, const char *k, const char *const *names, int bits)
{
    lua_newtable(L);
    for (int i = 0, n = 0; names[i]; i++)
        if (bits & 1 << i) {
            lua_pushstring(L, names[i]);
            lua_rawseti(L, -2, ++n);
        }
    lua_setfield(L, -2, k);
}

static void push_rule(lua_State *L, const struct alert_rule_def *r)
{
    lua_createtable(L, 0, 9);
    lua_pushstring(L, r->name);
    lua_setfield(L, -2, "name");
    set_rule_words(L, r);
    push_set(L, "directions", preset_dir_names, r->dirs);
    push_set(L, "on", event_names, r->on_forming | r->on_close << 1);
    lua_pushinteger(L, r->history);
    lua_setfield(L, -2, "history");
    lua_createtable(L, 0, 5);
    lua_pushnumber(L, r->min);
    lua_setfield(L, -2, "min");
    lua_pushnumber(L, r->max);
    lua_setfield(L, -2, "max");
    lua_pushnumber(L, r->dflt);
    lua_setfield(L, -2, "default");
    lua_pushinteger(L, r->decimals);
    lua_setfield(L, -2, "decimals");
    lua_pushstring(L, r->prompt);
    lua_setfield(L, -2, "prompt");
    lua_setfield(L, -2, "threshold");
}

/* alerts.rules() -> {{name, label, unit, mode, directions, on, history,
 * threshold = {min, max, default, decimals, prompt}}, ...}: the live rules,
 * in the order their scripts declared them */
int lh_alerts_rules(lua_State *L)
{
    struct alert_engine *e = lh_alerts_engine(L, "alerts.rules()");
    struct rules_cache *c = cache_of(L);
    lua_createtable(L, c ? c->n : 0, 0);
    for (int i = 0, n = 0; c && i < c->n; i++) {
        const struct alert_rule_def *r = alert_rule_get(e, alert_rule_find(e, c->name[i]));
        if (r) {
            push_rule(L, r);
            lua_rawseti(L, -2, ++n);
        }
    }
    return 1;
}

/* The symbol and interval at args 1, 2 and their forming candle (NULL
 * when none is held); raises a sentence for an unknown one. */
static void pair_args(lua_State *L, struct market *m, uint32_t *sym, int *iv,
                      const struct candle **forming)
{
    size_t n, ivn;
    const char *name = luaL_checklstring(L, 1, &n), *ivs = luaL_checklstring(L, 2, &ivn);
    int id = symtab_find(&m->syms, name, n);
    *iv = interval_parse(ivs, ivn);
    if (id < 0)
        luaL_error(L, "unknown symbol \"%s\"", name);
    if (*iv < 0)
        luaL_error(L, "unknown interval \"%s\"", ivs);
    *sym = (uint32_t)id;
    const struct series *s = candles_series(&m->candles, *sym, *iv);
    *forming = s && s->has_forming ? &s->forming : NULL;
}

/* alerts.indicators(symbol, interval) -> {{name = "rsi(14)", kind = "rsi",
 * values = {...} | nil, forming = {...} | nil}, ...}: every indicator the
 * live rules read, after the last closed candle and if the forming one
 * closed now (nil while not warm) */
int lh_alerts_indicators(lua_State *L)
{
    struct market *m = &lh_host_of(L)->app->market;
    uint32_t sym;
    int iv;
    const struct candle *forming;
    pair_args(L, m, &sym, &iv, &forming);
    rule_ind_push_list(L, &m->ind, sym, iv, forming);
    return 1;
}

/* alerts.evaluate(rule, symbol, interval) -> number | nil [, err]: the
 * live rule's value on the forming candle now, or at the last close when
 * none is forming (with a state of its own: the rule's kept states are not
 * touched) */
int lh_alerts_evaluate(lua_State *L)
{
    struct rules_cache *c = cache_of(L);
    struct market *m = &lh_host_of(L)->app->market;
    const char *rule = luaL_checkstring(L, 1);
    lua_remove(L, 1);
    uint32_t sym;
    int iv;
    const struct candle *forming;
    pair_args(L, m, &sym, &iv, &forming);
    int slot = -1;
    for (int i = 0; c && i < c->n; i++)
        if (!strcmp(c->name[i], rule))
            slot = i;
    if (slot < 0)
        return luaL_error(L, "unknown rule \"%s\"", rule);
    const struct candle *at = forming;
    if (!at) {   /* (between a close and the next update; a replay's rows close at once) */
        const struct series *s = candles_series(&m->candles, sym, iv);
        at = s ? series_closed(s, m->candles.history, 0) : NULL;
    }
    if (!at)
        return lh_fail(L, "no candle yet for %s %s", m->syms.v[sym].name, interval_name(iv));
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->value_ref[slot]);
    int nargs = rule_views_push(L, c->views, at, c->nargs[slot], c->history[slot],
                                LUA_NOREF, c->needs[slot]);
    int st = lua_pcall(L, nargs, 1, 0);   /* (inside the handler's own limits) */
    rule_views_end(c->views);
    if (st != LUA_OK)
        return lh_fail(L, "rule %s: %s", rule, lua_tostring(L, -1));
    if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
        lua_pushnil(L);
    return 1;
}

void lh_rules_open(lua_State *L)
{
    struct rules_cache *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    c->h = lh_host_of(L);
    lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    c->views = rule_views_open(L, &c->h->app->market);
}
