/* metrics: scripts' own numbers in /metrics, and the host's.
 *
 *   local orders = metrics.counter("orders", "Orders placed.")   -- top level
 *   orders:inc()            -- in handlers; inc(n) adds n >= 0
 *   local q = metrics.gauge("queue_length")
 *   q:set(12); q:inc(); q:dec(2)
 *   local t = metrics.histogram("fetch_seconds", "Fetch time.", {0.1, 0.5, 1})
 *   t:observe(0.27)
 *
 * A counter "orders" is exposed as candlewatch_script_orders_total, a gauge
 * "queue_length" as candlewatch_script_queue_length, a histogram
 * "fetch_seconds" as candlewatch_script_fetch_seconds_bucket{le=...},
 * _sum and _count.  Values live in the host, not in a generation: a reload
 * keeps them (the same name in the new scripts finds the same metric).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "metrics/prom.h"

#define METRICS_MAX 256
#define METRIC_NAME_MAX 64
#define METRIC_MT "cw.metric"
#define HIST_MT "cw.histogram"
#define HISTS_MAX 32          /* script histograms */
#define HIST_BOUNDS_MAX 30    /* buckets of one, +Inf aside */

enum metric_kind { KIND_COUNTER, KIND_GAUGE, KIND_HIST };
static const char *const kind_names[] = {"counter", "gauge", "histogram"};

struct script_hist {
    double bounds[HIST_BOUNDS_MAX];
    uint64_t counts[HIST_BOUNDS_MAX];   /* per bucket, not cumulative */
    int nb;
    uint64_t n;
    double sum;
};

struct script_metric {
    char name[METRIC_NAME_MAX + 1];
    char help[128];
    enum metric_kind kind;
    double value;
    int hist;                   /* KIND_HIST: its index in hists */
};

struct lh_metrics {
    struct script_metric v[METRICS_MAX];
    int n;
    struct script_hist hists[HISTS_MAX];
    int nhists;
};

static struct lh_metrics *metrics_of(struct lh_host *h)
{
    if (!h->metrics)
        h->metrics = calloc(1, sizeof *h->metrics);
    return h->metrics;
}

static int valid_name(const char *s, size_t n)
{
    if (n < 1 || n > METRIC_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return n < 6 || strcmp(s + n - 6, "_total") != 0;   /* the suffix is ours to add */
}

/* The host's own families named candlewatch_script_*: a script metric must
 * not make one of them, with or without _total (the exposition would hold
 * the family twice). */
static const char *const host_families[] = {"errors", NULL};

static int host_family(const char *name)
{
    for (const char *const *f = host_families; *f; f++)
        if (strcmp(name, *f) == 0)
            return 1;
    return 0;
}

static const char *const hist_suffixes[] = {"_bucket", "_sum", "_count", NULL};

/* Whether name ends in one of a histogram's sample suffixes; the length of
 * the part before it, else 0. */
static size_t hist_base(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *x = hist_suffixes; *x; x++) {
        size_t k = strlen(*x);
        if (n > k && !strcmp(name + n - k, *x))
            return n - k;
    }
    return 0;
}

/* A metric already there whose samples a new one's would collide with: a
 * histogram "h" writes h_bucket, h_sum and h_count, which a gauge or
 * another histogram of such a name would write too.  (A counter's samples
 * end in _total.)  Its index, or -1. */
static int sample_clash(const struct lh_metrics *ms, const char *name, enum metric_kind kind)
{
    if (kind == KIND_COUNTER)
        return -1;
    size_t base = hist_base(name);
    for (int i = 0; i < ms->n; i++) {
        const struct script_metric *m = &ms->v[i];
        if (m->kind == KIND_COUNTER)
            continue;
        if (kind == KIND_HIST && hist_base(m->name) == strlen(name) &&
            !strncmp(m->name, name, strlen(name)))
            return i;
        if (m->kind == KIND_HIST && base && strlen(m->name) == base &&
            !strncmp(m->name, name, base))
            return i;
    }
    return -1;
}

