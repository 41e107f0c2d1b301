/* bot: Telegram command flows for scripts in scripts/commands/.
 *
 * A script registers at its top level; the host routes each update of a
 * chat, one at a time, to one handler running as a coroutine:
 *
 *   bot.command("start", "Start receiving alerts", function(ctx) ... end)
 *   bot.callback("preset", function(ctx, rest) ... end)   -- data "preset:rest"
 *   bot.step("preset.name", function(ctx) ... end)         -- text while in that step
 *
 * ctx carries the update (chat, user, text, args, data) and the chat's
 * conversation state (ctx.state: {step =, data =}), which is saved when the
 * handler returns, in the same transaction that marks the update handled.
 * Replies go through the delivery scheduler (durable, rate limited).
 */
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "store/store.h"
#include "tg/bot.h"
#include "tg/text.h"
#include "tg/update.h"

#include <cJSON.h>
#include <stdio.h>

#define STATE_SCOPE "telegram.state"
#define CALLBACK_DATA_MAX 64

/* A press is answered with a notice (a reply would speak to the whole
 * group), a message with a reply. */
static const char trampoline_src[] =
    "local handler, ctx, check_admin, arg = ...\n"
    "if check_admin and not ctx:is_group_admin() then\n"
    "  local no = 'Only this group\\'s administrators can change its settings.'\n"
    "  if ctx.callback_id then ctx:answer(no, { alert = true }) else ctx:reply(no) end\n"
    "  return\n"
    "end\n"
    "return handler(ctx, arg)\n";

#define TRAMPOLINE_KEY "cw.bot.trampoline"
#define CTX_MT_KEY "cw.bot.ctx"

static struct tg_bot *bot_of(lua_State *L, const char *usage)
{
    struct lh_host *h = lh_host_of(L);
    if (!h->app->tg)
        luaL_error(L, "%s: Telegram is off (no bot token)", usage);
    return h->app->tg;
}

/* ---- registration ---- */

static int valid_name(const char *s, size_t n, int dots)
{
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              (dots && (s[i] == '.' || s[i] == '-'))))
            return 0;
    return 1;
}

static struct lh_reg *find_reg(struct lh_gen *g, enum lh_reg_kind kind, const char *name)
{
    for (struct lh_reg *r = g->regs; r; r = r->next)
        if (r->kind == kind && r->name && strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static void add_named(lua_State *L, enum lh_reg_kind kind, const char *usage, const char *what,
                      int fn_idx, const char *name, const char *desc, int flags)
{
    struct lh_host *h = lh_host_of(L);
    lh_require_phase(L, usage, LH_PHASE_TOPLEVEL);
    struct lh_reg *dup = find_reg(h->cur.gen, kind, name);
    if (dup)
        luaL_error(L, "%s \"%s\" is registered twice: also by %s", what, name,
                   h->cur.gen->scripts[dup->script].name);
    struct lh_reg *r = lh_reg_add(L, h->cur.gen, kind, h->cur.script, fn_idx);
    if (!r || !(r->name = strdup(name)) || (desc && !(r->desc = strdup(desc))))
        luaL_error(L, "out of memory");
    r->flags = flags;
}

/* bot.command(name, description, handler [, opts]) -> nil    top level only
 * name: 1-32 of a-z 0-9 _ (without the slash); description: 1-256
 * characters, shown in /help and the menu; opts: {admin = true} for the
 * bot's operators only (not in the menu), {group_admin = true} for
 * commands that change a group's settings. */
static int b_command(lua_State *L)
{
    static const char usage[] = "bot.command(name, description, handler [, opts])";
    size_t n, dn;
    const char *name = luaL_checklstring(L, 1, &n);
    const char *desc = luaL_checklstring(L, 2, &dn);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    if (!valid_name(name, n, 0))
        return luaL_error(L, "expected %s: name must be 1-32 of a-z 0-9 _ (got \"%s\")", usage,
                          name);
    size_t chars = tg_text_chars(desc);
    if (chars < 1 || chars > 256)
        return luaL_error(L, "expected %s: description must be 1-256 characters", usage);
    int flags = 0;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        lua_getfield(L, 4, "admin");
        lua_getfield(L, 4, "group_admin");
        flags = (lua_toboolean(L, -2) ? LH_REG_ADMIN : 0) |
                (lua_toboolean(L, -1) ? LH_REG_GROUP_ADMIN : 0);
        lua_pop(L, 2);
    }
    add_named(L, LH_REG_COMMAND, usage, "command", 3, name, desc, flags);
    return 0;
}

/* (name, handler [, opts]): a callback prefix or a step name */
static int add_handler(lua_State *L, enum lh_reg_kind kind, const char *usage, const char *what)
{
    size_t n;
    const char *name = luaL_checklstring(L, 1, &n);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (!valid_name(name, n, 1))
        return luaL_error(L, "expected %s: %s must be 1-32 of a-z 0-9 _ . -", usage,
                          kind == LH_REG_STEP ? "name" : "prefix");
    int flags = 0;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "group_admin");
        flags = lua_toboolean(L, -1) ? LH_REG_GROUP_ADMIN : 0;
        lua_pop(L, 1);
    }
    add_named(L, kind, usage, what, 2, name, NULL, flags);
    return 0;
}

