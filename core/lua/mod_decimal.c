/* decimal: exact decimal numbers for money, on core/util/dec.h.
 *
 * A decimal is a userdata of fixed size holding a struct dec: no pointer,
 * nothing allocated outside the script state (so its memory limit covers
 * every decimal), no __gc.  That is why the type is fixed point on a 128-bit
 * integer rather than libmpdec, whose numbers live in malloc'ed memory of
 * any size (see dec.h).  Values are immutable; every operation makes a new
 * one.  A Lua integer is taken as a decimal wherever one is expected; a
 * float is refused (binary floating point is not exact), and so is a string
 * (decimal.new or decimal.parse say how it is read).
 */
#include <stdio.h>
#include <string.h>

#include "lua/internal.h"
#include "util/dec.h"

#define DEC_MT "cw.decimal"
#define MODES "half_even, half_up, half_down, down, up, floor, ceiling"

/* The struct goes in and out of the userdata by memcpy: Lua aligns a
 * userdata's block to 8 bytes, an __int128 wants 16. */
static void push(lua_State *L, struct dec d)
{
    memcpy(lua_newuserdatauv(L, sizeof d, 0), &d, sizeof d);
    luaL_setmetatable(L, DEC_MT);
}

static int is_dec(lua_State *L, int idx, struct dec *d)
{
    void *u = luaL_testudata(L, idx, DEC_MT);
    if (u)
        memcpy(d, u, sizeof *d);
    return u != NULL;
}

/* A decimal or a Lua integer at idx; anything else raises, saying why. */
static struct dec operand(lua_State *L, int idx, const char *usage)
{
    struct dec d = {0, 0};
    if (is_dec(L, idx, &d))
        return d;
    if (lua_isinteger(L, idx))
        return dec_from_int(lua_tointeger(L, idx));
    if (lua_type(L, idx) == LUA_TNUMBER) {
        lua_pushvalue(L, idx);
        luaL_error(L, "%s: %s is a float, which is not exact: write it as a string, "
                   "decimal.new(\"%s\")", usage, lua_tostring(L, -1), lua_tostring(L, -1));
    }
    if (lua_type(L, idx) == LUA_TSTRING)
        luaL_error(L, "%s: a string is not a decimal: read it with decimal.new(s) or "
                   "decimal.parse(s) first", usage);
    luaL_error(L, "%s: a decimal or an integer expected, got %s", usage, luaL_typename(L, idx));
    return d;
}

/* Raises the error of an operation, with its operands: "decimal: 1 / 0:
 * division by zero". */
static void failed(lua_State *L, int rc, struct dec a, const char *op, struct dec b)
{
    char sa[DEC_STR_MAX], sb[DEC_STR_MAX];
    dec_str(a, sa, sizeof sa);
    dec_str(b, sb, sizeof sb);
    luaL_error(L, "decimal: %s %s %s: %s", sa, op, sb, dec_strerror(rc));
}

static int arith(lua_State *L, const char *op, int (*fn)(struct dec, struct dec, struct dec *))
{
    char usage[32];
    snprintf(usage, sizeof usage, "decimal a %s b", op);
    struct dec a = operand(L, 1, usage), b = operand(L, 2, usage), r;
    int rc = fn(a, b, &r);
    if (rc != DEC_OK)
        failed(L, rc, a, op, b);
    push(L, r);
    return 1;
}

/* a + b -> decimal   (exact; the larger scale) */
static int d_add(lua_State *L)
{
    return arith(L, "+", dec_add);
}

/* a - b -> decimal   (exact; the larger scale) */
static int d_sub(lua_State *L)
{
    return arith(L, "-", dec_sub);
}

/* a * b -> decimal   (exact; the sum of the scales, trailing zeros dropped past 18) */
static int d_mul(lua_State *L)
{
    return arith(L, "*", dec_mul);
}

/* a / b, a // b, a % b, a ^ b: refused, a quotient needs a scale and a mode */
static int d_nodiv(lua_State *L)
{
    return luaL_error(L, "decimal: use a:div(b, scale [, mode]): a quotient needs the "
                      "places to keep and a rounding mode");
}

