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

#include "lua/rule_view.h"
#include "lua/rules_int.h"
#include "util/interval.h"

const char *const rule_mode_names[] = {"move", "level", "cross", NULL};
const char *const rule_event_names[] = {"forming", "close", NULL};

static const char rule_usage[] =
    "alerts.rule{name = s, value = fn [, label, unit, mode, directions, threshold, params, "
    "check, history, on, needs, format]}";

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

/* what.k as a number (dflt when nil; NAN: required) */
static double decl_number(lua_State *L, int t, const char *what, const char *k, double dflt)
{
    int ty = lua_getfield(L, t, k);
    if (ty != LUA_TNIL && ty != LUA_TNUMBER)
        luaL_error(L, "expected %s: %s.%s must be a number", rule_usage, what, k);
    double v = ty == LUA_TNIL ? dflt : lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!isfinite(v))
        luaL_error(L, "expected %s: %s.%s is required", rule_usage, what, k);
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
    r->min = decl_number(L, th, "threshold", "min", move ? 0.1 : NAN);
    r->max = decl_number(L, th, "threshold", "max", move ? 100 : NAN);
    r->dflt = decl_number(L, th, "threshold", "default", move ? 2 : (r->min + r->max) / 2);
    double step = decl_number(L, th, "threshold", "step", 0);
    double dec = decl_number(L, th, "threshold", "decimals", 2);
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


/* params = {{name =, label =, min =, max =, default = [, decimals, prompt]},
 * ...}: the settings a preset chooses for the rule, in their order. */
static void decl_params(lua_State *L, int t, struct rule_decl *d)
{
    int ty = lua_getfield(L, t, "params");
    if (ty != LUA_TNIL && ty != LUA_TTABLE)
        luaL_error(L, "expected %s: params must be a list of settings", rule_usage);
    int n = ty == LUA_TNIL ? 0 : (int)lua_rawlen(L, -1), pt = lua_gettop(L);
    if (n > RULE_PARAMS_MAX)
        luaL_error(L, "expected %s: a rule has at most %d params", rule_usage, RULE_PARAMS_MAX);
    for (int i = 0; i < n; i++) {
        if (lua_rawgeti(L, pt, i + 1) != LUA_TTABLE)
            luaL_error(L, "expected %s: params[%d] must be a table", rule_usage, i + 1);
        int q = lua_gettop(L);
        struct rule_param *r = &d->def.params[i];
        char pname[24];
        snprintf(pname, sizeof pname, "params[%d]", i + 1);
        decl_string(L, q, "name", d->ptext[i].name, 1, RULE_PARAM_NAME_MAX, NULL);
        decl_string(L, q, "label", d->ptext[i].label, 1, RULE_LABEL_MAX, d->ptext[i].name);
        decl_string(L, q, "prompt", d->ptext[i].prompt, 0, RULE_PROMPT_MAX, "");
        r->min = decl_number(L, q, pname, "min", NAN);
        r->max = decl_number(L, q, pname, "max", NAN);
        r->dflt = decl_number(L, q, pname, "default", NAN);
        double dec = decl_number(L, q, pname, "decimals", 0);
        if (!(r->min <= r->dflt && r->dflt <= r->max) || !(dec >= 0 && dec <= 8 && dec == floor(dec)))
            luaL_error(L, "expected %s: params[%d] needs min <= default <= max and 0-8 decimals",
                       rule_usage, i + 1);
        r->decimals = (int)dec;
        for (int k = 0; k < i; k++)
            if (!strcmp(d->ptext[k].name, d->ptext[i].name))
                luaL_error(L, "expected %s: params has \"%s\" twice", rule_usage, d->ptext[i].name);
        lua_pop(L, 1);
    }
    d->def.nparams = n;
    lua_pop(L, 1);
}

/* alerts.rule{name =, value = fn [, label, unit, mode, directions,
 * threshold, params, history, on, needs, format = fn]} -> nil   top level
 * only; needs may be a function(params) -> needs */