/* bot.callback(prefix, handler [, opts]) -> nil    top level only
 * Handles buttons whose callback data is "prefix" or "prefix:rest";
 * handler(ctx, rest).  opts: {group_admin = true}: in groups, only the
 * group's administrators' presses reach it (anyone can press a button
 * under an administrator's message). */
static int b_callback(lua_State *L)
{
    return add_handler(L, LH_REG_CALLBACK, "bot.callback(prefix, handler [, opts])",
                       "callback");
}

/* bot.step(name, handler [, opts]) -> nil    top level only
 * Handles a plain text message while the chat's ctx.state.step is name.
 * opts: {group_admin = true}, as for bot.callback. */
static int b_step(lua_State *L)
{
    return add_handler(L, LH_REG_STEP, "bot.step(name, handler [, opts])", "step");
}

/* ---- sending ---- */

/* Encodes the table at idx into at most max bytes (may raise: only from
 * handlers). */
static char *encode(lua_State *L, int idx, size_t max)
{
    char err[256];
    char *s = lh_json_encode(L, idx, max, err, sizeof err);
    if (!s)
        luaL_error(L, "%s", err);
    return s;
}

/* The parameters of a message from opts at o: HTML unless opts.plain,
 * previews off unless opts.preview, opts.keyboard as the reply markup. */
static char *message_params(lua_State *L, int o, const char *usage)
{
    if (!lua_isnoneornil(L, o))
        luaL_argexpected(L, lua_istable(L, o), o, "table of options");
    lua_newtable(L);
    int p = lua_gettop(L);
    int plain = 0, preview = 0;
    if (lua_istable(L, o)) {
        lua_getfield(L, o, "plain");
        lua_getfield(L, o, "preview");
        plain = lua_toboolean(L, -2);
        preview = lua_toboolean(L, -1);
        lua_pop(L, 2);
        if (lua_getfield(L, o, "keyboard") != LUA_TNIL) {
            if (!lua_istable(L, -1))
                luaL_error(L, "expected %s: opts.keyboard must come from bot.keyboard", usage);
            lua_setfield(L, p, "reply_markup");
        } else {
            lua_pop(L, 1);
        }
        if (lua_getfield(L, o, "message_id") == LUA_TNUMBER)
            lua_setfield(L, p, "message_id");
        else
            lua_pop(L, 1);
    }
    if (!plain) {
        lua_pushliteral(L, "HTML");
        lua_setfield(L, p, "parse_mode");
    }
    if (!preview) {
        lua_newtable(L);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "is_disabled");
        lua_setfield(L, p, "link_preview_options");
    }
    char *s = encode(L, p, lh_json_room(L));
    lua_pop(L, 1);
    return s;
}

static int queued(lua_State *L, int rc, int64_t chat)
{
    if (rc == 0 || rc == 1) {
        lua_pushboolean(L, 1);
        return 1;
    }
    luaL_pushfail(L);
    if (rc == -2)
        lua_pushfstring(L, "chat %I is inactive (it blocked the bot)", (lua_Integer)chat);
    else
        lua_pushliteral(L, "cannot queue the message (database error)");
    return 2;
}

