/* config.lua: a Lua file returning a table, evaluated in a small sandbox
 * (the script sandbox's base functions plus os.getenv), then checked key by
 * key against the schema in config/config.c. */
#include <cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <limits.h>
#include <math.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/host.h"
#include "lua/internal.h"
#include "util/grow.h"

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
        if (count != n || n > maxints) {   /* (maxints: the caller sized for the list) */
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

/* One key's value into the schema.  A list is as long as the config makes
 * it (300 admins are a list too): its items are copied into buffers of its
 * own length, bounded by the sandbox's memory limit on the table. */
static int set_value(lua_State *L, int vi, const char *key, struct config *cfg, char *err,
                     size_t errlen)
{
    size_t n = lua_istable(L, vi) ? lua_rawlen(L, vi) : 0;
    if (n > INT_MAX / 2)
        n = 0;   /* (to_value then calls it "a table that is not a list") */
    long long *ints = malloc(sizeof *ints * (n ? n : 1));
    const char **strs = malloc(sizeof *strs * (n ? n : 1));
    int rc = -1;
    if (!ints || !strs) {
        snprintf(err, errlen, "key '%s': out of memory", key);
    } else {
        struct config_value v;
        to_value(L, vi, &v, ints, strs, (int)n);
        rc = config_set(cfg, key, &v, err, errlen);
    }
    free(ints);
    free(strs);
    return rc;
}

/* One value of a script's section as JSON: a boolean, a finite number, a
 * string without NUL bytes; NULL otherwise (what it is, in *what). */
static cJSON *section_scalar(lua_State *L, int idx, const char **what)
{
    size_t len;
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        return cJSON_CreateBool(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (isfinite(lua_tonumber(L, idx)))
            return cJSON_CreateNumber(lua_tonumber(L, idx));
        *what = "number that is not finite";
        return NULL;
    case LUA_TSTRING:
        if (strlen(lua_tolstring(L, idx, &len)) == len)
            return cJSON_CreateString(lua_tostring(L, idx));
        *what = "string with a NUL byte";
        return NULL;
    default:
        *what = luaL_typename(L, idx);
        return NULL;
    }
}

/* The same, or a list of such values. */
static cJSON *section_value(lua_State *L, int idx, const char **what)
{
    if (!lua_istable(L, idx))
        return section_scalar(L, idx, what);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        lua_pop(L, 1);
    }
    *what = "table that is not a list";
    cJSON *arr = count == n ? cJSON_CreateArray() : NULL;
    for (lua_Integer i = 1; arr && i <= n; i++) {
        lua_rawgeti(L, idx, i);
        cJSON *item = section_scalar(L, lua_gettop(L), what);
        lua_pop(L, 1);
        if (!item || !cJSON_AddItemToArray(arr, item)) {
            *what = "list of unsuitable items";
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

int lh_config_section_json(lua_State *L, int idx, const char *name, char **json, char *err,
                           size_t errlen)
{
    idx = lua_absindex(L, idx);
    cJSON *obj = cJSON_CreateObject();
    *json = NULL;
    snprintf(err, errlen, "section '%s': out of memory", name);
    lua_pushnil(L);
    while (obj && lua_next(L, idx)) {
        const char *what = "?";
        cJSON *v = lua_type(L, -2) == LUA_TSTRING ? section_value(L, lua_gettop(L), &what) : NULL;
        if (lua_type(L, -2) != LUA_TSTRING)
            snprintf(err, errlen, "%s keys must be names, got a %s key", name,
                     luaL_typename(L, -2));
        else if (!v)
            snprintf(err, errlen, "key '%s.%s' must be a boolean, number, string or list of "
                     "them, got %s", name, lua_tostring(L, -2), what);
        if (!v || !cJSON_AddItemToObject(obj, lua_tostring(L, -2), v)) {
            cJSON_Delete(v);
            lua_pop(L, 2);
            cJSON_Delete(obj);
            return -1;
        }
        lua_pop(L, 1);
    }
    *json = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    return *json ? 0 : -1;
}

/* A top-level table that is not the core's: a script's section, checked
 * when a script declares it (host.config). */
static int keep_section(lua_State *L, int vi, const char *name, struct config *cfg, char *err,
                        size_t errlen)
{
    char *json;
    if (lh_config_section_json(L, vi, name, &json, err, errlen) != 0)
        return -1;
    int rc = config_set_section(cfg, name, json);
    free(json);
    if (rc != 0)
        snprintf(err, errlen, "section '%s': out of memory", name);
    return rc;
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
        } else if (!*prefix && lua_istable(L, vi) && !config_is_core(key)) {
            if (keep_section(L, vi, key, cfg, err, errlen) != 0)
                return -1;
        } else if (set_value(L, vi, key, cfg, err, errlen) != 0) {
            return -1;
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* A config that loops forever must not hang start-up.  Instructions alone
 * do not bound the time: one can copy 64 MB (string.rep, ..) or sort a
 * big table, so the clock is looked at too, every CONFIG_HOOK_STEP: the
 * thread's CPU time, which a busy machine does not advance for it (on the
 * wall clock, a config doing 256 MB of allocations ran past 5 s there). */
#define CONFIG_MAX_INSTRUCTIONS 100000000L
#define CONFIG_MAX_SECONDS 5
#define CONFIG_HOOK_STEP 100

struct config_budget {
    long left;                 /* instructions */
    struct timespec deadline;  /* CLOCK_THREAD_CPUTIME_ID */
};

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct config_budget *b = *(struct config_budget **)lua_getextraspace(L);
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    int late = now.tv_sec > b->deadline.tv_sec ||
               (now.tv_sec == b->deadline.tv_sec && now.tv_nsec >= b->deadline.tv_nsec);
    if ((b->left -= CONFIG_HOOK_STEP) <= 0 || late) {
        luaL_where(L, 0);
        if (late)
            lua_pushfstring(L, "the config did not finish within %d s", CONFIG_MAX_SECONDS);
        else
            lua_pushfstring(L, "the config did not finish within %d instructions",
                            (int)(CONFIG_MAX_INSTRUCTIONS));
        lua_concat(L, 2);
        lua_error(L);
    }
}

/* Pattern matching runs in C, where neither the hook nor the clock sees it
 * (a pattern can backtrack for minutes): the scripts' guard bounds it. */
static void guard_patterns(lua_State *L)
{
    static const char *const names[] = {"find", "match", "gmatch", "gsub", NULL};
    lua_getglobal(L, "string");   /* (also what methods on strings reach) */
    for (const char *const *n = names; *n; n++) {
        lua_getfield(L, -1, *n);
        lua_pushstring(L, *n);
        lua_pushcclosure(L, lh_pattern_guard, 2);
        lua_setfield(L, -2, *n);
    }
    lua_pop(L, 1);
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

/* config.lua is a table of settings: this is room enough, and a config
 * that builds strings without end gets an error, not the machine's memory.
 * What it allocates in all is bounded too: a loop making ever bigger
 * strings does its work in a few instructions (found by fuzzing). */
#define CONFIG_MAX_BYTES (64u << 20)
#define CONFIG_MAX_ALLOCATED (256u << 20)

struct config_mem {
    size_t used;
    size_t allocated;          /* all growth so far */
    int spent;                 /* CONFIG_MAX_ALLOCATED was reached */
};

static void *config_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct config_mem *m = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        m->used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > CONFIG_MAX_BYTES - m->used)
        return NULL;   /* Lua raises "not enough memory" */
    if (nsize > old && nsize - old > CONFIG_MAX_ALLOCATED - m->allocated) {
        m->spent = 1;
        return NULL;
    }
    void *np = realloc(ptr, nsize);
    if (np) {
        m->used = m->used - old + nsize;
        m->allocated += nsize > old ? nsize - old : 0;
    }
    return np;
}

/* Only reached by an error outside lua_pcall, which the code below avoids;
 * as luaL_newstate's handler does, say what it was (then Lua aborts). */
static int config_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "candlewatch: config: unprotected Lua error: %s\n", msg ? msg : "?");
    return 0;
}

