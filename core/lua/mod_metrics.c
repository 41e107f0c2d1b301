/* metrics: scripts' own numbers in /metrics, and the host's.
 *
 *   local orders = metrics.counter("orders", "Orders placed.")   -- top level
 *   orders:inc()            -- in handlers; inc(n) adds n >= 0
 *   local q = metrics.gauge("queue_length")
 *   q:set(12); q:inc(); q:dec(2)
 *
 * A counter "orders" is exposed as candlewatch_script_orders_total, a gauge
 * "queue_length" as candlewatch_script_queue_length.  Values live in the
 * host, not in a generation: a reload keeps them (the same name in the new
 * scripts finds the same metric).
 */
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "metrics/prom.h"

#define METRICS_MAX 256
#define METRIC_NAME_MAX 64
#define METRIC_MT "cw.metric"

struct script_metric {
    char name[METRIC_NAME_MAX + 1];
    char help[128];
    int gauge;
    double value;
};

struct lh_metrics {
    struct script_metric v[METRICS_MAX];
    int n;
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

static int make(lua_State *L, int gauge)
{
    const char *usage = gauge ? "metrics.gauge(name [, help])" : "metrics.counter(name [, help])";
    size_t n;
    const char *name = luaL_checklstring(L, 1, &n);
    const char *help = luaL_optstring(L, 2, "Defined by a script.");
    if (!valid_name(name, n))
        return luaL_error(L, "%s: name must be 1-%d characters of a-z, 0-9 and _, starting "
                             "with a letter, without _total (\"%s\")", usage, METRIC_NAME_MAX,
                          name);
    if (host_family(name))
        return luaL_error(L, "%s: \"%s\" would be candlewatch_script_%s%s, which the host "
                             "exposes itself; choose another name",
                          usage, name, name, gauge ? "" : "_total");
    struct lh_metrics *ms = metrics_of(lh_host_of(L));
    if (!ms)
        return luaL_error(L, "out of memory");
    int i = 0;
    while (i < ms->n && strcmp(ms->v[i].name, name))
        i++;
    if (i < ms->n && ms->v[i].gauge != gauge)
        return luaL_error(L, "%s: \"%s\" is already a %s", usage, name,
                          ms->v[i].gauge ? "gauge" : "counter");
    if (i == ms->n) {
        if (ms->n == METRICS_MAX)
            return luaL_error(L, "%s: there can be at most %d script metrics", usage,
                              METRICS_MAX);
        memcpy(ms->v[i].name, name, n + 1);
        ms->v[i].gauge = gauge;
        ms->n++;
    }
    /* help: printable ASCII only, one line */
    size_t k = 0;
    for (const char *c = help; *c && k + 1 < sizeof ms->v[i].help; c++)
        ms->v[i].help[k++] = *c >= 32 && *c < 127 && *c != '\\' ? *c : ' ';
    ms->v[i].help[k] = 0;
    int *slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = i;
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
    if (!m->gauge && d < 0)
        return luaL_error(L, "metric:inc(n): counter \"%s\" only goes up (n = %f)", m->name, d);
    m->value += d;
    return 0;
}

/* gauge:dec([n]) -> nil */
static int m_dec(lua_State *L)
{
    struct script_metric *m = self(L, "gauge:dec(n)");
    if (!m->gauge)
        return luaL_error(L, "gauge:dec(n): \"%s\" is a counter, which only goes up", m->name);
    m->value -= amount(L, "gauge:dec(n)", 1);
    return 0;
}

/* gauge:set(v) -> nil */
static int m_set(lua_State *L)
{
    struct script_metric *m = self(L, "gauge:set(v)");
    if (!m->gauge)
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
                 ms->v[i].gauge ? "" : "_total");
        if (ms->v[i].gauge)
            prom_gauge(p, name, ms->v[i].help, NULL, ms->v[i].value);
        else
            prom_counter(p, name, ms->v[i].help, NULL, ms->v[i].value);
    }
}

static const luaL_Reg funcs[] = {{"counter", m_counter}, {"gauge", m_gauge}, {NULL, NULL}};
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
    luaL_newlib(L, funcs);
    return 1;
}
