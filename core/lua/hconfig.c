/* host.config: a script's own section of config.lua, read through the
 * schema the script declares.  The core keeps the sections it does not
 * know as JSON (lconfig.c); here each value is checked against its key's
 * spec, or taken from the environment or the default.  An error in the
 * section is the config's (or the environment's): it is also kept in the
 * generation, so that start-up and `check` stop with status 2 naming the
 * key (gen.c, lh_sections_verdict); an error in the schema is the
 * script's, an ordinary one. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lua/internal.h"

#define HC_MAX_NAME 32
#define HC_MAX_KEYS 200
#define HC_MAX_ONE_OF 32

enum hc_type { HC_BOOLEAN, HC_INTEGER, HC_NUMBER, HC_STRING, HC_URL, HC_STRINGS };
static const char *const hc_types[] = {"boolean", "integer", "number", "string", "url",
                                       "strings", NULL};

/* One key's spec, read from the schema (its strings stay on the stack). */
struct hc_key {
    const char *section, *name;
    enum hc_type type;
    int has_min, has_max, secret;
    double min, max;
    const char *env;
    int def;                /* stack index of the default, or 0 */
    int one_of;             /* stack index of the list of allowed strings, or 0 */
};

int lh_config_name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max || s[0] < 'a' || s[0] > 'z')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* An error of the section's value: kept in the generation (the first
 * one), then raised with the caller's file:line. */
static int section_fail(lua_State *L, const char *fmt, ...)
{
    struct lh_host *h = lh_host_of(L);
    char msg[sizeof h->cur.gen->section_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (h->cur.gen && !h->cur.gen->section_error[0])
        snprintf(h->cur.gen->section_error, sizeof h->cur.gen->section_error, "%s", msg);
    return luaL_error(L, "%s", msg);
}

/* What a value of k must be: "a number from 15 to 3600". */
static void expect(const struct hc_key *k, char *out, size_t len)
{
    static const char *const what[] = {"a boolean", "an integer", "a number", "a string",
                                       "an http(s) URL", "a list of strings"};
    const char *items = k->type == HC_STRINGS ? " items" : "";
    if (k->has_min && k->has_max)
        snprintf(out, len, "%s %s %.15g to %.15g%s", what[k->type],
                 k->type == HC_STRINGS ? "of" : "from", k->min, k->max, items);
    else if (k->has_min || k->has_max)
        snprintf(out, len, "%s of at %s %.15g%s", what[k->type], k->has_min ? "least" : "most",
                 k->has_min ? k->min : k->max, items);
    else
        snprintf(out, len, "%s", what[k->type]);
}

static int in_range(const struct hc_key *k, double v)
{
    return (!k->has_min || v >= k->min) && (!k->has_max || v <= k->max);
}

static int is_url(const char *s)
{
    const char *rest = !strncmp(s, "http://", 7)    ? s + 7
                       : !strncmp(s, "https://", 8) ? s + 8
                                                    : NULL;
    return rest && *rest && *rest != '/';   /* (a host follows) */
}

/* A number for k at idx: an integer-valued float becomes an integer in
 * place.  0, or -1 with what it is in got. */
static int fits_number(lua_State *L, int idx, const struct hc_key *k, char *got, size_t len)
{
    lua_Number v = lua_tonumber(L, idx);
    if (k->type == HC_INTEGER && !lua_isinteger(L, idx)) {
        lua_Integer i;
        if (!lua_numbertointeger(v, &i) || v != floor(v)) {
            snprintf(got, len, "number with a fraction");
            return -1;
        }
        lua_pushinteger(L, i);
        lua_replace(L, idx);
    }
    if (!isfinite(v)) {
        snprintf(got, len, "number that is not finite");
        return -1;
    }
    if (in_range(k, v))
        return 0;
    if (k->secret)
        snprintf(got, len, "a number out of range");
    else
        snprintf(got, len, "%.15g", v);
    return -1;
}

static int fits_list(lua_State *L, int idx, const struct hc_key *k, char *got, size_t len)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        int bad = lua_type(L, -1) != LUA_TSTRING;
        if (bad)
            snprintf(got, len, "a list with a %s item", luaL_typename(L, -1));
        lua_pop(L, 1);
        if (bad) {
            lua_pop(L, 1);
            return -1;
        }
    }
    if (count != n) {
        snprintf(got, len, "table that is not a list");
        return -1;
    }
    if (in_range(k, (double)n))
        return 0;
    snprintf(got, len, "a list of %lld", (long long)n);
    return -1;
}

