/* The sandbox every script runs in.
 *
 * API root: a table in the registry holding the allowed base functions,
 * frozen copies of string/table/math/utf8/coroutine, an os with time, clock
 * and date only, `require`, and the host modules (log, timer, http, json,
 * store, host).  Library and module tables are handed out as read-only
 * userdata proxies, so no script can change what another one sees (rawset
 * does not work on userdata).
 *
 * Per script: a fresh environment table; reads fall back to the API root
 * and reading an undefined name is an error that names it.
 */
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/internal.h"

static const char *const base_allowed[] = {
    "assert",   "error",  "ipairs",       "next",         "pairs",    "pcall",
    "rawequal", "rawget", "rawlen",       "rawset",       "select",
    "getmetatable", "tonumber", "tostring", "type",       "_VERSION",
    NULL,
};

/* setmetatable(t, mt) -> t: as Lua's, but a metatable with __gc is refused:
 * finalizers run with hooks off, outside any budget, even inside network
 * callbacks. */
static int sb_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "setmetatable: __gc metamethods are not allowed in scripts");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));   /* the real setmetatable */
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* Raises if the thread at idx runs a handler: only the host resumes those. */
static void check_not_task(lua_State *L, int idx, const char *fname)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LH_TASK_THREADS);
    lua_pushvalue(L, idx);
    int is_task = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    if (is_task)
        luaL_error(L, "%s: a handler's own coroutine is run by the host, not by scripts",
                   fname);
}

/* Raises unless the C stack has room for one more nested coroutine run. */
static void co_check_depth(lua_State *L, const char *fname)
{
    struct lh_host *h = lh_host_of(L);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uintptr_t used = here < h->cstack_base ? h->cstack_base - here : here - h->cstack_base;
    if (h->cstack_base && used > h->cstack_max)
        luaL_error(L, "%s: coroutines nested too deeply (over %d KiB of C stack)", fname,
                   (int)(h->cstack_max >> 10));
}

/* After a script ran the coroutine at idx: one that died while the budget
 * was spent is recorded with its error (at err), because the limit error
 * left hooks off in it, and its __close methods must then never run (they
 * would run unbounded). */
static void co_note_death(lua_State *L, int idx, int err)
{
    struct lh_host *h = lh_host_of(L);
    if (!lh_budget_spent(h) || lua_status(lua_tothread(L, idx)) <= LUA_YIELD)
        return;
    int enforce = h->mem_enforce;
    h->mem_enforce = 0;   /* host work: the record must not fail */
    lua_getfield(L, LUA_REGISTRYINDEX, LH_LIMIT_DEAD);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, err);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    h->mem_enforce = enforce;
}

/* Pushes the error a coroutine died of when the limit killed it, or
 * returns 0 (pushing nothing). */
static int co_limit_dead(lua_State *L, int idx)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LH_LIMIT_DEAD);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) != LUA_TNIL) {
        lua_remove(L, -2);
        return 1;
    }
    lua_pop(L, 2);
    return 0;
}

/* Calls upvalue `fn` with the n arguments at 1..n kept in place; returns
 * how many results it left above them. */
static int co_call_real(lua_State *L, int fn)
{
    int n = lua_gettop(L);
    luaL_checkstack(L, n + 1, "too many arguments");
    lua_pushvalue(L, lua_upvalueindex(fn));
    for (int i = 1; i <= n; i++)
        lua_pushvalue(L, i);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L) - n;
}

/* coroutine.resume(co, ...) -> true, ... | false, err: as Lua's, refusing
 * handler threads and nesting past the C stack allowance.
 * upvalue 1: the real function */
static int sb_co_resume(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTHREAD);
    check_not_task(L, 1, "coroutine.resume");
    co_check_depth(L, "coroutine.resume");
    int nres = co_call_real(L, 1);
    co_note_death(L, 1, lua_gettop(L));
    lh_budget_rearm(L);
    return nres;
}

/* coroutine.close(co) -> true | false, err: as Lua's, likewise; one the
 * limit killed only reports its error (see co_note_death).
 * upvalue 1: the real function */
static int sb_co_close(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTHREAD);
    check_not_task(L, 1, "coroutine.close");
    if (co_limit_dead(L, 1)) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    co_check_depth(L, "coroutine.close");
    int nres = co_call_real(L, 1);
    lh_budget_rearm(L);
    return nres;
}

/* The function coroutine.wrap returns: resumes its coroutine, raising its
 * error (after closing it, as Lua's does, unless the limit killed it).
 * upvalues 1: the coroutine, 2: the real resume, 3: the real close */
