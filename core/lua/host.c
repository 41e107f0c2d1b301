/* The host core: the Lua state, its limits, and the one way into Lua.
 *
 * Limits.  A custom allocator refuses growth past cfg.lua.memory_mb while
 * script code runs (host work is never refused, so the host cannot be
 * wedged by a script's garbage).  A count hook spends an instruction budget
 * that is reset on every entry into a script; once spent, the hook raises
 * on every following instruction, so a script that catches the error with
 * pcall is stopped at its next step outside the pcall.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lua/internal.h"
#include "store/store.h"
#include "util/grow.h"

#define HOOK_STEP 1000

static void *lh_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct lh_host *h = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->mem_used -= old;
        return NULL;
    }
    if (h->mem_enforce && nsize > old && h->mem_used + (nsize - old) > h->mem_limit)
        return NULL;
    void *np = realloc(ptr, nsize);
    if (np)
        h->mem_used = h->mem_used - old + nsize;
    return np;
}

/* How much C stack nested coroutine runs may use: Lua 5.4.4 does not count
 * the C calls of coroutine.close (closing runs __close, which may close
 * another coroutine...), so without this a script could overflow it. */
static size_t cstack_max(void)
{
    struct rlimit rl;
    size_t max = LH_CSTACK_MAX;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur / 4 < max)
        max = rl.rlim_cur / 4;
    return max;
}

static void lh_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct lh_host *h = lh_host_of(L);
    if (!h->budget_on)
        return;
    h->budget -= HOOK_STEP;
    if (h->budget <= 0) {
        lua_sethook(L, lh_hook, LUA_MASKCOUNT, 1);
        /* Level 0 in a hook is the running function: its file:line. */
        luaL_where(L, 0);
        lua_pushfstring(L, "instruction limit of %I exceeded", (LUAI_UACINT)h->instr_limit);
        lua_concat(L, 2);
        lua_error(L);
    }
}

const char *lh_script_name(const struct lh_ctx *ctx)
{
    if (!ctx->gen || ctx->script < 0)
        return "host";
    return ctx->gen->scripts[ctx->script].name;
}

void lh_enter_budget(struct lh_host *h, lua_State *L, struct lh_ctx ctx, struct lh_ctx *saved,
                     long budget)
{
    *saved = h->cur;
    h->cur = ctx;
    int script = ctx.phase != LH_PHASE_NONE;
    if (script && saved->phase == LH_PHASE_NONE)   /* the outermost script call */
        h->cstack_base = (uintptr_t)__builtin_frame_address(0);
    h->budget_on = script;
    h->mem_enforce = script;
    h->budget = budget;
    lua_sethook(L, lh_hook, LUA_MASKCOUNT, budget > 0 ? HOOK_STEP : 1);
}

void lh_enter(struct lh_host *h, lua_State *L, struct lh_ctx ctx, struct lh_ctx *saved)
{
    lh_enter_budget(h, L, ctx, saved, h->instr_limit);
}

int lh_budget_spent(const struct lh_host *h)
{
    return h->budget_on && h->budget <= 0;
}

void lh_budget_charge(lua_State *L, double instructions)
{
    struct lh_host *h = lh_host_of(L);
    if (!h->budget_on)
        return;
    h->budget = instructions < (double)h->budget ? h->budget - (long)instructions : 0;
    if (h->budget > 0)
        return;
    lua_sethook(L, lh_hook, LUA_MASKCOUNT, 1);
    luaL_where(L, 1);
    lua_pushfstring(L, "instruction limit of %I exceeded", (LUAI_UACINT)h->instr_limit);
    lua_concat(L, 2);
    lua_error(L);
}

void lh_budget_rearm(lua_State *L)
{
    if (lh_budget_spent(lh_host_of(L)))
        lua_sethook(L, lh_hook, LUA_MASKCOUNT, 1);
}

void lh_leave(struct lh_host *h, struct lh_ctx saved)
{
    h->cur = saved;
    int script = saved.phase != LH_PHASE_NONE;
    h->budget_on = script;
    h->mem_enforce = script;
}

void lh_error_text(struct lh_host *h, int status, const char *msg, char *out, size_t len)
{
    if (status == LUA_ERRMEM || (msg && strstr(msg, "not enough memory")))
        snprintf(out, len, "%s: memory limit of %zu MiB exceeded", lh_script_name(&h->cur),
                 h->mem_limit >> 20);
    else
        snprintf(out, len, "%s", msg ? msg : "(error object is not a string)");
}