/* 0 when the value at idx is one of k's; else -1 with what it is in got. */
static int fits(lua_State *L, int idx, const struct hc_key *k, char *got, size_t len)
{
    static const int want[] = {LUA_TBOOLEAN, LUA_TNUMBER, LUA_TNUMBER, LUA_TSTRING, LUA_TSTRING,
                               LUA_TTABLE};
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != want[k->type]) {
        snprintf(got, len, "%s", lua_isinteger(L, idx) ? "integer" : luaL_typename(L, idx));
        return -1;
    }
    if (k->type == HC_INTEGER || k->type == HC_NUMBER)
        return fits_number(L, idx, k, got, len);
    if (k->type == HC_URL && !is_url(lua_tostring(L, idx))) {
        snprintf(got, len, "a string that is not one");
        return -1;
    }
    return k->type == HC_STRINGS ? fits_list(L, idx, k, got, len) : 0;
}

/* Pushes the environment's text as a value of k's type, or nil with what
 * it is in got (never the text: it may be a secret). */
static void push_env(lua_State *L, const char *text, const struct hc_key *k, char *got,
                     size_t len)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    switch (k->type) {
    case HC_BOOLEAN:
        for (int i = 0; i < 4; i++)
            if (!strcasecmp(text, yes[i]) || !strcasecmp(text, no[i])) {
                lua_pushboolean(L, !strcasecmp(text, yes[i]));
                return;
            }
        break;
    case HC_INTEGER:
    case HC_NUMBER:
        if (lua_stringtonumber(L, text))
            return;
        break;
    case HC_STRINGS: {   /* comma-separated, spaces around items dropped */
        lua_newtable(L);
        for (lua_Integer i = 1; *text; i++) {
            text += strspn(text, " ");
            size_t n = strcspn(text, ",");
            size_t m = n;
            while (m > 0 && text[m - 1] == ' ')
                m--;
            lua_pushlstring(L, text, m);
            lua_rawseti(L, -2, i);
            text += n + (text[n] == ',');
        }
        return;
    }
    default:
        lua_pushstring(L, text);
        return;
    }
    snprintf(got, len, "text that is not %s", k->type == HC_BOOLEAN ? "true or false" : "a number");
    lua_pushnil(L);
}

/* The string s against k's one_of: 0 when it is one; else -1 with
 * '"rcp" is not one of etherscan, rpc (did you mean 'rpc'?)' in out. */
static int one_of_miss(lua_State *L, const struct hc_key *k, const char *s, char *out,
                       size_t len)
{
    const char *cands[HC_MAX_ONE_OF];
    char list[256] = "";
    int n = (int)lua_rawlen(L, k->one_of);   /* (1 to HC_MAX_ONE_OF strings: spec_one_of) */
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, k->one_of, i + 1);
        cands[i] = lua_tostring(L, -1);   /* (kept by the one_of list) */
        lua_pop(L, 1);
        if (!strcmp(cands[i], s))
            return 0;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", cands[i]);
    }
    const char *near = k->secret ? NULL : config_nearest(s, cands, n);
    if (k->secret)   /* (never the value of a secret, nor a hint at it) */
        snprintf(out, len, "the value is not one of %s", list);
    else
        snprintf(out, len, "\"%.60s\" is not one of %s", s, list);
    if (near) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, " (did you mean '%s'?)", near);
    }
    return -1;
}

/* The string, or each string of the list, at idx against k's one_of:
 * 0 when all are among them, else the first that is not (1 for a
 * string), with why in why. */
static lua_Integer one_of_first_miss(lua_State *L, int idx, const struct hc_key *k, char *why,
                                     size_t len)
{
    int list = k->type == HC_STRINGS;
    lua_Integer n = list ? (lua_Integer)lua_rawlen(L, idx) : 1;
    for (lua_Integer i = 1; i <= n; i++) {
        if (list)
            lua_rawgeti(L, idx, i);
        else
            lua_pushvalue(L, idx);
        int miss = one_of_miss(L, k, lua_tostring(L, -1), why, len);
        lua_pop(L, 1);
        if (miss)
            return i;
    }
    return 0;
}

/* A section error when the value at idx is not among k's one_of. */
static void check_one_of(lua_State *L, int idx, const struct hc_key *k, const char *src)
{
    char why[400], item[32] = "";
    lua_Integer i = k->one_of ? one_of_first_miss(L, idx, k, why, sizeof why) : 0;
    if (!i)
        return;
    if (k->type == HC_STRINGS)
        snprintf(item, sizeof item, " item %lld", (long long)i);
    section_fail(L, "key '%s.%s'%s%s: %s", k->section, k->name, src, item, why);
}

