/* Internals of the Lua host, shared by the files of core/lua/ only.
 *
 * Design in brief (see also host.h):
 * - One lua_State.  Scripts never see its globals: each script runs in its
 *   own environment table whose reads fall back to a frozen API table
 *   (sandbox.c).  A generation is the set of script environments and their
 *   registrations (gen.c); several generations may be alive at once while
 *   old handlers finish.
 * - Every call into Lua goes through lh_pcall() (plain calls) or
 *   lh_task_resume() (handlers, which run as coroutines and may yield on
 *   I/O).  Both set the running context, the instruction budget and the
 *   memory limit, and report errors with a traceback.
 * - Lua never runs inside a curl, lws or libuv callback directly: a
 *   callback pushes its results onto the waiting coroutine and queues it;
 *   the queue is drained from a timer on the loop (task.c).
 */
#ifndef CW_LUA_INTERNAL_H
#define CW_LUA_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>

#include "app.h"
#include "lua/host.h"

enum lh_phase {
    LH_PHASE_NONE,      /* host or spec code, not a script */
    LH_PHASE_TOPLEVEL,  /* a script's top level: registrations only */
    LH_PHASE_HANDLER,   /* a handler task: everything allowed */
};

enum lh_reg_kind {
    LH_REG_TIMER, LH_REG_ON_START, LH_REG_COMMAND, LH_REG_CALLBACK, LH_REG_STEP, LH_REG_RULE
};

#define LH_REG_ADMIN 1        /* commands: the bot's operators only */
#define LH_REG_GROUP_ADMIN 2  /* commands, callbacks, steps: in groups, the group's admins only */

struct lh_gen;
struct lh_task;

struct lh_reg {
    struct lh_reg *next;
    enum lh_reg_kind kind;
    int script;             /* index into gen->scripts */
    int fn_ref;             /* registry ref of the handler function */
    uint64_t id;            /* timer id as scripts see it */
    uint64_t interval_ms;   /* timers */
    int repeat;
    struct timer *timer;    /* armed timer, or NULL */
    struct lh_gen *gen;
    char *name;             /* commands, callbacks, steps */
    char *desc;             /* commands: for /help and the menu */
    int flags;              /* LH_REG_ADMIN, LH_REG_GROUP_ADMIN; rules: 1 forming, 2 close */
};

struct lh_script {
    char *name;             /* relative to the scripts folder: "rules/x.lua" */
    char *chunkname;        /* "@scripts/rules/x.lua": what tracebacks show */
    int nregs, ntimers;     /* its registrations, and of them its timers */
};

/* Registrations of one generation, all scripts and kinds together, and the
 * timers one script may have pending: beyond, a clear error, not a stalled
 * reload or a timer storm. */
#define LH_MAX_REGS 5000
#define LH_MAX_TIMERS 1000

struct lh_gen {
    struct lh_host *host;
    int id;
    int refs;               /* the host while live, plus each running task */
    int live;
    struct lh_script *scripts;
    int nscripts;
    struct lh_reg *regs;
    int nregs;
    int loaded_ref;         /* table: required lib modules of this generation */
    char *dirs[CONFIG_SCRIPT_DIRS]; /* the scripts folders it was built from, */
    int ndirs;                      /* searched in order, per file */
    struct lh_decl *decls;  /* config sections declared (host.config) */
    int ndecls;
    char section_error[400];/* the first error in a section's value: the config's */
};

struct lh_decl {
    char *name;
    char *file;             /* whose top level declared it: "lib/gas_config.lua" */
    int failed;             /* that top level then failed: it may run and declare again */
};

struct lh_ctx {
    struct lh_gen *gen;
    int script;             /* index in gen->scripts, or -1 */
    enum lh_phase phase;
    struct lh_task *task;
};

struct lh_stat {
    char *script;
    long errors;
    char last_error[512];
};

struct lh_host {
    struct app *app;
    lua_State *L;
    enum lh_mode mode;

