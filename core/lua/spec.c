/* spec: what a Lua spec controls in the host it runs in.
 *
 * Specs run inside the real host (real C modules, real SQLite) with a
 * simulated clock: nothing happens until spec.advance() moves time, which
 * fires due timers and resumes handlers in order.  HTTP requests never
 * reach the network: they are answered by stubs the spec installs.
 */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/health.h"
#include "lua/spec.h"
#include "util/interval.h"
#include "store/store.h"
#include "tg/bot.h"

struct spec_run {
    struct spec_state *ss;
    int result_ref;
};

static void capture(void *ud, enum log_level lv, const char *component, const char *msg)
{
    struct spec_state *ss = ud;
    if (ss->nlogs == SPEC_MAX_LOGS) {
        free(ss->logs[0].msg);
        memmove(ss->logs, ss->logs + 1, sizeof ss->logs[0] * (SPEC_MAX_LOGS - 1));
        ss->nlogs--;
    }
    struct spec_log *l = &ss->logs[ss->nlogs++];
    l->level = lv;
    snprintf(l->component, sizeof l->component, "%s", component);
    l->msg = strdup(msg);
}

/* Returns -1 when timers keep firing without the clock moving. */
static int advance(struct lh_host *h, uint64_t ms)
{
    struct app *a = h->app;
    uint64_t target = a->sim_ms + ms;
    long same_instant = 0;
    for (;;) {
        uint64_t next = timers_next(&a->timers);
        if (next > target)
            break;
        if (next > a->sim_ms) {
            a->sim_ms = next;
            same_instant = 0;
        }
        timers_run_due(&a->timers, a->sim_ms);
        /* a loop turn ends with a commit, as in the real loop: messages
         * waiting for it go on the next turn */
        if (a->store)
            store_commit(a->store);
        if (++same_instant > 100000)
            return -1;
    }
    a->sim_ms = target;
    if (a->store)
        store_commit(a->store);
    return 0;
}

/* spec.advance(seconds) -> nil    moves the clock, running what falls due */
static int s_advance(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    if (!(s >= 0))
        return luaL_error(L, "expected spec.advance(seconds >= 0)");
    if (advance(lh_host_of(L), (uint64_t)(s * 1000 + 0.5)) != 0)
        return luaL_error(L, "spec.advance: timers keep firing at the same instant "
                             "(a timer.after(0) loop?)");
    return 0;
}

/* spec.now() -> milliseconds since the epoch on the simulated clock */
static int s_now(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lh_host_of(L)->app->sim_ms);
    return 1;
}

/* ---- handler tasks ---- */

static void run_done(void *ud, lua_State *co, int ok, int nres, const char *err)
{
    struct spec_run *r = ud;
    lua_State *L = r->ss->h->L;
    if (!co) {
        luaL_unref(L, LUA_REGISTRYINDEX, r->result_ref);
        free(r);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->result_ref);
    int t = lua_gettop(L);
    lua_pushboolean(L, 1);
    lua_setfield(L, t, "done");
    lua_pushboolean(L, ok);
    lua_setfield(L, t, "ok");
    if (err) {
        lua_pushstring(L, err);
        lua_setfield(L, t, "err");
    }
    lua_createtable(L, nres, 0);
    int res = lua_gettop(L);
    lua_xmove(co, L, nres);
    for (int i = nres; i >= 1; i--)
        lua_rawseti(L, res, i);          /* pops r_i from the top */
    lua_setfield(L, t, "results");
    lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, r->result_ref);
    free(r);
}

/* Spawns [fn, args...] (top nargs+1 of L) as a handler; returns its result
 * table: {done = bool, ok = bool, err = string, results = {...}}. */