/* The value of k at idx, where it came from (src: "" or " (from the
 * environment variable X)") is checked; a section error when it does not fit. */
static void check_value(lua_State *L, int idx, const struct hc_key *k, const char *src)
{
    char got[96] = "", exp[96];
    if (!lua_isnil(L, idx) && fits(L, idx, k, got, sizeof got) == 0) {
        check_one_of(L, idx, k, src);
        return;
    }
    expect(k, exp, sizeof exp);
    section_fail(L, "key '%s.%s'%s must be %s, got %s", k->section, k->name, src, exp, got);
}

/* A list copied, so that the read-only table shares nothing a script
 * could change (its schema's default), and frozen. */
static void push_frozen_list(lua_State *L, int idx, const struct hc_key *k)
{
    idx = lua_absindex(L, idx);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        lua_rawseti(L, -2, i);
    }
    char name[80];
    snprintf(name, sizeof name, "%s.%s", k->section, k->name);
    lh_freeze(L, name);
}

/* Masks a secret's text in every log line from now on. */
static void add_secret(lua_State *L, int idx, const struct hc_key *k)
{
    struct logger *lg = &lh_host_of(L)->app->log;
    if (!k->secret)
        return;
    int full = lua_type(L, idx) == LUA_TSTRING && log_add_secret(lg, lua_tostring(L, idx));
    lua_Integer n = lua_type(L, idx) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, idx) : 0;
    for (lua_Integer i = 1; i <= n; i++) {   /* (a list of strings: checked) */
        lua_rawgeti(L, idx, i);
        full |= log_add_secret(lg, lua_tostring(L, -1)) != 0;
        lua_pop(L, 1);
    }
    if (full)   /* (a script's mistake, not the config's) */
        luaL_error(L, "host.config('%s'): key '%s': no room to mask another secret (at most "
                      "%d, of under 256 bytes, in all)", k->section, k->name, LOG_SECRETS);
}

/* Pushes k's value: the section's (at sect), else the environment's,
 * else the default, else nil. */
static void push_value(lua_State *L, int sect, const struct hc_key *k)
{
    char src[128] = "", got[96] = "";
    const char *env = k->env ? getenv(k->env) : NULL;
    lua_getfield(L, sect, k->name);
    if (!lua_isnil(L, -1)) {
        check_value(L, -1, k, "");
    } else if (env && *env) {
        lua_pop(L, 1);
        push_env(L, env, k, got, sizeof got);
        snprintf(src, sizeof src, " (from the environment variable %s)", k->env);
        if (lua_isnil(L, -1)) {
            char exp[96];
            expect(k, exp, sizeof exp);
            section_fail(L, "key '%s.%s'%s must be %s, got %s", k->section, k->name, src, exp,
                         got);
        }
        check_value(L, -1, k, src);
    } else if (k->def) {
        lua_pop(L, 1);
        lua_pushvalue(L, k->def);
    }
    add_secret(L, lua_gettop(L), k);
    if (lua_istable(L, -1)) {
        push_frozen_list(L, -1, k);
        lua_remove(L, -2);
    }
}

/* ---- the schema: the script's, so its mistakes are ordinary errors ---- */

static const char *const spec_fields[] = {"type", "default", "min", "max", "env", "secret",
                                          "help", "one_of", NULL};

static void spec_fields_known(lua_State *L, int spec, const struct hc_key *k)
{
    lua_pushnil(L);
    while (lua_next(L, spec)) {
        lua_pop(L, 1);
        const char *f = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int i = 0;
        while (f && spec_fields[i] && strcmp(f, spec_fields[i]))
            i++;
        if (!f || !spec_fields[i])
            luaL_error(L, "host.config('%s'): key '%s' has an unknown field '%s' (the fields: "
                          "type, default, min, max, env, secret, help, one_of)",
                       k->section, k->name, f ? f : luaL_typename(L, -1));
    }
}

/* A bound (min or max) of the spec at index spec; 1 when given. */
static int spec_bound(lua_State *L, int spec, const char *field, const struct hc_key *k,
                      double *v)
{
    int t = lua_getfield(L, spec, field);
    *v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (t == LUA_TNIL)
        return 0;
    if (t != LUA_TNUMBER || isnan(*v) || k->type == HC_BOOLEAN || k->type == HC_STRING ||
        k->type == HC_URL)
        luaL_error(L, "host.config('%s'): %s of '%s' must be a number, for an integer, a number "
                      "or strings (their count)", k->section, field, k->name);
    return 1;
}

