/* chart: PNG charts for scripts, on core/chart.
 *
 * chart.render reads one table into a struct chart_spec, checking every
 * field (a wrong one raises an error naming it), and returns the PNG as a
 * string.  The arrays the spec points at live in userdata of the script's
 * state, so an error half-way leaks nothing and the memory limit covers
 * them.  A render costs its script instructions in proportion to its
 * pixels and points: a loop of renders meets the instruction limit.
 */
#include <math.h>
#include <string.h>

#include "chart/chart.h"
#include "lua/internal.h"

#define USAGE "chart.render"
#define PNG_MT "cw.chart_png"
/* instructions of the budget per pixel and per point drawn, so that a
 * render costs about the time it takes */
#define CHART_COST_PIXELS 1.5   /* (an 800x500 PNG takes ~2.5 ms: ~0.5M instructions of Lua) */
#define CHART_COST_POINT 100

static const char *const spec_keys[] = {
    "width", "height", "theme", "title", "subtitle", "decimals", "candles", "x", "series",
    "bands", "lines", "highlight", "last", "lower", NULL,
};

/* Raises "chart.render: <field>: <what>". */
static int field_error(lua_State *L, const char *field, const char *what)
{
    return luaL_error(L, USAGE ": %s: %s", field, what);
}

static void *scratch(lua_State *L, size_t n)
{
    return lua_newuserdatauv(L, n ? n : 1, 0);   /* left on the stack: kept alive */
}

static void check_keys(lua_State *L, int t, const char *const *keys, const char *where)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (const char *const *k = keys; *k && !known; k++)
                known = !strcmp(*k, lua_tostring(L, -1));
        if (!known) {
            lua_pushvalue(L, -1);
            luaL_error(L, USAGE ": %s: unknown field '%s'", where, luaL_tolstring(L, -1, NULL));
        }
    }
}

/* "where.key", or "key" at the top level (where NULL) */
static const char *field_name(char *buf, size_t n, const char *where, const char *key)
{
    if (where)
        snprintf(buf, n, "%s.%s", where, key);
    else
        snprintf(buf, n, "%s", key);
    return buf;
}

/* t[key] as an integer in lo..hi, or dflt when absent */
static lua_Integer opt_int(lua_State *L, int t, const char *key, lua_Integer dflt,
                           lua_Integer lo, lua_Integer hi, const char *where)
{
    char field[64];
    field_name(field, sizeof field, where, key);
    int ty = lua_getfield(L, t, key);
    lua_Integer v = dflt;
    if (ty != LUA_TNIL) {
        int ok;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok || v < lo || v > hi)
            luaL_error(L, USAGE ": %s: expected an integer %I..%I", field, (LUAI_UACINT)lo,
                       (LUAI_UACINT)hi);
    }
    lua_pop(L, 1);
    return v;
}

/* t[key] as a string (kept alive by t), or NULL when absent */
static const char *opt_str(lua_State *L, int t, const char *key, const char *where)
{
    char field[64];
    field_name(field, sizeof field, where, key);
    int ty = lua_getfield(L, t, key);
    const char *s = NULL;
    if (ty == LUA_TSTRING) {
        size_t n;
        s = lua_tolstring(L, -1, &n);
        if (n > 200 || strlen(s) != n)
            field_error(L, field, "at most 200 bytes, no zero byte");
    } else if (ty != LUA_TNIL) {
        field_error(L, field, "expected a string");
    }
    lua_pop(L, 1);
    return s;
}

/* a number field of the table at t, finite */
static double num_field(lua_State *L, int t, const char *key, const char *where, size_t i)
{
    lua_getfield(L, t, key);
    int ok;
    double v = lua_tonumberx(L, -1, &ok);
    if (!ok || !isfinite(v) || fabs(v) > CHART_MAX_PRICE)
        luaL_error(L, USAGE ": %s[%d].%s: expected a number within +-1e15", where, (int)i, key);
    lua_pop(L, 1);
    return v;
}

