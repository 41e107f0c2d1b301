/* Script generations: build, validate, swap, retire.
 *
 * A reload builds a complete new generation (every script compiled into its
 * own environment, its top level run to record registrations) beside the
 * live one.  Only when all of it succeeded does it go live, in one step:
 * the old generation's timers are cancelled, the new one's armed, and its
 * on_start hooks run.  The old generation is freed when the last handler
 * still running on it returns.  On any failure the new generation is
 * dropped and the old one keeps serving.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/internal.h"
#include "util/grow.h"

struct names {
    char **v;
    int n;
    size_t cap;
};

static int names_add(struct names *ns, const char *s)
{
    char **v = grow(ns->v, &ns->cap, (size_t)ns->n + 1, sizeof *v);
    if (!v)
        return -1;
    ns->v = v;
    return (ns->v[ns->n++] = strdup(s)) ? 0 : -1;
}

static void names_free(struct names *ns)
{
    for (int i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Collects *.lua below dir (relative names), skipping hidden files. */
static void scan(const char *root, const char *rel, struct names *out, int depth)
{
    char path[2048];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d || depth > 8) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[2048], full[4096];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            scan(root, sub, out, depth + 1);
        else if (S_ISREG(st.st_mode) && ends_with(de->d_name, ".lua"))
            names_add(out, sub);
    }
    closedir(d);
}

static char *clean_dir(const char *dir)
{
    while (dir[0] == '.' && dir[1] == '/')
        dir += 2;
    char *d = strdup(dir);
    size_t n = d ? strlen(d) : 0;
    while (n > 1 && d[n - 1] == '/')
        d[--n] = '\0';
    return d;
}

void lh_gen_retain(struct lh_gen *g)
{
    g->refs++;
}

static void reg_disarm(struct lh_host *h, struct lh_reg *r)
{
    if (r->timer) {
        timers_cancel(&h->app->timers, r->timer);
        r->timer = NULL;
    }
}

static void gen_free(struct lh_gen *g)
{
    struct lh_host *h = g->host;
    while (g->regs)
        lh_reg_remove(g, g->regs);
    luaL_unref(h->L, LUA_REGISTRYINDEX, g->loaded_ref);
    for (int i = 0; i < g->nscripts; i++) {
        free(g->scripts[i].name);
        free(g->scripts[i].chunkname);
    }
    for (int i = 0; i < g->ndecls; i++) {
        free(g->decls[i].name);
        free(g->decls[i].file);
    }
    free(g->decls);
    free(g->scripts);
    for (int i = 0; i < g->ndirs; i++)
        free(g->dirs[i]);
    free(g);
}

void lh_gen_release(struct lh_gen *g)
{
    if (--g->refs == 0)
        gen_free(g);
}

/* Raises unless script may register one more thing of this kind. */
static void reg_check_room(lua_State *L, struct lh_gen *g, enum lh_reg_kind kind, int script)
{
    struct lh_script *sc = &g->scripts[script];
    if (kind == LH_REG_TIMER && sc->ntimers >= LH_MAX_TIMERS)
        luaL_error(L, "%s has %d timers pending, the most a script may have; cancel some "
                      "or reuse one (timer.every)",
                   sc->name, LH_MAX_TIMERS);
    if (g->nregs >= LH_MAX_REGS)
        luaL_error(L, "too many registrations: the scripts may hold %d commands, buttons, "
                      "steps, rules, start-up hooks and timers together (%s holds %d)",
                   LH_MAX_REGS, sc->name, sc->nregs);
}

struct lh_reg *lh_reg_add(lua_State *L, struct lh_gen *g, enum lh_reg_kind kind, int script,
                          int fn_idx)
{
    if (script >= 0)
        reg_check_room(L, g, kind, script);
    lua_pushvalue(L, fn_idx);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* (may raise: before anything is owned) */
    struct lh_reg *r = calloc(1, sizeof *r);
    if (!r) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return NULL;
    }
    r->fn_ref = ref;
    r->kind = kind;
    r->script = script;
    r->gen = g;
    r->id = g->host->next_timer_id++;
    r->next = g->regs;
    g->regs = r;
    g->nregs++;
    if (script >= 0) {
        g->scripts[script].nregs++;
        g->scripts[script].ntimers += kind == LH_REG_TIMER;
    }
    return r;
}

