/* alerts: users' presets, pauses and quiet hours (the rules are in
 * mod_rules.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alert/engine.h"
#include "lua/internal.h"
#include "util/interval.h"
#include "store/store.h"

struct alert_engine *lh_alerts_engine(lua_State *L, const char *usage)
{
    struct lh_host *h = lh_host_of(L);
    if (!h->app->alerts)
        luaL_error(L, "%s: the alert engine is not running (no database)", usage);
    return h->app->alerts;
}

/* ---- presets ---- */

static void push_preset(lua_State *L, const struct preset *p)
{
    lua_createtable(L, 0, 14);
    lua_pushinteger(L, p->id);
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, p->user_id);
    lua_setfield(L, -2, "user_id");
    lua_pushinteger(L, p->chat_id);
    lua_setfield(L, -2, "chat_id");
    lua_pushstring(L, p->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, p->rule);
    lua_setfield(L, -2, "rule");
    lua_pushstring(L, p->pairs == PAIRS_TOP ? "top" : "manual");
    lua_setfield(L, -2, "pairs");
    if (p->pairs == PAIRS_TOP) {
        lua_pushinteger(L, p->top_n);
        lua_setfield(L, -2, "top_n");
    }
    struct market *m = &lh_host_of(L)->app->market;
    /* a top N's: whose ranking; a list's: its first pair's */
    int venue = p->pairs == PAIRS_TOP ? p->venue : p->nsym_ids ? m->syms.v[p->sym_ids[0]].venue : 0;
    lua_pushstring(L, venue_name(venue));
    lua_setfield(L, -2, "venue");
    lua_createtable(L, p->nsym_ids, 0);
    for (int i = 0; i < p->nsym_ids; i++) {
        lua_pushstring(L, m->syms.v[p->sym_ids[i]].name);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "symbols");
    lua_newtable(L);
    int k = 0;
    for (int iv = 0; iv < IV_COUNT; iv++)
        if (p->intervals & 1 << iv) {
            lua_pushstring(L, interval_name(iv));
            lua_rawseti(L, -2, ++k);
        }
    lua_setfield(L, -2, "intervals");
    lua_pushnumber(L, p->threshold);
    lua_setfield(L, -2, "threshold");
    lua_pushstring(L, preset_dir_names[p->dir]);
    lua_setfield(L, -2, "direction");
    lua_pushstring(L, p->on_close ? "close" : "forming");
    lua_setfield(L, -2, "trigger");
    lua_pushnumber(L, p->min_volume);
    lua_setfield(L, -2, "min_volume");
    lua_pushboolean(L, p->active);
    lua_setfield(L, -2, "active");
    lua_pushboolean(L, p->chart);
    lua_setfield(L, -2, "chart");
    lua_pushinteger(L, (lua_Integer)p->nindexed * __builtin_popcount((unsigned)p->intervals));
    lua_setfield(L, -2, "subscriptions");
    struct alert_engine *e = lh_host_of(L)->app->alerts;
    const struct alert_rule_def *r = alert_rule_get(e, alert_rule_find(e, p->rule));
    if (r && r->nparams) {   /* every setting, the defaults too */
        lua_createtable(L, 0, r->nparams);
        for (int i = 0; i < r->nparams; i++) {
            lua_pushnumber(L, i < p->nparams ? p->params[i] : r->params[i].dflt);
            lua_setfield(L, -2, r->params[i].name);
        }
        lua_setfield(L, -2, "params");
    }
}

static const char *opt_field(lua_State *L, int t, const char *k, const char *dflt)
{
    lua_getfield(L, t, k);
    const char *s = lua_isstring(L, -1) ? lua_tostring(L, -1) : dflt;
    lua_pop(L, 1);   /* (the string stays alive in the table) */
    return s;
}

