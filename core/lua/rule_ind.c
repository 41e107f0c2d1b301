#include "lua/rule_ind.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

static const char gone[] = "this ind was passed to a rule's value() and is gone: read the "
                           "values you need during the call";

/* The spec named by a kind and the numbers at stack positions from..to;
 * raises with a sentence when they are not one. */
static void spec_from(lua_State *L, enum ind_kind kind, int from, int to, struct ind_spec *out)
{
    double nums[3];
    int n = 0;
    for (int i = from; i <= to && n < 3; i++)
        nums[n++] = luaL_checknumber(L, i);
    char err[200];
    if (ind_spec_from_kind(kind, nums, n, out, err, sizeof err) != 0)
        luaL_error(L, "%s", err);
}

/* ind.KIND(numbers... [, back]) -> value(s) | nil   upvalues: the
 * context (light userdata), the kind */
static int ind_call(lua_State *L)
{
    const struct rule_ind *x = lua_touserdata(L, lua_upvalueindex(1));
    enum ind_kind kind = (enum ind_kind)lua_tointeger(L, lua_upvalueindex(2));
    const char *name = ind_kind_name(kind);
    if (!x->c)
        return luaL_error(L, gone);
    int top = lua_gettop(L), nums = ind_spec_nums(kind), back = 0;
    if (top > nums + 1)
        return luaL_error(L, "ind.%s takes at most %d numbers and back", name, nums);
    if (top == nums + 1) {
        back = (int)luaL_checkinteger(L, top);
        luaL_argcheck(L, back == 0 || back == 1, top, "back must be 0 or 1");
        top--;
    }
    struct ind_spec s;
    spec_from(L, kind, 1, top, &s);
    int i = ind_book_find(x->book, &s);
    if (i < 0 || !(x->mask & 1u << i)) {
        char sname[64];
        ind_spec_format(&s, sname, sizeof sname);
        return luaL_error(L, "%s is not in this rule's needs: add it (needs = {\"%s\"})", sname,
                          sname);
    }
    double v[IND_MAXOUT];
    int n = ind_book_value(x->book, i, x->c, back, v);
    if (!n) {
        lua_pushnil(L);
        return 1;
    }
    for (int k = 0; k < n; k++)
        lua_pushnumber(L, v[k]);
    return n;
}

void rule_ind_open(lua_State *L, struct rule_ind *x, struct ind_book *book)
{
    memset(x, 0, sizeof *x);
    x->book = book;
    lua_createtable(L, 0, IND_KIND_COUNT);
    for (int k = 0; k < IND_KIND_COUNT; k++) {
        lua_pushlightuserdata(L, x);
        lua_pushinteger(L, k);
        lua_pushcclosure(L, ind_call, 2);
        lua_setfield(L, -2, ind_kind_name((enum ind_kind)k));
    }
    x->ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* One entry of needs (key at -2, value at -1) into *out. */
static void need_one(lua_State *L, const char *usage, struct ind_spec *out)
{
    char err[200];
    if (lua_type(L, -2) == LUA_TNUMBER) {   /* "rsi(14)" */
        const char *s = lua_tostring(L, -1);
        if (!s || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "expected %s: needs lists indicators like \"rsi(14)\"", usage);
        if (ind_spec_parse(s, out, err, sizeof err) != 0)
            luaL_error(L, "expected %s: needs: %s", usage, err);
        return;
    }
    if (lua_type(L, -2) != LUA_TSTRING)
        luaL_error(L, "expected %s: needs has indicators by name, like { rsi = 14 }", usage);
    const char *kind = lua_tostring(L, -2);   /* rsi = 14, macd = {12, 26, 9} */
    double nums[3];
    int n = 0;
    if (lua_type(L, -1) == LUA_TNUMBER) {
        nums[n++] = lua_tonumber(L, -1);
    } else if (lua_type(L, -1) == LUA_TTABLE && lua_rawlen(L, -1) <= 3) {
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
            if (lua_geti(L, -1, i) != LUA_TNUMBER)
                luaL_error(L, "expected %s: needs.%s must be a list of numbers", usage, kind);
            nums[n++] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    } else {
        luaL_error(L, "expected %s: needs.%s must be a period or a list of up to 3 numbers",
                   usage, kind);
    }
    if (ind_spec_make(kind, nums, n, out, err, sizeof err) != 0)
        luaL_error(L, "expected %s: needs: %s", usage, err);
}

int rule_needs_table(lua_State *L, int idx, const char *usage, struct ind_spec *out)
{
    int nt = lua_absindex(L, idx), n = 0;
    if (lua_type(L, nt) != LUA_TTABLE)
        luaL_error(L, "expected %s: needs must be a table, like { rsi = 14 }", usage);
    lua_pushnil(L);
    while (lua_next(L, nt)) {
        if (n == RULE_NEEDS_MAX)
            luaL_error(L, "expected %s: a rule needs at most %d indicators", usage,
                       RULE_NEEDS_MAX);
        need_one(L, usage, &out[n++]);
        lua_pop(L, 1);   /* the key stays for lua_next */
    }
    return n;
}

int rule_needs_parse(lua_State *L, int t, const char *usage, struct ind_spec *out)
{
    int n = 0;
    if (lua_getfield(L, t, "needs") != LUA_TNIL)
        n = rule_needs_table(L, -1, usage, out);
    lua_pop(L, 1);
    return n;
}

static void push_values(lua_State *L, const double *v, int n, const char *k)
{
    if (!n)
        return;
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, k);
}

void rule_ind_push_list(lua_State *L, struct ind_book *b, uint32_t sym, int iv,
                        const struct candle *forming)
{
    ind_book_keep(b, sym, iv);
    lua_createtable(L, b->nspecs, 0);
    for (int i = 0; i < b->nspecs; i++) {
        char name[64];
        double v[IND_MAXOUT];
        int64_t open;
        ind_spec_format(&b->specs[i], name, sizeof name);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, ind_kind_name(b->specs[i].kind));
        lua_setfield(L, -2, "kind");
        push_values(L, v, ind_book_last(b, i, sym, iv, &open, v), "values");
        if (forming)
            push_values(L, v, ind_book_value(b, i, forming, 0, v), "forming");
        lua_rawseti(L, -2, i + 1);
    }
}
