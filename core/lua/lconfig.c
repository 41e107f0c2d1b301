/* config.lua: a Lua file returning a table, evaluated in a small sandbox
 * (the script sandbox's base functions plus os.getenv), then checked key by
 * key against the schema in config/config.c. */
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"

static void to_value(lua_State *L, int idx, struct config_value *v, long long *ints,
                     const char **strs, int maxints)
{
    memset(v, 0, sizeof *v);
    v->lua_type = luaL_typename(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        v->type = CV_STRING;
        v->s = lua_tostring(L, idx);
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            v->type = CV_INT;
            v->i = lua_tointeger(L, idx);
            v->lua_type = "integer";
        } else {
            v->type = CV_NUMBER;
            v->n = lua_tonumber(L, idx);
            v->lua_type = "number with a fraction";
        }
        break;
    case LUA_TBOOLEAN:
        v->type = CV_BOOL;
        v->b = lua_toboolean(L, idx);
        break;
    case LUA_TTABLE: {
        v->type = CV_TABLE;
        v->ints = ints;
        v->ints_ok = 1;
        v->strs = strs;
        v->strs_ok = 1;
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            count++;
            lua_pop(L, 1);
        }
        if (count != n || n > maxints) {
            v->ints_ok = v->strs_ok = 0;
            v->lua_type = "table that is not a list";
            break;
        }
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            if (lua_isinteger(L, -1))
                ints[v->nints++] = lua_tointeger(L, -1);
            else
                v->ints_ok = 0;
            if (lua_type(L, -1) == LUA_TSTRING)
                strs[v->nstrs++] = lua_tostring(L, -1);   /* kept alive by the table */
            else
                v->strs_ok = 0;
            lua_pop(L, 1);
        }
        if (!v->ints_ok && !v->strs_ok)
            v->lua_type = "list of mixed or unsuitable items";
        else if (!v->ints_ok)
            v->lua_type = "list of strings";
        else if (!v->strs_ok && n > 0)
            v->lua_type = "list of integers";
        break;
    }
    default:
        v->type = CV_OTHER;
    }
}

static int walk(lua_State *L, int t, const char *prefix, struct config *cfg, char *err,
                size_t errlen)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            snprintf(err, errlen, "%s keys must be names, got a %s key",
                     *prefix ? prefix : "top-level", luaL_typename(L, -2));
            return -1;
        }
        char key[128];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", lua_tostring(L, -2));
        int vi = lua_gettop(L);
        if (!*prefix && config_is_section(key)) {
            if (!lua_istable(L, vi)) {
                snprintf(err, errlen, "key '%s' must be a table of settings, got %s", key,
                         luaL_typename(L, vi));
                return -1;
            }
            if (walk(L, vi, key, cfg, err, errlen) != 0)
                return -1;
        } else {
            long long ints[256];
            const char *strs[256];
            struct config_value v;
            to_value(L, vi, &v, ints, strs, 256);
            if (config_set(cfg, key, &v, err, errlen) != 0)
                return -1;
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* A config that loops forever must not hang start-up. */
#define CONFIG_MAX_INSTRUCTIONS 100000000L

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    long *left = *(long **)lua_getextraspace(L);
    if ((*left -= 1000) <= 0) {
        luaL_where(L, 0);
        lua_pushfstring(L, "the config did not finish within %d instructions",
                        (int)(CONFIG_MAX_INSTRUCTIONS));
        lua_concat(L, 2);
        lua_error(L);
    }
}

static int getenv_l(lua_State *L)
{
    const char *v = getenv(luaL_checkstring(L, 1));
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    return 1;
}

int lh_config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
    char msg[1024];
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    luaL_openlibs(L);
    long left = CONFIG_MAX_INSTRUCTIONS;
    *(long **)lua_getextraspace(L) = &left;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1000);
    /* env: a handful of pure functions and os.getenv; nothing else. */
    const char *src_env =
        "local e = {tostring = tostring, tonumber = tonumber, type = type, pairs = pairs,"
        " ipairs = ipairs, string = string, table = table, math = math, error = error,"
        " os = {getenv = ...}}\n"
        "return setmetatable(e, {__index = function(_, k)"
        " error(\"undefined global '\" .. tostring(k) .. \"'\", 2) end})";
    int rc = -1;
    if (luaL_loadstring(L, src_env) != LUA_OK)
        goto out;
    lua_pushcfunction(L, getenv_l);
    lua_call(L, 1, 1);
    int env = lua_gettop(L);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the config file", path);
        goto out;
    }
    int first = fgetc(f);
    fclose(f);
    if (first == LUA_SIGNATURE[0]) {
        snprintf(err, errlen, "%s: precompiled bytecode is refused", path);
        goto out;
    }
    if (luaL_loadfilex(L, path, "t") != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        goto out;
    }
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        goto out;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: must return a table of settings, returned %s", path,
                 luaL_typename(L, -1));
        goto out;
    }
    if (walk(L, lua_gettop(L), "", cfg, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s: %s", path, msg);
        goto out;
    }
    rc = 0;
out:
    lua_close(L);
    return rc;
}
