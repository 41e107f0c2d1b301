/* Dispatch: each Telegram update to the handler a script registered for it
 * (a command, a button's callback, the step a conversation is at), run as
 * a task with its ctx; when it ends, the chat's conversation state saved
 * and the update marked handled.  The host's own Lua work here is
 * protected, and host work (not under a script's memory limit).  The
 * Telegram side is reached only through h->bot (host.h: lh_bot_port), so
 * that a unit test can route updates without a bot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "lua/bot.h"
#include "store/store.h"
#include "tg/update.h"

struct run {
    struct lh_host *h;
    int64_t update_id, chat_id;
    int ctx_ref;
    char state_key[48];
    char *state_was;   /* the stored state's JSON, or NULL */
};

static void run_free(struct run *r)
{
    free(r->state_was);
    free(r);
}

/* Saves ctx.state (protected: encoding may hit the memory limit). */
static int save_state(lua_State *L)
{
    struct run *r = lua_touserdata(L, 1);
    struct store *st = r->h->app->store;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
    lua_getfield(L, -1, "state");
    int empty = !lua_istable(L, -1);
    if (!empty) {
        lua_pushnil(L);
        empty = !lua_next(L, -2);
        lua_settop(L, 3);
    }
    char *json = empty ? NULL : lh_bot_encode(L, 3, LH_STORE_MAX_VALUE);
    if (json ? r->state_was && !strcmp(json, r->state_was) : !r->state_was) {
        free(json);   /* unchanged: nothing to write, nothing its reply depends on */
        return 0;
    }
    int rc = store_kv_set(st, LH_BOT_STATE_SCOPE, r->state_key, json);
    free(json);
    if (rc != 0)
        return luaL_error(L, "%s", store_error(st) ? store_error(st) : "the database failed");
    store_batch_user_data(st);   /* the step its reply speaks of */
    return 0;
}

/* Pushes the id of the button press ctx answers if it is still
 * unanswered, else nil (protected: the lookup may allocate). */
static int unanswered_press(lua_State *L)
{
    struct run *r = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
    lua_pushliteral(L, "callback_id");
    lua_rawget(L, -2);
    lua_pushliteral(L, "_answered");
    lua_rawget(L, -3);
    if (lua_type(L, -2) != LUA_TSTRING || lua_toboolean(L, -1))
        return 0;
    lua_pushvalue(L, -2);
    return 1;
}

static void run_done(void *ud, lua_State *co, int ok, int nres, const char *err)
{
    (void)nres;
    (void)err;
    struct run *r = ud;
    struct lh_host *h = r->h;
    lua_State *L = h->L;
    if (!co) {   /* shutdown: the update stays in the inbox for the next start */
        luaL_unref(L, LUA_REGISTRYINDEX, r->ctx_ref);
        run_free(r);
        return;
    }
    /* host work, even when a script's call led here (spec.run): not under
     * its memory limit, and every Lua step protected */
    int enforce = h->mem_enforce;
    h->mem_enforce = 0;
    const struct lh_bot_port *b = h->bot.reply ? &h->bot : NULL;
    /* all or nothing: its writes were rolled back (task.c) and what it
     * queued in that run taken back (tg_sched_undo); replies it queued
     * before a wait are taken back here: only the apology goes */
    if (!ok && b) {
        b->take_back(b->ud, r->chat_id, r->update_id);
        b->reply(b->ud, r->chat_id,
                 "Sorry, something went wrong on our side. The operators have been told; "
                 "please try again later.");
    }
    if (ok && h->app->store) {   /* a failed handler leaves the flow where it was */
        lua_pushcfunction(L, save_state);
        lua_pushlightuserdata(L, r);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            log_error(&h->app->log, "telegram", "chat %lld: the conversation state was not "
                      "saved: %s", (long long)r->chat_id, lua_tostring(L, -1));
            lua_pop(L, 1);
            /* its reply asked for the next step, which is not where the
             * chat is: taken back */
            if (b)
                b->retract(b->ud, r->chat_id, r->update_id);
        }
    }
    lua_pushcfunction(L, unanswered_press);
    lua_pushlightuserdata(L, r);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && b && lua_isstring(L, -1))
        b->answer(b->ud, lua_tostring(L, -1), NULL);
    lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, r->ctx_ref);
    h->mem_enforce = enforce;
    if (b)
        b->done(b->ud, r->update_id, r->chat_id);
    run_free(r);
}