/* The metric named name (found, or added as kind), raising when it cannot be. */
static struct script_metric *metric_find(lua_State *L, struct lh_metrics *ms, const char *name,
                                         enum metric_kind kind, const char *usage)
{
    int i = 0;
    while (i < ms->n && strcmp(ms->v[i].name, name))
        i++;
    if (i < ms->n && ms->v[i].kind != kind)
        luaL_error(L, "%s: \"%s\" is already a %s", usage, name, kind_names[ms->v[i].kind]);
    if (i < ms->n)
        return &ms->v[i];
    int c = sample_clash(ms, name, kind);
    if (c >= 0)
        luaL_error(L, "%s: \"%s\" and the %s \"%s\" would both write "
                      "candlewatch_script_%s; choose another name", usage, name,
                   kind_names[ms->v[c].kind], ms->v[c].name,
                   strlen(ms->v[c].name) > strlen(name) ? ms->v[c].name : name);
    if (ms->n == METRICS_MAX)
        luaL_error(L, "%s: there can be at most %d script metrics", usage, METRICS_MAX);
    if (kind == KIND_HIST && ms->nhists == HISTS_MAX)
        luaL_error(L, "%s: there can be at most %d script histograms", usage, HISTS_MAX);
    struct script_metric *m = &ms->v[ms->n++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->kind = kind;
    if (kind == KIND_HIST)
        m->hist = ms->nhists++;
    return m;
}

/* help: printable ASCII only, one line */
static void metric_help(struct script_metric *m, const char *help)
{
    size_t k = 0;
    for (const char *c = help; *c && k + 1 < sizeof m->help; c++)
        m->help[k++] = *c >= 32 && *c < 127 && *c != '\\' ? *c : ' ';
    m->help[k] = 0;
}

/* The metric of kind named by argument 1 with the help of argument 2,
 * found or added; raises when the name cannot be one. */
static struct script_metric *metric_named(lua_State *L, enum metric_kind kind,
                                          const char *usage)
{
    size_t n;
    const char *name = luaL_checklstring(L, 1, &n);
    const char *help = luaL_optstring(L, 2, "Defined by a script.");
    if (!valid_name(name, n))
        luaL_error(L, "%s: name must be 1-%d characters of a-z, 0-9 and _, starting "
                      "with a letter, without _total (\"%s\")", usage, METRIC_NAME_MAX, name);
    if (host_family(name))
        luaL_error(L, "%s: \"%s\" would be candlewatch_script_%s%s, which the host "
                      "exposes itself; choose another name",
                   usage, name, name, kind == KIND_COUNTER ? "_total" : "");
    struct lh_metrics *ms = metrics_of(lh_host_of(L));
    if (!ms)
        luaL_error(L, "out of memory");
    struct script_metric *m = metric_find(L, ms, name, kind, usage);
    metric_help(m, help);
    return m;
}

static int make(lua_State *L, int gauge)
{
    const char *usage = gauge ? "metrics.gauge(name [, help])" : "metrics.counter(name [, help])";
    struct script_metric *m = metric_named(L, gauge ? KIND_GAUGE : KIND_COUNTER, usage);
    struct lh_metrics *ms = lh_host_of(L)->metrics;
    int *slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = (int)(m - ms->v);
    luaL_setmetatable(L, METRIC_MT);
    return 1;
}

/* metrics.counter(name [, help]) -> counter */
static int m_counter(lua_State *L)
{
    return make(L, 0);
}

/* metrics.gauge(name [, help]) -> gauge */
static int m_gauge(lua_State *L)
{
    return make(L, 1);
}

/* Default buckets, for seconds (Prometheus's client libraries' own). */
static const double default_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/* The buckets at idx (a list of finite numbers in increasing order, or
 * nil: the default) into b; raises saying what is wrong. */
static int bucket_list(lua_State *L, int idx, double *b, const char *usage)
{
    if (lua_isnoneornil(L, idx)) {
        int n = (int)(sizeof default_bounds / sizeof *default_bounds);
        memcpy(b, default_bounds, sizeof default_bounds);
        return n;
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: buckets must be a list of numbers, got %s", usage,
                   luaL_typename(L, idx));
    lua_Integer n = luaL_len(L, idx);
    if (n < 1 || n > HIST_BOUNDS_MAX)
        luaL_error(L, "%s: buckets must be 1 to %d numbers (+Inf is added), got %d", usage,
                   HIST_BOUNDS_MAX, (int)n);
    for (int i = 0; i < n; i++) {
        int t = lua_geti(L, idx, i + 1);
        double v = lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (t != LUA_TNUMBER || v != v || v == HUGE_VAL || v == -HUGE_VAL)
            luaL_error(L, "%s: bucket %d must be a finite number (+Inf is added), got %s",
                       usage, i + 1, t == LUA_TNUMBER ? "an infinity or NaN" : lua_typename(L, t));
        if (i > 0 && v <= b[i - 1])
            luaL_error(L, "%s: buckets must be in increasing order: bucket %d (%f) is not "
                          "above bucket %d (%f)", usage, i + 1, v, i, b[i - 1]);
        b[i] = v;
    }
    return (int)n;
}

/* metrics.histogram(name [, help [, buckets]]) -> histogram   (buckets: upper
 * bounds in increasing order, default {0.005, 0.01, ..., 10} for seconds;
 * the same name again, after a reload too, is the same histogram and must
 * have the same buckets) */
static int m_histogram(lua_State *L)
{
    const char *usage = "metrics.histogram(name [, help [, buckets]])";
    double b[HIST_BOUNDS_MAX];
    int nb = bucket_list(L, 3, b, usage);
    struct script_metric *m = metric_named(L, KIND_HIST, usage);
    struct lh_metrics *ms = lh_host_of(L)->metrics;
    struct script_hist *h = &ms->hists[m->hist];
    if (h->nb == 0) {
        memcpy(h->bounds, b, (size_t)nb * sizeof *b);
        h->nb = nb;
    } else if (h->nb != nb || memcmp(h->bounds, b, (size_t)nb * sizeof *b)) {
        return luaL_error(L, "%s: \"%s\" already has other buckets (%d of them, from %f to "
                             "%f): they stay until a restart; give the same ones, or another "
                             "name", usage, m->name, h->nb, h->bounds[0], h->bounds[h->nb - 1]);
    }
    int *slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = (int)(m - ms->v);
    luaL_setmetatable(L, HIST_MT);
    return 1;
}

/* histogram:observe(v) -> nil   (v a finite number) */
static int m_observe(lua_State *L)
{
    const char *usage = "histogram:observe(v)";
    int *slot = luaL_checkudata(L, 1, HIST_MT);
    struct lh_metrics *ms = lh_host_of(L)->metrics;
    double v = luaL_checknumber(L, 2);
    if (v != v || v == HUGE_VAL || v == -HUGE_VAL)
        return luaL_error(L, "%s: v must be a finite number", usage);
    struct script_hist *h = &ms->hists[ms->v[*slot].hist];
    int b = 0;
    while (b < h->nb && v > h->bounds[b])
        b++;
    if (b < h->nb)   /* (above the last bound: only in +Inf, via n) */
        h->counts[b]++;
    h->n++;
    h->sum += v;
    return 0;
}

static struct script_metric *self(lua_State *L, const char *usage)
{
    int *slot = luaL_checkudata(L, 1, METRIC_MT);
    struct lh_metrics *ms = lh_host_of(L)->metrics;
    if (!ms || *slot < 0 || *slot >= ms->n)
        luaL_error(L, "%s: not a metric", usage);
    return &ms->v[*slot];
}

static double amount(lua_State *L, const char *usage, double dflt)
{
    double d = luaL_optnumber(L, 2, dflt);
    if (d != d || d == 1.0 / 0.0 || d == -1.0 / 0.0)
        luaL_error(L, "%s: the amount must be a finite number", usage);
    return d;
}

/* metric:inc([n]) -> nil   (a counter's n must be >= 0) */
static int m_inc(lua_State *L)
{
    struct script_metric *m = self(L, "metric:inc(n)");
    double d = amount(L, "metric:inc(n)", 1);
    if (m->kind != KIND_GAUGE && d < 0)
        return luaL_error(L, "metric:inc(n): counter \"%s\" only goes up (n = %f)", m->name, d);
    m->value += d;
    return 0;
}

/* gauge:dec([n]) -> nil */
static int m_dec(lua_State *L)
{
    struct script_metric *m = self(L, "gauge:dec(n)");
    if (m->kind != KIND_GAUGE)
        return luaL_error(L, "gauge:dec(n): \"%s\" is a counter, which only goes up", m->name);
    m->value -= amount(L, "gauge:dec(n)", 1);
    return 0;
}

/* gauge:set(v) -> nil */
static int m_set(lua_State *L)
{
    struct script_metric *m = self(L, "gauge:set(v)");
    if (m->kind != KIND_GAUGE)
        return luaL_error(L, "gauge:set(v): \"%s\" is a counter: use inc", m->name);
    luaL_checknumber(L, 2);
    m->value = amount(L, "gauge:set(v)", 0);
    return 0;
}

/* metric:value() -> number */
static int m_value(lua_State *L)
{
    lua_pushnumber(L, self(L, "metric:value()")->value);
    return 1;
}

static void script_errors(struct prom *p, const char *script, long errors)
{
    char lb[160] = "";
    prom_label(lb, sizeof lb, "script", script);
    prom_counter(p, "candlewatch_script_errors_total", "Script errors, by script.", lb,
                 (double)errors);
}

void lh_metrics(struct lh_host *h, struct prom *p)
{
    /* every live script (0 included), then any other that failed */
    for (int i = 0; h->gen && i < h->gen->nscripts; i++)
        script_errors(p, h->gen->scripts[i].name, lh_errors_of(h, h->gen->scripts[i].name));
    for (int i = 0; i < h->nstats; i++) {
        int live = 0;
        for (int k = 0; h->gen && k < h->gen->nscripts; k++)
            live |= !strcmp(h->gen->scripts[k].name, h->stats[i].script);
        if (!live)
            script_errors(p, h->stats[i].script, h->stats[i].errors);
    }
    prom_gauge(p, "candlewatch_lua_memory_bytes", "Memory the Lua state holds.", NULL,
               (double)h->mem_used);
    struct lh_metrics *ms = h->metrics;
    for (int i = 0; ms && i < ms->n; i++) {
        char name[METRIC_NAME_MAX + 40];
        snprintf(name, sizeof name, "candlewatch_script_%s%s", ms->v[i].name,
                 ms->v[i].kind == KIND_COUNTER ? "_total" : "");
        if (ms->v[i].kind == KIND_HIST) {
            const struct script_hist *sh = &ms->hists[ms->v[i].hist];
            struct prom_buckets b = {sh->bounds, sh->counts, sh->nb, sh->n, sh->sum};
            prom_histogram_of(p, name, ms->v[i].help, &b);
        } else if (ms->v[i].kind == KIND_GAUGE)
            prom_gauge(p, name, ms->v[i].help, NULL, ms->v[i].value);
        else
            prom_counter(p, name, ms->v[i].help, NULL, ms->v[i].value);
    }
}

static const luaL_Reg funcs[] = {
    {"counter", m_counter}, {"gauge", m_gauge}, {"histogram", m_histogram}, {NULL, NULL}};
static const luaL_Reg hist_methods[] = {{"observe", m_observe}, {NULL, NULL}};
static const luaL_Reg methods[] = {
    {"inc", m_inc}, {"dec", m_dec}, {"set", m_set}, {"value", m_value}, {NULL, NULL}};

int lh_open_metrics(lua_State *L)
{
    if (luaL_newmetatable(L, METRIC_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, "metric");
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, HIST_MT)) {
        luaL_newlib(L, hist_methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, "histogram");
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
