#ifndef CW_LUA_SPEC_H
#define CW_LUA_SPEC_H
/* The spec runner's state, shared by spec.c (the spec module and the
 * runner) and spec_http.c (the HTTP stubs that replace libcurl). */

#include "lua/internal.h"

#define SPEC_MAX_LOGS 2000
#define SPEC_MAX_TMP 32

struct httpc_req;
struct spec_req;
struct answer;

struct spec_log {
    enum log_level level;
    char component[48];
    char *msg;
};

struct spec_state {
    struct lh_host *h;
    int stubs_ref;          /* array of {prefix, response} */
    int requests_ref;       /* array of the requests seen */
    struct spec_log logs[SPEC_MAX_LOGS];
    int nlogs;
    char tmpdirs[SPEC_MAX_TMP][64];
    int ntmp;
    struct spec_req *reqs;  /* requests not yet answered */
    struct answer *answers; /* answers not yet delivered */
};

static inline struct spec_state *spec_state_of(lua_State *L)
{
    return lh_host_of(L)->spec;
}

/* spec_http.c */
/* spec.stub_http(url_prefix, response) -> nil */
int lh_spec_stub_http(lua_State *L);
/* spec.http_requests() -> {{method =, url =, body =, headers = {}}, ...} */
int lh_spec_http_requests(lua_State *L);
/* The transport that replaces libcurl in specs (an httpc stub; ud: the state). */
void lh_spec_stub_transport(void *ud, uint64_t id, const struct httpc_req *req);
/* Drops the requests and answers still pending. */
void lh_spec_http_cleanup(struct spec_state *ss);

/* spec_market.c: spec.candle, spec.ranking, spec.history (see there) */
int lh_spec_candle(lua_State *L);
int lh_spec_ranking(lua_State *L);
int lh_spec_history(lua_State *L);

#endif
