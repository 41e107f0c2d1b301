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

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static cJSON *to_json(lua_State *L, int idx, int depth, char *err, size_t errlen);

static cJSON *table_to_json(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    lua_Integer count = 0;
    int string_keys = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        int kt = lua_type(L, -2);
        if (kt != LUA_TSTRING && !(kt == LUA_TNUMBER && lua_isinteger(L, -2)))
            string_keys = 0;
        lua_pop(L, 1);
    }
    if (n > 0 && count == n) {
        cJSON *arr = cJSON_CreateArray();
        for (lua_Integer i = 1; arr && i <= n; i++) {
            lua_rawgeti(L, idx, i);
            cJSON *item = to_json(L, lua_gettop(L), depth + 1, err, errlen);
            lua_pop(L, 1);
            if (!item) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, item);
        }
        return arr;
    }
    if (!string_keys) {
        snprintf(err, errlen, "cannot encode a table with keys that are not strings");
        return NULL;
    }
    /* Keys as strings, sorted; integer keys become their decimal text. */
    const char **keys = malloc(sizeof *keys * (size_t)(count + 1));
    lua_createtable(L, (int)count, 0);
    int names = lua_gettop(L);
    lua_Integer k = 0;
    lua_pushnil(L);
    while (keys && lua_next(L, idx)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        const char *s = lua_tostring(L, -1);   /* converts a copy, not the key */
        keys[k] = s;
        lua_rawseti(L, names, ++k);            /* keeps the string alive */
    }
    cJSON *obj = keys ? cJSON_CreateObject() : NULL;
    if (obj)
        qsort(keys, (size_t)k, sizeof *keys, cmp_keys);
    for (lua_Integer i = 0; obj && i < k; i++) {
        lua_pushstring(L, keys[i]);
        if (lua_rawget(L, idx) == LUA_TNIL) {  /* integer key stored as number */
            lua_pop(L, 1);
            lua_Integer ik = strtoll(keys[i], NULL, 10);
            lua_rawgeti(L, idx, ik);
        }
        cJSON *item = to_json(L, lua_gettop(L), depth + 1, err, errlen);
        lua_pop(L, 1);
        if (!item) {
            cJSON_Delete(obj);
            obj = NULL;
            break;
        }
        cJSON_AddItemToObject(obj, keys[i], item);
    }
    lua_pop(L, 1);
    free(keys);
    return obj;
}

static cJSON *to_json(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
    if (depth > JSON_MAX_DEPTH) {
        snprintf(err, errlen, "cannot encode: nested deeper than %d (a cycle?)",
                 JSON_MAX_DEPTH);
        return NULL;
    }
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return cJSON_CreateNull();
    case LUA_TBOOLEAN:
        return cJSON_CreateBool(lua_toboolean(L, idx));
    case LUA_TNUMBER: {
        lua_Number v = lua_tonumber(L, idx);
        if (!isfinite(v)) {
            snprintf(err, errlen, "cannot encode %s", isnan(v) ? "NaN" : "infinity");
            return NULL;
        }
        return cJSON_CreateNumber(v);
    }
    case LUA_TSTRING:
        return cJSON_CreateString(lua_tostring(L, idx));
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL)
            return cJSON_CreateNull();
        break;
    case LUA_TTABLE:
        luaL_checkstack(L, 8, "json.encode");
        return table_to_json(L, idx, depth, err, errlen);
    default:
        break;
    }
    snprintf(err, errlen, "cannot encode a %s value", luaL_typename(L, idx));
    return NULL;
}

char *lh_json_encode(lua_State *L, int idx, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    cJSON *j = to_json(L, idx, 0, err, errlen);
    if (!j)
        return NULL;
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s)
        snprintf(err, errlen, "out of memory");
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

int lh_json_push(lua_State *L, const char *text, size_t len, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        snprintf(err, errlen, "invalid JSON at byte %zu", at + 1);
        return -1;
    }
    push_json(L, j);
    cJSON_Delete(j);
    return 0;
}

/* json.encode(value) -> string    raises on functions, cycles, NaN */
static int j_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    char err[256];
    char *s = lh_json_encode(L, 1, err, sizeof err);
    if (!s)
        return luaL_error(L, "json.encode(value): %s", err);
    lua_pushstring(L, s);
    cJSON_free(s);
    return 1;
}

/* json.decode(text) -> value | nil, err */
static int j_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char err[128];
    if (lh_json_push(L, s, len, err, sizeof err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
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