static void check_text(lua_State *L, const char *text, const char *usage)
{
    size_t chars = tg_text_chars(text);
    if (chars < 1 || chars > TG_TEXT_MAX)
        luaL_error(L, "expected %s: text must be 1-%d characters (got %d)", usage, TG_TEXT_MAX,
                   (int)chars);
}

/* When the update a ctx (at 1) answers arrived, or 0 (not a ctx): a
 * reply is timed from there, for the update-to-reply latency. */
static double update_arrival(lua_State *L, struct tg_bot *b, int64_t chat)
{
    double arrived = 0;
    if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, CTX_MT_KEY);
        int is_ctx = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
        if (is_ctx && lua_getfield(L, 1, "update_id") == LUA_TNUMBER)
            arrived = tg_bot_arrived(b, chat, lua_tointeger(L, -1));
        if (is_ctx)
            lua_pop(L, 1);
    }
    return arrived;
}

/* Queues method for chat with the text at 2 (checked) and the message
 * parameters from the options at opts. */
static int queue_text(lua_State *L, const char *usage, const char *method, int64_t chat, int opts)
{
    const char *text = luaL_checkstring(L, 2);
    struct tg_bot *b = bot_of(L, usage);
    check_text(L, text, usage);
    char *params = message_params(L, opts, usage);
    tg_sched_origin(tg_bot_sched(b), update_arrival(L, b, chat), lh_host_of(L)->app->log.update_id);
    int rc = tg_sched_send(tg_bot_sched(b), chat, method, params, text);
    tg_sched_origin(tg_bot_sched(b), 0, 0);
    free(params);
    return queued(L, rc, chat);
}

/* bot.send(chat_id, text [, opts]) -> true | nil, err
 * A message to any chat, delivered like a reply.  opts as in ctx:reply. */
static int b_send(lua_State *L)
{
    return queue_text(L, "bot.send(chat_id, text [, opts])", "sendMessage",
                      luaL_checkinteger(L, 1), 3);
}

/* bot.alert(chat_id, html [, priority]) -> "queued" | "merged" | nil, err
 * An alert: merged into the chat's waiting alert message when there is
 * room; a bigger priority (e.g. the move in %) goes out sooner. */
static int b_alert(lua_State *L)
{
    static const char usage[] = "bot.alert(chat_id, html [, priority])";
    lua_Integer chat = luaL_checkinteger(L, 1);
    const char *text = luaL_checkstring(L, 2);
    lua_Number prio = luaL_optnumber(L, 3, 0);
    struct tg_bot *b = bot_of(L, usage);
    check_text(L, text, usage);
    int rc = tg_sched_alert(tg_bot_sched(b), chat, &(struct tg_alert){text, prio, 0, NULL});
    if (rc >= 0) {
        lua_pushstring(L, rc ? "merged" : "queued");
        return 1;
    }
    return queued(L, rc, chat);
}

/* bot.keyboard(rows) -> markup
 * rows: { { {"Label", "callback data"}, ... }, ... }, or {"Label", url = "https://..."}
 * for a link.  Callback data over 64 bytes is an error here, not a
 * truncation later. */
static int b_keyboard(lua_State *L)
{
    static const char usage[] = "bot.keyboard{ { {label, data}, ... }, ... }";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_newtable(L);   /* markup */
    lua_newtable(L);   /* inline_keyboard */
    lua_Integer nrows = luaL_len(L, 1);
    for (lua_Integer r = 1; r <= nrows; r++) {
        if (lua_geti(L, 1, r) != LUA_TTABLE)
            return luaL_error(L, "expected %s: row %d is not a table", usage, (int)r);
        int row = lua_gettop(L);
        lua_newtable(L);
        lua_Integer nb = luaL_len(L, row);
        for (lua_Integer i = 1; i <= nb; i++) {
            if (lua_geti(L, row, i) != LUA_TTABLE)
                return luaL_error(L, "expected %s: button %d of row %d is not a table", usage,
                                  (int)i, (int)r);
            int btn = lua_gettop(L);
            lua_geti(L, btn, 1);
            lua_geti(L, btn, 2);
            lua_getfield(L, btn, "url");
            size_t dn = 0;
            const char *label = lua_tostring(L, -3), *data = lua_tolstring(L, -2, &dn);
            if (!label || !*label)
                return luaL_error(L, "expected %s: button %d of row %d has no label", usage,
                                  (int)i, (int)r);
            lua_newtable(L);
            lua_pushstring(L, label);
            lua_setfield(L, -2, "text");
            if (lua_isstring(L, -2)) {
                lua_pushvalue(L, -2);
                lua_setfield(L, -2, "url");
            } else {
                if (!data || dn < 1 || dn > CALLBACK_DATA_MAX)
                    return luaL_error(L, "button \"%s\": callback data must be 1-%d bytes (got "
                                         "%d): Telegram refuses longer data",
                                      label, CALLBACK_DATA_MAX, (int)dn);
                lua_pushvalue(L, -3);
                lua_setfield(L, -2, "callback_data");
            }
            lua_seti(L, row + 1, i);
            lua_settop(L, row + 1);
        }
        lua_seti(L, row - 1, r);
        lua_settop(L, row - 1);
    }
    lua_setfield(L, -2, "inline_keyboard");
    return 1;
}