/* The error of a failed load or call, into err.  error({}) and error()
 * raise values that are not strings (and "%s" of NULL is undefined).
 * Nothing here allocates from Lua: it runs unprotected, maybe with the
 * allocation budget spent. */
static void error_text(lua_State *L, int status, const char *chunkname,
                       const struct config_mem *m, char *err, size_t errlen)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (status == LUA_ERRMEM && m->spent)
        snprintf(err, errlen, "%s: the config did not finish within %d MB of allocations",
                 chunkname, (int)(CONFIG_MAX_ALLOCATED >> 20));
    else if (status == LUA_ERRMEM)
        snprintf(err, errlen, "%s: the config needs more than %d MB of memory", chunkname,
                 (int)(CONFIG_MAX_BYTES >> 20));
    else if (msg)
        snprintf(err, errlen, "%s", msg);
    else if (lua_isinteger(L, -1))   /* error(42): as tostring shows it */
        snprintf(err, errlen, "%lld", (long long)lua_tointeger(L, -1));
    else if (lua_type(L, -1) == LUA_TNUMBER) {
        snprintf(err, errlen, "%.14g", (double)lua_tonumber(L, -1));
        if (strspn(err, "-0123456789") == strlen(err) && strlen(err) + 2 < errlen)
            strcat(err, ".0");
    } else
        snprintf(err, errlen, "%s: the config raised an error with a %s value, not a message",
                 chunkname, luaL_typename(L, -1));
}