    size_t mem_used, mem_limit;
    int mem_enforce;
    long instr_limit, budget;
    int budget_on;
    /* C stack: where the outermost script call entered it, and how much of
     * it nested coroutine runs may use (sandbox.c) */
    uintptr_t cstack_base;
    size_t cstack_max;

    struct lh_ctx cur;
    struct lh_gen *gen;     /* live generation, or NULL */
    int next_gen_id;
    uint64_t next_timer_id;
    int api_ref;            /* the frozen API root table */
    int loaded_sentinel_ref;

    struct lh_task *tasks;  /* every task not yet finished */
    struct lh_task *ready, *ready_tail;
    struct timer *drain_timer;
    struct timer *reload_timer;
    uint64_t last_reload_ms;
    char reload_why[64];

    struct lh_stat *stats;
    int nstats;
    size_t stats_cap;
    int last_stat;          /* 1 + the index of the script that failed last; 0: none */
    char reload_error[1024];

    /* config.lua's script sections after the last build: LH_SECTIONS_* */
    int sections;
    char section_error[400];

    struct lh_bot_port bot; /* dispatch's Telegram side (reply NULL: none attached) */
    void *spec;             /* spec runner state (spec.c) */
    struct lh_metrics *metrics;   /* scripts' own metrics (mod_metrics.c) */
};

/* The host owning a Lua state (kept in the main thread's extra space, which
 * every coroutine inherits). */
static inline struct lh_host *lh_host_of(lua_State *L)
{
    return *(struct lh_host **)lua_getextraspace(L);
}

/* host.c: calls and errors */
int lh_pcall(struct lh_host *h, int nargs, int nres, struct lh_ctx ctx, char *err,
             size_t errlen);
void lh_enter(struct lh_host *h, lua_State *L, struct lh_ctx ctx, struct lh_ctx *saved);
/* The same with a budget of its own (what a call left, for its cleanup). */
void lh_enter_budget(struct lh_host *h, lua_State *L, struct lh_ctx ctx, struct lh_ctx *saved,
                     long budget);
/* Whether the running script call has spent its instruction budget: then
 * no more of its code may run (the limit error leaves hooks off in the
 * thread it struck, so code run on that thread's behalf would be unbounded). */
int lh_budget_spent(const struct lh_host *h);
/* Spends instructions' worth of the budget on work done in C (pattern
 * matching); raises the limit error when that spends it all. */
void lh_budget_charge(lua_State *L, double instructions);
/* After L ran another coroutine: if that spent the budget, L stops at its
 * next instruction too (not up to a hook step later). */
void lh_budget_rearm(lua_State *L);
void lh_leave(struct lh_host *h, struct lh_ctx saved);
void lh_report(struct lh_host *h, struct lh_gen *gen, int script, const char *what,
               const char *msg);
const char *lh_script_name(const struct lh_ctx *ctx);
long lh_errors_of(struct lh_host *h, const char *script);
/* Turns a failed call's status and message into the text to report. */
void lh_error_text(struct lh_host *h, int status, const char *msg, char *out, size_t len);
/* A binding's failure as its results: nil and the message (a
 * lua_pushfstring format); returns 2. */
int lh_fail(lua_State *L, const char *fmt, ...);
/* Raises a phase error unless the running code may do `what` now. */
void lh_require_phase(lua_State *L, const char *what, enum lh_phase need);

/* sandbox.c */
#define LH_TASK_THREADS "cw.task_threads"   /* registry: weak set of handler threads */
#define LH_LIMIT_DEAD "cw.limit_dead"       /* registry: weak {coroutine = error} */
/* C stack that nested coroutine.resume/close/wrap calls may use (at most a
 * quarter of the stack's rlimit) */
#define LH_CSTACK_MAX (1024 * 1024)
void lh_sandbox_open(struct lh_host *h);
void lh_sandbox_new_env(lua_State *L, struct lh_host *h);   /* pushes env */
/* Pushes the compiled chunk (with a fresh sandbox env) onto L. */
int lh_load_file(lua_State *L, struct lh_host *h, const char *path, const char *chunkname,
                 char *err, size_t errlen);
