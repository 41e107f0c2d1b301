/* The spec module's market half: candles, rankings and histories fed
 * through the market's real path, as the feed would. */
#include <string.h>

#include "lua/spec.h"
#include "util/interval.h"

static double num_field(lua_State *L, int t, const char *k, double dflt)
{
    double v = lua_getfield(L, t, k) == LUA_TNUMBER ? lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

/* The candle described by the table at idx (usage: what to say when it
 * is not one). */
static void candle_from(lua_State *L, int idx, const char *usage, struct candle *c)
{
    struct market *m = &lh_host_of(L)->app->market;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, "symbol");
    lua_getfield(L, idx, "interval");
    size_t sn, in;
    const char *sym = lua_tolstring(L, -2, &sn), *iv = lua_tolstring(L, -1, &in);
    int ivx = iv ? interval_parse(iv, in) : -1;
    int id = sym ? symtab_add(&m->syms, sym, sn) : -1;
    lua_pop(L, 2);
    if (id < 0 || ivx < 0 || lua_getfield(L, idx, "open_time") != LUA_TNUMBER)
        luaL_error(L, "expected %s", usage);
    lua_pop(L, 1);
    memset(c, 0, sizeof *c);
    c->symbol = (uint32_t)id;
    c->interval = (uint8_t)ivx;
    c->open_time = (int64_t)num_field(L, idx, "open_time", 0);
    c->close_time = c->open_time + interval_ms(ivx) - 1;
    c->event_time = (int64_t)num_field(L, idx, "event_time", (double)(c->open_time + 1));
    c->open = num_field(L, idx, "open", 0);
    c->close = num_field(L, idx, "close", c->open);
    c->high = num_field(L, idx, "high", c->open > c->close ? c->open : c->close);
    c->low = num_field(L, idx, "low", c->open < c->close ? c->open : c->close);
    c->volume = num_field(L, idx, "volume", 0);
    c->quote_volume = num_field(L, idx, "quote_volume", 0);
    c->trades = (int32_t)num_field(L, idx, "trades", 0);
    c->price_dp = (uint8_t)num_field(L, idx, "price_decimals", 2);
    lua_getfield(L, idx, "closed");
    c->closed = (uint8_t)lua_toboolean(L, -1);
    lua_getfield(L, idx, "backfilled");
    c->backfilled = (uint8_t)lua_toboolean(L, -1);
    lua_pop(L, 2);
}

/* spec.candle{symbol =, interval =, open_time = ms, open =, high =, low =,
 *             close =, volume =, quote_volume =, trades =, event_time =,
 *             price_decimals =, closed =, backfilled =}
 *   -> "closed" | "forming" | "ignored"
 * Feeds one candle through the market's real path, as the feed would.
 * high/low default to the extremes of open and close; an update whose
 * event_time is not newer than the last is a repeat (ignored). */
int lh_spec_candle(lua_State *L)
{
    struct market *m = &lh_host_of(L)->app->market;
    struct candle c;
    candle_from(L, 1, "spec.candle{symbol =, interval =, open_time =, open =, close =}", &c);
    uint64_t closed_before = m->n.closed, forming_before = m->n.forming;
    market_apply(m, &c);
    lua_pushstring(L, m->n.closed > closed_before ? "closed"
                      : m->n.forming > forming_before ? "forming" : "ignored");
    return 1;
}

/* spec.ranking{"BTCUSDT", "ETHUSDT", ...} -> nil    the 24 h volume order */
int lh_spec_ranking(lua_State *L)
{
    struct market *m = &lh_host_of(L)->app->market;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    uint32_t ids[4096];
    double qv[4096];
    if (n > 4096)
        return luaL_error(L, "spec.ranking: at most 4096 symbols");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        size_t len;
        const char *name = luaL_checklstring(L, -1, &len);
        int id = symtab_add(&m->syms, name, len);
        if (id < 0)
            return luaL_error(L, "spec.ranking: '%s' is not a symbol name", name);
        ids[i - 1] = (uint32_t)id;
        qv[i - 1] = (double)(n - i + 1);
        lua_pop(L, 1);
    }
    market_set_ranking_all(m, ids, qv, (uint32_t)n);
    return 0;
}

/* spec.history{symbol =, interval =, rows = {{open_time =, open =, close =
 * ...}, ...}} -> nil: a series' closed history as the feed hands on its
 * answer to the indicator book's request (the series is kept and warms;
 * the store takes every row) */
int lh_spec_history(lua_State *L)
{
    static const char usage[] = "spec.history{symbol =, interval =, rows = {{open_time =, ...}}}";
    struct market *m = &lh_host_of(L)->app->market;
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getfield(L, 1, "rows") != LUA_TTABLE)
        return luaL_error(L, "expected %s", usage);
    size_t n = lua_rawlen(L, -1);
    struct candle *rows = lua_newuserdatauv(L, sizeof *rows * (n ? n : 1), 0);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (lua_Integer)i + 1);
        int row = lua_gettop(L);
        lua_getfield(L, 1, "symbol");
        lua_setfield(L, row, "symbol");
        lua_getfield(L, 1, "interval");
        lua_setfield(L, row, "interval");
        candle_from(L, row, usage, &rows[i]);
        rows[i].closed = rows[i].backfilled = 1;
        lua_pop(L, 1);
    }
    if (n) {   /* as the feed's answer to the book's request for it */
        ind_book_keep(&m->ind, rows[0].symbol, rows[0].interval);
        market_history(m, rows[0].symbol, rows[0].interval, rows, n, n);
    }
    return 0;
}
