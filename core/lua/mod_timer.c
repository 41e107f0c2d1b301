/* timer: run a handler later, once or repeatedly.
 *
 * At a script's top level a timer is a registration: it starts when the
 * generation goes live and stops when it is replaced, so a reload never
 * doubles a timer and removing a script removes its timers.  Inside a
 * handler a timer starts at once and belongs to the handler's generation.
 */
#include <math.h>

#include "lua/internal.h"

static int add(lua_State *L, int repeat, const char *usage)
{
    struct lh_host *h = lh_host_of(L);
    lua_Number secs = luaL_checknumber(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (!(secs >= (repeat ? 0.01 : 0.0)) || !isfinite(secs) || secs > 366 * 86400.0)
        return luaL_error(L, "expected %s: seconds must be %s", usage,
                          repeat ? "at least 0.01" : "zero or more");
    struct lh_gen *g = h->cur.gen;
    if (!g || h->cur.phase == LH_PHASE_NONE)
        return luaL_error(L, "expected %s to be called from a script", usage);
    if (h->cur.phase == LH_PHASE_HANDLER && !g->live) {
        /* a handler finishing on a replaced generation: its timer would never run */
        return lh_fail(L, "the scripts were reloaded while this handler ran; "
                          "its new timers would not run");
    }
    struct lh_reg *r = lh_reg_add(L, g, LH_REG_TIMER, h->cur.script, 2);
    if (!r)
        return luaL_error(L, "out of memory");
    r->repeat = repeat;
    r->interval_ms = (uint64_t)llround(secs * 1000.0);
    if (h->cur.phase == LH_PHASE_HANDLER && g->live)
        lh_timer_arm(r);
    lua_pushinteger(L, (lua_Integer)r->id);
    return 1;
}

/* timer.after(seconds, fn) -> id | nil, err   fn runs once, as a handler
 * (err: the handler outlived a reload; only the new scripts' timers run) */
static int t_after(lua_State *L)
{
    return add(L, 0, "timer.after(seconds, fn)");
}

/* timer.every(seconds, fn) -> id | nil, err   fn runs every `seconds` (>= 0.01) */
static int t_every(lua_State *L)
{
    return add(L, 1, "timer.every(seconds, fn)");
}

/* timer.cancel(id) -> true | false    false when this script has no such
 * pending timer (a script cancels only its own) */
static int t_cancel(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    lua_Integer id = luaL_checkinteger(L, 1);
    struct lh_gen *g = h->cur.gen;
    for (struct lh_reg *r = g ? g->regs : NULL; r; r = r->next)
        if (r->kind == LH_REG_TIMER && (lua_Integer)r->id == id && r->script == h->cur.script) {
            lh_reg_remove(g, r);
            lua_pushboolean(L, 1);
            return 1;
        }
    lua_pushboolean(L, 0);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"after", t_after}, {"every", t_every}, {"cancel", t_cancel}, {NULL, NULL},
};

int lh_open_timer(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
