/* host: the script host itself. */
#include "lua/internal.h"

/* host.reload() -> nil    reloads all scripts on the next loop turn */
static int h_reload(lua_State *L)
{
    lh_reload_soon(lh_host_of(L), "host.reload()");
    return 0;
}

/* host.on_start(fn) -> nil    top level only: fn runs as a handler each time
 * this script's generation goes live (at start-up and after a reload) */
static int h_on_start(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, "host.on_start(fn)", LH_PHASE_TOPLEVEL);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (!lh_reg_add(L, h->cur.gen, LH_REG_ON_START, h->cur.script, 1))
        return luaL_error(L, "out of memory");
    return 0;
}

/* host.generation() -> integer    the live generation's number */
static int h_generation(lua_State *L)
{
    lua_pushinteger(L, lh_generation(lh_host_of(L)));
    return 1;
}

/* host.script() -> string    the running script, as "rules/x.lua" */
static int h_script(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    lua_pushstring(L, lh_script_name(&h->cur));
    return 1;
}

static const luaL_Reg funcs[] = {
    {"reload", h_reload},         {"on_start", h_on_start},
    {"generation", h_generation}, {"script", h_script},
    {NULL, NULL},
};

int lh_open_host(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