/* -a -> decimal */
static int d_unm(lua_State *L)
{
    push(L, dec_neg(operand(L, 1, "decimal -a")));
    return 1;
}

static int compare(lua_State *L, const char *usage)
{
    struct dec a = operand(L, 1, usage);
    return dec_cmp(a, operand(L, 2, usage));
}

/* a == b -> boolean   (Lua calls it for two userdata only: a decimal and a
 * number are unequal, and so is a decimal and another userdata) */
static int d_eq(lua_State *L)
{
    struct dec a, b;
    lua_pushboolean(L, is_dec(L, 1, &a) && is_dec(L, 2, &b) && dec_cmp(a, b) == 0);
    return 1;
}

/* a < b -> boolean */
static int d_lt(lua_State *L)
{
    lua_pushboolean(L, compare(L, "decimal a < b") < 0);
    return 1;
}

/* a <= b -> boolean */
static int d_le(lua_State *L)
{
    lua_pushboolean(L, compare(L, "decimal a <= b") <= 0);
    return 1;
}

/* tostring(a) -> string   (canonical: "-1234.50", its scale's digits kept) */
static int d_tostring(lua_State *L)
{
    char s[DEC_STR_MAX];
    size_t n = dec_str(operand(L, 1, "tostring(a)"), s, sizeof s);
    lua_pushlstring(L, s, n);
    return 1;
}

/* a .. s, s .. a -> string   (a as tostring(a); s a string or a number) */
static int d_concat(lua_State *L)
{
    for (int i = 1; i <= 2; i++) {
        struct dec d;
        if (is_dec(L, i, &d)) {
            char s[DEC_STR_MAX];
            lua_pushlstring(L, s, dec_str(d, s, sizeof s));
        } else if (lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER) {
            lua_pushvalue(L, i);
            lua_tostring(L, -1);
        } else {
            return luaL_error(L, "decimal: cannot concatenate a %s", luaL_typename(L, i));
        }
    }
    lua_concat(L, 2);
    return 1;
}

static struct dec self(lua_State *L, const char *usage)
{
    struct dec d = {0, 0};
    if (!is_dec(L, 1, &d))
        luaL_error(L, "expected %s: call it with ':' on a decimal", usage);
    return d;
}

/* An integer 0..18 at idx (the places of a result). */
static int places(lua_State *L, int idx, const char *usage)
{
    if (!lua_isinteger(L, idx) || lua_tointeger(L, idx) < 0 ||
        lua_tointeger(L, idx) > DEC_MAX_SCALE)
        luaL_error(L, "expected %s: scale must be an integer from 0 to %d", usage,
                   DEC_MAX_SCALE);
    return (int)lua_tointeger(L, idx);
}

/* A rounding mode's name at idx, "half_even" when absent. */
static enum dec_mode mode_arg(lua_State *L, int idx, const char *usage)
{
    int t = lua_type(L, idx);
    const char *name = t == LUA_TNONE || t == LUA_TNIL ? "half_even"
                       : t == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
    int m = name ? dec_mode_parse(name) : -1;
    if (m < 0)
        luaL_error(L, "expected %s: mode must be one of " MODES, usage);
    return (enum dec_mode)m;
}

/* a:div(b, scale [, mode]) -> decimal   (a / b rounded to scale places; mode
 * "half_even" unless given; b zero raises) */
static int d_div(lua_State *L)
{
    const char *usage = "a:div(b, scale [, mode])";
    struct dec a = self(L, usage), b = operand(L, 2, usage), r;
    int rc = dec_div(a, b, places(L, 3, usage), mode_arg(L, 4, usage), &r);
    if (rc != DEC_OK)
        failed(L, rc, a, "/", b);
    push(L, r);
    return 1;
}

/* a:round(scale [, mode]) -> decimal   (exactly scale places: rounded by mode,
 * "half_even" unless given, or zeros added) */