/* Message handler: the error text plus a traceback (as lua.c does). */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int lh_pcall(struct lh_host *h, int nargs, int nres, struct lh_ctx ctx, char *err,
             size_t errlen)
{
    lua_State *L = h->L;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    struct lh_ctx saved;
    lh_enter(h, L, ctx, &saved);
    int st = lua_pcall(L, nargs, nres, base);
    if (st != LUA_OK)
        lh_error_text(h, st, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL, err,
                      errlen);
    lh_leave(h, saved);
    lua_remove(L, base);
    if (st != LUA_OK) {
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

int lh_fail(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    luaL_pushfail(L);
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return 2;
}

void lh_require_phase(lua_State *L, const char *what, enum lh_phase need)
{
    struct lh_host *h = lh_host_of(L);
    if (h->cur.phase == LH_PHASE_TOPLEVEL && need != LH_PHASE_TOPLEVEL) {
        char name[64];   /* "store.set(scope, key)" -> "store.set" */
        snprintf(name, sizeof name, "%.*s", (int)strcspn(what, "("), what);
        luaL_error(L, "%s is not available at a script's top level, which may only "
                      "register things; call it from a handler",
                   name);
    }
    if (need == LH_PHASE_TOPLEVEL && h->cur.phase != LH_PHASE_TOPLEVEL)
        luaL_error(L, "%s may only be called at a script's top level", what);
}

static struct lh_stat *stat_for(struct lh_host *h, const char *script)
{
    for (int i = 0; i < h->nstats; i++)
        if (strcmp(h->stats[i].script, script) == 0)
            return &h->stats[i];
    struct lh_stat *ns = grow(h->stats, &h->stats_cap, (size_t)h->nstats + 1, sizeof *ns);
    if (!ns)
        return NULL;
    h->stats = ns;
    struct lh_stat *s = &ns[h->nstats++];
    memset(s, 0, sizeof *s);
    s->script = strdup(script);
    return s->script ? s : NULL;
}

/* One log line per error: the traceback's lines are joined. */
void lh_report(struct lh_host *h, struct lh_gen *gen, int script, const char *what,
               const char *msg)
{
    const char *name = gen && script >= 0 ? gen->scripts[script].name : "host";
    struct lh_stat *s = stat_for(h, name);
    if (s) {
        s->errors++;
        snprintf(s->last_error, sizeof s->last_error, "%s", msg);
        char *nl = strchr(s->last_error, '\n');
        if (nl)
            *nl = '\0';
        log_mask_all(&h->app->log, s->last_error);   /* (it reaches the admins) */
        h->last_stat = (int)(s - h->stats) + 1;
    }
    char line[4096];
    size_t j = 0;
    for (size_t i = 0; msg[i] && j + 4 < sizeof line; i++) {
        if (msg[i] == '\n') {
            line[j++] = ' ';
            line[j++] = '|';
            line[j++] = ' ';
            while (msg[i + 1] == '\t')
                i++;
        } else {
            line[j++] = msg[i];
        }
    }
    line[j] = '\0';
    log_error(&h->app->log, "scripts", "%s failed in %s: %s", what, name, line);
}

long lh_errors_total(struct lh_host *h)
{
    long n = 0;
    for (int i = 0; i < h->nstats; i++)
        n += h->stats[i].errors;
    return n;
}

const char *lh_last_error(struct lh_host *h)
{
    return h->last_stat > 0 && h->last_stat <= h->nstats ? h->stats[h->last_stat - 1].last_error
                                                         : "";
}

long lh_errors_of(struct lh_host *h, const char *script)
{
    for (int i = 0; i < h->nstats; i++)
        if (strcmp(h->stats[i].script, script) == 0)
            return h->stats[i].errors;
    return 0;
}

static int lh_panic(lua_State *L)
{
    fprintf(stderr, "candlewatch: unprotected Lua error: %s\n", lua_tostring(L, -1));
    abort();
}

struct lh_host *lh_new(struct app *app, enum lh_mode mode)
{
    struct lh_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->app = app;
    h->mode = mode;
    h->mem_limit = (size_t)app->cfg.lua.memory_mb << 20;
    h->instr_limit = app->cfg.lua.instruction_limit;
    h->cstack_max = cstack_max();
    h->cur.script = -1;
    h->next_timer_id = 1;
    h->L = lua_newstate(lh_alloc, h);
    if (!h->L) {
        free(h);
        return NULL;
    }
    *(struct lh_host **)lua_getextraspace(h->L) = h;
    lua_atpanic(h->L, lh_panic);
    lh_sandbox_open(h);
    return h;
}

void lh_free(struct lh_host *h)
{
    if (!h)
        return;
    if (h->reload_timer)
        timers_cancel(&h->app->timers, h->reload_timer);
    lh_tasks_cancel_all(h);
    if (h->gen) {
        struct lh_gen *g = h->gen;
        h->gen = NULL;
        g->live = 0;
        lh_gen_release(g);
    }
    if (h->drain_timer)
        timers_cancel(&h->app->timers, h->drain_timer);
    lh_rules_close(h->L);
    lua_close(h->L);
    for (int i = 0; i < h->nstats; i++)
        free(h->stats[i].script);
    free(h->stats);
    free(h->metrics);
    free(h);
}

int lh_generation(const struct lh_host *h)
{
    return h->gen ? h->gen->id : 0;
}

int lh_script_count(const struct lh_host *h)
{
    return h->gen ? h->gen->nscripts : 0;
}

size_t lh_memory(const struct lh_host *h)
{
    return h->mem_used;
}
