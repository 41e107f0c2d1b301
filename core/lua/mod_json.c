/* json: encode and decode with cJSON.
 *
 * Tables whose keys are exactly 1..n encode as arrays, other tables as
 * objects with their keys sorted (stable output); an empty table encodes as
 * {}.  json.null stands for JSON null in both directions.  Integral numbers
 * decode as Lua integers.
 */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"

#define JSON_MAX_DEPTH 100

/* Encoding runs under lua_pcall: a Lua error (the memory limit) can strike
 * at any push, and the C tree built so far must then be freed.  Each node is
 * attached to its parent as soon as it exists, so freeing the root frees all. */
struct enc {
    cJSON *root;
    char err[256];
    size_t size, max;   /* the JSON text's length so far (at most), its bound */
};

/* Counts n more bytes of JSON text; -1 past the bound (checked before the
 * C tree copies a big string: its memory is not the script state's). */
static int grow(struct enc *e, size_t n)
{
    e->size += n;
    if (e->size <= e->max)
        return 0;
    snprintf(e->err, sizeof e->err, "its JSON text would be over %zu bytes", e->max);
    return -1;
}

/* The length of s as a JSON string, at most. */
static size_t json_strlen(const char *s, size_t len)
{
    size_t n = len + 2;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
            n += 5;   /* \u00XX */
    return n;
}

static int add_value(lua_State *L, int idx, int depth, cJSON *parent, const char *key,
                     struct enc *e);

static cJSON *attach(cJSON *parent, const char *key, cJSON *node, struct enc *e)
{
    if (!node) {
        snprintf(e->err, sizeof e->err, "out of memory");
        return NULL;
    }
    if (!parent)
        e->root = node;
    else if (key)
        cJSON_AddItemToObject(parent, key, node);
    else
        cJSON_AddItemToArray(parent, node);
    return node;
}

static int add_table(lua_State *L, int idx, int depth, cJSON *node, int is_array, struct enc *e)
{
    if (is_array) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            int rc = add_value(L, lua_gettop(L), depth + 1, node, NULL, e);
            lua_pop(L, 1);
            if (rc)
                return -1;
        }
        return 0;
    }
    /* Keys as strings, sorted (stable output); integer keys become text. */
    lua_newtable(L);
    int names = lua_gettop(L);
    lua_Integer k = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_tostring(L, -1);   /* converts the copy, never the key itself */
        lua_rawseti(L, names, ++k);
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, names);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    for (lua_Integer i = 1; i <= k; i++) {
        lua_rawgeti(L, names, i);
        size_t klen;
        const char *key = lua_tolstring(L, -1, &klen);
        if (i > 1) {   /* sorted: a clash is two names side by side */
            lua_rawgeti(L, names, i - 1);
            int clash = lua_rawequal(L, -1, -2);
            lua_pop(L, 1);
            if (clash) {
                snprintf(e->err, sizeof e->err, "cannot encode a table with both the key %s "
                         "and the key \"%s\" (both would be \"%s\")", key, key, key);
                return -1;
            }
        }
        if (grow(e, json_strlen(key, klen) + 2) != 0)
            return -1;
        lua_pushvalue(L, -1);
        if (lua_rawget(L, idx) == LUA_TNIL) {   /* the key was an integer */
            lua_pop(L, 1);
            lua_rawgeti(L, idx, strtoll(key, NULL, 10));
        }
        int rc = add_value(L, lua_gettop(L), depth + 1, node, key, e);
        lua_pop(L, 2);
        if (rc)
            return -1;
    }
    lua_pop(L, 1);
    return 0;
}

static int add_value(lua_State *L, int idx, int depth, cJSON *parent, const char *key,
                     struct enc *e)
{
    if (depth > JSON_MAX_DEPTH) {
        snprintf(e->err, sizeof e->err, "cannot encode: nested deeper than %d (a cycle?)",
                 JSON_MAX_DEPTH);
        return -1;
    }
    if (grow(e, 1) != 0)   /* (a comma) */
        return -1;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return attach(parent, key, cJSON_CreateNull(), e) ? 0 : -1;
    case LUA_TBOOLEAN:
        return attach(parent, key, cJSON_CreateBool(lua_toboolean(L, idx)), e) ? 0 : -1;
    case LUA_TNUMBER: {
        lua_Number v = lua_tonumber(L, idx);
        if (!isfinite(v)) {
            snprintf(e->err, sizeof e->err, "cannot encode %s", isnan(v) ? "NaN" : "infinity");
            return -1;
        }
        char text[32];   /* cJSON prints at most 17 digits */
        int len = snprintf(text, sizeof text, "%1.17g", v);
        return grow(e, (size_t)len) == 0 && attach(parent, key, cJSON_CreateNumber(v), e) ? 0
                                                                                         : -1;
    }
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(L, idx, &len);
        if (grow(e, json_strlen(str, len)) != 0)
            return -1;
        return attach(parent, key, cJSON_CreateString(str), e) ? 0 : -1;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL)
            return attach(parent, key, cJSON_CreateNull(), e) ? 0 : -1;
        break;
    case LUA_TTABLE: {
        luaL_checkstack(L, 8, "json.encode");
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
        int string_keys = 1;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            count++;
            int kt = lua_type(L, -2);
            if (kt != LUA_TSTRING && !(kt == LUA_TNUMBER && lua_isinteger(L, -2)))
                string_keys = 0;
            lua_pop(L, 1);
        }
        int is_array = n > 0 && count == n;
        if (!is_array && !string_keys) {
            snprintf(e->err, sizeof e->err, "cannot encode a table with keys that are not strings");
            return -1;
        }
        if (grow(e, 2) != 0)
            return -1;
        cJSON *node = attach(parent, key, is_array ? cJSON_CreateArray() : cJSON_CreateObject(), e);
        return node ? add_table(L, idx, depth, node, is_array, e) : -1;
    }
    default:
        break;
    }
    snprintf(e->err, sizeof e->err, "cannot encode a %s value", luaL_typename(L, idx));
    return -1;
}

