/* alerts: rules for the alert engine, and users' presets.
 *
 *   alerts.rule{ name = "move", on = {"forming", "close"},
 *                value = function(candle) return percent end,
 *                format = function(alert) return html [, heading] end } -- optional
 *
 * The engine calls a rule's value once per (symbol, interval) event, as a
 * plain call (no waiting), with a candle that is valid only during that
 * call (read its fields; copy what you keep); and its format once per chat
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
#include "util/interval.h"
#include "store/store.h"

#define RULE_ERROR_LOG_MS 10000

/* The live rules, by the engine's slot: set when a generation goes live. */
struct rules_cache {
    int ref[ALERT_MAX_RULES];               /* registry refs of the rule tables, LUA_NOREF */
    int script[ALERT_MAX_RULES];
    char name[ALERT_MAX_RULES][RULE_NAME_MAX + 1];
    int n;
    uint64_t last_error_log;
    long errors;
    int view_ref;              /* the candle view handed to value() */
    struct candle_view *view;  /* (userdata memory does not move) */
    int value_ref[ALERT_MAX_RULES];         /* each rule's value function */
    struct lh_host *h;
    int by_engine[ALERT_MAX_RULES];         /* the engine's rule slot -> index here, or -1 */
};

/* The candle a rule's value() sees: a view of the core's candle, valid
 * only during that call (fields are read on access: a rule reads two or
 * three, and building a table of fourteen per event was most of its
 * cost).  Outside the call any access raises. */
struct candle_view {
    const struct candle *c;
    struct market *m;
};

/* Field names by length, so a lookup is a switch and one memcmp (this runs
 * for every field a rule reads on every candle event). */
static int view_field(lua_State *L, const struct candle_view *v, const char *k, size_t n)
{
    const struct candle *c = v->c;
#define IS(lit) (n == sizeof lit - 1 && !memcmp(k, lit, n))
    switch (n) {
    case 3:
        if (IS("low")) { lua_pushnumber(L, c->low); return 1; }
        break;
    case 4:
        if (IS("open")) { lua_pushnumber(L, c->open); return 1; }
        if (IS("high")) { lua_pushnumber(L, c->high); return 1; }
        break;
    case 5:
        if (IS("close")) { lua_pushnumber(L, c->close); return 1; }
        break;
    case 6:
        if (IS("closed")) { lua_pushboolean(L, c->closed); return 1; }
        if (IS("volume")) { lua_pushnumber(L, c->volume); return 1; }
        if (IS("trades")) { lua_pushinteger(L, c->trades); return 1; }
        if (IS("symbol")) { lua_pushstring(L, v->m->syms.v[c->symbol].name); return 1; }
        break;
    case 8:
        if (IS("interval")) { lua_pushstring(L, interval_name(c->interval)); return 1; }
        break;
    case 9:
        if (IS("open_time")) { lua_pushinteger(L, c->open_time); return 1; }
        break;
    case 10:
        if (IS("close_time")) { lua_pushinteger(L, c->close_time); return 1; }
        if (IS("backfilled")) { lua_pushboolean(L, c->backfilled); return 1; }
        if (IS("event_time")) { lua_pushinteger(L, c->event_time); return 1; }
        break;
    case 12:
        if (IS("quote_volume")) { lua_pushnumber(L, c->quote_volume); return 1; }
        break;
    case 14:
        if (IS("price_decimals")) { lua_pushinteger(L, c->price_dp); return 1; }
        break;
    }
#undef IS
    return 0;   /* nil, as a table would give */
}

/* The view's __index, with the one view as its upvalue: the metatable is
 * hidden from scripts, so nothing else reaches it. */
static int view_index(lua_State *L)
{
    struct candle_view *v = lua_touserdata(L, lua_upvalueindex(1));
    size_t n;
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &n) : NULL;
    if (lua_touserdata(L, 1) != v || !k)
        return 0;
    if (!v->c)
        return luaL_error(L, "this candle was passed to a rule's value() and is gone: copy "
                             "the fields you need during the call");
    return view_field(L, v, k, n);
}

#define CACHE_KEY "cw.alerts.cache"

static struct rules_cache *cache_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    struct rules_cache *c = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return c;
}

static struct alert_engine *engine_of(lua_State *L, const char *usage)
{
    struct lh_host *h = lh_host_of(L);
    if (!h->app->alerts)
        luaL_error(L, "%s: the alert engine is not running (no database)", usage);
    return h->app->alerts;
}

