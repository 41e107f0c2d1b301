/* spec's HTTP stubs: in specs, every HTTP request (scripts' http.get,
 * the Bot API) is answered from the loop by the newest stub whose URL
 * prefix matches, after the delay it asks for; none reaches the network. */
#include <stdlib.h>
#include <string.h>

#include "lua/spec.h"
#include "net/httpc.h"

struct spec_req {
    struct spec_state *ss;
    uint64_t id;
    char *method, *url, *body, *headers;
    size_t body_len;
    struct httpc_part *parts;   /* a multipart body (copies) */
    int nparts;
    long timeout_ms;
    struct timer *timer;
    struct spec_req *next;
};

/* spec.stub_http(url_prefix, response) -> nil
 * response: {status = 200, body = "", headers = {}, delay = seconds,
 * error = "why"} or function(request) -> such a table.  The newest stub
 * whose prefix matches the URL answers. */
int lh_spec_stub_http(lua_State *L)
{
    struct spec_state *ss = spec_state_of(L);
    luaL_checkstring(L, 1);
    if (!lua_istable(L, 2) && !lua_isfunction(L, 2))
        return luaL_error(L, "expected spec.stub_http(url_prefix, response table or function)");
    lua_rawgeti(L, LUA_REGISTRYINDEX, ss->stubs_ref);
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "prefix");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "response");
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    return 0;
}

/* spec.http_requests() -> {{method =, url =, body =, headers = {}}, ...}
 * (a multipart request: form = {name = value}, files = {name = {data =,
 * filename =, type =}} instead of body) */
int lh_spec_http_requests(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, spec_state_of(L)->requests_ref);
    return 1;
}

static void req_free(struct spec_req *r)
{
    free(r->method);
    free(r->url);
    free(r->body);
    free(r->headers);
    for (int i = 0; i < r->nparts; i++) {
        free((char *)r->parts[i].name);
        free((char *)r->parts[i].data);
        free((char *)r->parts[i].filename);
        free((char *)r->parts[i].type);
    }
    free(r->parts);
    free(r);
}

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The request's multipart body, copied. */
static void copy_parts(struct spec_req *r, const struct httpc_req *req)
{
    if (!req->nparts || !(r->parts = calloc((size_t)req->nparts, sizeof *r->parts)))
        return;
    for (int i = 0; i < req->nparts; i++) {
        const struct httpc_part *p = &req->parts[i];
        char *data = malloc(p->len + 1);
        if (data) {
            memcpy(data, p->data, p->len);
            data[p->len] = 0;
        }
        r->parts[i] = (struct httpc_part){.name = dup_opt(p->name), .data = data, .len = p->len,
                                          .filename = dup_opt(p->filename),
                                          .type = dup_opt(p->type)};
        r->nparts++;
    }
}

/* req.form = {name = value} and req.files = {name = {data =, filename =,
 * type =}}: a multipart body's fields and files. */
static void push_parts(lua_State *L, int req, const struct spec_req *rq)
{
    if (!rq->nparts)
        return;
    lua_newtable(L);
    lua_newtable(L);
    for (int i = 0; i < rq->nparts; i++) {
        const struct httpc_part *p = &rq->parts[i];
        if (!p->name || !p->data)
            continue;
        if (p->filename) {
            lua_createtable(L, 0, 3);
            lua_pushlstring(L, p->data, p->len);
            lua_setfield(L, -2, "data");
            lua_pushstring(L, p->filename);
            lua_setfield(L, -2, "filename");
            lua_pushstring(L, p->type ? p->type : "application/octet-stream");
            lua_setfield(L, -2, "type");
            lua_setfield(L, -2, p->name);
        } else {
            lua_pushlstring(L, p->data, p->len);
            lua_setfield(L, -3, p->name);
        }
    }
    lua_setfield(L, req, "files");
    lua_setfield(L, req, "form");
}

static void req_unlink(struct spec_req *r)
{
    for (struct spec_req **p = &r->ss->reqs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            return;
        }
}

struct answer {
    struct spec_state *ss;
    uint64_t id;
    long status;
    char *body, *headers, *err;
    size_t body_len;
    struct timer *timer;
    struct answer *next;
};

static void answer_free(struct answer *an)
{
    for (struct answer **p = &an->ss->answers; *p; p = &(*p)->next)
        if (*p == an) {
            *p = an->next;
            break;
        }
    free(an->body);
    free(an->headers);
    free(an->err);
    free(an);
}

static void deliver(void *ud)
{
    struct answer *an = ud;
    struct httpc_resp resp = {.err = an->err, .status = an->status, .body = an->body,
                              .body_len = an->body_len, .headers = an->headers};
    an->timer = NULL;
    httpc_complete(&an->ss->h->app->httpc, an->id, &resp);
    answer_free(an);
}

static char *opt_str(lua_State *L, int t, const char *field, size_t *len)
{
    char *out = NULL;
    if (lua_getfield(L, t, field) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        out = malloc(n + 1);
        if (out) {
            memcpy(out, s, n + 1);
            if (len)
                *len = n;
        }
    }
    lua_pop(L, 1);
    return out;
}

