/* ctx's methods: what a bot handler does with the update it handles
 * (reply, edit, answer a press, move the conversation on). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "lua/bot.h"
#include "tg/bot.h"
#include "tg/text.h"

static int64_t ctx_int(lua_State *L, const char *table, const char *field)
{
    lua_getfield(L, 1, table);
    lua_Integer v = 0;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, field);
        v = lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return v;
}

/* The chat a ctx call speaks to; raises when there is none (a button
 * under an inline message: handlers test ctx.chat). */
static int64_t ctx_chat(lua_State *L, const char *usage)
{
    int64_t chat = ctx_int(L, "chat", "id");
    if (!chat)
        luaL_error(L, "%s: this update has no chat (a button under an inline message; "
                      "test ctx.chat)", usage);
    return chat;
}

/* ctx:reply(text [, opts]) -> true | nil, err
 * opts: {keyboard = bot.keyboard{...}, plain = true (no HTML), preview = true} */
static int c_reply(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    return lh_bot_queue_text(L, "ctx:reply(text [, opts])", "sendMessage",
                      ctx_chat(L, "ctx:reply(text [, opts])"), 3);
}

/* ctx:reply_photo(photo, caption [, opts]) -> true | nil, err
 * photo and opts as in bot.send_photo. */
static int c_reply_photo(lua_State *L)
{
    static const char usage[] = "ctx:reply_photo(photo, caption [, opts])";
    luaL_checktype(L, 1, LUA_TTABLE);
    return lh_bot_queue_photo(L, usage, ctx_chat(L, usage), 2);
}

/* The message a ctx call acts on: opts.message_id, else the pressed
 * button's message. */
static lua_Integer target_message(lua_State *L, int opts, const char *usage)
{
    lua_getfield(L, 1, "message_id");
    lua_Integer mid = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (lua_istable(L, opts)) {
        if (lua_getfield(L, opts, "message_id") == LUA_TNUMBER)
            mid = lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    if (mid <= 0)
        luaL_error(L, "%s: there is no message to act on (not a button press; pass "
                      "opts.message_id)", usage);
    return mid;
}

/* ctx:edit(text [, opts]) -> true | nil, err
 * Edits the message whose button was pressed (or opts.message_id). */
static int c_edit(lua_State *L)
{
    static const char usage[] = "ctx:edit(text [, opts])";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer mid = target_message(L, 3, usage);
    lua_settop(L, 3);
    if (!lua_istable(L, 3)) {
        lua_newtable(L);
        lua_replace(L, 3);
    }
    lua_pushinteger(L, mid);
    lua_setfield(L, 3, "message_id");
    return lh_bot_queue_text(L, usage, "editMessageText", ctx_chat(L, usage), 3);
}

/* ctx:edit_keyboard(markup [, opts]) -> true | nil, err
 * Replaces the buttons of the pressed button's message (or opts.message_id);
 * markup nil removes them. */
static int c_edit_keyboard(lua_State *L)
{
    static const char usage[] = "ctx:edit_keyboard(markup [, opts])";
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_isnil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    struct tg_bot *b = lh_bot_of(L, usage);
    int64_t chat = ctx_chat(L, usage);
    lua_Integer mid = target_message(L, 3, usage);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, mid);
    lua_setfield(L, -2, "message_id");
    if (lua_istable(L, 2)) {
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "reply_markup");
    }
    char *params = lh_bot_encode(L, lua_gettop(L), lh_json_room(L));
    int rc = tg_sched_send(tg_bot_sched(b), chat, "editMessageReplyMarkup", params, NULL);
    free(params);
    return lh_bot_queued(L, rc, chat);
}

/* ctx:delete([opts]) -> true | nil, err
 * Deletes the pressed button's message (or opts.message_id). */
static int c_delete(lua_State *L)
{
    static const char usage[] = "ctx:delete([opts])";
    luaL_checktype(L, 1, LUA_TTABLE);
    struct tg_bot *b = lh_bot_of(L, usage);
    int64_t chat = ctx_chat(L, usage);
    char params[48];
    snprintf(params, sizeof params, "{\"message_id\":%lld}",
             (long long)target_message(L, 2, usage));
    int rc = tg_sched_send(tg_bot_sched(b), chat, "deleteMessage", params, NULL);
    return lh_bot_queued(L, rc, chat);
}

static void on_answered(void *ud, const struct tg_result *r)
{
    struct lh_host *h = ud;
    if (r->outcome != TG_OK)
        log_warn(&h->app->log, "telegram", "answerCallbackQuery: %s", r->description);
}