static int sb_co_wrapped(lua_State *L)
{
    co_check_depth(L, "coroutine.wrap");
    int n = lua_gettop(L);
    luaL_checkstack(L, 2, "too many arguments");
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 2);
    lua_call(L, n + 1, LUA_MULTRET);
    lh_budget_rearm(L);
    if (lua_toboolean(L, 1))
        return lua_gettop(L) - 1;
    lua_settop(L, 2);   /* false, err */
    lua_pushvalue(L, lua_upvalueindex(1));
    co_note_death(L, 3, 2);
    lua_State *co = lua_tothread(L, 3);
    if (lua_status(co) > LUA_YIELD && !co_limit_dead(L, 3)) {
        lua_settop(L, 0);
        lua_pushvalue(L, lua_upvalueindex(3));
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_call(L, 1, 2);   /* closes it: false, the error */
    }
    lua_settop(L, 2);
    if (lua_type(L, 2) == LUA_TSTRING) {   /* where the call was, as Lua's */
        luaL_where(L, 1);
        lua_insert(L, 2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

/* coroutine.wrap(f) -> function.  upvalues 1: the real resume, 2: close */
static int sb_co_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushcclosure(L, sb_co_wrapped, 3);
    return 1;
}

/* A message handler of xpcall: the script's, unless the budget is spent
 * (the limit error is raised from the count hook, so the handler would run
 * with hooks off); then the error goes on as it is.
 * upvalue 1: the script's handler */
static int sb_msgh(lua_State *L)
{
    if (lh_budget_spent(lh_host_of(L)))
        return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int sb_xpcall_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    return lua_gettop(L);
}

/* xpcall(f, msgh, ...) -> as Lua's, with msgh behind sb_msgh; a handler may
 * still wait inside f (the continuation).  upvalue 1: the real xpcall */
static int sb_xpcall(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, sb_msgh, 1);
    lua_replace(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, sb_xpcall_k);
    return lua_gettop(L);
}

/* string.find/match/gmatch/gsub(s, pattern, ...) with a cost bound.
 * upvalue 1: the real function, 2: its name, 3: true to charge the budget */
int lh_pattern_guard(lua_State *L)
{
    size_t sn, pn;
    const char *subject = luaL_checklstring(L, 1, &sn);
    const char *pat = luaL_checklstring(L, 2, &pn);
    const char *fname = lua_tostring(L, lua_upvalueindex(2));
    int find = strcmp(fname, "find") == 0;
    /* Matching runs in C, outside the instruction budget: its worst case
     * is bounded instead (pattern.c).  A plain find compares bytes. */
    double cost = find && lua_toboolean(L, 4) ? ((double)sn + 1) * ((double)pn + 1)
                                              : lh_pattern_cost(pat, pn, subject, sn,
                                                                strcmp(fname, "gmatch") != 0);
    if (cost > LH_PATTERN_MAX_STEPS) {
        char steps[32];
        snprintf(steps, sizeof steps, "%.1e", cost);
        return luaL_error(L, "string.%s: pattern too costly for a subject of %d bytes (up "
                             "to %s steps, the limit is 1e8); simplify the pattern or "
                             "match a shorter subject",
                          fname, (int)sn, steps);
    }
    if (lua_toboolean(L, lua_upvalueindex(3)))
        lh_budget_charge(L, cost / LH_PATTERN_STEPS_PER_INSTR);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Replaces field `name` of the table at t with a guard closure around it,
 * which charges the budget. */
static void guard(lua_State *L, int t, const char *name, lua_CFunction fn)
{
    lua_getfield(L, t, name);
    lua_pushstring(L, name);
    lua_pushboolean(L, 1);
    lua_pushcclosure(L, fn, 3);
    lua_setfield(L, t, name);
}

/* Copies global library `name` minus the names in `drop`, frozen, into the
 * table at api. */
static void put_lib(lua_State *L, int api, const char *name, const char *const *drop,
                    void (*adjust)(lua_State *L, int t))
{
    lua_newtable(L);
    lua_getglobal(L, name);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        int skip = 0;
        for (const char *const *d = drop; d && *d; d++)
            if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), *d) == 0)
                skip = 1;
        if (skip) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -5);
    }
    lua_pop(L, 1);
    if (adjust)
        adjust(L, lua_gettop(L));
    lh_freeze(L, name);
    lua_setfield(L, api, name);
}

static void adjust_string(lua_State *L, int t)
{
    const char *const names[] = {"find", "match", "gmatch", "gsub", NULL};
    for (const char *const *n = names; *n; n++)
        guard(L, t, *n, lh_pattern_guard);
}

static void adjust_coroutine(lua_State *L, int t)
{
    lua_getfield(L, t, "resume");
    lua_getfield(L, t, "close");
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, sb_co_resume, 1);
    lua_setfield(L, t, "resume");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, sb_co_close, 1);
    lua_setfield(L, t, "close");
    lua_pushcclosure(L, sb_co_wrap, 2);
    lua_setfield(L, t, "wrap");
}