static size_t array_len(lua_State *L, int t, const char *field, size_t max)
{
    if (!lua_istable(L, t))
        field_error(L, field, "expected an array");
    size_t n = (size_t)lua_rawlen(L, t);
    if (n > max)
        luaL_error(L, USAGE ": %s: %d entries, at most %d", field, (int)n, (int)max);
    return n;
}

/* candles[i] -> c (i from 1) */
static void read_candle(lua_State *L, int t, size_t i, struct candle *c)
{
    if (lua_rawgeti(L, t, (lua_Integer)i) != LUA_TTABLE)
        luaL_error(L, USAGE ": candles[%d]: expected a candle table", (int)i);
    int ct = lua_gettop(L);
    memset(c, 0, sizeof *c);
    lua_getfield(L, ct, "open_time");
    int ok;
    c->open_time = lua_tointegerx(L, -1, &ok);
    if (!ok)
        luaL_error(L, USAGE ": candles[%d].open_time: expected an integer (ms)", (int)i);
    lua_pop(L, 1);
    c->open = num_field(L, ct, "open", "candles", i);
    c->high = num_field(L, ct, "high", "candles", i);
    c->low = num_field(L, ct, "low", "candles", i);
    c->close = num_field(L, ct, "close", "candles", i);
    if (lua_getfield(L, ct, "volume") != LUA_TNIL)
        c->volume = num_field(L, ct, "volume", "candles", i);
    lua_pop(L, 1);
    if (c->volume < 0)
        luaL_error(L, USAGE ": candles[%d].volume: expected a number >= 0", (int)i);
    if (c->high < c->low || c->high < fmax(c->open, c->close) || c->low > fmin(c->open, c->close))
        luaL_error(L, USAGE ": candles[%d]: high and low must contain open and close", (int)i);
    char where[32];
    snprintf(where, sizeof where, "candles[%d]", (int)i);
    c->price_dp = (uint8_t)opt_int(L, ct, "price_decimals", 0, 0, 15, where);
    lua_pop(L, 1);
}

/* Reads spec.candles (oldest or newest first); sets *reversed when the
 * array was newest first (as candles.last gives them). */
static void read_candles(lua_State *L, int spec, struct chart_spec *s, int *reversed)
{
    *reversed = 0;
    if (lua_getfield(L, spec, "candles") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    int t = lua_gettop(L);
    size_t n = array_len(L, t, "candles", CHART_MAX_POINTS);
    struct candle *c = scratch(L, n * sizeof *c);
    lua_insert(L, t);   /* the userdata stays below the table */
    t++;
    for (size_t i = 0; i < n; i++)
        read_candle(L, t, i + 1, &c[i]);
    if (n > 1 && c[0].open_time > c[n - 1].open_time) {
        *reversed = 1;
        for (size_t i = 0; i < n / 2; i++) {
            struct candle tmp = c[i];
            c[i] = c[n - 1 - i];
            c[n - 1 - i] = tmp;
        }
    }
    for (size_t i = 1; i < n; i++)
        if (c[i].open_time <= c[i - 1].open_time)
            luaL_error(L, USAGE ": candles: open_time must increase (or decrease) throughout");
    lua_pop(L, 1);
    s->candles = c;
    s->ncandles = n;
}

static void read_x(lua_State *L, int spec, struct chart_spec *s, int *reversed)
{
    if (lua_getfield(L, spec, "x") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    int t = lua_gettop(L);
    size_t n = array_len(L, t, "x", CHART_MAX_POINTS);
    int64_t *x = scratch(L, n * sizeof *x);
    lua_insert(L, t);
    t++;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, t, (lua_Integer)i + 1);
        int ok;
        x[i] = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_error(L, USAGE ": x[%d]: expected an integer time (ms)", (int)i + 1);
        lua_pop(L, 1);
    }
    *reversed = n > 1 && x[0] > x[n - 1];
    for (size_t i = 0; *reversed && i < n / 2; i++) {
        int64_t tmp = x[i];
        x[i] = x[n - 1 - i];
        x[n - 1 - i] = tmp;
    }
    for (size_t i = 1; i < n; i++)
        if (x[i] <= x[i - 1])
            luaL_error(L, USAGE ": x: times must increase (or decrease) throughout");
    lua_pop(L, 1);
    s->x = x;
    s->nx = n;
}

