/* http: outgoing HTTP requests that suspend the calling handler.
 *
 * The handler's coroutine yields; libcurl's multi interface runs the
 * request on the loop; when it completes the results are pushed onto the
 * coroutine and it is resumed from the loop.  Other handlers run meanwhile.
 *
 * Results: body, status, headers on a 1xx-3xx answer; nil, "HTTP <status>",
 * status, body on a 4xx/5xx answer; nil, err on no answer ("timeout", ...).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"

#define HTTP_MAX_HEADERS 32

struct waiter {
    struct lh_host *h;
    struct lh_task *task;
    uint64_t id;
};

/* Parses raw header lines into a table of lower-case name -> value. */
static void push_headers(lua_State *L, const char *raw)
{
    lua_newtable(L);
    const char *p = raw ? raw : "";
    while (*p) {
        const char *eol = strpbrk(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        if (colon && strncmp(p, "HTTP/", 5) != 0) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (const char *c = p; c < colon; c++)
                luaL_addchar(&b, (char)tolower((unsigned char)*c));
            luaL_pushresult(&b);
            const char *v = colon + 1;
            while (v < p + n && (*v == ' ' || *v == '\t'))
                v++;
            lua_pushlstring(L, v, (size_t)(p + n - v));
            lua_settable(L, -3);
        }
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
}

static void on_done(void *ud, const struct httpc_resp *r)
{
    struct waiter *w = ud;
    lua_State *co = lh_task_thread(w->task);
    int n;
    if (r->err) {
        lua_pushnil(co);
        lua_pushstring(co, r->err);
        n = 2;
    } else if (r->status >= 400) {
        lua_pushnil(co);
        lua_pushfstring(co, "HTTP %d", (int)r->status);
        lua_pushinteger(co, r->status);
        lua_pushlstring(co, r->body, r->body_len);
        n = 4;
    } else {
        lua_pushlstring(co, r->body, r->body_len);
        lua_pushinteger(co, r->status);
        push_headers(co, r->headers);
        n = 3;
    }
    lh_task_wake(w->task, n);
    free(w);
}

static void on_cancel(void *ud)
{
    struct waiter *w = ud;
    httpc_cancel(&w->h->app->httpc, w->id);
    free(w);
}

/* Starts the request and yields.  opts at index o (may be none). */
static int start(lua_State *L, const char *usage, const char *method, const char *url,
                 const char *body, size_t body_len, int o)
{
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    struct lh_task *task = lh_task_current(L);
    if (!task)
        return luaL_error(L, "%s must be called from a handler (not from spec code or "
                             "a coroutine the script created)", usage);
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return luaL_error(L, "expected %s: url must start with http:// or https://", usage);
    long timeout_ms = 10000;
    const char *hdrs[HTTP_MAX_HEADERS + 1] = {0};
    int nh = 0;
    if (!lua_isnoneornil(L, o)) {
        luaL_checktype(L, o, LUA_TTABLE);
        if (lua_getfield(L, o, "timeout") != LUA_TNIL) {
            lua_Number t = lua_tonumber(L, -1);
            if (!(t > 0 && t <= 300))
                return luaL_error(L, "expected %s: opts.timeout must be 0 < seconds <= 300",
                                  usage);
            timeout_ms = lround(t * 1000);
        }
        lua_pop(L, 1);
        if (lua_getfield(L, o, "headers") == LUA_TTABLE) {
            int ht = lua_gettop(L);
            lua_newtable(L);   /* keeps the formatted lines alive */
            int lines = lua_gettop(L);
            lua_pushnil(L);
            while (lua_next(L, ht)) {
                if (nh == HTTP_MAX_HEADERS || lua_type(L, -2) != LUA_TSTRING ||
                    !lua_isstring(L, -1))
                    return luaL_error(L, "expected %s: opts.headers maps up to %d names "
                                         "to strings", usage, HTTP_MAX_HEADERS);
                hdrs[nh] = lua_pushfstring(L, "%s: %s", lua_tostring(L, -2),
                                           lua_tostring(L, -1));
                lua_rawseti(L, lines, ++nh);
                lua_pop(L, 1);
            }
        } else if (!lua_isnil(L, -1)) {
            return luaL_error(L, "expected %s: opts.headers must be a table", usage);
        }
    }
    struct waiter *w = malloc(sizeof *w);
    if (!w)
        return luaL_error(L, "out of memory");
    w->h = h;
    w->task = task;
    struct httpc_req rq = {.method = method, .url = url, .body = body, .body_len = body_len,
                           .headers = hdrs, .timeout_ms = timeout_ms};
    w->id = httpc_request(&h->app->httpc, &rq, on_done, w);
    if (!w->id) {
        free(w);
        return lh_fail(L, "cannot start the request");
    }
    lh_task_wait(task, on_cancel, w);
    return lua_yield(L, 0);
}

/* http.get(url [, opts]) -> body, status, headers | nil, err   (yields)
 * opts: {timeout = seconds (default 10), headers = {name = value}} */
static int h_get(lua_State *L)
{
    const char *url = luaL_checkstring(L, 1);
    return start(L, "http.get(url [, opts])", "GET", url, NULL, 0, 2);
}

/* http.post(url, body [, opts]) -> body, status, headers | nil, err   (yields) */
static int h_post(lua_State *L)
{
    const char *url = luaL_checkstring(L, 1);
    size_t len;
    const char *body = luaL_checklstring(L, 2, &len);
    return start(L, "http.post(url, body [, opts])", "POST", url, body, len, 3);
}

/* http.request{method =, url =, body =, headers =, timeout =}
 *   -> body, status, headers | nil, err   (yields) */
static int h_request(lua_State *L)
{
    static const char usage[] = "http.request{method = m, url = u [, body = b]}";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "method");
    lua_getfield(L, 1, "url");
    lua_getfield(L, 1, "body");
    const char *method = lua_tostring(L, -3);
    const char *url = lua_tostring(L, -2);
    size_t len = 0;
    const char *body = lua_tolstring(L, -1, &len);
    if (!method || !url)
        return luaL_error(L, "expected %s", usage);
    return start(L, usage, method, url, body, len, 1);
}

static const luaL_Reg funcs[] = {
    {"get", h_get}, {"post", h_post}, {"request", h_request}, {NULL, NULL},
};

int lh_open_http(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