int lh_config_load_buffer(const char *text, size_t len, const char *chunkname,
                          struct config *cfg, char *err, size_t errlen)
{
    char msg[1024];
    struct config_mem mem = {0};
    lua_State *L = lua_newstate(config_alloc, &mem);
    if (!L) {
        snprintf(err, errlen, "%s: out of memory", chunkname);
        return -1;
    }
    lua_atpanic(L, config_panic);
    luaL_openlibs(L);
    guard_patterns(L);
    struct config_budget budget = {.left = CONFIG_MAX_INSTRUCTIONS};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &budget.deadline);
    budget.deadline.tv_sec += CONFIG_MAX_SECONDS;
    *(struct config_budget **)lua_getextraspace(L) = &budget;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, CONFIG_HOOK_STEP);
    /* env: a handful of pure functions and os.getenv; nothing else. */
    const char *src_env =
        "local e = {tostring = tostring, tonumber = tonumber, type = type, pairs = pairs,"
        " ipairs = ipairs, string = string, table = table, math = math, error = error,"
        " os = {getenv = ...}}\n"
        "return setmetatable(e, {__index = function(_, k)"
        " error(\"undefined global '\" .. tostring(k) .. \"'\", 2) end})";
    int rc = -1;
    if (luaL_loadstring(L, src_env) != LUA_OK) {
        snprintf(err, errlen, "%s: cannot set up the config's environment", chunkname);
        goto out;
    }
    lua_pushcfunction(L, getenv_l);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        snprintf(err, errlen, "%s: cannot set up the config's environment", chunkname);
        goto out;
    }
    int env = lua_gettop(L);
    if (len > 0 && text[0] == LUA_SIGNATURE[0]) {
        snprintf(err, errlen, "%s: precompiled bytecode is refused", chunkname);
        goto out;
    }
    /* as luaL_loadfile reads a file: a UTF-8 byte order mark and a first
     * line starting with '#' are skipped (the line's end kept, so line
     * numbers stay true) */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    if (len > 0 && text[0] == '#') {
        while (len > 0 && text[0] != '\n') {
            text++;
            len--;
        }
        if (len > 1 && text[1] == LUA_SIGNATURE[0]) {   /* bytecode: refused as such */
            text++;
            len--;
        }
    }
    lua_pushfstring(L, "@%s", chunkname);
    int st = luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t");
    if (st == LUA_OK) {
        lua_pushvalue(L, env);
        lua_setupvalue(L, -2, 1);
        st = lua_pcall(L, 0, 1, 0);
    }
    if (st != LUA_OK) {
        error_text(L, st, chunkname, &mem, err, errlen);
        goto out;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: must return a table of settings, returned %s", chunkname,
                 luaL_typename(L, -1));
        goto out;
    }
    if (walk(L, lua_gettop(L), "", cfg, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s: %s", chunkname, msg);
        goto out;
    }
    rc = 0;
out:
    lua_close(L);
    return rc;
}

int lh_config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int bad = !f;
    /* (bounded: a path to /dev/zero must not read forever) */
    while (!bad && len <= CONFIG_MAX_BYTES) {
        if (len == cap) {
            char *t = grow(text, &cap, len + 4096, 1);   /* (4096, then doubling) */
            if (!t) {
                bad = 1;
                break;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            bad = ferror(f);
            break;
        }
    }
    if (f)
        fclose(f);
    int rc = -1;
    if (bad)
        snprintf(err, errlen, "%s: cannot read the config file", path);
    else if (len > CONFIG_MAX_BYTES)
        snprintf(err, errlen, "%s: larger than %d MB", path, (int)(CONFIG_MAX_BYTES >> 20));
    else
        rc = lh_config_load_buffer(text ? text : "", len, path, cfg, err, errlen);
    free(text);
    return rc;
}