/* alerts.rule{name =, on = {"forming", "close"}, value = fn [, format = fn]} -> nil
 * top level only */
static int a_rule(lua_State *L)
{
    static const char usage[] = "alerts.rule{name = s, on = {...}, value = fn [, format = fn]}";
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, usage, LH_PHASE_TOPLEVEL);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    size_t n;
    const char *name = lua_tolstring(L, -1, &n);
    if (!name || n < 1 || n > RULE_NAME_MAX)
        return luaL_error(L, "expected %s: name must be 1-%d characters", usage, RULE_NAME_MAX);
    int flags = 0;
    if (lua_getfield(L, 1, "on") != LUA_TTABLE)
        return luaL_error(L, "expected %s: on lists \"forming\" and/or \"close\"", usage);
    for (lua_Integer i = 1; lua_geti(L, -1, i) == LUA_TSTRING; i++) {
        const char *ev = lua_tostring(L, -1);
        if (!strcmp(ev, "forming"))
            flags |= LH_RULE_FORMING;
        else if (!strcmp(ev, "close"))
            flags |= LH_RULE_CLOSE;
        else
            return luaL_error(L, "expected %s: unknown event \"%s\"", usage, ev);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (!flags)
        return luaL_error(L, "expected %s: on lists \"forming\" and/or \"close\"", usage);
    lua_createtable(L, 0, 2);   /* a copy: later changes to the table do nothing */
    int t = lua_gettop(L);
    if (lua_getfield(L, 1, "value") != LUA_TFUNCTION)
        return luaL_error(L, "expected %s: value must be a function", usage);
    lua_setfield(L, t, "value");
    int ft = lua_getfield(L, 1, "format");
    if (ft != LUA_TNIL && ft != LUA_TFUNCTION)
        return luaL_error(L, "expected %s: format must be a function", usage);
    lua_setfield(L, t, "format");
    for (struct lh_reg *r = h->cur.gen->regs; r; r = r->next)
        if (r->kind == LH_REG_RULE && !strcmp(r->name, name))
            return luaL_error(L, "rule \"%s\" is registered twice: also by %s", name,
                              h->cur.gen->scripts[r->script].name);
    struct lh_reg *r = lh_reg_add(L, h->cur.gen, LH_REG_RULE, h->cur.script, t);
    if (!r || !(r->name = strdup(name)))
        return luaL_error(L, "out of memory");
    r->flags = flags;
    return 0;
}

/* ---- the hooks the engine calls ---- */

static void rule_error(struct lh_host *h, struct rules_cache *c, int slot, const char *what,
                       const char *err)
{
    c->errors++;
    uint64_t now = app_now_ms(h->app);
    if (c->last_error_log && now - c->last_error_log < RULE_ERROR_LOG_MS)
        return;   /* a broken rule runs on every candle: report it now and then */
    c->last_error_log = now;
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
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->view_ref);
    c->view->c = cd;
    c->view->m = &h->app->market;
    char err[1024];
    struct lh_ctx ctx = {.gen = h->gen, .script = c->script[slot], .phase = LH_PHASE_HANDLER};
    int failed = lh_pcall(h, 1, 1, ctx, err, sizeof err) != 0;
    c->view->c = NULL;   /* kept by a script, it now raises instead of lying */
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

static void push_alert(lua_State *L, struct lh_host *h, const struct alert_view *a)
{
    lua_createtable(L, 0, 8);
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
    push_alert(L, h, a);
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
    }
    c->n = 0;
    const char *names[ALERT_MAX_RULES];
    int forming[ALERT_MAX_RULES], closing[ALERT_MAX_RULES];
    for (struct lh_reg *r = g->regs; r && c->n < ALERT_MAX_RULES; r = r->next) {
        if (r->kind != LH_REG_RULE)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->fn_ref);
        lua_getfield(L, -1, "value");
        c->value_ref[c->n] = luaL_ref(L, LUA_REGISTRYINDEX);
        c->ref[c->n] = luaL_ref(L, LUA_REGISTRYINDEX);
        c->script[c->n] = r->script;
        snprintf(c->name[c->n], sizeof c->name[0], "%s", r->name);
        names[c->n] = c->name[c->n];
        forming[c->n] = !!(r->flags & LH_RULE_FORMING);
        closing[c->n] = !!(r->flags & LH_RULE_CLOSE);
        c->n++;
    }
    alert_set_rules(a->alerts, names, forming, closing, c->n);
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

/* ---- presets ---- */

static const char *const dir_names[] = {"both", "up", "down"};