static int spawn(lua_State *L, int nargs)
{
    struct lh_host *h = lh_host_of(L);
    if (!h->gen)
        return luaL_error(L, "spec: no scripts are live (see spec.use_scripts)");
    struct spec_run *r = malloc(sizeof *r);
    if (!r)
        return luaL_error(L, "out of memory");
    r->ss = h->spec;
    lua_newtable(L);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "done");
    lua_pushvalue(L, -1);
    r->result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_insert(L, -(nargs + 2));          /* result table below fn and args */
    lh_task_spawn(h, h->gen, -1, nargs, run_done, r);
    if (advance(h, 0) != 0)                /* runs it until it waits or ends */
        return luaL_error(L, "spec: timers keep firing at the same instant");
    return 1;
}

/* spec.run(fn, ...) -> task    runs fn as a handler (a coroutine that may
 * wait on http); task = {done =, ok =, err =, results = {...}} */
static int s_run(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    return spawn(L, lua_gettop(L) - 1);
}

/* spec.eval(source, ...) -> task    compiles source as a script chunk in
 * the sandbox and runs it as a handler, with ... as its arguments */
static int s_eval(lua_State *L)
{
    size_t len;
    const char *src = luaL_checklstring(L, 1, &len);
    if (luaL_loadbufferx(L, src, len, "=spec.eval", "t") != LUA_OK) {
        lua_createtable(L, 0, 3);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "done");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "ok");
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, "err");
        return 1;
    }
    lh_sandbox_new_env(L, lh_host_of(L));
    lua_setupvalue(L, -2, 1);
    lua_replace(L, 1);
    return spawn(L, lua_gettop(L) - 1);
}

/* ---- scripts on disk ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int mkdirs_for(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    return 0;
}

static int write_file(const char *dir, const char *rel, const char *src, size_t len)
{
    char path[1024];
    if (strstr(rel, "..") || rel[0] == '/')
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    mkdirs_for(path);
    /* Write beside and rename, as editors do, so a watcher never sees half. */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp~", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(src, 1, len, f);
    if (fclose(f) != 0 || n != len)
        return -1;
    return rename(tmp, path);
}

static const char *temp_scripts_dir(struct lh_host *h)
{
    struct spec_state *ss = h->spec;
    for (int i = 0; i < ss->ntmp; i++)
        if (strcmp(ss->tmpdirs[i], h->app->cfg.scripts) == 0)
            return ss->tmpdirs[i];
    return NULL;
}

static int push_reload(lua_State *L, struct lh_host *h)
{
    if (lh_reload(h, "spec") == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    return lh_fail(L, "%s", h->reload_error);
}

/* spec.use_scripts{["rules/x.lua"] = source, ...} -> true | nil, err
 * Points the host at a fresh scripts folder holding just these files and
 * reloads (err: the first problem, as file:line: message). */
static int s_use_scripts(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    struct spec_state *ss = h->spec;
    luaL_checktype(L, 1, LUA_TTABLE);
    if (ss->ntmp == SPEC_MAX_TMP)
        return luaL_error(L, "spec.use_scripts: too many script sets in one spec file");
    char *dir = ss->tmpdirs[ss->ntmp];
    snprintf(dir, 64, "/tmp/cw-spec-XXXXXX");
    if (!mkdtemp(dir))
        return luaL_error(L, "spec.use_scripts: cannot create a temporary folder");
    ss->ntmp++;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        size_t len;
        const char *rel = lua_tostring(L, -2), *src = lua_tolstring(L, -1, &len);
        if (!rel || !src || write_file(dir, rel, src, len) != 0)
            return luaL_error(L, "expected spec.use_scripts{[\"path.lua\"] = source}");
        lua_pop(L, 1);
    }
    free(h->app->cfg.scripts);
    h->app->cfg.scripts = strdup(dir);
    return push_reload(L, h);
}

/* spec.write(path, source) -> nil    changes a file of the spec.use_scripts
 * folder (no reload: call spec.reload) */
static int s_write(lua_State *L)
{
    size_t len;
    const char *rel = luaL_checkstring(L, 1), *src = luaL_checklstring(L, 2, &len);
    const char *dir = temp_scripts_dir(lh_host_of(L));
    if (!dir)
        return luaL_error(L, "spec.write: call spec.use_scripts first");
    if (write_file(dir, rel, src, len) != 0)
        return luaL_error(L, "spec.write: cannot write %s", rel);
    return 0;
}

