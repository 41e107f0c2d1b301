/* Read-only views of shared tables for scripts: frozen copies of the
 * standard libraries and host modules (lh_freeze), and deep proxies of the
 * scripts/lib modules every script shares (lh_lib_proxy).  A proxy is
 * userdata, so rawset cannot reach the table behind it. */
#include "lua/internal.h"

/* Stores a new weak-keyed table in the registry under name. */
void lh_weak_registry(lua_State *L, const char *name)
{
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, name);
}

/* upvalue 1: the table's name */
static int ro_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify read-only table '%s'",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* The iterator of a proxy: lua_next over the table behind it, which stays
 * an upvalue, never a value a script can hold.  upvalue 1: the table */
static int ro_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)))
        return 2;
    lua_pushnil(L);
    return 1;
}

/* __pairs of a proxy -> ro_next, proxy, nil */
static int ro_pairs(lua_State *L)
{
    luaL_getmetafield(L, 1, "__index");
    lua_pushcclosure(L, ro_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int ro_len(lua_State *L)
{
    luaL_getmetafield(L, 1, "__index");
    lua_pushinteger(L, (lua_Integer)luaL_len(L, -1));
    return 1;
}

/* Replaces the table at the top of the stack with a read-only proxy. */
void lh_freeze(lua_State *L, const char *name)
{
    int t = lua_gettop(L);
    lua_newuserdatauv(L, 0, 0);
    lua_createtable(L, 0, 6);
    lua_pushvalue(L, t);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_pushcclosure(L, ro_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, ro_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, ro_len);
    lua_setfield(L, -2, "__len");
    lua_pushstring(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_replace(L, t);
}

/* Library modules (scripts/lib) are loaded once per generation and shared
 * by every script, so a script gets them through read-only proxies, deep:
 * a table read through a proxy comes as a proxy too (one per table, so
 * identity holds).  The module's own code keeps the real tables. */
#define LIB_PROXIES "cw.lib_proxies"   /* registry: weak-keyed {table = proxy} */
#define LIB_PROXY_MT "cw.lib_proxy"

/* Replaces the value at the top of the stack, if a table, with its proxy. */
void lh_lib_proxy(lua_State *L)
{
    if (!lua_istable(L, -1))
        return;
    lua_getfield(L, LUA_REGISTRYINDEX, LIB_PROXIES);
    lua_pushvalue(L, -2);
    if (lua_rawget(L, -2) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newuserdatauv(L, 0, 1);
        lua_pushvalue(L, -3);
        lua_setiuservalue(L, -2, 1);
        luaL_setmetatable(L, LIB_PROXY_MT);
        lua_pushvalue(L, -3);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
    }
    lua_replace(L, -3);
    lua_pop(L, 1);
}

/* __index of a library proxy: the table's value, proxied. */
static int lib_index(lua_State *L)
{
    lua_getiuservalue(L, 1, 1);
    lua_pushvalue(L, 2);
    lua_gettable(L, -2);
    lh_lib_proxy(L);
    return 1;
}

static int lib_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify a library module: scripts/lib modules are shared "
                         "by all scripts; copy what you want to change");
}

/* The iterator of a library proxy.  upvalue 1: the table */
static int lib_next(lua_State *L)
{
    lua_settop(L, 2);
    if (!lua_next(L, lua_upvalueindex(1))) {
        lua_pushnil(L);
        return 1;
    }
    lh_lib_proxy(L);
    return 2;
}

/* __pairs of a library proxy -> lib_next, proxy, nil */
static int lib_pairs(lua_State *L)
{
    lua_getiuservalue(L, 1, 1);
    lua_pushcclosure(L, lib_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int lib_len(lua_State *L)
{
    lua_getiuservalue(L, 1, 1);
    lua_pushinteger(L, luaL_len(L, -1));
    return 1;
}

void lh_lib_proxy_open(lua_State *L)
{
    static const luaL_Reg mt[] = {
        {"__index", lib_index}, {"__newindex", lib_newindex}, {"__pairs", lib_pairs},
        {"__len", lib_len}, {NULL, NULL},
    };
    luaL_newmetatable(L, LIB_PROXY_MT);
    luaL_setfuncs(L, mt, 0);
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    lh_weak_registry(L, LIB_PROXIES);
}