static int d_round(lua_State *L)
{
    const char *usage = "a:round(scale [, mode])";
    struct dec a = self(L, usage), r;
    int scale = places(L, 2, usage);
    int rc = dec_round(a, scale, mode_arg(L, 3, usage), &r);
    if (rc != DEC_OK) {
        char s[DEC_STR_MAX];
        dec_str(a, s, sizeof s);
        return luaL_error(L, "decimal: %s rounded to %d places: %s", s, scale, dec_strerror(rc));
    }
    push(L, r);
    return 1;
}

/* a:cmp(b) -> -1 | 0 | 1   (b a decimal or an integer) */
static int d_cmp(lua_State *L)
{
    const char *usage = "a:cmp(b)";
    struct dec a = self(L, usage);
    lua_pushinteger(L, dec_cmp(a, operand(L, 2, usage)));
    return 1;
}

/* a:is_zero() -> boolean */
static int d_is_zero(lua_State *L)
{
    lua_pushboolean(L, dec_sign(self(L, "a:is_zero()")) == 0);
    return 1;
}

/* a:sign() -> -1 | 0 | 1 */
static int d_sign(lua_State *L)
{
    lua_pushinteger(L, dec_sign(self(L, "a:sign()")));
    return 1;
}

/* a:abs() -> decimal */
static int d_abs(lua_State *L)
{
    push(L, dec_abs(self(L, "a:abs()")));
    return 1;
}

/* a:scale() -> integer   (its places after the point) */
static int d_scale(lua_State *L)
{
    lua_pushinteger(L, self(L, "a:scale()").scale);
    return 1;
}

/* opts.key as a separator string for a:format: at most 4 bytes, no digit
 * and no '-' (so the text still reads as one number). */
static const char *separator(lua_State *L, const char *key, const char *dflt, const char *usage)
{
    lua_getfield(L, 2, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return dflt;
    }
    size_t n;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (!s || n > 4 || strpbrk(s, "0123456789-") || strlen(s) != n)
        luaL_error(L, "expected %s: %s must be a string of at most 4 bytes, no digit or '-'",
                   usage, key);
    return s;   /* left on the stack: it stays alive while the call runs */
}

/* a:format([opts]) -> string   opts = {decimals = 0..18 (default: a's scale),
 * mode = (default "half_even"), group = "" (default) | " " | "," | ...,
 * point = "." (default) | ","}: "1 234 567,89" */
static int d_format(lua_State *L)
{
    const char *usage = "a:format{decimals =, mode =, group =, point =}";
    struct dec a = self(L, usage);
    struct dec_fmt f = {-1, DEC_HALF_EVEN, "", "."};
    if (!lua_isnoneornil(L, 2)) {
        luaL_argexpected(L, lua_istable(L, 2), 2, "table of options");
        lua_getfield(L, 2, "decimals");
        if (!lua_isnil(L, -1))
            f.decimals = places(L, -1, usage);
        lua_getfield(L, 2, "mode");
        f.mode = mode_arg(L, -1, usage);
        lua_pop(L, 2);
        f.group = separator(L, "group", "", usage);
        f.point = separator(L, "point", ".", usage);
        if (strcmp(f.point, ".") && strcmp(f.point, ","))
            luaL_error(L, "expected %s: point must be \".\" or \",\"", usage);
        if (!strcmp(f.group, f.point))
            luaL_error(L, "expected %s: group and point must differ", usage);
    }
    char s[DEC_FMT_MAX];
    int rc = dec_format(a, &f, s, sizeof s);
    if (rc != DEC_OK) {
        char t[DEC_STR_MAX];
        dec_str(a, t, sizeof t);
        return luaL_error(L, "decimal: %s with %d places: %s", t, f.decimals, dec_strerror(rc));
    }
    lua_pushstring(L, s);
    return 1;
}

/* decimal.new(v) -> decimal   (v: machine text such as "-1234.50" or
 * "2.5e3", an integer, or a decimal; anything else raises) */
static int d_new(lua_State *L)
{
    const char *usage = "decimal.new(s | integer)";
    if (lua_type(L, 1) != LUA_TSTRING) {
        push(L, operand(L, 1, usage));
        return 1;
    }
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    struct dec d;
    int rc = dec_parse(s, n, &d);
    if (rc != DEC_OK) {
        char shown[48];
        snprintf(shown, sizeof shown, "%.40s%s", s, n > 40 ? "..." : "");
        return luaL_error(L, "%s: \"%s\": %s", usage, shown, dec_strerror(rc));
    }
    push(L, d);
    return 1;
}