static void set_str_from(lua_State *L, int dst, const char *name, int src, const char *field)
{
    lua_getfield(L, src, field);
    lua_setfield(L, dst, name);
}

/* ctx.user / ctx.chat from an update's "from" and "chat" at src */
static void copy_party(lua_State *L, int ctx, const char *name, int src, const char *field,
                       const char *const *keep)
{
    lua_getfield(L, src, field);
    int from = lua_gettop(L);
    lua_newtable(L);
    if (lua_istable(L, from))
        for (const char *const *k = keep; *k; k++)
            set_str_from(L, from + 1, *k, from, *k);
    lua_setfield(L, ctx, name);
    lua_pop(L, 1);
}

/* Sends a short answer for an update no script handles. */
static void reply_plain(struct lh_host *h, int64_t chat, const char *text)
{
    h->bot.reply(h->bot.ud, chat, text);
}

static const char *const user_keys[] = {"id", "username", "first_name", "last_name",
                                        "language_code", NULL};
static const char *const chat_keys[] = {"id", "type", "title", "username", NULL};

/* One update on its way to a handler.  The protected part of dispatch
 * fills it; what it holds in C (run) is freed by dispatch if that part
 * fails, and passes to the task once spawned. */
struct route {
    struct lh_host *h;
    int64_t update_id, chat_id;
    const char *json;
    int is_cb, group;
    int ctx;                   /* ctx's stack index */
    int64_t user_id;
    struct run *run;           /* owned here until the task takes it */
    struct lh_reg *reg;        /* the handler, or NULL */
    const char *unhandled;     /* the answer when there is none, or NULL */
    const char *arg;           /* a callback's rest (on the stack), or NULL */
    char name[80];
    int rc;                    /* dispatch's answer */
};

/* Pushes ctx for the update; 0 when it does not read as a table. */
static int push_ctx(lua_State *L, struct route *d)
{
    char err[256];
    if (lh_json_push(L, d->json, strlen(d->json), err, sizeof err) != 0 || !lua_istable(L, -1))
        return 0;
    int u = lua_gettop(L);
    lua_newtable(L);
    int ctx = d->ctx = u + 1;
    luaL_setmetatable(L, LH_BOT_CTX_MT);
    lua_pushinteger(L, d->update_id);
    lua_setfield(L, ctx, "update_id");
    lua_getfield(L, u, d->is_cb ? "callback_query" : "message");
    int src = lua_gettop(L);
    copy_party(L, ctx, "user", src, "from", user_keys);
    if (d->is_cb) {
        lua_getfield(L, src, "message");
        int m = lua_gettop(L);
        if (lua_istable(L, m)) {
            copy_party(L, ctx, "chat", m, "chat", chat_keys);
            set_str_from(L, ctx, "message_id", m, "message_id");
        } else {   /* under an inline message: no chat, nothing to edit */
            set_str_from(L, ctx, "inline_message_id", src, "inline_message_id");
        }
        lua_pop(L, 1);
        set_str_from(L, ctx, "callback_id", src, "id");
        set_str_from(L, ctx, "data", src, "data");
    } else {
        copy_party(L, ctx, "chat", src, "chat", chat_keys);
        set_str_from(L, ctx, "text", src, "text");
        /* (ctx.message_id is the bot's message a button sits on; the
         * user's own message is not the bot's to edit) */
        set_str_from(L, ctx, "user_message_id", src, "message_id");
    }
    lua_getfield(L, ctx, "user");
    lua_getfield(L, -1, "id");
    d->user_id = lua_tointeger(L, -1);
    lua_settop(L, ctx);
    lua_remove(L, u);   /* ctx in its place */
    d->ctx = u;
    return 1;
}

