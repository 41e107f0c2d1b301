/* candles: read-only access to the market's candles and universe.
 * Candles are copied into fresh tables; scripts never hold core memory. */
#include <string.h>

#include "lua/internal.h"
#include "util/interval.h"

void lh_push_candle(lua_State *L, struct market *m, const struct candle *c)
{
    lua_createtable(L, 0, 14);
    lua_pushstring(L, m->syms.v[c->symbol].name);
    lua_setfield(L, -2, "symbol");
    lua_pushstring(L, interval_name(c->interval));
    lua_setfield(L, -2, "interval");
    lua_pushinteger(L, c->open_time);
    lua_setfield(L, -2, "open_time");
    lua_pushinteger(L, c->close_time);
    lua_setfield(L, -2, "close_time");
    lua_pushnumber(L, c->open);
    lua_setfield(L, -2, "open");
    lua_pushnumber(L, c->high);
    lua_setfield(L, -2, "high");
    lua_pushnumber(L, c->low);
    lua_setfield(L, -2, "low");
    lua_pushnumber(L, c->close);
    lua_setfield(L, -2, "close");
    lua_pushnumber(L, c->volume);
    lua_setfield(L, -2, "volume");
    lua_pushnumber(L, c->quote_volume);
    lua_setfield(L, -2, "quote_volume");
    lua_pushinteger(L, c->trades);
    lua_setfield(L, -2, "trades");
    lua_pushboolean(L, c->closed);
    lua_setfield(L, -2, "closed");
    lua_pushboolean(L, c->backfilled);
    lua_setfield(L, -2, "backfilled");
    lua_pushinteger(L, c->price_dp);
    lua_setfield(L, -2, "price_decimals");
}

static struct market *market_of(lua_State *L)
{
    return &lh_host_of(L)->app->market;
}

/* (symbol, interval) arguments -> the series, or NULL; raises on misuse */
static const struct series *series_arg(lua_State *L, const char *usage)
{
    struct market *m = market_of(L);
    size_t sn, in;
    const char *sym = luaL_checklstring(L, 1, &sn), *iv = luaL_checklstring(L, 2, &in);
    int ivx = interval_parse(iv, in);
    if (ivx < 0)
        luaL_error(L, "expected %s: unknown interval '%s' (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d)",
                   usage, iv);
    int id = symtab_find(&m->syms, sym, sn);
    return id < 0 ? NULL : candles_series(&m->candles, (uint32_t)id, ivx);
}

/* candles.symbols() -> {"BTCUSDT", ...}    the symbols streamed now */
static int c_symbols(lua_State *L)
{
    struct market *m = market_of(L);
    lua_newtable(L);
    lua_Integer n = 0;
    for (uint32_t i = 0; i < m->syms.n; i++)
        if (m->syms.v[i].active) {
            lua_pushstring(L, m->syms.v[i].name);
            lua_rawseti(L, -2, ++n);
        }
    return 1;
}

/* candles.top(n [, venue]) -> {"BTCUSDT", ...}    the venue's n biggest by
 * 24 h quote volume; venue "binance" (USDⓈ-M, the default), "spot" or
 * "bybit" */
static int c_top(lua_State *L)
{
    struct market *m = market_of(L);
    lua_Integer want = luaL_checkinteger(L, 1);
    size_t vn = 0;
    const char *vs = luaL_optlstring(L, 2, "binance", &vn);
    int v = venue_parse(vs, vn);
    if (want < 0)
        return luaL_error(L, "expected candles.top(n [, venue]) with n >= 0");
    if (v < 0)
        return luaL_error(L, "expected candles.top(n [, venue]): unknown venue '%s' (binance, "
                          "spot or bybit)", vs);
    lua_newtable(L);
    lua_Integer k = 0;
    for (uint32_t i = 0; i < m->nranked[v] && k < want; i++)
        if (m->syms.v[m->ranked[v][i]].active) {
            lua_pushstring(L, m->syms.v[m->ranked[v][i]].name);
            lua_rawseti(L, -2, ++k);
        }
    return 1;
}

/* candles.last(symbol, interval [, n]) -> {candle, ...}    closed candles,
 * newest first (at most n, default 1); {} when none are held */
static int c_last(lua_State *L)
{
    static const char usage[] = "candles.last(symbol, interval [, n])";
    const struct series *s = series_arg(L, usage);
    lua_Integer n = luaL_optinteger(L, 3, 1);
    if (n < 1)
        return luaL_error(L, "expected %s with n >= 1", usage);
    struct market *m = market_of(L);
    lua_newtable(L);
    for (lua_Integer i = 0; i < n; i++) {
        const struct candle *c = series_closed(s, m->candles.history, (uint32_t)i);
        if (!c)
            break;
        lh_push_candle(L, m, c);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* candles.forming(symbol, interval) -> candle | nil    the candle not yet closed */
static int c_forming(lua_State *L)
{
    const struct series *s = series_arg(L, "candles.forming(symbol, interval)");
    if (!s || !s->has_forming) {
        lua_pushnil(L);
        return 1;
    }
    lh_push_candle(L, market_of(L), &s->forming);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"symbols", c_symbols}, {"top", c_top}, {"last", c_last}, {"forming", c_forming},
    {NULL, NULL},
};

int lh_open_candles(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