int lh_require(lua_State *L);

/* readonly.c: read-only views of shared tables.  lh_freeze replaces the
 * table on top of the stack with a read-only proxy (name: for the error);
 * lh_lib_proxy replaces a table on top with its deep lib-module proxy
 * (set up once by lh_lib_proxy_open); lh_weak_registry stores a new
 * weak-keyed table in the registry under name. */
void lh_freeze(lua_State *L, const char *name);
void lh_lib_proxy(lua_State *L);
void lh_lib_proxy_open(lua_State *L);
void lh_weak_registry(lua_State *L, const char *name);

/* pattern.c: the most steps Lua's matcher may take for pattern p on the
 * subject s (anchor_ok: a leading '^' anchors, as in find, match and gsub;
 * not in gmatch). */
#define LH_PATTERN_MAX_STEPS 1e8
/* A script's matching costs it one instruction of its budget per this many
 * steps (the worst case), so a loop of matches is bounded too. */
#define LH_PATTERN_STEPS_PER_INSTR 32
/* sandbox.c: string.find/match/gmatch/gsub refusing a pattern that costs
 * more (upvalues: the real function, its name, and true to charge the
 * budget); config.lua's too. */
int lh_pattern_guard(lua_State *L);
double lh_pattern_cost(const char *p, size_t plen, const char *s, size_t slen, int anchor_ok);

/* lconfig.c: the table at idx (a script's section `name` of config.lua)
 * as a JSON object into *json (malloc'd): booleans, finite numbers,
 * strings and lists of them.  0, or -1 with a message naming the key. */
int lh_config_section_json(lua_State *L, int idx, const char *name, char **json, char *err,
                           size_t errlen);

/* gen.c */
void lh_gen_retain(struct lh_gen *g);
void lh_gen_release(struct lh_gen *g);
/* Records a registration; the handler function is at fn_idx of L (the
 * calling thread, which may be a handler's coroutine).  Raises past
 * LH_MAX_REGS or LH_MAX_TIMERS. */
struct lh_reg *lh_reg_add(lua_State *L, struct lh_gen *g, enum lh_reg_kind kind, int script,
                          int fn_idx);
void lh_reg_remove(struct lh_gen *g, struct lh_reg *r);
void lh_timer_arm(struct lh_reg *r);
int lh_gen_find_script(struct lh_gen *g, const char *name);
/* The path of rel ("lib/x.lua") in the first of g's folders holding it
 * (the first folder's when none does), into out. */
void lh_gen_path(const struct lh_gen *g, const char *rel, char *out, size_t len);
/* src ("@dir/rel" or "dir/rel") without the folder of g it is in. */
const char *lh_gen_rel(const struct lh_gen *g, const char *src);
/* The config sections declared in g: the file that declared name (or
 * NULL); whether file may declare name (no one has, or file did and then
 * failed); records a declaration (0, or -1 out of memory); marks file's
 * declarations failed (a lib module that failed after host.config: the
 * next require runs it again). */
const char *lh_gen_declared(const struct lh_gen *g, const char *name);
int lh_gen_may_declare(const struct lh_gen *g, const char *name, const char *file);
int lh_gen_declare(struct lh_gen *g, const char *name, const char *file);
void lh_gen_decls_failed(struct lh_gen *g, const char *file);

/* hconfig.c: host.config; whether s is a section's or key's name there
 * (a-z first, then a-z 0-9 _, at most max bytes). */
int lh_host_config(lua_State *L);
int lh_config_name_ok(const char *s, size_t max);

/* task.c */
typedef void (*lh_task_done)(void *ud, lua_State *co, int ok, int nres, const char *err);
/* Takes [fn, args...] from the top of h->L into a new coroutine and queues
 * it; done (optional) sees the results on co's stack when it returns, or
 * co == NULL when the task is cancelled at shutdown (then it only frees
 * what ud owns).  Out of Lua memory it raises, holding no C memory. */