/* ctx.state: the chat's conversation state (per user in groups), as
 * stored; the run that will save it. */
static void load_state(lua_State *L, struct route *d)
{
    struct app *a = d->h->app;
    struct run *r = d->run = calloc(1, sizeof *r);
    if (!r)
        luaL_error(L, "out of memory");
    r->h = d->h;
    r->update_id = d->update_id;
    r->chat_id = d->chat_id;
    r->ctx_ref = LUA_NOREF;
    snprintf(r->state_key, sizeof r->state_key, "%lld:%lld", (long long)d->chat_id,
             (long long)d->user_id);
    char err[256];
    if (a->store && store_kv_get(a->store, LH_BOT_STATE_SCOPE, r->state_key, &r->state_was) == 1 &&
        lh_json_push(L, r->state_was, strlen(r->state_was), err, sizeof err) == 0 &&
        lua_istable(L, -1))
        lua_setfield(L, d->ctx, "state");
    else {
        lua_settop(L, d->ctx);
        lua_newtable(L);
        lua_setfield(L, d->ctx, "state");
    }
    lua_settop(L, d->ctx);
}

/* A button press: its data "prefix:rest" names the handler. */
static void route_callback(lua_State *L, struct route *d)
{
    lua_getfield(L, d->ctx, "data");
    const char *data = lua_tostring(L, -1);
    const char *colon = data ? strchr(data, ':') : NULL;
    size_t n = data ? (colon ? (size_t)(colon - data) : strlen(data)) : 0;
    if (n < sizeof d->name) {
        memcpy(d->name, data ? data : "", n);
        d->name[n] = '\0';
        d->reg = lh_bot_find_reg(d->h->gen, LH_REG_CALLBACK, d->name);
    }
    d->arg = lua_pushstring(L, colon ? colon + 1 : "");   /* kept alive on the stack */
    if (!d->reg)
        d->unhandled = "That button no longer does anything. Send /help to start again.";
}

/* "/name@bot args"; 0 when it is for another bot in the group. */
static int route_command(lua_State *L, struct route *d, const char *text)
{
    const char *args;
    const struct lh_bot_port *b = &d->h->bot;
    if (tg_update_command(text, b->username(b->ud), d->name, sizeof d->name, &args) ==
        TG_CMD_OTHER_BOT)
        return 0;
    lua_pushstring(L, d->name);
    lua_setfield(L, d->ctx, "command");
    lua_pushstring(L, args);
    lua_setfield(L, d->ctx, "args");
    d->reg = lh_bot_find_reg(d->h->gen, LH_REG_COMMAND, d->name);
    if (d->reg && (d->reg->flags & LH_REG_ADMIN) && !lh_bot_is_operator(d->h->app, d->user_id)) {
        d->reg = NULL;
        d->unhandled = "That command is for the bot's operators.";
    } else if (!d->reg && !d->group) {
        d->unhandled = "I don't know that command. Send /help to see what I can do.";
    }
    return 1;
}

/* Plain text: for the step the chat's conversation is at. */
static void route_step(lua_State *L, struct route *d)
{
    lua_getfield(L, d->ctx, "state");
    lua_getfield(L, -1, "step");
    const char *step = lua_tostring(L, -1);
    if (step && strlen(step) < sizeof d->name) {
        strcpy(d->name, step);
        d->reg = lh_bot_find_reg(d->h->gen, LH_REG_STEP, d->name);
    }
    lua_pop(L, 2);
    if (!d->reg && !d->group)
        d->unhandled = step ? "That conversation has ended. Send /help to start again."
                            : "Send a command to get started, for example /help.";
}

/* Answers an update no handler takes. */
static void refuse(lua_State *L, struct route *d)
{
    if (d->is_cb) {
        lua_getfield(L, d->ctx, "callback_id");
        if (lua_isstring(L, -1))
            d->h->bot.answer(d->h->bot.ud, lua_tostring(L, -1), d->unhandled);
        lua_pop(L, 1);
    } else if (d->unhandled) {
        reply_plain(d->h, d->chat_id, d->unhandled);
    }
}