/* spec.remove(path) -> nil    deletes a file of the spec.use_scripts folder */
static int s_remove(lua_State *L)
{
    const char *rel = luaL_checkstring(L, 1);
    const char *dir = temp_scripts_dir(lh_host_of(L));
    char path[1024];
    if (!dir || strstr(rel, ".."))
        return luaL_error(L, "spec.remove: call spec.use_scripts first");
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (unlink(path) != 0)
        return luaL_error(L, "spec.remove: no file %s", rel);
    return 0;
}

/* spec.reload() -> true | nil, err */
static int s_reload(lua_State *L)
{
    return push_reload(L, lh_host_of(L));
}

/* spec.config(name, table | nil) -> nil    the section `name` as config.lua
 * would give it (nil: none), from the next spec.reload/spec.use_scripts */
static int s_config(lua_State *L)
{
    struct config *c = &lh_host_of(L)->app->cfg;
    const char *name = luaL_checkstring(L, 1);
    char *json = NULL, err[512];
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        if (lh_config_section_json(L, 2, name, &json, err, sizeof err) != 0)
            return luaL_error(L, "spec.config: %s", err);
    }
    int rc = config_set_section(c, name, json);
    free(json);
    if (rc != 0)
        return luaL_error(L, "spec.config: out of memory");
    return 0;
}

/* ---- what the host did ---- */

/* spec.timers([script]) -> n    armed timers of the live generation */
static int s_timers(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    const char *script = luaL_optstring(L, 1, NULL);
    lua_Integer n = 0;
    for (struct lh_reg *r = h->gen ? h->gen->regs : NULL; r; r = r->next)
        if (r->kind == LH_REG_TIMER && r->timer &&
            (!script || (r->script >= 0 && strcmp(h->gen->scripts[r->script].name, script) == 0)))
            n++;
    lua_pushinteger(L, n);
    return 1;
}

/* spec.errors([script]) -> n    script errors counted so far */
static int s_errors(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    if (!lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, lh_errors_of(h, luaL_checkstring(L, 1)));
        return 1;
    }
    long n = 0;
    for (int i = 0; i < h->nstats; i++)
        n += h->stats[i].errors;
    lua_pushinteger(L, n);
    return 1;
}

/* spec.health() -> the /health document as a table */
static int s_health(lua_State *L)
{
    char *doc = health_json(&lh_host_of(L)->app->health), err[256];
    if (!doc)
        return luaL_error(L, "out of memory");
    int rc = lh_json_push(L, doc, strlen(doc), err, sizeof err);
    free(doc);
    if (rc != 0)
        return luaL_error(L, "spec.health: %s", err);
    return 1;
}

/* spec.intervals{"1h", "6h", ...} -> nil    the timeframes the config
 * watches from now on */
static int s_intervals(lua_State *L)
{
    struct config *c = &lh_host_of(L)->app->cfg;
    luaL_checktype(L, 1, LUA_TTABLE);
    int mask = 0;
    for (lua_Integer i = 1; lua_geti(L, 1, i) != LUA_TNIL; i++) {
        size_t n;
        const char *s = luaL_checklstring(L, -1, &n);
        int iv = interval_parse(s, n);
        if (iv < 0)
            return luaL_error(L, "spec.intervals: unknown interval \"%s\"", s);
        mask |= 1 << iv;
        lua_pop(L, 1);
    }
    c->exchange.intervals = mask;
    return 0;
}

/* spec.venues{"binance", "spot", ...} -> nil    the venues on from now on
 * (their config sections' enabled; no feed runs in a spec) */
