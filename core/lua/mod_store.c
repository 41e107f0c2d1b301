/* store: durable key-value state for scripts, in SQLite.
 *
 * Values are anything json.encode takes.  Writes join the open batch and
 * are committed when the handler returns (see store/store.h), so what a
 * handler wrote survives a crash or kill -9 once it has returned.
 */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "store/store.h"

#define STORE_MAX_SCOPE 64
#define STORE_MAX_KEY 256

static const char *check_key(lua_State *L, int idx, const char *usage, const char *what,
                             size_t max)
{
    int t = lua_type(L, idx);
    if (t != LUA_TSTRING && !(t == LUA_TNUMBER && lua_isinteger(L, idx)))
        luaL_error(L, "expected %s: %s must be a string or an integer, got %s", usage, what,
                   luaL_typename(L, idx));
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (len == 0 || len > max)
        luaL_error(L, "expected %s: %s must be 1 to %d characters", usage, what, (int)max);
    return s;
}

/* store.get(scope, key) -> value | nil    (nil, err when the database fails) */
static int s_get(lua_State *L)
{
    static const char usage[] = "store.get(scope, key)";
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, "store.get", LH_PHASE_HANDLER);
    const char *scope = check_key(L, 1, usage, "scope", STORE_MAX_SCOPE);
    const char *key = check_key(L, 2, usage, "key", STORE_MAX_KEY);
    char *text = NULL, err[128];
    int rc = store_kv_get(h->app->store, scope, key, &text);
    if (rc < 0) {
        luaL_pushfail(L);
        lua_pushstring(L, store_error(h->app->store));
        return 2;
    }
    if (rc == 0) {
        lua_pushnil(L);
        return 1;
    }
    int bad = lh_json_push(L, text, strlen(text), err, sizeof err);
    free(text);
    if (bad) {
        luaL_pushfail(L);
        lua_pushfstring(L, "stored value is not valid JSON: %s", err);
        return 2;
    }
    return 1;
}

/* store.set(scope, key, value) -> true | nil, err    value nil deletes */
static int s_set(lua_State *L)
{
    static const char usage[] = "store.set(scope, key, value)";
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, "store.set", LH_PHASE_HANDLER);
    const char *scope = check_key(L, 1, usage, "scope", STORE_MAX_SCOPE);
    const char *key = check_key(L, 2, usage, "key", STORE_MAX_KEY);
    char *text = NULL, err[256];
    if (!lua_isnoneornil(L, 3)) {
        text = lh_json_encode(L, 3, err, sizeof err);
        if (!text)
            return luaL_error(L, "expected %s: value: %s", usage, err);
    }
    int rc = store_kv_set(h->app->store, scope, key, text);
    cJSON_free(text);
    if (rc != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, store_error(h->app->store));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"get", s_get}, {"set", s_set}, {NULL, NULL},
};

int lh_open_store(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
