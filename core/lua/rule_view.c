#include "lua/rule_view.h"

#include <lauxlib.h>
#include <string.h>

#include "lua/rule_ind.h"
#include "market/market.h"
#include "util/interval.h"

#define VIEWS_KEY "cw.rules.views"
#define STATES_KEY "cw.rules.states"

/* A candle as value() sees it: the core's candle, read field by field (a
 * rule reads two or three; a table of fourteen per event was most of its
 * cost).  c is NULL outside the call. */
struct candle_view {
    const struct candle *c;
    struct market *m;
};

/* The closed candles before the one evaluated, newest first: the ring's
 * newest `skip` are that candle itself (when it closed) or newer (it was
 * queued); n are shown. */
struct history_view {
    const struct series *s;
    uint32_t cap, skip, n;
    int live;
};

struct rule_views {
    struct market *m;
    struct candle_view *candle;        /* the candle argument */
    int candle_ref;
    struct history_view *hist;
    int hist_ref;
    struct candle_view *pool[RULE_HISTORY_MAX];   /* history[i]'s view, made on first use */
    int handed;                        /* history[1..handed] may point somewhere now */
    struct rule_ind ind;               /* the `ind` argument */
};

static const char gone[] = "this candle was passed to a rule's value() and is gone: copy the "
                           "fields you need during the call";

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

/* candle.field -> number | string | boolean | nil: a candle view's
 * __index, with its metatable as upvalue 1 (hidden from scripts, so only
 * views carry it). */
static int candle_index(lua_State *L)
{
    size_t n;
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &n) : NULL;
    if (!k || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, lua_upvalueindex(1)))
        return 0;
    const struct candle_view *v = lua_touserdata(L, 1);
    if (!v->c)
        return luaL_error(L, gone);
    return view_field(L, v, k, n);
}

/* (pushes) a new candle view, its pointer in *out */
static void new_candle_view(lua_State *L, int meta, struct candle_view **out)
{
    *out = lua_newuserdatauv(L, sizeof **out, 0);
    memset(*out, 0, sizeof **out);
    lua_pushvalue(L, meta);
    lua_setmetatable(L, -2);
}

/* history[i] -> the i-th newest closed candle before the one evaluated
 * (a candle view), or nil past #history.  Upvalues: the views, the pool
 * table, the candle metatable. */
static int hist_index(lua_State *L)
{
    struct rule_views *v = lua_touserdata(L, lua_upvalueindex(1));
    struct history_view *h = v->hist;
    if (lua_touserdata(L, 1) != h)
        return 0;
    if (!h->live)
        return luaL_error(L, "this history was passed to a rule's value() and is gone: copy "
                             "the values you need during the call");
    int isint;
    lua_Integer i = lua_tointegerx(L, 2, &isint);
    if (!isint || i < 1 || i > (lua_Integer)h->n)
        return 0;
    if (!v->pool[i - 1]) {   /* once per i for the life of the host */
        struct candle_view *made;
        new_candle_view(L, lua_upvalueindex(3), &made);
        lua_rawseti(L, lua_upvalueindex(2), i);   /* (may raise: then it is not kept) */
        v->pool[i - 1] = made;
    }
    struct candle_view *cv = v->pool[i - 1];
    cv->c = series_closed(h->s, h->cap, h->skip + (uint32_t)i - 1);
    cv->m = v->m;
    if (i > v->handed)
        v->handed = (int)i;
    lua_rawgeti(L, lua_upvalueindex(2), i);
    return 1;
}

/* #history -> how many it shows: the rule's n, or fewer while the host
 * holds fewer. */
static int hist_len(lua_State *L)
{
    struct rule_views *v = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_touserdata(L, 1) != v->hist || !v->hist->live)
        return luaL_error(L, "this history was passed to a rule's value() and is gone: copy "
                             "the values you need during the call");
    lua_pushinteger(L, v->hist->n);
    return 1;
}

/* A hidden metatable (scripts see only its name) on the value on top. */
static void hide_meta(lua_State *L, const char *name)
{
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__metatable");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
}

struct rule_views *rule_views_open(lua_State *L, struct market *m)
{
    struct rule_views *v = lua_newuserdatauv(L, sizeof *v, 2);   /* keeps the pool, meta */
    memset(v, 0, sizeof *v);
    v->m = m;
    int vi = lua_gettop(L);
    lua_createtable(L, 0, 3);   /* the candle views' metatable */
    int meta = lua_gettop(L);
    lua_pushvalue(L, meta);
    lua_pushcclosure(L, candle_index, 1);
    lua_setfield(L, meta, "__index");
    hide_meta(L, "candle");
    new_candle_view(L, meta, &v->candle);
    v->candle_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 16, 0);   /* the pool: history[i]'s views */
    int pool = lua_gettop(L);
    v->hist = lua_newuserdatauv(L, sizeof *v->hist, 0);
    memset(v->hist, 0, sizeof *v->hist);
    lua_createtable(L, 0, 4);
    for (int f = 0; f < 2; f++) {
        lua_pushvalue(L, vi);
        lua_pushvalue(L, pool);
        lua_pushvalue(L, meta);
        lua_pushcclosure(L, f ? hist_len : hist_index, 3);
        lua_setfield(L, -2, f ? "__len" : "__index");
    }
    hide_meta(L, "history");
    lua_setmetatable(L, -2);
    v->hist_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setiuservalue(L, vi, 1);   /* the pool */
    lua_setiuservalue(L, vi, 2);   /* the metatable */
    lua_setfield(L, LUA_REGISTRYINDEX, VIEWS_KEY);
    rule_ind_open(L, &v->ind, &m->ind);
    return v;
}

