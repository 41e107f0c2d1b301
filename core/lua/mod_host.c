/* host: the script host itself. */
#include <string.h>

#include "lua/internal.h"

#include "alert/engine.h"
#include "ops/health.h"
#include "market/feed.h"
#include "market/venue.h"
#include "store/store.h"
#include "tg/bot.h"
#include "tg/sched.h"

/* host.reload() -> nil    reloads all scripts on the next loop turn */
static int h_reload(lua_State *L)
{
    lh_reload_soon(lh_host_of(L), "host.reload()");
    return 0;
}

/* host.on_start(fn) -> nil    top level only: fn runs as a handler each time
 * this script's generation goes live (at start-up and after a reload) */
static int h_on_start(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, "host.on_start(fn)", LH_PHASE_TOPLEVEL);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (!lh_reg_add(L, h->cur.gen, LH_REG_ON_START, h->cur.script, 1))
        return luaL_error(L, "out of memory");
    return 0;
}

/* host.generation() -> integer    the live generation's number */
static int h_generation(lua_State *L)
{
    lua_pushinteger(L, lh_generation(lh_host_of(L)));
    return 1;
}

/* host.script() -> string    the running script, as "rules/x.lua" */
static int h_script(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    lua_pushstring(L, lh_script_name(&h->cur));
    return 1;
}

/* host.clock() -> seconds    a monotonic clock with millisecond resolution
 * (simulated in specs), to time things: os.time() has whole seconds */
static int h_clock(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)app_now_ms(lh_host_of(L)->app) / 1000.0);
    return 1;
}

/* host.mode() -> "run" | "console" | "spec" | "check"    how the host runs */
static int h_mode(lua_State *L)
{
    static const char *const names[] = {[LH_RUN] = "run", [LH_SPEC] = "spec",
                                        [LH_CHECK] = "check", [LH_CONSOLE] = "console"};
    lua_pushstring(L, names[lh_host_of(L)->mode]);
    return 1;
}

/* host.tell_admins(key, html) -> boolean    handlers: html (Telegram HTML)
 * to the operators on Telegram, and by e-mail when email.server is set, at
 * most once per admin.repeat_after for each key (1-64 bytes); false when
 * held back or there is nobody to tell */
static int h_tell_admins(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, "host.tell_admins(key, html)", LH_PHASE_HANDLER);
    size_t klen, hlen;
    const char *key = luaL_checklstring(L, 1, &klen), *html = luaL_checklstring(L, 2, &hlen);
    if (klen < 1 || klen > 64 || strlen(key) != klen)
        return luaL_error(L, "host.tell_admins(key, html): key must be 1-64 bytes");
    if (hlen > 4096 || strlen(html) != hlen)
        return luaL_error(L, "host.tell_admins(key, html): html must be at most 4096 bytes "
                             "(a Telegram message)");
    lua_pushboolean(L, app_tell_admins(h->app, key, html));
    return 1;
}

static void field_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static const char *health_text(struct app *a, const char *component)
{
    const struct health_entry *e = health_get(&a->health, component);
    return !e ? "off" : e->reason[0] ? e->reason : health_name(e->status);
}

static void field_health(lua_State *L, struct app *a, const char *k, const char *component)
{
    lua_pushstring(L, health_text(a, component));
    lua_setfield(L, -2, k);
}

/* feeds = {binance =, spot =, bybit =}: each enabled venue's health; feed:
 * that of the one venue on (as before there were venues), or each one's,
 * named ("Binance USDⓈ-M: ok · Binance spot: ..."). */
static void field_feeds(lua_State *L, struct app *a)
{
    char all[VENUE_COUNT * 320] = "";
    size_t k = 0;
    int on = 0;
    const char *only = "off";
    app_exchange_health(a, NULL);
    lua_newtable(L);
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct venue_ops *vo = venue_ops_of(v);
        if (!vo || config_venue_of(&a->cfg, v)->enabled <= 0)
            continue;
        only = health_text(a, vo->health);
        if (k < sizeof all)
            k += (size_t)snprintf(all + k, sizeof all - k, "%s%s: %s", on ? " · " : "",
                                  vo->exchange_name, only);
        on++;
        lua_pushstring(L, only);
        lua_setfield(L, -2, venue_name(v));
    }
    lua_setfield(L, -2, "feeds");
    lua_pushstring(L, on > 1 ? all : only);
    lua_setfield(L, -2, "feed");
}

/* host.stats() -> {users =, presets =, subscriptions =, alerts_today =,
 *   alerts_since_start =, queue =, queue_oldest_s =, feed =, feeds =,
 *   telegram =, memory_mb =, lua_kb =, uptime_s =}   for /admin stats; feed
 *   and telegram: "ok", or what is wrong (feed: each enabled venue's, named,
 *   when more than one is on); feeds: {binance =, spot =, bybit =} */
static int h_stats(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    struct app *a = h->app;
    lua_createtable(L, 0, 12);
    struct alert_stats st = {0};
    if (a->alerts)
        alert_stats(a->alerts, &st);
    field_num(L, "users", a->alerts ? (double)alert_users(a->alerts) : 0);
    field_num(L, "presets", (double)st.presets);
    field_num(L, "subscriptions", (double)st.subscriptions);
    field_num(L, "alerts_since_start", (double)st.fired);
    int64_t now = app_wall_ms(a);
    field_num(L, "alerts_today", a->store ? (double)store_alerts_since(a->store, now - now % 86400000) : 0);
    struct tg_sched_stats ts = {0};
    if (a->tg)
        tg_sched_stats(tg_bot_sched(a->tg), &ts);
    field_num(L, "queue", (double)ts.depth);
    field_num(L, "queue_oldest_s", ts.oldest_s);
    field_feeds(L, a);
    field_health(L, a, "telegram", "telegram");
    field_num(L, "memory_mb", (double)app_rss_bytes() / 1048576.0);
    field_num(L, "lua_kb", (double)h->mem_used / 1024.0);
    field_num(L, "uptime_s", (double)(now - a->started_ms) / 1000.0);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"reload", h_reload},         {"on_start", h_on_start},       {"stats", h_stats},
    {"generation", h_generation}, {"script", h_script},       {"mode", h_mode},
    {"config", lh_host_config},   {"tell_admins", h_tell_admins},
    {"health", lh_host_health},   {"clock", h_clock},
    {NULL, NULL},
};

int lh_open_host(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