static void push_preset(lua_State *L, const struct preset *p)
{
    lua_createtable(L, 0, 14);
    lua_pushinteger(L, p->id);
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, p->user_id);
    lua_setfield(L, -2, "user_id");
    lua_pushinteger(L, p->chat_id);
    lua_setfield(L, -2, "chat_id");
    lua_pushstring(L, p->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, p->rule);
    lua_setfield(L, -2, "rule");
    lua_pushstring(L, p->pairs == PAIRS_TOP ? "top" : "manual");
    lua_setfield(L, -2, "pairs");
    if (p->pairs == PAIRS_TOP) {
        lua_pushinteger(L, p->top_n);
        lua_setfield(L, -2, "top_n");
    }
    struct market *m = &lh_host_of(L)->app->market;
    lua_createtable(L, p->nsym_ids, 0);
    for (int i = 0; i < p->nsym_ids; i++) {
        lua_pushstring(L, m->syms.v[p->sym_ids[i]].name);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "symbols");
    lua_newtable(L);
    int k = 0;
    for (int iv = 0; iv < IV_COUNT; iv++)
        if (p->intervals & 1 << iv) {
            lua_pushstring(L, interval_name(iv));
            lua_rawseti(L, -2, ++k);
        }
    lua_setfield(L, -2, "intervals");
    lua_pushnumber(L, p->threshold);
    lua_setfield(L, -2, "threshold");
    lua_pushstring(L, dir_names[p->dir]);
    lua_setfield(L, -2, "direction");
    lua_pushstring(L, p->on_close ? "close" : "forming");
    lua_setfield(L, -2, "trigger");
    lua_pushnumber(L, p->min_volume);
    lua_setfield(L, -2, "min_volume");
    lua_pushboolean(L, p->active);
    lua_setfield(L, -2, "active");
    lua_pushinteger(L, (lua_Integer)p->nindexed * __builtin_popcount((unsigned)p->intervals));
    lua_setfield(L, -2, "subscriptions");
}

static const char *opt_field(lua_State *L, int t, const char *k, const char *dflt)
{
    lua_getfield(L, t, k);
    const char *s = lua_isstring(L, -1) ? lua_tostring(L, -1) : dflt;
    lua_pop(L, 1);   /* (the string stays alive in the table) */
    return s;
}