struct lh_task *lh_task_spawn(struct lh_host *h, struct lh_gen *g, int script, int nargs,
                              lh_task_done done, void *ud);
/* Called by a binding just before lua_yield: the task now waits. */
struct lh_task *lh_task_current(lua_State *L);
/* The Telegram update a task handles: its log lines name it. */
void lh_task_set_update(struct lh_task *t, int64_t update_id);
/* The update the task handles: 0 for none, or when t is NULL. */
int64_t lh_task_update(const struct lh_task *t);
/* Results for a waiting task are on its stack; queue it to resume. */
void lh_task_wake(struct lh_task *t, int nargs);
lua_State *lh_task_thread(struct lh_task *t);
/* A binding is about to yield the task until lh_task_wake(); cancel (may be
 * NULL) stops the operation if the task is dropped meanwhile. */
void lh_task_wait(struct lh_task *t, void (*cancel)(void *ud), void *ud);
void lh_tasks_cancel_all(struct lh_host *h);
void lh_tasks_drain(struct lh_host *h);

/* Module openers (mod_*.c), each pushes its module table. */
int lh_open_log(lua_State *L);
int lh_open_timer(lua_State *L);
int lh_open_http(lua_State *L);
int lh_open_json(lua_State *L);
int lh_open_store(lua_State *L);
int lh_open_host(lua_State *L);
/* host.health (host_health.c) */
int lh_host_health(lua_State *L);
int lh_open_spec(lua_State *L);
int lh_open_candles(lua_State *L);
int lh_open_bot(lua_State *L);

int lh_open_alerts(lua_State *L);
int lh_open_metrics(lua_State *L);
int lh_open_decimal(lua_State *L);
int lh_open_chart(lua_State *L);
/* modules.c: the modules scripts see.  open pushes the module's table;
 * on_live (or NULL) hears that a generation went live. */
struct lh_module {
    const char *name;
    lua_CFunction open;
    void (*on_live)(struct lh_host *h, struct lh_gen *g);
};
extern const struct lh_module lh_modules[];   /* ends with {NULL} */

/* mod_candles.c: a candle as a fresh table */
void lh_push_candle(lua_State *L, struct market *m, const struct candle *c);
/* mod_rules.c: a generation went live (the engine evaluates its rules). */
void lh_alerts_live(struct lh_host *h, struct lh_gen *g);
/* mod_rules.c: the alerts module's rule half (alerts.rule, alerts.rules),
 * and its state in the registry (lh_rules_open, when the module opens). */
void lh_rules_open(lua_State *L);
int lh_alerts_rule(lua_State *L);
int lh_alerts_rules(lua_State *L);
int lh_alerts_indicators(lua_State *L);
/* Before the state closes: the rules' timer goes. */
void lh_rules_close(lua_State *L);
/* The preset's rule's check(params), when it has one: 0, or -1 with the
 * sentence for the user in msg (runs in the calling handler). */
struct preset;
int lh_rules_check(lua_State *L, const struct preset *p, char *msg, size_t len);
int lh_alerts_evaluate(lua_State *L);
/* mod_alerts.c: the engine, or a Lua error naming usage. */
struct alert_engine;
struct alert_engine *lh_alerts_engine(lua_State *L, const char *usage);
/* mod_bot.c: a generation went live (the command menu follows it). */
void lh_bot_live(struct lh_host *h, struct lh_gen *g);

/* json helpers shared with store (mod_json.c).  Both may raise a Lua
 * error (the memory limit) after freeing their own C memory: callers must
 * hold no C allocation across them. */
char *lh_json_encode(lua_State *L, int idx, size_t max, char *err, size_t errlen);
/* The bytes of JSON text the running script may still make: what is left
 * under its memory limit (the C side must not hold more than it could). */
size_t lh_json_room(lua_State *L);
/* The most a stored value (store.set, a chat's ctx.state) may be, as JSON. */
#define LH_STORE_MAX_VALUE (1024 * 1024)
int lh_json_push(lua_State *L, const char *text, size_t len, char *err, size_t errlen);

#endif