/* t[key]: an array of np numbers (false or NaN: no value there), as
 * doubles in the points' order */
static double *read_values(lua_State *L, int t, const char *key, size_t np, int reversed,
                           const char *where, size_t k)
{
    char field[64];
    snprintf(field, sizeof field, "%s[%d].%s", where, (int)k, key);
    lua_getfield(L, t, key);
    int v = lua_gettop(L);
    size_t n = array_len(L, v, field, CHART_MAX_POINTS);
    if (n != np)
        luaL_error(L, USAGE ": %s: %d values for %d points (one per candle or x)", field, (int)n,
                   (int)np);
    double *out = scratch(L, n * sizeof *out);
    lua_insert(L, v);   /* below the array: popped with it by the caller's settop */
    for (size_t i = 0; i < n; i++) {
        int ty = lua_rawgeti(L, v + 1, (lua_Integer)i + 1);
        double d = NAN;
        if (ty == LUA_TNUMBER) {
            d = lua_tonumber(L, -1);
            if (isinf(d) || fabs(d) > CHART_MAX_PRICE)
                luaL_error(L, USAGE ": %s[%d]: beyond +-1e15", field, (int)i + 1);
        } else if (!(ty == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
            luaL_error(L, USAGE ": %s[%d]: expected a number, or false for none", field, (int)i + 1);
        }
        out[reversed ? n - 1 - i : i] = d;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);   /* the array; the userdata stays */
    return out;
}

static int colour_of(lua_State *L, int t, size_t dflt, const char *where)
{
    return (int)opt_int(L, t, "colour", (lua_Integer)(dflt % CHART_COLOURS) + 1, 1, CHART_COLOURS,
                        where) - 1;
}

static const char *const series_keys[] = {"values", "label", "pane", "colour", NULL};
static const char *const band_keys[] = {"upper", "lower", "label", "colour", NULL};
static const char *const line_keys[] = {"price", "label", "style", NULL};
static const char *const lower_keys[] = {"min", "max", "guides", NULL};

/* spec[key] as an array of tables, each checked against keys; pushes it
 * (or nothing and returns 0 when absent) */
static size_t list_of(lua_State *L, int spec, const char *key, size_t max, const char *const *keys)
{
    if (lua_getfield(L, spec, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    size_t n = array_len(L, lua_gettop(L), key, max);
    for (size_t i = 1; i <= n; i++) {
        char where[32];
        snprintf(where, sizeof where, "%s[%d]", key, (int)i);
        if (lua_rawgeti(L, -1, (lua_Integer)i) != LUA_TTABLE)
            field_error(L, where, "expected a table");
        check_keys(L, lua_gettop(L), keys, where);
        lua_pop(L, 1);
    }
    if (!n)
        lua_pop(L, 1);
    return n;
}

static void read_series(lua_State *L, int spec, struct chart_spec *s, size_t np, int rev)
{
    size_t n = list_of(L, spec, "series", CHART_MAX_SERIES, series_keys);
    if (!n)
        return;
    int list = lua_gettop(L);
    struct chart_series *v = scratch(L, n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char where[32];
        snprintf(where, sizeof where, "series[%d]", (int)i + 1);
        lua_rawgeti(L, list, (lua_Integer)i + 1);
        int t = lua_gettop(L);
        v[i].values = read_values(L, t, "values", np, rev, "series", i + 1);
        v[i].n = np;
        v[i].label = opt_str(L, t, "label", where);
        v[i].colour = colour_of(L, t, i, where);
        const char *pane = opt_str(L, t, "pane", where);
        if (pane && strcmp(pane, "main") && strcmp(pane, "lower"))
            luaL_error(L, USAGE ": %s.pane: expected \"main\" or \"lower\"", where);
        v[i].pane = pane && !strcmp(pane, "lower") ? CHART_PANE_LOWER : CHART_PANE_MAIN;
        lua_replace(L, t);   /* the values stay; the table's label lives on in spec */
    }
    s->series = v;
    s->nseries = n;
}

static void read_bands(lua_State *L, int spec, struct chart_spec *s, size_t np, int rev)
{
    size_t n = list_of(L, spec, "bands", CHART_MAX_BANDS, band_keys);
    if (!n)
        return;
    int list = lua_gettop(L);
    struct chart_band *b = scratch(L, n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        char where[32];
        snprintf(where, sizeof where, "bands[%d]", (int)i + 1);
        lua_rawgeti(L, list, (lua_Integer)i + 1);
        int t = lua_gettop(L);
        b[i].upper = read_values(L, t, "upper", np, rev, "bands", i + 1);
        b[i].lower = read_values(L, t, "lower", np, rev, "bands", i + 1);
        b[i].n = np;
        b[i].label = opt_str(L, t, "label", where);
        b[i].colour = colour_of(L, t, s->nseries + i, where);
        lua_remove(L, t);   /* the table (its strings live on in spec); the values stay */
    }
    s->bands = b;
    s->nbands = n;
}

static void read_lines(lua_State *L, int spec, struct chart_spec *s)
{
    size_t n = list_of(L, spec, "lines", CHART_MAX_LINES, line_keys);
    if (!n)
        return;
    int list = lua_gettop(L);
    struct chart_hline *h = scratch(L, n * sizeof *h);
    for (size_t i = 0; i < n; i++) {
        char where[32];
        snprintf(where, sizeof where, "lines[%d]", (int)i + 1);
        lua_rawgeti(L, list, (lua_Integer)i + 1);
        int t = lua_gettop(L);
        h[i].price = num_field(L, t, "price", "lines", i + 1);
        h[i].label = opt_str(L, t, "label", where);
        const char *style = opt_str(L, t, "style", where);
        if (style && strcmp(style, "threshold") && strcmp(style, "solid"))
            luaL_error(L, USAGE ": %s.style: expected \"threshold\" or \"solid\"", where);
        h[i].style = style && !strcmp(style, "solid") ? CHART_LINE_SOLID : CHART_LINE_THRESHOLD;
        lua_pop(L, 1);
    }
    s->lines = h;
    s->nlines = n;
}

static void read_lower(lua_State *L, int spec, struct chart_spec *s)
{
    if (lua_getfield(L, spec, "lower") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    int t = lua_gettop(L);
    if (!lua_istable(L, t))
        field_error(L, "lower", "expected {min=, max=, guides={...}}");
    check_keys(L, t, lower_keys, "lower");
    s->lower_min = s->lower_max = 0;   /* fitted, unless both given */
    s->lower_guides[0] = s->lower_guides[1] = NAN;
    if (lua_getfield(L, t, "min") != LUA_TNIL || lua_getfield(L, t, "max") != LUA_TNIL) {
        s->lower_min = num_field(L, t, "min", "lower", 1);
        s->lower_max = num_field(L, t, "max", "lower", 1);
        if (s->lower_min >= s->lower_max)
            field_error(L, "lower", "min must be below max");
    }
    lua_settop(L, t);
    if (lua_getfield(L, t, "guides") != LUA_TNIL) {
        size_t n = array_len(L, t + 1, "lower.guides", 2);
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, t + 1, (lua_Integer)i + 1);
            int ok;
            double g = lua_tonumberx(L, -1, &ok);
            if (!ok || !isfinite(g) || fabs(g) > CHART_MAX_PRICE)
                luaL_error(L, USAGE ": lower.guides[%d]: expected a number", (int)i + 1);
            s->lower_guides[i] = g;
            lua_pop(L, 1);
        }
    }
    lua_settop(L, t - 1);
}

/* The open_time of the candle to highlight -> its index (after any
 * reversal), or -1 */
static long read_highlight(lua_State *L, int spec, const struct chart_spec *s)
{
    if (lua_getfield(L, spec, "highlight") == LUA_TNIL) {
        lua_pop(L, 1);
        return -1;
    }
    int ok;
    lua_Integer t = lua_tointegerx(L, -1, &ok);
    lua_pop(L, 1);
    if (!ok)
        field_error(L, "highlight", "expected a candle's open_time (integer ms)");
    for (size_t i = 0; i < s->ncandles; i++)
        if (s->candles[i].open_time == t)
            return (long)i;
    return field_error(L, "highlight", "no candle has that open_time");
}

static void read_spec(lua_State *L, struct chart_spec *s)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkstack(L, 64, USAGE);
    check_keys(L, 1, spec_keys, "spec");
    chart_spec_init(s);
    s->width = (int)opt_int(L, 1, "width", 800, CHART_MIN_W, CHART_MAX_W, NULL);
    s->height = (int)opt_int(L, 1, "height", 500, CHART_MIN_H, CHART_MAX_H, NULL);
    const char *theme = opt_str(L, 1, "theme", NULL);
    if (theme && strcmp(theme, "dark") && strcmp(theme, "light"))
        field_error(L, "theme", "expected \"dark\" or \"light\"");
    s->theme = theme && !strcmp(theme, "light") ? CHART_LIGHT : CHART_DARK;
    s->title = opt_str(L, 1, "title", NULL);
    s->subtitle = opt_str(L, 1, "subtitle", NULL);
    s->price_dp = (int)opt_int(L, 1, "decimals", -1, 0, 15, NULL);
    int rev_c, rev_x = 0;
    read_candles(L, 1, s, &rev_c);
    read_x(L, 1, s, &rev_x);
    if (s->ncandles && s->nx)
        field_error(L, "x", "a line chart's times: not with candles");
    size_t np = s->ncandles ? s->ncandles : s->nx;
    if (!np)
        field_error(L, "candles", "nothing to draw: give candles, or x and series");
    read_series(L, 1, s, np, rev_c || rev_x);
    read_bands(L, 1, s, np, rev_c || rev_x);
    read_lines(L, 1, s);
    read_lower(L, 1, s);
    s->highlight = read_highlight(L, 1, s);
    lua_getfield(L, 1, "last");
    s->last_marker = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
}

/* chart.render{width=, height=, theme=, title=, subtitle=, decimals=,
 *   candles=, x=, series=, bands=, lines=, highlight=, last=, lower=}
 *   -> png | nil, err */
static int c_render(lua_State *L)
{
    struct chart_spec s;
    read_spec(L, &s);
    lh_budget_charge(L, (double)s.width * s.height * CHART_COST_PIXELS +
                            (double)(s.ncandles + s.nx) * CHART_COST_POINT);
    /* the bytes are held by a userdata whose __gc frees them, should
     * copying them into a string raise (the memory limit) */
    struct chart_png *png = lua_newuserdatauv(L, sizeof *png, 0);
    memset(png, 0, sizeof *png);
    luaL_setmetatable(L, PNG_MT);
    char err[200];
    if (chart_render(&s, png, err, sizeof err) < 0)
        return lh_fail(L, USAGE ": %s", err);
    lua_pushlstring(L, (const char *)png->data, png->len);
    chart_png_free(png);
    return 1;
}

static int png_gc(lua_State *L)
{
    chart_png_free(luaL_checkudata(L, 1, PNG_MT));
    return 0;
}

static const luaL_Reg funcs[] = {
    {"render", c_render},
    {NULL, NULL},
};

int lh_open_chart(lua_State *L)
{
    luaL_newmetatable(L, PNG_MT);
    lua_pushcfunction(L, png_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