/* bot.escape(text) -> text with & < > " escaped for Telegram's HTML */
static int b_escape(lua_State *L)
{
    size_t n;
    const char *s = luaL_tolstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': luaL_addstring(&b, "&amp;"); break;
        case '<': luaL_addstring(&b, "&lt;"); break;
        case '>': luaL_addstring(&b, "&gt;"); break;
        case '"': luaL_addstring(&b, "&quot;"); break;
        default: luaL_addchar(&b, s[i]);
        }
    }
    luaL_pushresult(&b);
    return 1;
}

/* bot.invisible(text) -> code point | nil
 * The first control or invisible format character of text (a bidi
 * override, a zero-width space, ...; not the joiners emoji need), the
 * check alerts.save makes of a preset's name. */
static int b_invisible(lua_State *L)
{
    unsigned long cp = tg_text_invisible(luaL_checkstring(L, 1));
    if (!cp)
        return 0;
    lua_pushinteger(L, (lua_Integer)cp);
    return 1;
}

/* bot.fmt(format, ...) -> string.format with every argument escaped
 * first: the safe way to put user text into HTML. */
static int b_fmt(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checkstring(L, 1);
    lua_pushcfunction(L, b_escape);
    for (int i = 2; i <= n; i++) {
        if (lua_type(L, i) == LUA_TNUMBER)
            continue;
        lua_pushvalue(L, -1);
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
        lua_replace(L, i);
    }
    lua_pop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "string");   /* the host's own library, not a script's */
    lua_getfield(L, -1, "format");
    lua_replace(L, -3);
    lua_pop(L, 1);
    lua_insert(L, 1);
    lua_call(L, n, 1);
    return 1;
}

/* bot.commands() -> { {name =, description =}, ... }  the menu, sorted */
static int cmp_reg(const void *a, const void *b)
{
    return strcmp((*(struct lh_reg *const *)a)->name, (*(struct lh_reg *const *)b)->name);
}

static int sorted_commands(struct lh_gen *g, struct lh_reg ***out)
{
    int n = 0;
    for (struct lh_reg *r = g->regs; r; r = r->next)
        n += r->kind == LH_REG_COMMAND && !(r->flags & LH_REG_ADMIN);
    struct lh_reg **v = calloc((size_t)n + 1, sizeof *v);
    if (!v)
        return -1;
    n = 0;
    for (struct lh_reg *r = g->regs; r; r = r->next)
        if (r->kind == LH_REG_COMMAND && !(r->flags & LH_REG_ADMIN))
            v[n++] = r;
    qsort(v, (size_t)n, sizeof *v, cmp_reg);
    *out = v;
    return n;
}

static int b_commands(lua_State *L)
{
    struct lh_host *h = lh_host_of(L);
    struct lh_gen *g = h->cur.gen ? h->cur.gen : h->gen;
    lua_newtable(L);
    struct lh_reg **v;
    int n = g ? sorted_commands(g, &v) : 0;
    for (int i = 0; i < n; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, v[i]->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, v[i]->desc);
        lua_setfield(L, -2, "description");
        lua_rawseti(L, -2, i + 1);
    }
    if (n > 0)
        free(v);
    return 1;
}

static int is_operator(struct app *a, int64_t user)
{
    for (int i = 0; i < a->cfg.nadmins; i++)
        if (a->cfg.admins[i] == user)
            return 1;
    return 0;
}