/* Aims the history view at the closed candles before c, at most want. */
static void history_aim(struct history_view *h, const struct candles *cs, const struct candle *c,
                        int want)
{
    h->s = want > 0 ? candles_series(cs, c->symbol, c->interval) : NULL;
    h->cap = cs->history;
    h->skip = h->n = 0;
    if (!h->s)
        return;
    /* the newest held that are not older than c: none while c forms, c
     * itself when it closed; more only when events were queued or a gap
     * is being filled (then: a binary search, open times descend) */
    uint32_t lo = 0, hi = h->s->count;
    if (hi && series_closed(h->s, h->cap, 0)->open_time >= c->open_time) {
        lo = 1;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (series_closed(h->s, h->cap, mid)->open_time < c->open_time)
                hi = mid;
            else
                lo = mid + 1;
        }
    }
    h->skip = lo;
    h->n = h->s->count - lo < (uint32_t)want ? h->s->count - lo : (uint32_t)want;
}

/* (fn, candle, history, states, key [, ind [, params]]) -> fn(candle,
 * history, state [, ind [, params]]): the state is found or made here, inside the protected call
 * (making it may fail for memory). */
static int call_with_state(lua_State *L)
{
    int n = lua_gettop(L);
    lua_Integer key = lua_tointeger(L, 5);
    if (lua_rawgeti(L, 4, key) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 4);
        lua_pushvalue(L, -1);
        lua_rawseti(L, 4, key);
    }
    lua_replace(L, 4);
    lua_remove(L, 5);   /* the key */
    lua_call(L, n - 2, 1);
    return 1;
}

/* (pushes) the rule's state for key and returns 1, or pushes its table of
 * states and key and returns 0: the state is yet to be made (by
 * call_with_state, protected).  A state that exists is found here, outside
 * the call (a raw read raises nothing), so that value() is called directly,
 * not through a C function: that frame was a tenth of a rule's cost. */
static int push_state(lua_State *L, int state_ref, lua_Integer key)
{
    if (state_ref == LUA_NOREF) {
        lua_newtable(L);   /* a state for this call only */
        return 1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, state_ref);
    if (lua_rawgeti(L, -1, key) == LUA_TTABLE) {
        lua_remove(L, -2);
        return 1;
    }
    lua_pop(L, 1);
    lua_pushinteger(L, key);
    return 0;
}

int rule_views_push(lua_State *L, struct rule_views *v, const struct candle *c, int nargs,
                    int hist, int state_ref, uint32_t needs, int params_ref)
{
    int fn = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, v->candle_ref);
    v->candle->c = c;
    v->candle->m = v->m;
    if (nargs < 2)
        return 1;
    history_aim(v->hist, &v->m->candles, c, hist);
    v->hist->live = 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, v->hist_ref);
    if (nargs < 3)
        return 2;
    /* without a state yet, value() is an argument of call_with_state,
     * after the table of states and the key */
    int extra = push_state(L, state_ref, (lua_Integer)c->symbol * IV_COUNT + c->interval) ? 0 : 2;
    if (extra) {
        lua_pushcfunction(L, call_with_state);
        lua_insert(L, fn);
    }
    if (nargs < 4)
        return 3 + extra;
    v->ind.c = c;
    v->ind.mask = needs;
    lua_rawgeti(L, LUA_REGISTRYINDEX, v->ind.ref);
    if (nargs < 5)
        return 4 + extra;
    if (params_ref == LUA_NOREF)
        lua_newtable(L);
    else
        lua_rawgeti(L, LUA_REGISTRYINDEX, params_ref);
    return 5 + extra;
}

void rule_views_end(struct rule_views *v)
{
    v->candle->c = NULL;   /* kept by a script, it now raises instead of lying */
    v->ind.c = NULL;
    v->hist->live = 0;
    for (int i = 0; i < v->handed; i++)
        if (v->pool[i])
            v->pool[i]->c = NULL;
    v->handed = 0;
}

/* (pushes) the registry's table of every rule's states */
static void states_table(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, STATES_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, STATES_KEY);
    }
}

int rule_states_ref(lua_State *L, const char *name)
{
    states_table(L);
    if (lua_getfield(L, -1, name) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, name);
    }
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return ref;
}

void rule_states_keep(lua_State *L, const char (*names)[RULE_NAME_MAX + 1], int n)
{
    states_table(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        const char *k = lua_tostring(L, -1);
        size_t base = strcspn(k, ":");   /* "ema_cross:50,200": ema_cross's */
        int live = 0;
        for (int i = 0; i < n && !live; i++)
            live = strlen(names[i]) == base && !strncmp(names[i], k, base);
        if (!live) {   /* clearing a field while traversing is allowed */
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, -4);
        }
    }
    lua_pop(L, 1);
}
