/* Handler tasks: each handler runs in its own coroutine, so a handler that
 * waits on I/O (http.get) is suspended and blocks nobody.
 *
 * A binding that must wait calls lh_task_current(), starts its operation,
 * and returns lua_yield(L, 0).  When the operation completes (in a curl or
 * libuv callback) it pushes its results onto the task's thread and calls
 * lh_task_wake(); the task is queued and resumed from a loop timer, never
 * from inside the callback.
 *
 *   stack of a task's thread:  [fn, args...]  -> resume -> (yield) ...
 *                              [results...]   -> wake   -> resume with them
 */
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "store/store.h"

enum task_state { TASK_READY, TASK_WAITING, TASK_RUNNING };

struct lh_task {
    struct lh_host *h;
    struct lh_gen *gen;
    int script;
    lua_State *co;
    int co_ref;
    int nargs;               /* values on co's stack to resume with */
    int started;
    int waiting;             /* yielded through a host call that will wake it */
    enum task_state state;
    lh_task_done done;
    void *done_ud;
    void (*cancel)(void *ud); /* stops what the task waits on */
    void *cancel_ud;
    struct lh_task *next_ready;
    struct lh_task *prev, *next;   /* all tasks of the host */
    int64_t update_id;             /* the Telegram update it handles, or 0 */
    long budget_left;              /* what its last run left, for closing */
    int limit_hit;                 /* it died of the instruction limit */
};

static struct lh_task **all_tasks(struct lh_host *h)
{
    return &h->tasks;
}

static void drain_due(void *ud)
{
    struct lh_host *h = ud;
    h->drain_timer = NULL;
    lh_tasks_drain(h);
}

static void queue_ready(struct lh_task *t)
{
    struct lh_host *h = t->h;
    t->state = TASK_READY;
    t->next_ready = NULL;
    if (h->ready_tail)
        h->ready_tail->next_ready = t;
    else
        h->ready = t;
    h->ready_tail = t;
    if (!h->drain_timer)
        h->drain_timer = timers_add(&h->app->timers, app_now_ms(h->app), drain_due, h);
}

struct lh_task *lh_task_spawn(struct lh_host *h, struct lh_gen *g, int script, int nargs,
                              lh_task_done done, void *ud)
{
    lua_State *L = h->L;
    /* the Lua side first: if it raises (out of memory), no C memory is held */
    lua_State *co = lua_newthread(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LH_TASK_THREADS);   /* mark it: scripts may */
    lua_pushvalue(L, -2);                                  /* not resume or close it */
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    int co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    struct lh_task *t = calloc(1, sizeof *t);
    if (!t) {
        luaL_unref(L, LUA_REGISTRYINDEX, co_ref);
        lua_pop(L, nargs + 1);
        return NULL;
    }
    t->h = h;
    t->gen = g;
    t->script = script;
    t->done = done;
    t->done_ud = ud;
    t->co = co;
    t->co_ref = co_ref;
    lua_xmove(L, t->co, nargs + 1);      /* fn and its args */
    t->nargs = nargs;
    lh_gen_retain(g);
    struct lh_task **head = all_tasks(h);
    t->next = *head;
    if (*head)
        (*head)->prev = t;
    *head = t;
    queue_ready(t);
    return t;
}

static void task_free(struct lh_task *t)
{
    struct lh_host *h = t->h;
    /* Closing runs the handler's pending __close methods, under what its
     * budget left; not at all when the limit killed it: the limit error
     * leaves hooks off in the thread, so they would run unbounded. */
    if (!t->limit_hit) {
        struct lh_ctx ctx = {.gen = t->gen, .script = t->script, .phase = LH_PHASE_HANDLER,
                             .task = t};
        struct lh_ctx saved;
        lh_enter_budget(h, t->co, ctx, &saved, t->started ? t->budget_left : h->instr_limit);
        lua_resetthread(t->co);
        lh_leave(h, saved);
    }
    struct lh_task **head = all_tasks(h);
    if (t->prev)
        t->prev->next = t->next;
    else
        *head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    luaL_unref(h->L, LUA_REGISTRYINDEX, t->co_ref);
    lh_gen_release(t->gen);
    free(t);
}

/* Ends a task that cannot go on, as a failed handler. */
static void task_fail(struct lh_task *t, const char *why)
{
    lh_report(t->h, t->gen, t->script, "handler", why);
    if (t->done)
        t->done(t->done_ud, t->co, 0, 0, why);
    task_free(t);
}