static int s_venues(lua_State *L)
{
    struct config *c = &lh_host_of(L)->app->cfg;
    luaL_checktype(L, 1, LUA_TTABLE);
    int on[VENUE_COUNT] = {0};
    for (lua_Integer i = 1; lua_geti(L, 1, i) != LUA_TNIL; i++) {
        size_t n;
        const char *s = luaL_checklstring(L, -1, &n);
        int v = venue_parse(s, n);
        if (v < 0)
            return luaL_error(L, "spec.venues: unknown venue \"%s\"", s);
        on[v] = 1;
        lua_pop(L, 1);
    }
    c->exchange.enabled = on[VENUE_USDM];
    c->spot.enabled = on[VENUE_SPOT];
    c->bybit.enabled = on[VENUE_BYBIT];
    return 0;
}

/* spec.admins{chat_id, ...} -> nil    the config's admins from now on */
static int s_admins(lua_State *L)
{
    struct config *c = &lh_host_of(L)->app->cfg;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    long long *v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    if (!v)
        return luaL_error(L, "out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        v[i - 1] = (long long)luaL_checkinteger(L, -1);
        lua_pop(L, 1);
    }
    free(c->admins);
    c->admins = v;
    c->nadmins = (int)n;
    return 0;
}

/* spec.metrics() -> the /metrics text */
static int s_metrics(lua_State *L)
{
    char *text = app_metrics(lh_host_of(L)->app);
    if (!text)
        return luaL_error(L, "out of memory");
    lua_pushstring(L, text);
    free(text);
    return 1;
}

/* spec.logs() -> {{level =, component =, msg =}, ...}    everything logged */
static int s_logs(lua_State *L)
{
    struct spec_state *ss = spec_state_of(L);
    lua_createtable(L, ss->nlogs, 0);
    for (int i = 0; i < ss->nlogs; i++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, log_level_name(ss->logs[i].level));
        lua_setfield(L, -2, "level");
        lua_pushstring(L, ss->logs[i].component);
        lua_setfield(L, -2, "component");
        lua_pushstring(L, ss->logs[i].msg ? ss->logs[i].msg : "");
        lua_setfield(L, -2, "msg");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* spec.clear_logs() -> nil */
static int s_clear_logs(lua_State *L)
{
    struct spec_state *ss = spec_state_of(L);
    for (int i = 0; i < ss->nlogs; i++)
        free(ss->logs[i].msg);
    ss->nlogs = 0;
    return 0;
}

/* spec.limits{memory_mb =, instructions =} -> nil    the sandbox's limits */
static int s_limits(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getfield(L, 1, "memory_mb") != LUA_TNIL)
        h->mem_limit = (size_t)luaL_checkinteger(L, -1) << 20;
    if (lua_getfield(L, 1, "instructions") != LUA_TNIL)
        h->instr_limit = (long)luaL_checkinteger(L, -1);
    return 0;
}

/* ---- Telegram ---- */

/* spec.telegram_on() -> nil
 * Turns the Telegram side on with a test token; its Bot API calls go to
 * the HTTP stubs (spec.telegram() in the runner installs a fake).  Bot
 * handlers need it; registering commands does not. */
static int s_telegram_on(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    struct app *a = h->app;
    if (a->tg)
        return 0;
    if (!a->cfg.telegram.token)
        a->cfg.telegram.token = strdup("123456:SPEC-token");
    if (!(a->tg = app_tg_new(a)))
        return luaL_error(L, "spec: cannot start the Telegram side");
    lh_bot_attach(h);
    return 0;
}

/* spec.telegram_update(json) -> boolean: an update, as if from getUpdates */
static int s_telegram_update(lua_State *L)
{
    size_t n;
    const char *json = luaL_checklstring(L, 1, &n);
    struct lh_host *h = lh_host_of(L);
    if (!h->app->tg)
        return luaL_error(L, "spec: call spec.telegram() first");
    lua_pushboolean(L, tg_bot_receive(h->app->tg, json, n) == 0);
    if (advance(h, 0) != 0)   /* the handler runs until it waits or ends */
        return luaL_error(L, "spec: timers keep firing at the same instant");
    return 1;
}