/* bot.is_admin(user_id) -> boolean: one of the bot's operators (config admins) */
static int b_is_admin(lua_State *L)
{
    lua_pushboolean(L, is_operator(lh_host_of(L)->app, luaL_checkinteger(L, 1)));
    return 1;
}

/* ---- ctx methods ---- */

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
    return queue_text(L, "ctx:reply(text [, opts])", "sendMessage",
                      ctx_chat(L, "ctx:reply(text [, opts])"), 3);
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
    return queue_text(L, usage, "editMessageText", ctx_chat(L, usage), 3);
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
    struct tg_bot *b = bot_of(L, usage);
    int64_t chat = ctx_chat(L, usage);
    lua_Integer mid = target_message(L, 3, usage);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, mid);
    lua_setfield(L, -2, "message_id");
    if (lua_istable(L, 2)) {
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "reply_markup");
    }
    char *params = encode(L, lua_gettop(L), lh_json_room(L));
    int rc = tg_sched_send(tg_bot_sched(b), chat, "editMessageReplyMarkup", params, NULL);
    free(params);
    return queued(L, rc, chat);
}

/* ctx:delete([opts]) -> true | nil, err
 * Deletes the pressed button's message (or opts.message_id). */
static int c_delete(lua_State *L)
{
    static const char usage[] = "ctx:delete([opts])";
    luaL_checktype(L, 1, LUA_TTABLE);
    struct tg_bot *b = bot_of(L, usage);
    int64_t chat = ctx_chat(L, usage);
    char params[48];
    snprintf(params, sizeof params, "{\"message_id\":%lld}",
             (long long)target_message(L, 2, usage));
    int rc = tg_sched_send(tg_bot_sched(b), chat, "deleteMessage", params, NULL);
    return queued(L, rc, chat);
}

static void on_answered(void *ud, const struct tg_result *r)
{
    struct lh_host *h = ud;
    if (r->outcome != TG_OK)
        log_warn(&h->app->log, "telegram", "answerCallbackQuery: %s", r->description);
}

/* Answers the button press now (the client shows a spinner until then). */
static void answer(lua_State *L, struct tg_bot *b, const char *id, const char *text, int alert)
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
    struct tg_bot *b = bot_of(L, usage);
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
        answer(L, b, id, text, alert);
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
    struct tg_bot *b = bot_of(L, usage);
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

static const luaL_Reg ctx_methods[] = {
    {"reply", c_reply}, {"edit", c_edit}, {"edit_keyboard", c_edit_keyboard},
    {"delete", c_delete}, {"answer", c_answer}, {"go", c_go},
    {"finish", c_finish}, {"is_group_admin", c_is_group_admin}, {NULL, NULL},
};

/* ---- dispatch ---- */

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
    char *json = empty ? NULL : encode(L, 3, LH_STORE_MAX_VALUE);
    if (json ? r->state_was && !strcmp(json, r->state_was) : !r->state_was) {
        free(json);   /* unchanged: nothing to write, nothing its reply depends on */
        return 0;
    }
    int rc = store_kv_set(st, STATE_SCOPE, r->state_key, json);
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
    struct tg_bot *b = h->app->tg;
    /* all or nothing: its writes were rolled back (task.c) and what it
     * queued in that run taken back (tg_sched_undo); replies it queued
     * before a wait are taken back here: only the apology goes */
    if (!ok && b) {
        tg_sched_take_back(tg_bot_sched(b), r->chat_id, r->update_id);
        tg_sched_send(tg_bot_sched(b), r->chat_id, "sendMessage", NULL,
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
                tg_sched_retract(tg_bot_sched(b), r->chat_id, r->update_id);
        }
    }
    lua_pushcfunction(L, unanswered_press);
    lua_pushlightuserdata(L, r);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && b && lua_isstring(L, -1))
        answer(L, b, lua_tostring(L, -1), NULL, 0);
    lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, r->ctx_ref);
    h->mem_enforce = enforce;
    if (b)
        tg_bot_done(b, r->update_id, r->chat_id);
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
    tg_sched_send(tg_bot_sched(h->app->tg), chat, "sendMessage", NULL, text);
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
    luaL_setmetatable(L, CTX_MT_KEY);
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
    if (a->store && store_kv_get(a->store, STATE_SCOPE, r->state_key, &r->state_was) == 1 &&
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
        d->reg = find_reg(d->h->gen, LH_REG_CALLBACK, d->name);
    }
    d->arg = lua_pushstring(L, colon ? colon + 1 : "");   /* kept alive on the stack */
    if (!d->reg)
        d->unhandled = "That button no longer does anything. Send /help to start again.";
}