static lua_Number num_field(lua_State *L, int t, const char *k, lua_Number dflt)
{
    lua_getfield(L, t, k);
    lua_Number v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

/* alerts.save(preset) -> id | nil, err
 * preset: {id (to change one), user_id, chat_id, name, pairs = "top"|"manual",
 * top_n, symbols = {...}, intervals = {"5m", ...}, threshold (percent),
 * direction = "both"|"up"|"down", trigger = "forming"|"close", min_volume,
 * active}.  err is a sentence for the user. */
static int a_save(lua_State *L)
{
    static const char usage[] = "alerts.save(preset)";
    luaL_checktype(L, 1, LUA_TTABLE);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    struct alert_engine *e = engine_of(L, usage);
    struct preset p;
    memset(&p, 0, sizeof p);
    p.id = (int64_t)num_field(L, 1, "id", 0);
    p.user_id = (int64_t)num_field(L, 1, "user_id", 0);
    p.chat_id = (int64_t)num_field(L, 1, "chat_id", (lua_Number)p.user_id);
    if (!p.user_id)
        return luaL_error(L, "expected %s: preset.user_id is required", usage);
    snprintf(p.name, sizeof p.name, "%s", opt_field(L, 1, "name", ""));
    snprintf(p.rule, sizeof p.rule, "%s", opt_field(L, 1, "rule", "move"));
    p.pairs = strcmp(opt_field(L, 1, "pairs", "top"), "manual") == 0 ? PAIRS_MANUAL : PAIRS_TOP;
    p.top_n = (int)num_field(L, 1, "top_n", 100);
    if (lua_getfield(L, 1, "symbols") == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        if (n > 1000)
            return luaL_error(L, "expected %s: at most 1000 symbols", usage);
        /* Lua owns the buffer: nothing to free if a later check raises */
        p.symbols = lua_newuserdatauv(L, sizeof *p.symbols * (size_t)(n ? n : 1), 0);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -2, i);
            snprintf(p.symbols[p.nsymbols++], sizeof p.symbols[0], "%s",
                     lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
            lua_pop(L, 1);
        }
        lua_insert(L, 2);   /* keep the buffer below everything else */
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "intervals") == LUA_TTABLE) {
        for (lua_Integer i = 1; lua_geti(L, -1, i) == LUA_TSTRING; i++) {
            int iv = interval_parse(lua_tostring(L, -1), lua_rawlen(L, -1));
            p.intervals |= iv >= 0 ? 1 << iv : 1 << IV_COUNT;   /* unknown: refused */
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    p.threshold = num_field(L, 1, "threshold", 0);
    const char *d = opt_field(L, 1, "direction", "both");
    p.dir = !strcmp(d, "up") ? DIR_UP : !strcmp(d, "down") ? DIR_DOWN : !strcmp(d, "both") ? DIR_BOTH : -1;
    p.on_close = strcmp(opt_field(L, 1, "trigger", "forming"), "close") == 0;
    p.min_volume = num_field(L, 1, "min_volume", 0);
    lua_getfield(L, 1, "active");
    p.active = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
    char err[400];
    int rc = alert_preset_save(e, &p, err, sizeof err);
    p.symbols = NULL;   /* Lua's */
    if (rc != 0) {
        return lh_fail(L, "%s", err);
    }
    lua_pushinteger(L, p.id);
    return 1;
}

/* alerts.get(id) -> preset | nil */
static int a_get(lua_State *L)
{
    const struct preset *p = alert_preset_get(engine_of(L, "alerts.get(id)"),
                                              luaL_checkinteger(L, 1));
    if (!p)
        return 0;
    push_preset(L, p);
    return 1;
}

/* alerts.presets(user_id) -> {preset, ...}, oldest first */
static int a_presets(lua_State *L)
{
    lua_Integer user = luaL_checkinteger(L, 1);
    struct alert_engine *e = engine_of(L, "alerts.presets(user_id)");
    const struct preset *v[256];
    int n = alert_presets_of(e, user, v, 256);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        push_preset(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* alerts.delete(id) -> true | nil, err */
static int a_delete(lua_State *L)
{
    static const char usage[] = "alerts.delete(id)";
    lua_Integer id = luaL_checkinteger(L, 1);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    int rc = alert_preset_delete(engine_of(L, usage), id);
    if (rc == -2)   /* raised, like store.set: no handler may go on to say "deleted" */
        return luaL_error(L, "alerts.delete: the database failed, nothing was deleted");
    if (rc != 0) {
        return lh_fail(L, "No such preset.");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* alerts.stats(id) -> {today =, week =, last = ms | nil}: alerts fired
 * since midnight UTC, in the last 7 days, and when the last one was */
static int a_stats(lua_State *L)
{
    lua_Integer id = luaL_checkinteger(L, 1);
    struct lh_host *h = lh_host_of(L);
    engine_of(L, "alerts.stats(id)");
    int64_t now = app_wall_ms(h->app), day = now - now % 86400000LL;
    long today = 0, week = 0;
    int64_t last = 0;
    if (!h->app->store ||
        store_alert_stats(h->app->store, id, day, now - 7 * 86400000LL, &today, &week, &last)) {
        return lh_fail(L, "the statistics cannot be read now");
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, today);
    lua_setfield(L, -2, "today");
    lua_pushinteger(L, week);
    lua_setfield(L, -2, "week");
    if (last) {
        lua_pushinteger(L, last);
        lua_setfield(L, -2, "last");
    }
    return 1;
}

/* alerts.subscriptions(user_id) -> n: pair x timeframe subscriptions of
 * the user's active presets */
static int a_subscriptions(lua_State *L)
{
    lua_Integer user = luaL_checkinteger(L, 1);
    lua_pushinteger(L, alert_subscriptions_of(engine_of(L, "alerts.subscriptions(user_id)"), user));
    return 1;
}

/* alerts.limits() -> {pairs_per_preset =, presets_per_user =, intervals = {...}} */
static int a_limits(lua_State *L)
{
    struct config *cfg = &lh_host_of(L)->app->cfg;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, cfg->limits.pairs_per_preset);
    lua_setfield(L, -2, "pairs_per_preset");
    lua_pushinteger(L, cfg->limits.presets_per_user);
    lua_setfield(L, -2, "presets_per_user");
    lua_newtable(L);
    int k = 0;
    for (int iv = 0; iv < IV_COUNT; iv++)
        if (cfg->exchange.intervals & 1 << iv) {
            lua_pushstring(L, interval_name(iv));
            lua_rawseti(L, -2, ++k);
        }
    lua_setfield(L, -2, "intervals");
    return 1;
}

/* alerts.pause(chat_id [, seconds]) -> true | nil, err
 * Holds the chat's alerts for seconds (none: until alerts.resume); they
 * come as one digest when the pause ends. */
static int a_pause(lua_State *L)
{
    static const char usage[] = "alerts.pause(chat_id [, seconds])";
    lua_Integer chat = luaL_checkinteger(L, 1);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    struct alert_engine *e = engine_of(L, usage);
    int64_t until = INT64_MAX;
    if (!lua_isnoneornil(L, 2)) {
        lua_Number s = luaL_checknumber(L, 2);
        if (!(s > 0 && s <= 7 * 86400))
            return luaL_error(L, "expected %s: seconds from 1 to a week", usage);
        until = app_wall_ms(lh_host_of(L)->app) + (int64_t)(s * 1000);
    }
    if (alert_pause(e, chat, until) != 0) {
        return lh_fail(L, "out of memory");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* alerts.resume(chat_id) -> held | nil: ends a pause (its digest is sent);
 * the number of alerts it held, or nil when the chat was not paused */
static int a_resume(lua_State *L)
{
    lua_Integer chat = luaL_checkinteger(L, 1);
    lh_require_phase(L, "alerts.resume(chat_id)", LH_PHASE_HANDLER);
    long held = alert_resume(engine_of(L, "alerts.resume(chat_id)"), chat);
    if (held < 0)
        return 0;
    lua_pushinteger(L, held);
    return 1;
}

/* alerts.paused(chat_id) -> until_ms | true (until resumed) | nil */
static int a_paused(lua_State *L)
{
    int64_t until = alert_paused_until(engine_of(L, "alerts.paused(chat_id)"),
                                       luaL_checkinteger(L, 1));
    if (!until)
        return 0;
    if (until == INT64_MAX)
        lua_pushboolean(L, 1);
    else
        lua_pushinteger(L, until);
    return 1;
}

/* alerts.set_quiet(chat_id, from_min, to_min, tz_min) -> true | nil, err
 * Daily quiet hours: minutes of the local day (from == to clears them),
 * the time zone in minutes east of UTC.  Alerts then come as one digest
 * when the hours end. */
static int a_set_quiet(lua_State *L)
{
    static const char usage[] = "alerts.set_quiet(chat_id, from_min, to_min, tz_min)";
    lua_Integer chat = luaL_checkinteger(L, 1), from = luaL_checkinteger(L, 2),
                to = luaL_checkinteger(L, 3), tz = luaL_checkinteger(L, 4);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    if (alert_set_quiet(engine_of(L, usage), chat, (int)from, (int)to, (int)tz) != 0) {
        return lh_fail(L, "hours are 00:00-23:59, time zones UTC-12 to UTC+14");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* alerts.quiet(chat_id) -> {from =, to =, tz =} (minutes) | nil */
static int a_quiet(lua_State *L)
{
    int from, to, tz;
    if (!alert_quiet_of(engine_of(L, "alerts.quiet(chat_id)"), luaL_checkinteger(L, 1), &from,
                        &to, &tz))
        return 0;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, from);
    lua_setfield(L, -2, "from");
    lua_pushinteger(L, to);
    lua_setfield(L, -2, "to");
    lua_pushinteger(L, tz);
    lua_setfield(L, -2, "tz");
    return 1;
}

/* alerts.chats() -> {chat_id, ...}: every chat with a preset */
static int a_chats(lua_State *L)
{
    int64_t *v = NULL;
    size_t n = alert_chats(engine_of(L, "alerts.chats()"), &v);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free(v);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"chats", a_chats},
    {"pause", a_pause},     {"resume", a_resume}, {"paused", a_paused},
    {"set_quiet", a_set_quiet}, {"quiet", a_quiet},
    {"rule", a_rule},       {"save", a_save},     {"get", a_get},
    {"presets", a_presets}, {"delete", a_delete}, {"stats", a_stats},
    {"subscriptions", a_subscriptions}, {"limits", a_limits}, {NULL, NULL},
};

int lh_open_alerts(lua_State *L)
{
    struct rules_cache *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    c->h = lh_host_of(L);
    lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    struct candle_view *v = lua_newuserdatauv(L, sizeof *v, 0);
    memset(v, 0, sizeof *v);
    lua_createtable(L, 0, 3);
    lua_pushlightuserdata(L, v);
    lua_pushcclosure(L, view_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "candle");
    lua_setfield(L, -2, "__metatable");   /* scripts can neither see nor change it */
    lua_pushliteral(L, "candle");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, -2);
    c->view = v;
    c->view_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    luaL_newlib(L, funcs);
    return 1;
}