/* (enc, value) -> ok: the protected half of lh_json_encode */
static int encode_p(lua_State *L)
{
    struct enc *e = lua_touserdata(L, 1);
    lua_pushboolean(L, add_value(L, 2, 0, NULL, NULL, e) == 0);
    return 1;
}

size_t lh_json_room(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    if (!h->mem_enforce)
        return SIZE_MAX;
    return h->mem_used < h->mem_limit ? h->mem_limit - h->mem_used : 0;
}

char *lh_json_encode(lua_State *L, int idx, size_t max, char *err, size_t errlen)
{
    struct enc e = {.max = max};
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, encode_p);
    lua_pushlightuserdata(L, &e);
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        cJSON_Delete(e.root);
        return lua_error(L), NULL;   /* re-raise, nothing left to free */
    }
    int ok = lua_toboolean(L, -1);
    lua_pop(L, 1);
    char *s = ok ? cJSON_PrintUnformatted(e.root) : NULL;
    cJSON_Delete(e.root);
    if (!s)
        snprintf(err, errlen, "%s", ok ? "out of memory" : e.err);
    return s;
}

static void push_json(lua_State *L, const cJSON *j)
{
    luaL_checkstack(L, 4, "json.decode: nested too deeply");
    if (cJSON_IsObject(j)) {
        lua_createtable(L, 0, cJSON_GetArraySize(j));
        for (const cJSON *c = j->child; c; c = c->next) {
            push_json(L, c);
            lua_setfield(L, -2, c->string);
        }
    } else if (cJSON_IsArray(j)) {
        lua_createtable(L, cJSON_GetArraySize(j), 0);
        lua_Integer i = 0;
        for (const cJSON *c = j->child; c; c = c->next) {
            push_json(L, c);
            lua_rawseti(L, -2, ++i);
        }
    } else if (cJSON_IsString(j)) {
        lua_pushstring(L, j->valuestring);
    } else if (cJSON_IsNumber(j)) {
        double v = j->valuedouble;
        if (v == floor(v) && fabs(v) < 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
    } else if (cJSON_IsBool(j)) {
        lua_pushboolean(L, cJSON_IsTrue(j));
    } else {
        lua_pushlightuserdata(L, NULL);
    }
}

/* (tree) -> value: the protected half of lh_json_push */
static int push_p(lua_State *L)
{
    push_json(L, lua_touserdata(L, 1));
    return 1;
}

int lh_json_push(lua_State *L, const char *text, size_t len, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        snprintf(err, errlen, "invalid JSON at byte %zu", at + 1);
        return -1;
    }
    lua_pushcfunction(L, push_p);
    lua_pushlightuserdata(L, j);
    int st = lua_pcall(L, 1, 1, 0);
    cJSON_Delete(j);
    if (st != LUA_OK)
        lua_error(L);   /* re-raise: the tree is freed; the caller owns nothing */
    return 0;
}

/* (text) -> string: the protected push of j_encode */
static int push_text_p(lua_State *L)
{
    lua_pushstring(L, lua_touserdata(L, 1));
    return 1;
}

/* json.encode(value) -> string    raises on functions, cycles, NaN, a
 * result bigger than the memory left, or keys 1 and "1" in one table */
static int j_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    char err[256];
    char *s = lh_json_encode(L, 1, lh_json_room(L), err, sizeof err);
    if (!s)
        return luaL_error(L, "json.encode(value): %s", err);
    lua_pushcfunction(L, push_text_p);
    lua_pushlightuserdata(L, s);
    int st = lua_pcall(L, 1, 1, 0);   /* the memory limit may strike: free s first */
    cJSON_free(s);
    return st == LUA_OK ? 1 : lua_error(L);
}

/* json.decode(text) -> value | nil, err */
static int j_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char err[128];
    if (lh_json_push(L, s, len, err, sizeof err) != 0) {
        return lh_fail(L, "%s", err);
    }
    return 1;
}

static const luaL_Reg funcs[] = {
    {"encode", j_encode}, {"decode", j_decode}, {NULL, NULL},
};

int lh_open_json(lua_State *L)
{
    luaL_newlib(L, funcs);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    return 1;
}