/* Spawns the handler's task: the trampoline with (handler, ctx,
 * check_admin, arg); the run passes to it. */
static void start(lua_State *L, struct route *d)
{
    lua_pushvalue(L, d->ctx);
    d->run->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, LUA_REGISTRYINDEX, LH_BOT_TRAMPOLINE);
    lua_rawgeti(L, LUA_REGISTRYINDEX, d->reg->fn_ref);
    lua_pushvalue(L, d->ctx);
    lua_pushboolean(L, d->group && (d->reg->flags & LH_REG_GROUP_ADMIN));
    if (d->arg)
        lua_pushstring(L, d->arg);
    else
        lua_pushnil(L);
    /* the task takes the trampoline and its four arguments off the top */
    struct lh_task *t = lh_task_spawn(d->h, d->h->gen, d->reg->script, 4, run_done, d->run);
    if (!t)
        return;   /* (dispatch frees the run) */
    d->run = NULL;
    lh_task_set_update(t, d->update_id);
    d->rc = 0;
}

/* dispatch's Lua work, protected: (route) -> nothing */
static int dispatch_protected(lua_State *L)
{
    struct route *d = lua_touserdata(L, 1);
    if (!push_ctx(L, d))
        return 0;
    load_state(L, d);
    if (d->is_cb) {
        route_callback(L, d);
    } else {
        lua_getfield(L, d->ctx, "text");
        const char *text = lua_tostring(L, -1);
        if (!text)
            d->unhandled =
                d->group ? NULL : "I understand text messages and commands. Send /help.";
        else if (text[0] != '/')
            route_step(L, d);
        else if (!route_command(L, d, text))
            return 0;   /* for another bot in the group */
    }
    if (d->reg)
        start(L, d);
    else
        refuse(L, d);
    return 0;
}

/* Routes one update (h->L stack balanced on return).  0 started.  Its
 * Lua work is protected and is host work (not under a script's memory
 * limit, even when a script's call led here): running out of memory
 * drops the update with an apology, and the host goes on. */
int lh_bot_dispatch(void *ud, int64_t update_id, int64_t chat_id, const char *json)
{
    struct lh_host *h = ud;
    lua_State *L = h->L;
    if (!h->bot.reply)
        return -1;
    if (!h->gen)
        return 1;   /* no scripts live: it waits for a generation that loads */
    /* the reader's verdict, whatever else the JSON holds: only a
     * well-formed message or button press reaches a handler */
    struct tg_update up;
    cJSON_Delete(tg_update_parse(json, strlen(json), &up));
    if (up.malformed || (up.kind != TG_UPD_MESSAGE && up.kind != TG_UPD_CALLBACK_QUERY))
        return -1;   /* (edits, membership changes) */
    struct route d = {.h = h, .update_id = update_id, .chat_id = chat_id, .json = json,
                      .is_cb = up.kind == TG_UPD_CALLBACK_QUERY, .group = chat_id < 0, .rc = -1};
    int top = lua_gettop(L);
    int enforce = h->mem_enforce;
    h->mem_enforce = 0;
    lua_pushcfunction(L, dispatch_protected);
    lua_pushlightuserdata(L, &d);
    int st = lua_pcall(L, 1, 0, 0);
    h->mem_enforce = enforce;
    if (st != LUA_OK) {
        log_error(&h->app->log, "telegram", "update %lld: its handler could not start: %s",
                  (long long)update_id, lua_tostring(L, -1));
        reply_plain(h, chat_id, "Sorry, something went wrong on our side. Please try again "
                                "later.");
    }
    if (d.run) {
        luaL_unref(L, LUA_REGISTRYINDEX, d.run->ctx_ref);
        run_free(d.run);
    }
    lua_settop(L, top);
    return d.rc;
}

void lh_bot_attach_port(struct lh_host *h, const struct lh_bot_port *port)
{
    h->bot = *port;
}