/* "/name@bot args"; 0 when it is for another bot in the group. */
static int route_command(lua_State *L, struct route *d, const char *text)
{
    size_t n = strcspn(text + 1, " @\n");
    const char *at = text + 1 + n, *mention = NULL;
    if (*at == '@') {
        mention = at + 1;
        at += 1 + strcspn(at + 1, " \n");
    }
    const char *me = tg_bot_username(d->h->app->tg);
    size_t ml = strlen(me);
    if (mention && *me && (strncmp(mention, me, ml) != 0 ||
                           (mention[ml] && mention[ml] != ' ' && mention[ml] != '\n')))
        return 0;
    if (n < sizeof d->name) {
        for (size_t i = 0; i < n; i++)
            d->name[i] = (char)(text[1 + i] >= 'A' && text[1 + i] <= 'Z' ? text[1 + i] + 32
                                                                         : text[1 + i]);
        d->name[n] = '\0';
    }
    while (*at == ' ' || *at == '\n')
        at++;
    lua_pushstring(L, d->name);
    lua_setfield(L, d->ctx, "command");
    lua_pushstring(L, at);
    lua_setfield(L, d->ctx, "args");
    d->reg = n < sizeof d->name ? find_reg(d->h->gen, LH_REG_COMMAND, d->name) : NULL;
    if (d->reg && (d->reg->flags & LH_REG_ADMIN) && !is_operator(d->h->app, d->user_id)) {
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
        d->reg = find_reg(d->h->gen, LH_REG_STEP, d->name);
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
            answer(L, d->h->app->tg, lua_tostring(L, -1), d->unhandled, 0);
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
    lua_getfield(L, LUA_REGISTRYINDEX, TRAMPOLINE_KEY);
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
static int dispatch(void *ud, int64_t update_id, int64_t chat_id, const char *json)
{
    struct lh_host *h = ud;
    lua_State *L = h->L;
    if (!h->app->tg)
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

void lh_bot_attach(struct lh_host *h)
{
    if (h->app->tg)
        tg_bot_set_dispatch(h->app->tg, dispatch, h);
}

void lh_bot_live(struct lh_host *h, struct lh_gen *g)
{
    if (h->app->tg)
        tg_bot_resume(h->app->tg);   /* updates that waited for scripts */
    if (!h->app->tg || h->mode != LH_RUN)
        return;
    struct lh_reg **v;
    int n = sorted_commands(g, &v);
    if (n < 0)
        return;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n && i < 100; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "command", v[i]->name);
        cJSON_AddStringToObject(c, "description", v[i]->desc);
        cJSON_AddItemToArray(arr, c);
    }
    free(v);
    char *json = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (json)
        tg_bot_set_commands(h->app->tg, json);
    free(json);
}

static const luaL_Reg funcs[] = {
    {"command", b_command},   {"callback", b_callback}, {"step", b_step},
    {"send", b_send},         {"alert", b_alert},       {"keyboard", b_keyboard},
    {"escape", b_escape},     {"fmt", b_fmt},           {"commands", b_commands},
    {"invisible", b_invisible},
    {"is_admin", b_is_admin}, {NULL, NULL},
};

int lh_open_bot(lua_State *L)
{
    if (luaL_newmetatable(L, CTX_MT_KEY)) {
        luaL_newlib(L, ctx_methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, "ctx");
        lua_setfield(L, -2, "__name");
        /* scripts can neither see nor swap it: the host reads ctx outside
         * any protected call (dispatch, run_done) */
        lua_pushliteral(L, "ctx");
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    if (luaL_loadbuffer(L, trampoline_src, sizeof trampoline_src - 1, "=bot") != LUA_OK)
        return lua_error(L);
    lua_setfield(L, LUA_REGISTRYINDEX, TRAMPOLINE_KEY);
    luaL_newlib(L, funcs);
    return 1;
}