/* Pushes the spec's one_of (nil when none), which k->one_of then names:
 * 1 to HC_MAX_ONE_OF strings, for a "string" or "strings" key. */
static void spec_one_of(lua_State *L, int spec, struct hc_key *k)
{
    int t = lua_getfield(L, spec, "one_of");
    k->one_of = t == LUA_TNIL ? 0 : lua_gettop(L);
    if (t == LUA_TNIL)
        return;
    lua_Integer n = t == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : 0;
    int ok = n >= 1 && n <= HC_MAX_ONE_OF && (k->type == HC_STRING || k->type == HC_STRINGS);
    for (lua_Integer i = 1; ok && i <= n; i++) {
        ok = lua_rawgeti(L, k->one_of, i) == LUA_TSTRING;
        lua_pop(L, 1);
    }
    if (!ok)
        luaL_error(L, "host.config('%s'): one_of of '%s' must be a list of 1 to %d strings, for "
                      "a string or strings", k->section, k->name, HC_MAX_ONE_OF);
}

/* Reads the spec at index spec for the key k->name; pushes its one_of
 * and its default (nil when none), which k->one_of and k->def then name. */
static void spec_read(lua_State *L, int spec, struct hc_key *k)
{
    if (!lua_istable(L, spec))
        luaL_error(L, "host.config('%s'): key '%s' must be given a spec table {type = ...}",
                   k->section, k->name);
    spec_fields_known(L, spec, k);
    lua_getfield(L, spec, "type");
    const char *type = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    int t = 0;
    while (hc_types[t] && strcmp(type, hc_types[t]))
        t++;
    if (!hc_types[t])
        luaL_error(L, "host.config('%s'): key '%s' needs type = \"boolean\", \"integer\", "
                      "\"number\", \"string\", \"url\" or \"strings\"", k->section, k->name);
    k->type = (enum hc_type)t;
    lua_pop(L, 1);
    k->has_min = spec_bound(L, spec, "min", k, &k->min);
    k->has_max = spec_bound(L, spec, "max", k, &k->max);
    t = lua_getfield(L, spec, "env");
    k->env = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;   /* (kept by the spec table) */
    if (t != LUA_TNIL && (t != LUA_TSTRING || !*k->env))
        luaL_error(L, "host.config('%s'): env of '%s' must be a variable's name", k->section,
                   k->name);
    t = lua_getfield(L, spec, "secret");
    k->secret = lua_toboolean(L, -1);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN)
        luaL_error(L, "host.config('%s'): secret of '%s' must be true or false", k->section,
                   k->name);
    if (lua_getfield(L, spec, "help") > LUA_TNIL && !lua_isstring(L, -1))
        luaL_error(L, "host.config('%s'): help of '%s' must be a string", k->section, k->name);
    lua_pop(L, 3);
    spec_one_of(L, spec, k);
    char got[96], exp[96];
    lua_getfield(L, spec, "default");
    k->def = lua_gettop(L);
    if (!lua_isnil(L, k->def) && fits(L, k->def, k, got, sizeof got) != 0) {
        expect(k, exp, sizeof exp);
        luaL_error(L, "host.config('%s'): the default of '%s' must be %s, got %s", k->section,
                   k->name, exp, got);
    }
    if (!lua_isnil(L, k->def) && k->one_of && one_of_first_miss(L, k->def, k, exp, sizeof exp))
        luaL_error(L, "host.config('%s'): the default of '%s': %s", k->section, k->name, exp);
    if (lua_isnil(L, k->def))
        k->def = 0;
}

/* "unknown key 'gas.intervall' (did you mean 'gas.interval'?)": the
 * schema's keys (at schema) are the candidates. */
static void suggest(lua_State *L, const char *name, int schema, const char *full, char *err,
                    size_t len)
{
    char names[HC_MAX_KEYS][HC_MAX_NAME * 2 + 2];
    const char *cands[HC_MAX_KEYS];
    int n = 0, top = lua_gettop(L);
    lua_pushnil(L);
    while (n < HC_MAX_KEYS && lua_next(L, schema)) {
        lua_pop(L, 1);
        snprintf(names[n], sizeof names[n], "%s.%s", name, lua_tostring(L, -1));
        cands[n] = names[n];
        n++;
    }
    lua_settop(L, top);
    config_unknown_key(full, cands, n, 0, err, len);
}