static lua_Number num_field(lua_State *L, int t, const char *k, lua_Number dflt)
{
    lua_getfield(L, t, k);
    lua_Number v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

/* preset.params = {name = number, ...} into p, in the order of the rule's
 * settings; 0, or -1 with a sentence for the user in msg. */
static int read_params(lua_State *L, struct alert_engine *e, struct preset *p, char *msg,
                       size_t len)
{
    if (lua_getfield(L, 1, "params") == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    const struct alert_rule_def *r = alert_rule_get(e, alert_rule_find(e, p->rule));
    if (!r || !lua_istable(L, -1)) {   /* (an unknown rule is said by the save) */
        lua_pop(L, 1);
        if (r)
            snprintf(msg, len, "The settings are a table like {fast = 9}.");
        return r ? -1 : 0;
    }
    for (int i = 0; i < r->nparams; i++)
        p->params[i] = r->params[i].dflt;
    p->nparams = r->nparams;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        int at = -1;
        for (int i = 0; i < r->nparams; i++)
            if (!strcmp(r->params[i].name, k))
                at = i;
        if (at < 0 || !lua_isnumber(L, -1)) {
            int n = snprintf(msg, len, at < 0 ? "%s has no setting \"%.20s\"; its settings: "
                                              : "%s's %.20s is a number; its settings: ",
                             r->label, k);
            for (int i = 0; i < r->nparams && n > 0 && (size_t)n < len; i++)
                n += snprintf(msg + n, len - (size_t)n, "%s%s", i ? ", " : "", r->params[i].name);
            if (!r->nparams)
                snprintf(msg + n, len - (size_t)n, "none");
            lua_pop(L, 3);
            return -1;
        }
        p->params[at] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

/* alerts.save(preset) -> id | nil, err
 * preset: {id (to change one), user_id, chat_id, name, pairs = "top"|"manual",
 * top_n, venue = "binance"|"spot"|"bybit" (whose top N; default binance),
 * symbols = {...} ("BTCUSDT", "spot:BTCUSDT", ...), intervals = {"5m", ...}, threshold (percent),
 * direction = "both"|"up"|"down", trigger = "forming"|"close", min_volume,
 * active, chart (a chart follows each alert), params = {name = number, ...}
 * (the rule's settings; those left out take its defaults)}.  err is a
 * sentence for the user. */
static int a_save(lua_State *L)
{
    static const char usage[] = "alerts.save(preset)";
    luaL_checktype(L, 1, LUA_TTABLE);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    struct alert_engine *e = lh_alerts_engine(L, usage);
    struct preset p;
    memset(&p, 0, sizeof p);
    p.id = (int64_t)num_field(L, 1, "id", 0);
    p.user_id = (int64_t)num_field(L, 1, "user_id", 0);
    p.chat_id = (int64_t)num_field(L, 1, "chat_id", (lua_Number)p.user_id);
    if (!p.user_id)
        return luaL_error(L, "expected %s: preset.user_id is required", usage);
    snprintf(p.name, sizeof p.name, "%s", opt_field(L, 1, "name", ""));
    snprintf(p.rule, sizeof p.rule, "%s", opt_field(L, 1, "rule", "move"));
    const char *pairs = opt_field(L, 1, "pairs", "top");
    char msg[200];
    if (strcmp(pairs, "top") && strcmp(pairs, "manual")) {
        snprintf(msg, sizeof msg, "Pairs are \"top\" (the biggest by volume) or \"manual\" "
                                  "(a list), not \"%.40s\".", pairs);
        return lh_fail(L, "%s", msg);
    }
    p.pairs = !strcmp(pairs, "manual") ? PAIRS_MANUAL : PAIRS_TOP;
    p.top_n = (int)num_field(L, 1, "top_n", 100);
    const char *venue = opt_field(L, 1, "venue", "binance");
    p.venue = venue_parse(venue, strlen(venue));
    if (p.venue < 0) {
        snprintf(msg, sizeof msg, "The exchange is \"binance\" (futures), \"spot\" or \"bybit\", "
                                  "not \"%.40s\".", venue);
        return lh_fail(L, "%s", msg);
    }
    if (lua_getfield(L, 1, "symbols") == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        if (n > 1000)   /* (whatever limits.pairs_per_preset says) */
            return lh_fail(L, "A list has at most 1000 pairs.");
        /* Lua owns the buffer: nothing to free if a later check raises */
        p.symbols = lua_newuserdatauv(L, sizeof *p.symbols * (size_t)(n ? n : 1), 0);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -2, i);
            snprintf(p.symbols[p.nsymbols++], sizeof p.symbols[0], "%s",
                     lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
            lua_pop(L, 1);
        }
        lua_insert(L, 2);   /* keep the buffer below everything else */
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "intervals") == LUA_TTABLE) {
        for (lua_Integer i = 1; lua_geti(L, -1, i) == LUA_TSTRING; i++) {
            int iv = interval_parse(lua_tostring(L, -1), lua_rawlen(L, -1));
            p.intervals |= iv >= 0 ? 1 << iv : 1 << IV_COUNT;   /* unknown: refused */
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    p.threshold = num_field(L, 1, "threshold", 0);
    const char *d = opt_field(L, 1, "direction", "both");
    p.dir = !strcmp(d, "up") ? DIR_UP : !strcmp(d, "down") ? DIR_DOWN : !strcmp(d, "both") ? DIR_BOTH : -1;
    const char *trig = opt_field(L, 1, "trigger", "forming");
    if (strcmp(trig, "forming") && strcmp(trig, "close")) {
        snprintf(msg, sizeof msg, "The trigger is \"forming\" (as soon as it happens) or "
                                  "\"close\" (when the candle closes), not \"%.40s\".", trig);
        return lh_fail(L, "%s", msg);
    }
    p.on_close = !strcmp(trig, "close");
    p.min_volume = num_field(L, 1, "min_volume", 0);
    if (read_params(L, e, &p, msg, sizeof msg) != 0 || lh_rules_check(L, &p, msg, sizeof msg))
        return lh_fail(L, "%s", msg);
    lua_getfield(L, 1, "active");
    p.active = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_getfield(L, 1, "chart");
    p.chart = lua_toboolean(L, -1);
    lua_pop(L, 2);
    char err[400];
    int rc = alert_preset_save(e, &p, err, sizeof err);
    p.symbols = NULL;   /* Lua's */
    if (rc != 0) {
        return lh_fail(L, "%s", err);
    }
    lua_pushinteger(L, p.id);
    return 1;
}

/* alerts.get(id) -> preset | nil */
static int a_get(lua_State *L)
{
    const struct preset *p = alert_preset_get(lh_alerts_engine(L, "alerts.get(id)"),
                                              luaL_checkinteger(L, 1));
    if (!p)
        return 0;
    push_preset(L, p);
    return 1;
}

/* alerts.presets(user_id) -> {preset, ...}, oldest first */
static int a_presets(lua_State *L)
{
    lua_Integer user = luaL_checkinteger(L, 1);
    struct alert_engine *e = lh_alerts_engine(L, "alerts.presets(user_id)");
    const struct preset *v[256];
    int n = alert_presets_of(e, user, v, 256);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        push_preset(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* alerts.delete(id) -> true | nil, err */
static int a_delete(lua_State *L)
{
    static const char usage[] = "alerts.delete(id)";
    lua_Integer id = luaL_checkinteger(L, 1);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    int rc = alert_preset_delete(lh_alerts_engine(L, usage), id);
    if (rc == -2)   /* raised, like store.set: no handler may go on to say "deleted" */
        return luaL_error(L, "alerts.delete: the database failed, nothing was deleted");
    if (rc != 0) {
        return lh_fail(L, "No such preset.");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* alerts.stats(id) -> {today =, week =, last = ms | nil}: alerts fired
 * since midnight UTC, in the last 7 days, and when the last one was */
static int a_stats(lua_State *L)
{
    lua_Integer id = luaL_checkinteger(L, 1);
    struct lh_host *h = lh_host_of(L);
    lh_alerts_engine(L, "alerts.stats(id)");
    int64_t now = app_wall_ms(h->app), day = now - now % 86400000LL;
    long today = 0, week = 0;
    int64_t last = 0;
    if (!h->app->store ||
        store_alert_stats(h->app->store, id, day, now - 7 * 86400000LL, &today, &week, &last)) {
        return lh_fail(L, "the statistics cannot be read now");
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, today);
    lua_setfield(L, -2, "today");
    lua_pushinteger(L, week);
    lua_setfield(L, -2, "week");
    if (last) {
        lua_pushinteger(L, last);
        lua_setfield(L, -2, "last");
    }
    return 1;
}

/* alerts.subscriptions(user_id) -> n: pair x timeframe subscriptions of
 * the user's active presets */
static int a_subscriptions(lua_State *L)
{
    lua_Integer user = luaL_checkinteger(L, 1);
    lua_pushinteger(L, alert_subscriptions_of(lh_alerts_engine(L, "alerts.subscriptions(user_id)"), user));
    return 1;
}

/* alerts.limits() -> {pairs_per_preset =, presets_per_user =, intervals = {...}} */
static int a_limits(lua_State *L)
{
    struct config *cfg = &lh_host_of(L)->app->cfg;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, cfg->limits.pairs_per_preset);
    lua_setfield(L, -2, "pairs_per_preset");
    lua_pushinteger(L, cfg->limits.presets_per_user);
    lua_setfield(L, -2, "presets_per_user");
    lua_newtable(L);
    int k = 0;
    for (int iv = 0; iv < IV_COUNT; iv++)
        if (cfg->exchange.intervals & 1 << iv) {
            lua_pushstring(L, interval_name(iv));
            lua_rawseti(L, -2, ++k);
        }
    lua_setfield(L, -2, "intervals");
    return 1;
}

/* alerts.pause(chat_id [, seconds]) -> true | nil, err
 * Holds the chat's alerts for seconds (none: until alerts.resume); they
 * come as one digest when the pause ends. */
static int a_pause(lua_State *L)
{
    static const char usage[] = "alerts.pause(chat_id [, seconds])";
    lua_Integer chat = luaL_checkinteger(L, 1);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    struct alert_engine *e = lh_alerts_engine(L, usage);
    int64_t until = INT64_MAX;
    if (!lua_isnoneornil(L, 2)) {
        lua_Number s = luaL_checknumber(L, 2);
        if (!(s > 0 && s <= 7 * 86400))
            return luaL_error(L, "expected %s: seconds from 1 to a week", usage);
        until = app_wall_ms(lh_host_of(L)->app) + (int64_t)(s * 1000);
    }
    if (alert_pause(e, chat, until) != 0) {
        return lh_fail(L, "out of memory");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* alerts.resume(chat_id) -> held | nil: ends a pause (its digest is sent);
 * the number of alerts it held, or nil when the chat was not paused */
static int a_resume(lua_State *L)
{
    lua_Integer chat = luaL_checkinteger(L, 1);
    lh_require_phase(L, "alerts.resume(chat_id)", LH_PHASE_HANDLER);
    long held = alert_resume(lh_alerts_engine(L, "alerts.resume(chat_id)"), chat);
    if (held < 0)
        return 0;
    lua_pushinteger(L, held);
    return 1;
}

/* alerts.paused(chat_id) -> until_ms | true (until resumed) | nil */
static int a_paused(lua_State *L)
{
    int64_t until = alert_paused_until(lh_alerts_engine(L, "alerts.paused(chat_id)"),
                                       luaL_checkinteger(L, 1));
    if (!until)
        return 0;
    if (until == INT64_MAX)
        lua_pushboolean(L, 1);
    else
        lua_pushinteger(L, until);
    return 1;
}

/* alerts.set_quiet(chat_id, from_min, to_min, tz_min) -> true | nil, err
 * Daily quiet hours: minutes of the local day (from == to clears them),
 * the time zone in minutes east of UTC.  Alerts then come as one digest
 * when the hours end. */
static int a_set_quiet(lua_State *L)
{
    static const char usage[] = "alerts.set_quiet(chat_id, from_min, to_min, tz_min)";
    lua_Integer chat = luaL_checkinteger(L, 1), from = luaL_checkinteger(L, 2),
                to = luaL_checkinteger(L, 3), tz = luaL_checkinteger(L, 4);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    if (alert_set_quiet(lh_alerts_engine(L, usage), chat, (int)from, (int)to, (int)tz) != 0) {
        return lh_fail(L, "hours are 00:00-23:59, time zones UTC-12 to UTC+14");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* alerts.quiet(chat_id) -> {from =, to =, tz =} (minutes) | nil */
static int a_quiet(lua_State *L)
{
    int from, to, tz;
    if (!alert_quiet_of(lh_alerts_engine(L, "alerts.quiet(chat_id)"), luaL_checkinteger(L, 1), &from,
                        &to, &tz))
        return 0;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, from);
    lua_setfield(L, -2, "from");
    lua_pushinteger(L, to);
    lua_setfield(L, -2, "to");
    lua_pushinteger(L, tz);
    lua_setfield(L, -2, "tz");
    return 1;
}

/* alerts.chats() -> {chat_id, ...}: every chat with a preset */
static int a_chats(lua_State *L)
{
    int64_t *v = NULL;
    size_t n = alert_chats(lh_alerts_engine(L, "alerts.chats()"), &v);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free(v);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"chats", a_chats},
    {"pause", a_pause},     {"resume", a_resume}, {"paused", a_paused},
    {"set_quiet", a_set_quiet}, {"quiet", a_quiet},
    {"rule", lh_alerts_rule}, {"rules", lh_alerts_rules},
    {"indicators", lh_alerts_indicators}, {"evaluate", lh_alerts_evaluate}, {"save", a_save},     {"get", a_get},
    {"presets", a_presets}, {"delete", a_delete}, {"stats", a_stats},
    {"subscriptions", a_subscriptions}, {"limits", a_limits}, {NULL, NULL},
};

int lh_open_alerts(lua_State *L)
{
    lh_rules_open(L);
    luaL_newlib(L, funcs);
    return 1;
}