int lh_rules_check(lua_State *L, const struct preset *p, char *msg, size_t len)
{
    struct rules_cache *c = rules_cache_of(L);
    int i = 0;
    while (c && i < c->n && strcmp(c->name[i], p->rule))
        i++;
    if (!c || i == c->n)
        return 0;
    const struct rule_decl *d = c->decl[i];
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref[i]);
    if (lua_getfield(L, -1, "check") != LUA_TFUNCTION) {
        lua_pop(L, 2);
        return 0;
    }
    lua_createtable(L, 0, d->def.nparams);
    for (int k = 0; k < d->def.nparams; k++) {
        lua_pushnumber(L, k < p->nparams ? p->params[k] : d->def.params[k].dflt);
        lua_setfield(L, -2, d->ptext[k].name);
    }
    lua_createtable(L, 0, 1);   /* what else of the preset a rule may check */
    lua_newtable(L);
    for (int iv = 0, k = 0; iv < IV_COUNT; iv++)
        if (p->intervals & 1 << iv) {
            lua_pushstring(L, interval_name(iv));
            lua_rawseti(L, -2, ++k);
        }
    lua_setfield(L, -2, "intervals");
    int st = lua_pcall(L, 2, 1, 0);   /* (in the calling handler's limits) */
    int bad = st != LUA_OK || lua_type(L, -1) == LUA_TSTRING;
    if (st != LUA_OK)
        snprintf(msg, len, "These settings could not be checked (the rule failed); please try "
                 "again later.");
    else if (bad)
        snprintf(msg, len, "%s", lua_tostring(L, -1));
    lua_pop(L, 2);
    return bad ? -1 : 0;
}

struct rules_cache *rules_cache_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    struct rules_cache *c = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return c;
}

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
    r->mode = decl_enum(L, 1, "mode", rule_mode_names, RULE_MOVE);
    decl_string(L, 1, "unit", d->unit, 0, RULE_UNIT_MAX, r->mode == RULE_MOVE ? "%" : "");
    r->dirs = decl_set(L, 1, "directions", preset_dir_names, 7);
    if ((r->dirs & 1 << DIR_BOTH) && (r->dirs & 6) != 6)
        return luaL_error(L, "expected %s: directions has \"both\" only with \"up\" and \"down\"",
                          rule_usage);
    decl_threshold(L, 1, d);
    int on = decl_set(L, 1, "on", rule_event_names, 3);
    r->on_forming = !!(on & 1);
    r->on_close = !!(on & 2);
    lua_getfield(L, 1, "history");
    lua_Integer hist = lua_isnil(L, -1) ? 0 : lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
    if (hist < 0 || hist > RULE_HISTORY_MAX)
        return luaL_error(L, "expected %s: history must be a whole number of candles, 0-%d",
                          rule_usage, RULE_HISTORY_MAX);
    r->history = (int)hist;
    lua_pop(L, 1);
    decl_params(L, 1, d);
    int fneeds = lua_getfield(L, 1, "needs") == LUA_TFUNCTION;
    lua_pop(L, 1);
    d->nneeds = fneeds ? -1 : rule_needs_parse(L, 1, rule_usage, d->needs);
    lua_createtable(L, 0, 3);   /* a copy: later changes to the table do nothing */
    int t = lua_gettop(L);
    if (lua_getfield(L, 1, "value") != LUA_TFUNCTION)
        return luaL_error(L, "expected %s: value must be a function", rule_usage);
    lua_setfield(L, t, "value");
    int ct = lua_getfield(L, 1, "check");
    if (ct != LUA_TNIL && ct != LUA_TFUNCTION)
        return luaL_error(L, "expected %s: check must be a function", rule_usage);
    lua_setfield(L, t, "check");
    int ft = lua_getfield(L, 1, "format");
    if (ft != LUA_TNIL && ft != LUA_TFUNCTION)
        return luaL_error(L, "expected %s: format must be a function", rule_usage);
    lua_setfield(L, t, "format");
    if (fneeds) {
        lua_getfield(L, 1, "needs");
        lua_setfield(L, t, "needs");
    }
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

/* (into the table on top) t[k] = {min, max, default, decimals, prompt} */
static void push_range(lua_State *L, const char *k, double min, double max, double dflt,
                       int decimals, const char *prompt)
{
    lua_createtable(L, 0, 5);
    lua_pushnumber(L, min);
    lua_setfield(L, -2, "min");
    lua_pushnumber(L, max);
    lua_setfield(L, -2, "max");
    lua_pushnumber(L, dflt);
    lua_setfield(L, -2, "default");
    lua_pushinteger(L, decimals);
    lua_setfield(L, -2, "decimals");
    lua_pushstring(L, prompt);
    lua_setfield(L, -2, "prompt");
    if (k)
        lua_setfield(L, -2, k);
}

