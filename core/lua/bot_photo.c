/* Photos for scripts: bot.send_photo, ctx:reply_photo (bot_ctx.c) and
 * bot.photo_id.  A picture is sent by its bytes (uploaded) or by a
 * file_id; given a key, the host remembers the file_id Telegram gave for
 * it, so the same picture for another chat goes by file_id (no second
 * upload): {png = bytes, key = "gas:24h:1700000000"}. */
#include <stdlib.h>
#include <string.h>

#include "lua/bot.h"
#include "tg/bot.h"
#include "tg/sched.h"

static int is_image(const char *b, size_t n)
{
    return (n > 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) || (n > 3 && !memcmp(b, "\xFF\xD8\xFF", 3));
}

/* A string field of the table at t, or NULL; raises when not a string. */
static const char *opt_field(lua_State *L, int t, const char *k, size_t *len, const char *usage)
{
    int type = lua_getfield(L, t, k);
    const char *s = NULL;
    if (type == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    else if (type != LUA_TNIL)
        luaL_error(L, "expected %s: photo.%s must be a string, got %s", usage, k,
                   luaL_typename(L, -1));
    lua_pop(L, 1);   /* (the table keeps it alive) */
    return s;
}

/* The photo at idx: bytes (a PNG or JPEG), a file_id, or {png =, key =,
 * file_id =}; raises on a malformed one. */
static void photo_arg(lua_State *L, int idx, const char *usage, struct tg_photo *p)
{
    size_t n = 0;
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tolstring(L, idx, &n);
        if (is_image(s, n)) {
            p->bytes = s;
            p->len = n;
        } else {
            p->file_id = s;
        }
    } else if (lua_istable(L, idx)) {
        p->bytes = opt_field(L, idx, "png", &n, usage);
        p->len = n;
        p->key = opt_field(L, idx, "key", NULL, usage);
        p->file_id = opt_field(L, idx, "file_id", NULL, usage);
        if (p->bytes && !is_image(p->bytes, n))
            luaL_error(L, "expected %s: photo.png is not a PNG or JPEG image", usage);
        if (!p->bytes && !p->file_id && !p->key)
            luaL_error(L, "expected %s: photo needs png, file_id or key", usage);
    } else {
        luaL_error(L, "expected %s: photo must be image bytes, a file_id or {png =, key =}, "
                      "got %s", usage, luaL_typename(L, idx));
    }
    if (p->file_id && (!*p->file_id || strlen(p->file_id) > 256))
        luaL_error(L, "expected %s: a file_id is 1-256 characters", usage);
    if (p->key && (!*p->key || strlen(p->key) > TG_PHOTO_KEY_MAX))
        luaL_error(L, "expected %s: photo.key must be 1-%d bytes", usage, TG_PHOTO_KEY_MAX);
    if (p->key && !strncmp(p->key, "alert:", 6))   /* (alert_view_chart_key's) */
        luaL_error(L, "expected %s: photo.key: keys starting \"alert:\" are the host's (alert "
                      "charts)", usage);
    if (p->bytes && p->len > TG_PHOTO_MAX)
        luaL_error(L, "expected %s: the image is %d bytes, over Telegram's %d", usage,
                   (int)p->len, (int)TG_PHOTO_MAX);
}

int lh_bot_queue_photo(lua_State *L, const char *usage, int64_t chat, int idx)
{
    struct tg_photo p = {0};
    photo_arg(L, idx, usage, &p);
    p.caption = luaL_optstring(L, idx + 1, NULL);
    struct tg_bot *b = lh_bot_of(L, usage);
    struct tg_sched *s = tg_bot_sched(b);
    if (!p.bytes && !p.file_id && !tg_sched_photo_id(s, p.key))
        return lh_fail(L, "no photo is known under the key %s (send its png)", p.key);
    char *params = lh_bot_params(L, idx + 2, usage, 1);
    p.params = params;
    struct tg_origin from = {lh_task_update(lh_host_of(L)->cur.task), lh_bot_arrival(L, b, chat)};
    int rc = tg_sched_photo(s, &from, chat, &p);
    free(params);
    if (rc == -3)
        return lh_fail(L, "the photo cannot be sent (not a PNG or JPEG, or too big)");
    return lh_bot_queued(L, rc, chat);
}

/* bot.send_photo(chat_id, photo, caption [, opts]) -> true | nil, err
 * photo: PNG/JPEG bytes, a file_id Telegram gave, or {png = bytes, key =
 * "name"} (sent by the file_id remembered for key when there is one, else
 * uploaded and its file_id remembered), or {key = "name"} alone (nil, err
 * when the host knows no file_id for it).  caption: HTML (opts.plain:
 * text), cut to 1,024 characters as shown; may be nil.  opts: keyboard,
 * plain, as in ctx:reply. */
int lh_bot_send_photo(lua_State *L)
{
    return lh_bot_queue_photo(L, "bot.send_photo(chat_id, photo, caption [, opts])",
                              luaL_checkinteger(L, 1), 2);
}

/* bot.photo_id(key) -> file_id | nil
 * The file_id Telegram gave for the photo uploaded under key (the last
 * 512 keys are kept): a script can skip drawing a picture it sent before. */
int lh_bot_photo_id(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    const char *id = tg_sched_photo_id(tg_bot_sched(lh_bot_of(L, "bot.photo_id(key)")), key);
    if (id)
        lua_pushstring(L, id);
    else
        lua_pushnil(L);
    return 1;
}
