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

/* The checks every store call starts with. */
static struct store *check_call(lua_State *L, const char *usage, const char **scope,
                                const char **key)
{
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    *scope = check_key(L, 1, usage, "scope", STORE_MAX_SCOPE);
    *key = check_key(L, 2, usage, "key", STORE_MAX_KEY);
    return lh_host_of(L)->app->store;
}

struct get_ctx {
    const char *text;
    char err[128];
};

/* (ctx) -> value | fail: decodes under lua_pcall, so the caller can free
 * the stored text whatever happens */
static int get_p(lua_State *L)
{
    struct get_ctx *g = lua_touserdata(L, 1);
    if (lh_json_push(L, g->text, strlen(g->text), g->err, sizeof g->err) != 0)
        luaL_pushfail(L);
    return 1;
}

/* store.get(scope, key) -> value | nil    (nil, err when the database fails) */
static int s_get(lua_State *L)
{
    const char *scope, *key;
    struct store *st = check_call(L, "store.get(scope, key)", &scope, &key);
    char *text = NULL;
    int rc = store_kv_get(st, scope, key, &text);
    if (rc < 0)
        return lh_fail(L, "%s", store_error(st) ? store_error(st) : "the database failed");
    if (rc == 0) {
        lua_pushnil(L);
        return 1;
    }
    struct get_ctx g = {.text = text};
    lua_pushcfunction(L, get_p);
    lua_pushlightuserdata(L, &g);
    int status = lua_pcall(L, 1, 1, 0);
    free(text);
    if (status != LUA_OK)
        return lua_error(L);
    if (g.err[0])
        return lh_fail(L, "%s", g.err);
    return 1;
}

/* store.set(scope, key, value) -> true    value nil deletes
 * Raises when the database fails (disk full, read-only): a handler that
 * goes on to tell its user "saved" must not get the chance to. */
static int s_set(lua_State *L)
{
    static const char usage[] = "store.set(scope, key, value)";
    const char *scope, *key;
    struct store *st = check_call(L, usage, &scope, &key);
    char *text = NULL, err[256];
    if (!lua_isnoneornil(L, 3)) {
        text = lh_json_encode(L, 3, LH_STORE_MAX_VALUE, err, sizeof err);
        if (!text)
            return luaL_error(L, "expected %s: value: %s (a stored value is at most %d KiB "
                                 "of JSON)",
                              usage, err, LH_STORE_MAX_VALUE >> 10);
    }
    int rc = store_kv_set(st, scope, key, text);
    cJSON_free(text);
    if (rc != 0)
        return luaL_error(L, "store.set: the database failed, nothing was saved: %s",
                          store_error(st) ? store_error(st) : "unknown error");
    store_batch_user_data(st);
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