/* Resolves a request against the stubs (runs outside any handler). */
static void resolve(void *ud)
{
    struct spec_req *rq = ud;
    struct spec_state *ss = rq->ss;
    struct lh_host *h = ss->h;
    lua_State *L = h->L;
    rq->timer = NULL;
    req_unlink(rq);
    int top = lua_gettop(L);
    /* record it */
    lua_rawgeti(L, LUA_REGISTRYINDEX, ss->requests_ref);
    lua_createtable(L, 0, 4);
    int req = lua_gettop(L);
    lua_pushstring(L, rq->method);
    lua_setfield(L, req, "method");
    lua_pushstring(L, rq->url);
    lua_setfield(L, req, "url");
    if (rq->body) {
        lua_pushlstring(L, rq->body, rq->body_len);
        lua_setfield(L, req, "body");
    }
    push_parts(L, req, rq);
    lua_newtable(L);
    for (char *line = rq->headers, *nl; line && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        char *colon = strchr(line, ':');
        if (!nl || !colon || colon > nl)
            break;
        lua_pushlstring(L, line, (size_t)(colon - line));
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        lua_pushlstring(L, v, (size_t)(nl - v));
        lua_settable(L, -3);
    }
    lua_setfield(L, req, "headers");
    lua_pushvalue(L, req);
    lua_rawseti(L, req - 1, (lua_Integer)lua_rawlen(L, req - 1) + 1);
    /* find the newest matching stub */
    struct answer *an = calloc(1, sizeof *an);
    an->ss = ss;
    an->id = rq->id;
    double delay = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ss->stubs_ref);
    int stubs = lua_gettop(L), found = 0;
    for (lua_Integer i = (lua_Integer)lua_rawlen(L, stubs); i >= 1 && !found; i--) {
        lua_settop(L, stubs);
        lua_rawgeti(L, stubs, i);
        lua_getfield(L, -1, "prefix");
        const char *prefix = lua_tostring(L, -1);
        if (strncmp(rq->url, prefix, strlen(prefix)) == 0) {
            found = 1;
            lua_getfield(L, -2, "response");
            if (lua_isfunction(L, -1)) {
                lua_pushvalue(L, req);
                char err[1024];
                struct lh_ctx ctx = {.script = -1, .phase = LH_PHASE_NONE};
                if (lh_pcall(h, 1, 1, ctx, err, sizeof err) != 0) {
                    lua_pushnil(L);
                    an->err = strdup(err);
                }
            }
            if (lua_istable(L, -1)) {
                int r = lua_gettop(L);
                an->status = lua_getfield(L, r, "status") == LUA_TNUMBER
                                 ? (long)lua_tointeger(L, -1) : 200;
                lua_pop(L, 1);
                delay = lua_getfield(L, r, "delay") == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
                lua_pop(L, 1);
                an->body = opt_str(L, r, "body", &an->body_len);
                an->err = an->err ? an->err : opt_str(L, r, "error", NULL);
                if (lua_getfield(L, r, "headers") == LUA_TTABLE) {
                    size_t hlen = 0;
                    lua_pushnil(L);
                    while (lua_next(L, -2)) {
                        const char *line = lua_pushfstring(L, "%s: %s\r\n",
                                                           lua_tostring(L, -2),
                                                           lua_tostring(L, -1));
                        size_t n = strlen(line);
                        char *nh = realloc(an->headers, hlen + n + 1);
                        if (nh) {
                            memcpy(nh + hlen, line, n + 1);
                            an->headers = nh;
                            hlen += n;
                        }
                        lua_pop(L, 2);
                    }
                }
                lua_pop(L, 1);
            } else if (!an->err) {
                an->err = strdup("spec: the stub's function returned no table");
            }
        }
    }
    if (!found) {
        char msg[1200];
        snprintf(msg, sizeof msg, "spec: no stub for %s %s", rq->method, rq->url);
        an->err = strdup(msg);
        log_warn(&h->app->log, "spec", "%s", msg);
    }
    lua_settop(L, top);
    uint64_t wait = (uint64_t)(delay * 1000 + 0.5);
    if (wait >= (uint64_t)rq->timeout_ms) {
        wait = (uint64_t)rq->timeout_ms;
        free(an->err);
        an->err = strdup("timeout");
    }
    req_free(rq);
    an->next = ss->answers;
    ss->answers = an;
    an->timer = timers_add(&h->app->timers, app_now_ms(h->app) + wait, deliver, an);
}

/* The transport that replaces libcurl in specs. */
void lh_spec_stub_transport(void *ud, uint64_t id, const struct httpc_req *req)
{
    struct spec_state *ss = ud;
    struct spec_req *r = calloc(1, sizeof *r);
    r->ss = ss;
    r->id = id;
    r->method = strdup(req->method);
    r->url = strdup(req->url);
    r->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : 30000;
    if (req->body) {
        r->body = malloc(req->body_len + 1);
        memcpy(r->body, req->body, req->body_len);
        r->body[req->body_len] = '\0';
        r->body_len = req->body_len;
    }
    copy_parts(r, req);
    size_t hl = 1;
    for (const char *const *hd = req->headers; hd && *hd; hd++)
        hl += strlen(*hd) + 1;
    r->headers = calloc(1, hl);
    for (const char *const *hd = req->headers; hd && *hd; hd++) {
        strcat(r->headers, *hd);
        strcat(r->headers, "\n");
    }
    r->next = ss->reqs;
    ss->reqs = r;
    /* Stubs are looked up from the loop, not inside the calling handler. */
    r->timer = timers_add(&ss->h->app->timers, app_now_ms(ss->h->app), resolve, r);
}

void lh_spec_http_cleanup(struct spec_state *ss)
{
    struct timers *ts = &ss->h->app->timers;
    while (ss->reqs) {
        struct spec_req *r = ss->reqs;
        ss->reqs = r->next;
        timers_cancel(ts, r->timer);
        req_free(r);
    }
    while (ss->answers) {
        timers_cancel(ts, ss->answers->timer);
        answer_free(ss->answers);
    }
}