/* Answers the button press now (the client shows a spinner until then). */
void lh_bot_answer(lua_State *L, struct tg_bot *b, const char *id, const char *text, int alert)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "callback_query_id", id);
    if (text)
        cJSON_AddStringToObject(p, "text", text);
    if (alert)
        cJSON_AddTrueToObject(p, "show_alert");
    char *body = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (body)
        tg_api_call(tg_bot_api(b), "answerCallbackQuery", body, 10000, on_answered,
                    lh_host_of(L));
    free(body);
}

/* ctx:answer([text [, opts]]) -> true
 * Answers the button press: an optional notice (opts.alert = true for a
 * dialog).  Unanswered presses are answered when the handler returns. */
static int c_answer(lua_State *L)
{
    static const char usage[] = "ctx:answer([text [, opts]])";
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *text = luaL_optstring(L, 2, NULL);
    struct tg_bot *b = lh_bot_of(L, usage);
    lua_getfield(L, 1, "callback_id");
    const char *id = lua_tostring(L, -1);
    if (!id)
        return luaL_error(L, "%s: this update is not a button press", usage);
    lua_getfield(L, 1, "_answered");
    if (!lua_toboolean(L, -1)) {
        int alert = 0;
        if (lua_istable(L, 3)) {
            lua_getfield(L, 3, "alert");
            alert = lua_toboolean(L, -1);
        }
        if (text && tg_text_chars(text) > 200)
            return luaL_error(L, "%s: text must be at most 200 characters", usage);
        lh_bot_answer(L, b, id, text, alert);
        lua_pushboolean(L, 1);
        lua_setfield(L, 1, "_answered");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ctx:go(step [, data]) -> nil: the chat's next text goes to bot.step(step) */
static int c_go(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkstring(L, 2);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);   /* the new table must not land on slot 3 */
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "step");
    if (lua_istable(L, 3))
        lua_pushvalue(L, 3);
    else
        lua_newtable(L);
    lua_setfield(L, -2, "data");
    lua_setfield(L, 1, "state");
    return 0;
}

/* ctx:finish() -> nil: leaves the flow (ctx.state becomes empty) */
static int c_finish(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_newtable(L);
    lua_setfield(L, 1, "state");
    return 0;
}

struct member_wait {
    struct lh_host *h;
    struct lh_task *task;
    uint64_t id;
};

static void on_member(void *ud, const struct tg_result *r)
{
    struct member_wait *w = ud;
    lua_State *co = lh_task_thread(w->task);
    const cJSON *st = r->outcome == TG_OK ? cJSON_GetObjectItemCaseSensitive(r->result, "status")
                                          : NULL;
    const char *s = cJSON_IsString(st) ? st->valuestring : "";
    if (r->outcome != TG_OK)
        log_warn(&w->h->app->log, "telegram", "getChatMember: %s", r->description);
    lua_pushboolean(co, !strcmp(s, "creator") || !strcmp(s, "administrator"));
    lh_task_wake(w->task, 1);
    free(w);
}

static void member_cancel(void *ud)
{
    struct member_wait *w = ud;
    if (w->h->app->tg)
        tg_api_cancel(tg_bot_api(w->h->app->tg), w->id);
    free(w);
}

/* ctx:is_group_admin() -> boolean   (yields: asks Telegram)
 * True in private chats, false without a chat (inline); in groups,
 * whether the user administers it. */
static int c_is_group_admin(lua_State *L)
{
    static const char usage[] = "ctx:is_group_admin()";
    luaL_checktype(L, 1, LUA_TTABLE);
    struct tg_bot *b = lh_bot_of(L, usage);
    int64_t chat = ctx_int(L, "chat", "id"), user = ctx_int(L, "user", "id");
    if (chat >= 0) {   /* a private chat, or none (inline): no group to administer */
        lua_pushboolean(L, chat > 0);
        return 1;
    }
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    struct lh_task *task = lh_task_current(L);
    if (!task)
        return luaL_error(L, "%s must be called from a handler", usage);
    struct member_wait *w = malloc(sizeof *w);
    if (!w)
        return luaL_error(L, "out of memory");
    w->h = lh_host_of(L);
    w->task = task;
    char body[96];
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"user_id\":%lld}", (long long)chat,
             (long long)user);
    /* the wait is registered first: a refused call answers at once */
    lh_task_wait(task, member_cancel, w);
    w->id = 0;
    /* a call refused at once has answered (and freed w) already */
    uint64_t id = tg_api_call(tg_bot_api(b), "getChatMember", body, 10000, on_member, w);
    if (id)
        w->id = id;
    return lua_yield(L, 0);
}

const luaL_Reg lh_bot_ctx_methods[] = {
    {"reply", c_reply}, {"reply_photo", c_reply_photo}, {"edit", c_edit}, {"edit_keyboard", c_edit_keyboard},
    {"delete", c_delete}, {"answer", c_answer}, {"go", c_go},
    {"finish", c_finish}, {"is_group_admin", c_is_group_admin}, {NULL, NULL},
};