static void task_resume(struct lh_task *t)
{
    struct lh_host *h = t->h;
    /* Only a task that is starting, or that a host call suspended, may go
     * on (defence in depth: scripts cannot resume handler threads). */
    if ((t->started && lua_status(t->co) != LUA_YIELD) || lua_gettop(t->co) < t->nargs) {
        task_fail(t, "the handler's coroutine was disturbed; it cannot go on");
        return;
    }
    struct lh_ctx ctx = {.gen = t->gen, .script = t->script, .phase = LH_PHASE_HANDLER,
                         .task = t};
    struct lh_ctx saved;
    int nres = 0;
    t->state = TASK_RUNNING;
    t->started = 1;
    t->waiting = 0;
    /* what this run writes is rolled back if it fails (all or nothing) */
    int sp = h->app->store ? store_handler_begin(h->app->store) : 0;
    lh_enter(h, t->co, ctx, &saved);
    int64_t outer = h->app->log.update_id;   /* log lines name the update it handles */
    h->app->log.update_id = t->update_id;
    int st = lua_resume(t->co, h->L, t->nargs, &nres);
    t->budget_left = h->budget;
    t->limit_hit = st != LUA_OK && st != LUA_YIELD && lh_budget_spent(h);
    if (sp)   /* (a bare coroutine.yield fails it, below) */
        store_handler_end(h->app->store, sp, st == LUA_OK || (st == LUA_YIELD && t->waiting));
    char msg[2048], err[4096] = "";
    if (st != LUA_OK && st != LUA_YIELD)   /* named while the context is current */
        lh_error_text(h, st, lua_type(t->co, -1) == LUA_TSTRING ? lua_tostring(t->co, -1) : NULL,
                      msg, sizeof msg);
    /* Leave first: the traceback allocates, and must not hit the limit. */
    lh_leave(h, saved);
    if (st != LUA_OK && st != LUA_YIELD) {
        int enforce = h->mem_enforce;   /* (a task run within another's call: spec.run) */
        h->mem_enforce = 0;
        luaL_traceback(h->L, t->co, msg, 0);
        snprintf(err, sizeof err, "%s", lua_tostring(h->L, -1));
        lua_pop(h->L, 1);
        h->mem_enforce = enforce;
    }
    t->nargs = 0;
    if (st == LUA_YIELD) {
        lua_pop(t->co, nres);
        if (!t->waiting)
            task_fail(t, "coroutine.yield() in a handler: a handler waits only through host "
                         "calls such as http.get; use coroutines of your own to yield");
        else
            t->state = TASK_WAITING;
        h->app->log.update_id = outer;
        return;
    }
    if (st != LUA_OK)   /* (still naming the update) */
        lh_report(h, t->gen, t->script, "handler", err);
    if (t->done)
        t->done(t->done_ud, t->co, st == LUA_OK, st == LUA_OK ? nres : 0,
                st == LUA_OK ? NULL : err);
    h->app->log.update_id = outer;
    /* What a handler wrote is durable once it returns, together with what
     * its done callback wrote (a Telegram update marked handled). */
    if (h->app->store)
        store_commit(h->app->store);
    task_free(t);
}

void lh_tasks_drain(struct lh_host *h)
{
    while (h->ready) {
        struct lh_task *t = h->ready;
        h->ready = t->next_ready;
        if (!h->ready)
            h->ready_tail = NULL;
        task_resume(t);
    }
}

struct lh_task *lh_task_current(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    struct lh_task *t = h->cur.task;
    if (!t || t->co != L || !lua_isyieldable(L))
        return NULL;
    return t;
}

lua_State *lh_task_thread(struct lh_task *t)
{
    return t->co;
}

void lh_task_wait(struct lh_task *t, void (*cancel)(void *ud), void *ud)
{
    t->waiting = 1;
    t->cancel = cancel;
    t->cancel_ud = ud;
}

void lh_task_wake(struct lh_task *t, int nargs)
{
    t->cancel = NULL;
    t->nargs = nargs;
    queue_ready(t);
}

void lh_tasks_cancel_all(struct lh_host *h)
{
    h->ready = h->ready_tail = NULL;
    struct lh_task **head = all_tasks(h);
    while (*head) {
        struct lh_task *t = *head;
        if (t->cancel)
            t->cancel(t->cancel_ud);
        if (t->done)   /* (co NULL: cancelled, only the owner's memory to free) */
            t->done(t->done_ud, NULL, 0, 0, NULL);
        task_free(t);
    }
}

int lh_running(struct lh_host *h)
{
    int n = 0;
    for (struct lh_task *t = h ? h->tasks : NULL; t; t = t->next)
        n++;
    return n;
}

void lh_task_set_update(struct lh_task *t, int64_t update_id)
{
    t->update_id = update_id;
}

int64_t lh_task_update(const struct lh_task *t)
{
    return t ? t->update_id : 0;
}