/* print(...) -> nil: like log.info, tagged with the script's name. */
static int sb_print(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    log_info(&h->app->log, lh_script_name(&h->cur), "%s", lua_tostring(L, -1));
    return 0;
}

/* load(chunk [, chunkname [, mode [, env]]]) -> fn | nil, err
 * Text only: a binary chunk is refused whatever mode says.  Without env the
 * chunk gets a fresh sandbox environment. */
static int sb_load(lua_State *L)
{
    size_t len;
    const char *src = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int has_env = !lua_isnone(L, 4);
    if (len > 0 && src[0] == LUA_SIGNATURE[0])
        return lh_fail(L, "attempt to load a binary chunk: only text is allowed");
    if (luaL_loadbufferx(L, src, len, name, "t") != LUA_OK)
        return lh_fail(L, "%s", lua_tostring(L, -1));
    if (has_env)
        lua_pushvalue(L, 4);
    else
        lh_sandbox_new_env(L, lh_host_of(L));
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    return 1;
}

/* collectgarbage("count") -> KiB in use.  Other options are not for scripts. */
static int sb_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "count");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage: only \"count\" is allowed in scripts");
    lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) +
                          lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
}

/* Stand-in for a removed function: fails with a message naming it. */
static int sb_blocked(lua_State *L)
{
    return luaL_error(L, "%s is not available in candlewatch scripts",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* os.time([t]) -> seconds: the host clock (simulated in specs) when no table
 * is given. */
static int sb_os_time(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        lua_getglobal(L, "os");
        lua_getfield(L, -1, "time");
        lua_pushvalue(L, 1);
        lua_call(L, 1, 1);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)(app_wall_ms(lh_host_of(L)->app) / 1000));
    return 1;
}

/* os.date([format [, time]]) -> string | table: as Lua's, with the host
 * clock as the default time. */
static int sb_os_date(lua_State *L)
{
    lua_settop(L, 2);
    lua_getglobal(L, "os");
    lua_getfield(L, -1, "date");
    lua_pushvalue(L, 1);
    if (lua_isnil(L, 2))
        lua_pushinteger(L, (lua_Integer)(app_wall_ms(lh_host_of(L)->app) / 1000));
    else
        lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

static void put_blocked(lua_State *L, int t, const char *field, const char *label)
{
    lua_pushstring(L, label);
    lua_pushcclosure(L, sb_blocked, 1);
    lua_setfield(L, t, field);
}

static void put_os(lua_State *L, int api)
{
    lua_newtable(L);
    int t = lua_gettop(L);
    lua_pushcfunction(L, sb_os_time);
    lua_setfield(L, t, "time");
    lua_pushcfunction(L, sb_os_date);
    lua_setfield(L, t, "date");
    lua_getglobal(L, "os");
    lua_getfield(L, -1, "clock");
    lua_setfield(L, t, "clock");
    lua_pop(L, 1);
    const char *const blocked[] = {"execute", "exit", "getenv", "remove", "rename",
                                   "tmpname", "setlocale", NULL};
    char label[32];
    for (const char *const *b = blocked; *b; b++) {
        snprintf(label, sizeof label, "os.%s", *b);
        put_blocked(L, t, *b, label);
    }
    lh_freeze(L, "os");
    lua_setfield(L, api, "os");
}

static void put_module(lua_State *L, int api, const char *name, lua_CFunction open)
{
    open(L);
    lh_freeze(L, name);
    lua_setfield(L, api, name);
}

void lh_sandbox_open(struct lh_host *h)
{
    lua_State *L = h->L;
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 1);
    lua_pop(L, 7);
    if (h->mode == LH_SPEC) {
        /* Spec files are trusted test code: they get the whole library. */
        luaL_requiref(L, LUA_IOLIBNAME, luaopen_io, 1);
        luaL_requiref(L, LUA_LOADLIBNAME, luaopen_package, 1);
        luaL_requiref(L, LUA_DBLIBNAME, luaopen_debug, 1);
        lua_pop(L, 3);
    }

    lua_newtable(L);
    int api = lua_gettop(L);
    for (const char *const *b = base_allowed; *b; b++) {
        lua_getglobal(L, *b);
        lua_setfield(L, api, *b);
    }
    lua_pushcfunction(L, sb_print);
    lua_setfield(L, api, "print");
    lua_pushcfunction(L, sb_load);
    lua_setfield(L, api, "load");
    lua_pushcfunction(L, sb_collectgarbage);
    lua_setfield(L, api, "collectgarbage");
    lua_pushcfunction(L, lh_require);
    lua_setfield(L, api, "require");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, sb_setmetatable, 1);
    lua_setfield(L, api, "setmetatable");
    lua_getglobal(L, "xpcall");
    lua_pushcclosure(L, sb_xpcall, 1);
    lua_setfield(L, api, "xpcall");
    lh_weak_registry(L, LH_TASK_THREADS);   /* handler threads: see check_not_task */
    lh_weak_registry(L, LH_LIMIT_DEAD);     /* coroutines the limit killed */
    lh_lib_proxy_open(L);
    put_blocked(L, api, "dofile", "dofile");
    put_blocked(L, api, "loadfile", "loadfile");
    const char *const no_dump[] = {"dump", NULL};
    put_lib(L, api, "string", no_dump, adjust_string);
    put_lib(L, api, "table", NULL, NULL);
    put_lib(L, api, "math", NULL, NULL);
    put_lib(L, api, "utf8", NULL, NULL);
    put_lib(L, api, "coroutine", NULL, adjust_coroutine);
    put_os(L, api);
    for (const struct lh_module *m = lh_modules; m->name; m++)
        put_module(L, api, m->name, m->open);

    /* Method calls on strings must not reach string.dump either. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_getfield(L, api, "string");
    luaL_getmetafield(L, -1, "__index");
    lua_setfield(L, -3, "__index");
    lua_pop(L, 1);
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    h->api_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    h->loaded_sentinel_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* __index of a script environment.  upvalue 1: the API root. */
static int env_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (lua_isnil(L, -1)) {
        if (lua_type(L, 2) == LUA_TSTRING)
            return luaL_error(L, "undefined global '%s'", lua_tostring(L, 2));
        return luaL_error(L, "undefined global of type %s", luaL_typename(L, 2));
    }
    return 1;
}

