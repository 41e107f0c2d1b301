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

#define STORE_LIST_DEFAULT 1000
#define STORE_LIST_MAX 10000
/* A row read costs the handler's budget this many instructions: a loop
 * of calls that each read thousands must not run past the limit. */
#define STORE_LIST_ROW_COST 100

static const char *const list_options[] = {"prefix", "from", "to", "limit", NULL};

/* store.list's opts (at 2): the bounds left at 3..5 (their strings stay
 * there, anchored), the limit into r. */
static void list_options_read(lua_State *L, const char *usage, struct store_kv_range *r)
{
    lua_settop(L, 2);
    if (!lua_isnil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            int i = 0;
            while (k && list_options[i] && strcmp(k, list_options[i]))
                i++;
            if (!k || !list_options[i])
                luaL_error(L, "expected %s: unknown option %s%s%s (options: prefix, from, to, "
                              "limit)", usage, k ? "'" : "of type ", k ? k : luaL_typename(L, -2),
                           k ? "'" : "");
        }
    }
    const char **bound[3] = {&r->prefix, &r->from, &r->to};
    for (int i = 0; i < 3; i++) {
        int t = lua_isnil(L, 2) ? LUA_TNIL : lua_getfield(L, 2, list_options[i]);
        size_t len = 0;
        if (t == LUA_TSTRING || (t == LUA_TNUMBER && lua_isinteger(L, -1)))
            *bound[i] = lua_tolstring(L, -1, &len);
        else if (t != LUA_TNIL)
            luaL_error(L, "expected %s: opts.%s must be a string, got %s", usage, list_options[i],
                       luaL_typename(L, -1));
        else if (lua_isnil(L, 2))
            lua_pushnil(L);
        if (len > STORE_MAX_KEY)
            luaL_error(L, "expected %s: opts.%s must be at most %d characters", usage,
                       list_options[i], STORE_MAX_KEY);
    }
    if (!lua_isnil(L, 2) && lua_getfield(L, 2, "limit") != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
            lua_tointeger(L, -1) > STORE_LIST_MAX)
            luaL_error(L, "expected %s: opts.limit must be an integer from 1 to %d", usage,
                       STORE_LIST_MAX);
        r->limit = (long)lua_tointeger(L, -1);
    }
    lua_settop(L, 5);
}

struct list_ctx {
    lua_State *L;
    int items;            /* the items table's index */
    long n, limit;
    const char *key, *value;   /* the row being pushed */
    char err[128];
    int status;           /* lua_pcall's, when a push failed */
};

/* (ctx, items) -> the row {key =, value =} appended to items, or the
 * next key pushed after the last one */
static int list_push_p(lua_State *L)
{
    struct list_ctx *c = lua_touserdata(L, 1);
    if (c->n == c->limit) {
        lua_pushstring(L, c->key);
        return 1;
    }
    lua_createtable(L, 0, 2);
    lua_pushstring(L, c->key);
    lua_setfield(L, -2, "key");
    if (lh_json_push(L, c->value, strlen(c->value), c->err, sizeof c->err) != 0)
        return 0;
    lua_setfield(L, -2, "value");
    lua_rawseti(L, 2, c->n + 1);
    return 0;
}

/* A row of the page (limit + 1 asked: the last one is only the next key).
 * Pushed under lua_pcall: the memory limit must not unwind through SQLite
 * with the query open. */
static int list_row(void *ud, const char *key, const char *value)
{
    struct list_ctx *c = ud;
    lua_State *L = c->L;
    c->key = key;
    c->value = value;
    lua_pushcfunction(L, list_push_p);
    lua_pushlightuserdata(L, c);
    lua_pushvalue(L, c->items);
    c->status = lua_pcall(L, 2, c->n == c->limit ? 1 : 0, 0);
    if (c->status != LUA_OK || c->err[0])
        return 1;
    return ++c->n > c->limit;
}

/* store.list(scope [, opts]) -> items, next | nil, err
 * opts = {prefix =, from =, to =, limit = 1..10000 (1000)}: the scope's
 * entries {key =, value =} with from <= key < to and key starting with
 * prefix, in byte order of key; next: the key to pass as from for the
 * next page, nil when there are no more. */
static int s_list(lua_State *L)
{
    static const char usage[] = "store.list(scope [, opts])";
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    const char *scope = check_key(L, 1, usage, "scope", STORE_MAX_SCOPE);
    struct store_kv_range r = {.limit = STORE_LIST_DEFAULT};
    list_options_read(L, usage, &r);
    struct store *st = lh_host_of(L)->app->store;
    struct list_ctx c = {.L = L, .limit = r.limit};
    lua_createtable(L, (int)(r.limit < 64 ? r.limit : 64), 0);
    c.items = lua_gettop(L);
    r.limit++;   /* one more: is there a next page? */
    int rc = store_kv_range(st, scope, &r, list_row, &c);
    lh_budget_charge(L, (double)c.n * STORE_LIST_ROW_COST);   /* (the query is over) */
    if (c.status != LUA_OK)
        return lua_error(L);
    if (c.err[0])
        return lh_fail(L, "%s", c.err);
    if (rc != 0)
        return lh_fail(L, "%s", store_error(st) ? store_error(st) : "the database failed");
    if (c.n <= c.limit)
        lua_pushnil(L);   /* (no row beyond the page) */
    return 2;
}

static const luaL_Reg funcs[] = {
    {"get", s_get}, {"set", s_set}, {"list", s_list}, {NULL, NULL},
};

int lh_open_store(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