static void push_rule(lua_State *L, const struct alert_rule_def *r)
{
    lua_createtable(L, 0, 10);
    lua_pushstring(L, r->name);
    lua_setfield(L, -2, "name");
    rules_set_words(L, r);
    push_set(L, "directions", preset_dir_names, r->dirs);
    push_set(L, "on", rule_event_names, r->on_forming | r->on_close << 1);
    lua_pushinteger(L, r->history);
    lua_setfield(L, -2, "history");
    push_range(L, "threshold", r->min, r->max, r->dflt, r->decimals, r->prompt);
    lua_createtable(L, r->nparams, 0);
    for (int i = 0; i < r->nparams; i++) {
        const struct rule_param *q = &r->params[i];
        push_range(L, NULL, q->min, q->max, q->dflt, q->decimals, q->prompt);
        lua_pushstring(L, q->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, q->label);
        lua_setfield(L, -2, "label");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "params");
}

/* alerts.rules() -> {{name, label, unit, mode, directions, on, history,
 * threshold = {min, max, default, decimals, prompt}, params = {{name,
 * label, min, max, default, decimals, prompt}, ...}}, ...}: the live rules,
 * in the order their scripts declared them */
int lh_alerts_rules(lua_State *L)
{
    struct alert_engine *e = lh_alerts_engine(L, "alerts.rules()");
    struct rules_cache *c = rules_cache_of(L);
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
 * when none is held); 0, or -1 with nil and a sentence pushed. */
static int pair_args(lua_State *L, struct market *m, uint32_t *sym, int *iv,
                     const struct candle **forming)
{
    size_t n, ivn;
    const char *name = luaL_checklstring(L, 1, &n), *ivs = luaL_checklstring(L, 2, &ivn);
    int id = symtab_find(&m->syms, name, n);
    *iv = interval_parse(ivs, ivn);
    if (id < 0) {
        lh_fail(L, "unknown symbol \"%s\"", name);
        return -1;
    }
    if (*iv < 0) {
        lh_fail(L, "unknown interval \"%s\"", ivs);
        return -1;
    }
    *sym = (uint32_t)id;
    const struct series *s = candles_series(&m->candles, *sym, *iv);
    *forming = s && s->has_forming ? &s->forming : NULL;
    return 0;
}

/* alerts.indicators(symbol, interval) -> {{name = "rsi(14)", kind = "rsi",
 * values = {...} | nil, forming = {...} | nil}, ...} | nil, err: every
 * indicator the live rules read, after the last closed candle and if the
 * forming one closed now (nil while not warm) */
int lh_alerts_indicators(lua_State *L)
{
    struct market *m = &lh_host_of(L)->app->market;
    uint32_t sym;
    int iv;
    const struct candle *forming;
    if (pair_args(L, m, &sym, &iv, &forming) != 0)
        return 2;
    rule_ind_push_list(L, &m->ind, sym, iv, forming);
    return 1;
}

/* alerts.evaluate(rule, symbol, interval) -> number | nil [, err]: the
 * live rule's value on the forming candle now, or at the last close when
 * none is forming (with a state of its own: the rule's kept states are not
 * touched) */
int lh_alerts_evaluate(lua_State *L)
{
    struct rules_cache *c = rules_cache_of(L);
    struct market *m = &lh_host_of(L)->app->market;
    const char *rule = luaL_checkstring(L, 1);
    lua_remove(L, 1);
    uint32_t sym;
    int iv;
    const struct candle *forming;
    if (pair_args(L, m, &sym, &iv, &forming) != 0)
        return 2;
    struct alert_engine *e = lh_alerts_engine(L, "alerts.evaluate(rule, symbol, interval)");
    int eslot = alert_rule_find(e, rule);
    if (c && c->dirty)
        rules_map(c);
    int slot = c && eslot >= 0 ? c->by_engine[eslot] : -1;
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
                                LUA_NOREF, c->needs[eslot], c->params_ref[eslot]);
    int st = lua_pcall(L, nargs, 1, 0);   /* (inside the handler's own limits) */
    rule_views_end(c->views);
    if (st != LUA_OK)
        return lh_fail(L, "rule %s: %s", rule, lua_tostring(L, -1));
    if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
        lua_pushnil(L);
    return 1;
}

void lh_rules_close(lua_State *L)
{
    struct rules_cache *c = rules_cache_of(L);
    if (c && c->map_timer)
        timers_cancel(&c->h->app->timers, c->map_timer);
    if (c)
        c->map_timer = NULL;
}

void lh_rules_open(lua_State *L)
{
    struct rules_cache *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    for (int i = 0; i < ALERT_MAX_SLOTS; i++)
        c->state_ref[i] = c->params_ref[i] = LUA_NOREF;
    c->h = lh_host_of(L);
    lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    c->views = rule_views_open(L, &c->h->app->market);
}