void lh_sandbox_new_env(lua_State *L, struct lh_host *h)
{
    lua_newtable(L);
    lua_createtable(L, 0, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->api_ref);
    lua_pushcclosure(L, env_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

int lh_load_file(lua_State *L, struct lh_host *h, const char *path, const char *chunkname,
                 char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the file", chunkname + 1);
        return -1;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        luaL_addlstring(&b, chunk, n);
    fclose(f);
    luaL_pushresult(&b);
    size_t len;
    const char *src = lua_tolstring(L, -1, &len);
    if (len > 0 && src[0] == LUA_SIGNATURE[0]) {
        lua_pop(L, 1);
        snprintf(err, errlen, "%s:1: precompiled bytecode is refused; ship the source",
                 chunkname + 1);
        return -1;
    }
    int st = luaL_loadbufferx(L, src, len, chunkname, "t");
    lua_remove(L, -2);
    if (st != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lh_sandbox_new_env(L, h);
    lua_setupvalue(L, -2, 1);
    return 0;
}

static int valid_module_name(const char *s)
{
    if (!*s || *s == '.')
        return 0;
    for (const char *p = s; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '_' || (*p == '.' && p[1] && p[1] != '.');
        if (!ok)
            return 0;
    }
    return 1;
}

/* require(name) -> module
 * Host modules by name ("json", "timer", ...), or scripts/lib/<name>.lua
 * (dots are folders), loaded once per generation in its own environment
 * and handed out read-only (lh_lib_proxy). */
int lh_require(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    const char *name = luaL_checkstring(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->api_ref);
    if (lua_getfield(L, -1, name) != LUA_TNIL && strcmp(name, "require") != 0)
        return 1;
    lua_pop(L, 2);
    struct lh_gen *g = h->cur.gen ? h->cur.gen : h->gen;
    if (!g)
        return luaL_error(L, "require '%s': no scripts are loaded", name);
    if (!valid_module_name(name))
        return luaL_error(L, "require '%s': a module name is letters, digits, _ and dots",
                          name);
    lua_rawgeti(L, LUA_REGISTRYINDEX, g->loaded_ref);
    int loaded = lua_gettop(L);
    if (lua_getfield(L, loaded, name) != LUA_TNIL) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->loaded_sentinel_ref);
        if (lua_rawequal(L, -1, -2))
            return luaL_error(L, "require '%s': circular require", name);
        lua_pop(L, 1);
        lh_lib_proxy(L);
        return 1;
    }
    lua_pop(L, 1);
    char rel[512], path[1024], chunkname[1100], err[1024];
    snprintf(rel, sizeof rel, "lib/%s.lua", name);
    for (char *p = rel + 4; *p; p++)
        if (*p == '.' && strcmp(p, ".lua") != 0)
            *p = '/';
    lh_gen_path(g, rel, path, sizeof path);
    snprintf(chunkname, sizeof chunkname, "@%s", path);
    if (lh_load_file(L, h, path, chunkname, err, sizeof err) != 0)
        return luaL_error(L, "require '%s': %s", name, err);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->loaded_sentinel_ref);
    lua_setfield(L, loaded, name);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        lua_pushnil(L);
        lua_setfield(L, loaded, name);   /* a later require may try again, */
        lh_gen_decls_failed(g, rel);     /* declaring its sections again */
        return lua_error(L);
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, loaded, name);
    lh_lib_proxy(L);
    return 1;
}
