/* log: lines in the host's log, tagged with the calling script's name. */
#include "lua/internal.h"

static int log_at(lua_State *L, enum log_level lv, const char *fname)
{
    struct lh_host *h = lh_host_of(L);
    int n = lua_gettop(L);
    if (n == 0 || !lua_isstring(L, 1))
        return luaL_error(L, "expected log.%s(message [, format args...])", fname);
    if (n > 1) {
        /* string.format(message, ...) */
        lua_getglobal(L, "string");
        lua_getfield(L, -1, "format");
        lua_insert(L, 1);
        lua_pop(L, 1);
        lua_call(L, n, 1);
    }
    log_msg(&h->app->log, lv, lh_script_name(&h->cur), "%s", lua_tostring(L, -1));
    return 0;
}

/* log.debug(message [, ...]) -> nil   (extra args: string.format) */
static int l_debug(lua_State *L) { return log_at(L, LOG_DEBUG, "debug"); }
/* log.info(message [, ...]) -> nil */
static int l_info(lua_State *L) { return log_at(L, LOG_INFO, "info"); }
/* log.warn(message [, ...]) -> nil */
static int l_warn(lua_State *L) { return log_at(L, LOG_WARN, "warn"); }
/* log.error(message [, ...]) -> nil */
static int l_error(lua_State *L) { return log_at(L, LOG_ERROR, "error"); }

static const luaL_Reg funcs[] = {
    {"debug", l_debug}, {"info", l_info}, {"warn", l_warn}, {"error", l_error}, {NULL, NULL},
};

int lh_open_log(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