void lh_reg_remove(struct lh_gen *g, struct lh_reg *r)
{
    for (struct lh_reg **p = &g->regs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    g->nregs--;
    if (r->script >= 0) {
        g->scripts[r->script].nregs--;
        g->scripts[r->script].ntimers -= r->kind == LH_REG_TIMER;
    }
    reg_disarm(g->host, r);
    luaL_unref(g->host->L, LUA_REGISTRYINDEX, r->fn_ref);
    free(r->name);
    free(r->desc);
    free(r);
}

static void timer_fired(void *ud)
{
    struct lh_reg *r = ud;
    struct lh_gen *g = r->gen;
    struct lh_host *h = g->host;
    r->timer = NULL;
    lua_rawgeti(h->L, LUA_REGISTRYINDEX, r->fn_ref);
    int script = r->script;
    if (r->repeat)
        lh_timer_arm(r);
    else
        lh_reg_remove(g, r);
    lh_task_spawn(h, g, script, 0, NULL, NULL);
}

void lh_timer_arm(struct lh_reg *r)
{
    struct app *a = r->gen->host->app;
    r->timer = timers_add(&a->timers, app_now_ms(a) + r->interval_ms, timer_fired, r);
}

int lh_gen_find_script(struct lh_gen *g, const char *name)
{
    for (int i = 0; i < g->nscripts; i++)
        if (strcmp(g->scripts[i].name, name) == 0)
            return i;
    return -1;
}

const char *lh_gen_declared(const struct lh_gen *g, const char *name)
{
    for (int i = 0; g && i < g->ndecls; i++)
        if (strcmp(g->decls[i].name, name) == 0)
            return g->decls[i].file;
    return NULL;
}

static struct lh_decl *gen_decl(const struct lh_gen *g, const char *name)
{
    for (int i = 0; g && i < g->ndecls; i++)
        if (strcmp(g->decls[i].name, name) == 0)
            return &g->decls[i];
    return NULL;
}

int lh_gen_may_declare(const struct lh_gen *g, const char *name, const char *file)
{
    const struct lh_decl *d = gen_decl(g, name);
    return !d || (d->failed && strcmp(d->file, file) == 0);
}

void lh_gen_decls_failed(struct lh_gen *g, const char *file)
{
    for (int i = 0; g && i < g->ndecls; i++)
        if (strcmp(g->decls[i].file, file) == 0)
            g->decls[i].failed = 1;
}

int lh_gen_declare(struct lh_gen *g, const char *name, const char *file)
{
    struct lh_decl *d = gen_decl(g, name);
    if (d) {   /* (the same file again, after it failed) */
        d->failed = 0;
        return 0;
    }
    struct lh_decl *v = realloc(g->decls, sizeof *v * (size_t)(g->ndecls + 1));
    if (!v)
        return -1;
    g->decls = v;
    v[g->ndecls].name = strdup(name);
    v[g->ndecls].file = strdup(file);
    v[g->ndecls].failed = 0;
    if (!v[g->ndecls].name || !v[g->ndecls].file) {
        free(v[g->ndecls].name);
        free(v[g->ndecls].file);
        return -1;
    }
    g->ndecls++;
    return 0;
}

static const char *config_name(struct lh_host *h)
{
    return h->app->config_path ? h->app->config_path : "config.lua";
}

/* A top-level table of config.lua that no script of g declares: the
 * config's mistake, as an unknown key is (the core's keys and the
 * declared sections are the suggestions). */
static void sections_undeclared(struct lh_host *h, struct lh_gen *g)
{
    const struct config *c = &h->app->cfg;
    const char **cands = malloc(sizeof *cands * (size_t)(g->ndecls + 1));
    for (int i = 0; cands && i < g->ndecls; i++)
        cands[i] = g->decls[i].name;
    for (int i = 0; i < c->nsections && !g->section_error[0]; i++)
        if (!lh_gen_declared(g, c->sections[i].name))
            config_unknown_key(c->sections[i].name, cands, cands ? g->ndecls : 0, 1,
                               g->section_error, sizeof g->section_error);
    free(cands);
}

/* Problems found while building, printed or logged by the caller. */
struct problems {
    struct names list;
};

static void problem(struct problems *p, const char *msg)
{
    names_add(&p->list, msg);
}

void lh_gen_path(const struct lh_gen *g, const char *rel, char *out, size_t len)
{
    struct stat st;
    for (int i = 0; i < g->ndirs; i++) {
        snprintf(out, len, "%s/%s", g->dirs[i], rel);
        if (stat(out, &st) == 0)
            return;
    }
    snprintf(out, len, "%s/%s", g->ndirs ? g->dirs[0] : ".", rel);
}

const char *lh_gen_rel(const struct lh_gen *g, const char *src)
{
    src += *src == '@';
    for (int i = 0; g && i < g->ndirs; i++) {
        size_t n = strlen(g->dirs[i]);
        if (!strncmp(src, g->dirs[i], n) && src[n] == '/')
            return src + n + 1;
    }
    return src;
}

/* Every *.lua of g's folders by relative name, once (sorted): a file of
 * an earlier folder shadows the one of the same name in a later one. */
static void gen_scan(struct lh_gen *g, struct names *files, struct problems *p)
{
    for (int i = 0; i < g->ndirs; i++) {
        struct stat st;
        if (stat(g->dirs[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            char msg[1200];
            snprintf(msg, sizeof msg, "%s: the scripts folder does not exist", g->dirs[i]);
            problem(p, msg);
            continue;
        }
        scan(g->dirs[i], "", files, 0);
    }
    if (files->n > 1)
        qsort(files->v, (size_t)files->n, sizeof *files->v, cmp_str);
    int n = 0;
    for (int i = 0; i < files->n; i++) {
        if (n && strcmp(files->v[n - 1], files->v[i]) == 0)
            free(files->v[i]);
        else
            files->v[n++] = files->v[i];
    }
    files->n = n;
}

/* Loads every script of dirs (config `scripts`) into a new generation.
 * Returns it, with the problems (if any) in p; the caller drops it when p
 * is not empty. */
static struct lh_gen *gen_build(struct lh_host *h, const char *dirs, struct problems *p)
{
    struct lh_gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->host = h;
    g->refs = 1;
    g->id = ++h->next_gen_id;
    char dir[1024];
    while (g->ndirs < CONFIG_SCRIPT_DIRS && config_scripts_dir(dirs, g->ndirs, dir, sizeof dir) == 0)
        g->dirs[g->ndirs++] = clean_dir(dir);
    lua_newtable(h->L);
    g->loaded_ref = luaL_ref(h->L, LUA_REGISTRYINDEX);
    struct names files = {0};
    gen_scan(g, &files, p);
    if (p->list.n) {
        names_free(&files);
        return g;
    }
    g->scripts = calloc((size_t)files.n + 1, sizeof *g->scripts);
    for (int i = 0; g->scripts && i < files.n; i++) {
        char path[2048], chunk[2100], err[2048];
        lh_gen_path(g, files.v[i], path, sizeof path);
        snprintf(chunk, sizeof chunk, "@%s", path);
        if (lh_load_file(h->L, h, path, chunk, err, sizeof err) != 0) {
            problem(p, err);
            continue;
        }
        /* Library modules run when required; here they are only compiled. */
        if (strncmp(files.v[i], "lib/", 4) == 0) {
            lua_pop(h->L, 1);
            continue;
        }
        int idx = g->nscripts++;
        g->scripts[idx].name = strdup(files.v[i]);
        g->scripts[idx].chunkname = strdup(chunk);
        struct lh_ctx ctx = {.gen = g, .script = idx, .phase = LH_PHASE_TOPLEVEL};
        if (lh_pcall(h, 0, 0, ctx, err, sizeof err) != 0) {
            char *nl = strchr(err, '\n');   /* the first line names file:line */
            if (nl)
                *nl = '\0';
            problem(p, err);
        }
    }
    names_free(&files);
    if (p->list.n == 0)
        sections_undeclared(h, g);
    if (p->list.n == 0 && g->section_error[0]) {   /* (or the script caught it) */
        char msg[1400];
        snprintf(msg, sizeof msg, "%s: %s", config_name(h), g->section_error);
        problem(p, msg);
    }
    return g;
}

/* What the build found of the sections, for lh_sections_verdict: an
 * error, or the sections it could not judge (not declared by a
 * generation that failed). */
static void sections_note(struct lh_host *h, struct lh_gen *g, int problems)
{
    const struct config *c = &h->app->cfg;
    h->sections = g->section_error[0] ? LH_SECTIONS_BAD : LH_SECTIONS_OK;
    snprintf(h->section_error, sizeof h->section_error, "%s", g->section_error);
    for (int i = 0; !g->section_error[0] && problems && i < c->nsections; i++) {
        if (lh_gen_declared(g, c->sections[i].name))
            continue;
        size_t n = strlen(h->section_error);
        snprintf(h->section_error + n, sizeof h->section_error - n, "%s'%s'", n ? ", " : "",
                 c->sections[i].name);
        h->sections = LH_SECTIONS_UNCHECKED;
    }
}

int lh_sections_verdict(struct lh_host *h)
{
    if (h->sections == LH_SECTIONS_BAD) {
        fprintf(stderr, "candlewatch: %s: %s\n", config_name(h), h->section_error);
        return 2;
    }
    if (h->sections == LH_SECTIONS_UNCHECKED)
        log_warn(&h->app->log, "config", "%s: the scripts did not load, so their sections %s "
                 "were not checked", config_name(h), h->section_error);
    return 0;
}

static void run_start_hooks(struct lh_gen *g)
{
    /* Collect first: a hook may register timers, changing the list. */
    int n = 0;
    for (struct lh_reg *r = g->regs; r; r = r->next)
        n += r->kind == LH_REG_ON_START;
    struct lh_reg **hooks = calloc((size_t)n + 1, sizeof *hooks);
    if (!hooks)
        return;
    n = 0;
    for (struct lh_reg *r = g->regs; r; r = r->next)
        if (r->kind == LH_REG_ON_START)
            hooks[n++] = r;
    /* Registration order: the list is newest first. */
    for (int i = n - 1; i >= 0; i--) {
        lua_rawgeti(g->host->L, LUA_REGISTRYINDEX, hooks[i]->fn_ref);
        lh_task_spawn(g->host, g, hooks[i]->script, 0, NULL, NULL);
    }
    free(hooks);
}

static void go_live(struct lh_host *h, struct lh_gen *g)
{
    struct lh_gen *old = h->gen;
    if (old) {
        old->live = 0;
        for (struct lh_reg *r = old->regs; r; r = r->next)
            reg_disarm(h, r);
    }
    h->gen = g;
    g->live = 1;
    for (struct lh_reg *r = g->regs; r; r = r->next)
        if (r->kind == LH_REG_TIMER)
            lh_timer_arm(r);
    run_start_hooks(g);
    for (const struct lh_module *m = lh_modules; m->name; m++)
        if (m->on_live)
            m->on_live(h, g);
    if (old)
        lh_gen_release(old);
}

static void update_health(struct lh_host *h)
{
    if (h->reload_error[0])
        health_set(&h->app->health, "scripts", h->gen ? HEALTH_DEGRADED : HEALTH_FAILING,
                   h->reload_error);
    else
        health_set(&h->app->health, "scripts", HEALTH_OK, NULL);
}

int lh_reload(struct lh_host *h, const char *why)
{
    struct problems p = {0};
    h->last_reload_ms = app_now_ms(h->app);
    struct lh_gen *g = gen_build(h, h->app->cfg.scripts, &p);
    if (!g) {
        log_error(&h->app->log, "scripts", "reload (%s): out of memory", why);
        return -1;
    }
    sections_note(h, g, p.list.n);
    if (p.list.n == 0) {
        go_live(h, g);
        h->reload_error[0] = '\0';
        log_info(&h->app->log, "scripts", "generation %d live (%s): %d scripts", g->id, why,
                 g->nscripts);
        update_health(h);
        names_free(&p.list);
        return 0;
    }
    for (int i = 0; i < p.list.n; i++)
        log_error(&h->app->log, "scripts", "reload (%s) failed: %s", why, p.list.v[i]);
    snprintf(h->reload_error, sizeof h->reload_error, "%s%s", p.list.v[0],
             p.list.n > 1 ? " (and more)" : "");
    log_mask_all(&h->app->log, h->reload_error);   /* (it reaches /health and the admins) */
    if (h->gen)
        log_warn(&h->app->log, "scripts", "generation %d keeps serving", h->gen->id);
    lh_gen_release(g);
    names_free(&p.list);
    update_health(h);
    return -1;
}

static void reload_due(void *ud)
{
    struct lh_host *h = ud;
    h->reload_timer = NULL;
    lh_reload(h, h->reload_why);
}

void lh_reload_soon(struct lh_host *h, const char *why)
{
    if (h->reload_timer)
        return;
    snprintf(h->reload_why, sizeof h->reload_why, "%s", why);
    /* At most one reload a second: a script calling host.reload() from its
     * own on_start hook must not spin the bot in a reload loop. */
    uint64_t now = app_now_ms(h->app), due = h->last_reload_ms + 1000;
    h->reload_timer = timers_add(&h->app->timers, h->last_reload_ms && due > now ? due : now,
                                 reload_due, h);
}

int lh_check(struct lh_host *h, FILE *out)
{
    struct problems p = {0};
    struct lh_gen *g = gen_build(h, h->app->cfg.scripts, &p);
    if (!g) {
        fprintf(out, "out of memory\n");
        return 1;
    }
    sections_note(h, g, p.list.n);
    for (int i = 0; i < p.list.n; i++)
        fprintf(out, "%s\n", p.list.v[i]);
    int n = p.list.n;
    names_free(&p.list);
    lh_gen_release(g);
    return n;
}