/* spec.telegram_stats() -> the delivery scheduler's numbers */
static int s_telegram_stats(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    if (!h->app->tg)
        return luaL_error(L, "spec: call spec.telegram() first");
    struct tg_sched_stats st;
    tg_sched_stats(tg_bot_sched(h->app->tg), &st);
    lua_newtable(L);
    const struct {
        const char *k;
        long v;
    } f[] = {{"queued", st.queued},   {"sent", st.sent},     {"retried", st.retried},
             {"rate_limited", st.rate_limited}, {"failed", st.failed}, {"merged", st.merged},
             {"dropped_inactive", st.dropped_inactive}, {"depth", st.depth},
             {"blocked_chats", st.blocked_chats}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        lua_pushinteger(L, f[i].v);
        lua_setfield(L, -2, f[i].k);
    }
    return 1;
}

static const luaL_Reg funcs[] = {
    {"advance", s_advance},     {"now", s_now},
    {"run", s_run},             {"eval", s_eval},
    {"use_scripts", s_use_scripts}, {"write", s_write},
    {"remove", s_remove},       {"reload", s_reload},
    {"timers", s_timers},       {"errors", s_errors},
    {"logs", s_logs},           {"clear_logs", s_clear_logs},   {"health", s_health},
    {"metrics", s_metrics},     {"admins", s_admins},       {"intervals", s_intervals},
    {"venues", s_venues},
    {"limits", s_limits},       {"stub_http", lh_spec_stub_http},
    {"http_requests", lh_spec_http_requests},
    {"candle", lh_spec_candle}, {"history", lh_spec_history}, {"ranking", lh_spec_ranking},
    {"config", s_config},
    {"telegram_on", s_telegram_on}, {"telegram_update", s_telegram_update},
    {"telegram_stats", s_telegram_stats},
    {NULL, NULL},
};

int lh_open_spec(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}

extern const char spec_runner_lua[];

static void spec_cleanup(struct spec_state *ss)
{
    for (int i = 0; i < ss->ntmp; i++)
        nftw(ss->tmpdirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < ss->nlogs; i++)
        free(ss->logs[i].msg);
    lh_spec_http_cleanup(ss);
}

int lh_spec_file(struct lh_host *h, const char *file, int *number, int *failed)
{
    struct spec_state *ss = calloc(1, sizeof *ss);
    if (!ss)
        return -1;
    ss->h = h;
    h->spec = ss;
    lua_State *L = h->L;
    lua_newtable(L);
    ss->stubs_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    ss->requests_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    h->app->log.capture = capture;
    h->app->log.capture_ud = ss;
    h->app->httpc.stub = lh_spec_stub_transport;
    h->app->httpc.stub_ud = ss;

    int rc = -1;
    char err[4096];
    /* runner(file, first_number, api, spec) -> passed, failed */
    if (luaL_loadbufferx(L, spec_runner_lua, strlen(spec_runner_lua), "=spec_runner", "t") !=
        LUA_OK) {
        fprintf(stdout, "Bail out! spec runner: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        goto out;
    }
    lua_pushstring(L, file);
    lua_pushinteger(L, *number);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->api_ref);
    lh_open_spec(L);
    struct lh_ctx ctx = {.script = -1, .phase = LH_PHASE_NONE};
    if (lh_pcall(h, 4, 2, ctx, err, sizeof err) != 0) {
        fprintf(stdout, "Bail out! spec runner: %s\n", err);
        goto out;
    }
    int passed = (int)lua_tointeger(L, -2), nfailed = (int)lua_tointeger(L, -1);
    lua_pop(L, 2);
    *number += passed + nfailed;
    *failed += nfailed;
    rc = 0;
out:
    fflush(stdout);
    lh_tasks_cancel_all(h);
    h->app->log.capture = NULL;
    spec_cleanup(ss);
    luaL_unref(L, LUA_REGISTRYINDEX, ss->stubs_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ss->requests_ref);
    free(ss);
    h->spec = NULL;
    return rc;
}