/* decimal.parse(s [, opts]) -> decimal | nil, sentence   (what a person
 * typed: "10 000.50", "-1"; opts = {comma = true} takes "10 000,50" too;
 * the sentence says what is wrong and how to type it) */
static int d_parse(lua_State *L)
{
    const char *usage = "decimal.parse(s [, {comma = boolean}])";
    if (lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "expected %s: s must be a string", usage);
    int comma = 0;
    if (!lua_isnoneornil(L, 2)) {
        if (!lua_istable(L, 2))
            return luaL_error(L, "expected %s: opts must be a table", usage);
        lua_getfield(L, 2, "comma");
        comma = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    struct dec d;
    char why[160];
    if (dec_parse_input(s, n, comma, &d, why, sizeof why) != DEC_OK) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    push(L, d);
    return 1;
}

/* decimal.from_number(x [, digits]) -> decimal   (a float as the shortest
 * decimal that reads back as the same float, Python's Decimal(repr(x)):
 * 0.1 is 0.1; rounded half-even to digits significant digits (1..17) when
 * given; an integer exactly; NaN and infinities raise) */
static int d_from_number(lua_State *L)
{
    const char *usage = "decimal.from_number(x [, digits])";
    int digits = 0;
    if (!lua_isnoneornil(L, 2)) {
        if (!lua_isinteger(L, 2) || lua_tointeger(L, 2) < 1 || lua_tointeger(L, 2) > 17)
            return luaL_error(L, "%s: digits must be an integer from 1 to 17", usage);
        digits = (int)lua_tointeger(L, 2);
    }
    if (lua_type(L, 1) != LUA_TNUMBER)
        return luaL_error(L, "%s: a number expected, got %s%s", usage, luaL_typename(L, 1),
                          lua_type(L, 1) == LUA_TSTRING ? " (decimal.new reads a string)" : "");
    struct dec d;
    int rc = lua_isinteger(L, 1) ? dec_from_int_digits(lua_tointeger(L, 1), digits, &d)
                                 : dec_from_double(lua_tonumber(L, 1), digits, &d);
    char shown[32];   /* all its digits: Lua's tostring shows 14 */
    snprintf(shown, sizeof shown, "%.17g", lua_tonumber(L, 1));
    if (rc == DEC_ESYNTAX)
        return luaL_error(L, "%s: %s is not a finite number", usage, shown);
    if (rc != DEC_OK)
        return luaL_error(L, "%s: %s: %s%s", usage, shown, dec_strerror(rc),
                          rc == DEC_ESCALE && !digits ? " (digits = n rounds it to n significant "
                                                        "digits)" : "");
    push(L, d);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"new", d_new}, {"parse", d_parse}, {"from_number", d_from_number}, {NULL, NULL}};
static const luaL_Reg methods[] = {
    {"div", d_div},       {"round", d_round}, {"cmp", d_cmp},     {"is_zero", d_is_zero},
    {"sign", d_sign},     {"abs", d_abs},     {"scale", d_scale}, {"format", d_format},
    {NULL, NULL}};
static const luaL_Reg metamethods[] = {
    {"__add", d_add},     {"__sub", d_sub},   {"__mul", d_mul},       {"__div", d_nodiv},
    {"__idiv", d_nodiv},  {"__mod", d_nodiv}, {"__pow", d_nodiv},     {"__unm", d_unm},
    {"__eq", d_eq},       {"__lt", d_lt},     {"__le", d_le},         {"__tostring", d_tostring},
    {"__concat", d_concat}, {NULL, NULL}};

int lh_open_decimal(lua_State *L)
{
    if (luaL_newmetatable(L, DEC_MT)) {
        luaL_setfuncs(L, metamethods, 0);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, "decimal");
        lua_setfield(L, -2, "__name");       /* how error messages call it */
        lua_pushliteral(L, "decimal");
        lua_setfield(L, -2, "__metatable");  /* scripts cannot change it */
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