/* A key of the section (at sect) that the schema (at schema) lacks: a
 * section error. */
static void unknown_keys(lua_State *L, const char *name, int schema, int sect)
{
    lua_pushnil(L);
    while (lua_next(L, sect)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        int known = lua_rawget(L, schema) != LUA_TNIL;
        lua_pop(L, 1);
        if (!known) {
            char full[300], err[400];
            snprintf(full, sizeof full, "%s.%s", name, lua_tostring(L, -1));
            suggest(L, name, schema, full, err, sizeof err);
            section_fail(L, "%s", err);
        }
    }
}

/* The schema's keys: names, at most HC_MAX_KEYS of them. */
static void schema_keys_ok(lua_State *L, const char *name, int schema)
{
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, schema)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || !lh_config_name_ok(lua_tostring(L, -1), HC_MAX_NAME))
            luaL_error(L, "host.config('%s'): the schema's keys must be names (a-z, 0-9, _; at "
                          "most %d bytes), got %s", name, HC_MAX_NAME,
                       lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
        if (++n > HC_MAX_KEYS)
            luaL_error(L, "host.config('%s'): at most %d keys", name, HC_MAX_KEYS);
    }
}

/* The section `name` of the config as a table, pushed (empty when the
 * config has none). */
static void push_section(lua_State *L, const char *name)
{
    const char *json = config_section(&lh_host_of(L)->app->cfg, name);
    char err[128];
    if (!json)
        lua_newtable(L);
    else if (lh_json_push(L, json, strlen(json), err, sizeof err) != 0)
        luaL_error(L, "host.config('%s'): %s", name, err);   /* (the core wrote it: never) */
}

/* The file of the caller (a lib module's, when it makes the call), as
 * the scripts folder names it: "lib/gas_config.lua". */
static void caller_file(lua_State *L, char *out, size_t len)
{
    lua_Debug ar;
    struct lh_gen *g = lh_host_of(L)->cur.gen;
    const char *src = lua_getstack(L, 1, &ar) && lua_getinfo(L, "S", &ar) ? ar.source : "?";
    snprintf(out, len, "%s", lh_gen_rel(g, src));
}

static int section_tostring(lua_State *L)
{
    lua_pushfstring(L, "config section '%s'", lua_tostring(L, lua_upvalueindex(1)));
    return 1;
}

/* The name's checks, and one declaration per generation (file's own,
 * when its top level failed after it, does not count: a lib module runs
 * again at the next require, and should fail there as it did the first
 * time, not on the declaration). */
static void declare_ok(lua_State *L, struct lh_gen *g, const char *name, const char *file)
{
    if (!lh_config_name_ok(name, HC_MAX_NAME))
        luaL_error(L, "host.config(name, schema): the name must be a-z, 0-9 and _, starting "
                      "with a letter, at most %d bytes; got '%s'", HC_MAX_NAME, name);
    if (config_is_core(name))
        luaL_error(L, "host.config('%s'): '%s' is the core's; choose another name", name, name);
    const char *first = lh_gen_declared(g, name);
    if (!lh_gen_may_declare(g, name, file))
        luaL_error(L, "host.config('%s'): the section is already declared by %s (one "
                      "declaration per section: share it through a lib module)", name, first);
}

/* host.config(name, schema) -> table    top level only: the script's own
 * section `name` of config.lua, checked against schema = {key = {type =,
 * default =, min =, max =, env =, secret =, help =, one_of =}, ...};
 * read-only */
int lh_host_config(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, "host.config(name, schema)", LH_PHASE_TOPLEVEL);
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    char file[512];
    caller_file(L, file, sizeof file);
    declare_ok(L, h->cur.gen, name, file);
    schema_keys_ok(L, name, 2);
    push_section(L, name);       /* 3 */
    unknown_keys(L, name, 2, 3);
    lua_newtable(L);             /* 4: the result */
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        struct hc_key k = {.section = name, .name = lua_tostring(L, -2)};
        spec_read(L, lua_gettop(L), &k);
        push_value(L, 3, &k);
        lua_setfield(L, 4, k.name);
        lua_settop(L, 5);        /* the schema's key, for lua_next */
    }
    lua_settop(L, 4);
    lh_freeze(L, name);
    lua_getmetatable(L, -1);
    lua_pushstring(L, name);
    lua_pushcclosure(L, section_tostring, 1);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    if (lh_gen_declare(h->cur.gen, name, file) != 0)
        return luaL_error(L, "out of memory");
    return 1;
}
