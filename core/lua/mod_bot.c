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

#include <cJSON.h>

#include "alert/engine.h"
#include "lua/bot.h"
#include "tg/bot.h"
#include "tg/text.h"

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

struct tg_bot *lh_bot_of(lua_State *L, const char *usage)
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

struct lh_reg *lh_bot_find_reg(struct lh_gen *g, enum lh_reg_kind kind, const char *name)
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
    struct lh_reg *dup = lh_bot_find_reg(h->cur.gen, kind, name);
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
char *lh_bot_encode(lua_State *L, int idx, size_t max)
{
    char err[256];
    char *s = lh_json_encode(L, idx, max, err, sizeof err);
    if (!s)
        luaL_error(L, "%s", err);
    return s;
}

/* The parameters of a message from opts at o: HTML unless opts.plain,
 * previews off unless opts.preview (not for a photo), opts.keyboard as
 * the reply markup. */
char *lh_bot_params(lua_State *L, int o, const char *usage, int photo)
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
    if (!preview && !photo) {
        lua_newtable(L);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "is_disabled");
        lua_setfield(L, p, "link_preview_options");
    }
    char *s = lh_bot_encode(L, p, lh_json_room(L));
    lua_pop(L, 1);
    return s;
}

int lh_bot_queued(lua_State *L, int rc, int64_t chat)
{
    if (rc == 0 || rc == 1) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (rc == -2)
        return lh_fail(L, "chat %I is inactive (it blocked the bot)", (lua_Integer)chat);
    return lh_fail(L, "cannot queue the message (database error)");
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
double lh_bot_arrival(lua_State *L, struct tg_bot *b, int64_t chat)
{
    double arrived = 0;
    if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, LH_BOT_CTX_MT);
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
int lh_bot_queue_text(lua_State *L, const char *usage, const char *method, int64_t chat, int opts)
{
    const char *text = luaL_checkstring(L, 2);
    struct tg_bot *b = lh_bot_of(L, usage);
    check_text(L, text, usage);
    char *params = lh_bot_params(L, opts, usage, 0);
    struct tg_origin from = {lh_task_update(lh_host_of(L)->cur.task), lh_bot_arrival(L, b, chat)};
    int rc = tg_sched_reply(tg_bot_sched(b), &from, chat, method, params, text);
    free(params);
    return lh_bot_queued(L, rc, chat);
}

/* bot.send(chat_id, text [, opts]) -> true | nil, err
 * A message to any chat, delivered like a reply.  opts as in ctx:reply. */
static int b_send(lua_State *L)
{
    return lh_bot_queue_text(L, "bot.send(chat_id, text [, opts])", "sendMessage",
                      luaL_checkinteger(L, 1), 3);
}

#define ALERT_DIGEST_CHARS 50   /* a digest line's, before its "…" */

/* bot.alert's opts (at 3): none, the priority, or {priority =, digest =}. */
static void alert_opts(lua_State *L, const char *usage, lua_Number *prio, const char **digest)
{
    if (lua_type(L, 3) != LUA_TTABLE) {
        *prio = luaL_optnumber(L, 3, 0);
        return;
    }
    for (lua_pushnil(L); lua_next(L, 3); lua_pop(L, 1))
        if (lua_type(L, -2) != LUA_TSTRING ||
            (strcmp(lua_tostring(L, -2), "priority") && strcmp(lua_tostring(L, -2), "digest")))
            luaL_error(L, "expected %s: unknown option %s%s%s (options: priority, digest)",
                       usage, lua_type(L, -2) == LUA_TSTRING ? "'" : "of type ",
                       lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                      : luaL_typename(L, -2),
                       lua_type(L, -2) == LUA_TSTRING ? "'" : "");
    int t = lua_getfield(L, 3, "priority");
    if (t != LUA_TNIL && t != LUA_TNUMBER)
        luaL_error(L, "expected %s: opts.priority must be a number, got %s", usage,
                   luaL_typename(L, -1));
    *prio = lua_tonumber(L, -1);
    t = lua_getfield(L, 3, "digest");
    if (t != LUA_TNIL && (t != LUA_TSTRING || !lua_rawlen(L, -1)))
        luaL_error(L, "expected %s: opts.digest must be a line of text, got %s", usage,
                   t == LUA_TSTRING ? "\"\"" : luaL_typename(L, -1));
    *digest = lua_tostring(L, -1);   /* (left on the stack: it stays alive) */
}

/* When the chat's alerts are held (paused, quiet hours), the alert's line
 * joins its digest instead: 1 held, 0 not. */
static int alert_hold(lua_State *L, int64_t chat, const char *html, const char *digest)
{
    struct alert_engine *e = lh_host_of(L)->app->alerts;
    if (!e)
        return 0;
    char line[ALERT_LINE_MAX];
    char *plain = digest ? NULL : tg_text_plain(html);
    if (!digest && !plain)
        luaL_error(L, "out of memory");
    tg_text_line(line, sizeof line, digest ? digest : plain, ALERT_DIGEST_CHARS);
    free(plain);
    return alert_hold_line(e, chat, line[0] ? line : "an alert");
}

/* bot.alert(chat_id, html [, opts]) -> "queued" | "merged" | "held" | nil, err
 * opts: the priority (a number), or {priority = n, digest = "one line"}.
 * An alert: merged into the chat's waiting alert message when there is
 * room; a bigger priority (e.g. the move in %) goes out sooner.  While
 * the chat's alerts are held (/stop, /snooze, quiet hours) it is held as
 * a candle's is: its digest line (plain text; by default the html's text,
 * its first line, cut to 50 characters) joins the digest sent when the
 * pause or the quiet hours end. */
static int b_alert(lua_State *L)
{
    static const char usage[] = "bot.alert(chat_id, html [, opts])";
    lua_Integer chat = luaL_checkinteger(L, 1);
    const char *text = luaL_checkstring(L, 2);
    lua_Number prio = 0;
    const char *digest = NULL;
    alert_opts(L, usage, &prio, &digest);
    struct tg_bot *b = lh_bot_of(L, usage);
    check_text(L, text, usage);
    if (alert_hold(L, chat, text, digest)) {
        lua_pushliteral(L, "held");
        return 1;
    }
    int rc = tg_sched_alert(tg_bot_sched(b), chat, &(struct tg_alert){text, prio, 0, NULL});
    if (rc >= 0) {
        lua_pushstring(L, rc ? "merged" : "queued");
        return 1;
    }
    return lh_bot_queued(L, rc, chat);
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

int lh_bot_is_operator(struct app *a, int64_t user)
{
    for (int i = 0; i < a->cfg.nadmins; i++)
        if (a->cfg.admins[i] == user)
            return 1;
    return 0;
}

/* bot.is_admin(user_id) -> boolean: one of the bot's operators (config admins) */
static int b_is_admin(lua_State *L)
{
    lua_pushboolean(L, lh_bot_is_operator(lh_host_of(L)->app, luaL_checkinteger(L, 1)));
    return 1;
}

/* ---- dispatch's Telegram side: the bot (ud: the host) ---- */

static struct tg_bot *port_bot(void *ud)
{
    return ((struct lh_host *)ud)->app->tg;
}

static const char *port_username(void *ud)
{
    return tg_bot_username(port_bot(ud));
}

static void port_reply(void *ud, int64_t chat, const char *text)
{
    tg_sched_send(tg_bot_sched(port_bot(ud)), chat, "sendMessage", NULL, text);
}

static void port_answer(void *ud, const char *callback_id, const char *text)
{
    lh_bot_answer(((struct lh_host *)ud)->L, port_bot(ud), callback_id, text, 0);
}

static void port_take_back(void *ud, int64_t chat, int64_t update_id)
{
    tg_sched_take_back(tg_bot_sched(port_bot(ud)), chat, update_id);
}

static void port_retract(void *ud, int64_t chat, int64_t update_id)
{
    tg_sched_retract(tg_bot_sched(port_bot(ud)), chat, update_id);
}

static void port_done(void *ud, int64_t update_id, int64_t chat)
{
    tg_bot_done(port_bot(ud), update_id, chat);
}

void lh_bot_attach(struct lh_host *h)
{
    if (!h->app->tg)
        return;
    struct lh_bot_port port = {.ud = h,
                               .username = port_username,
                               .reply = port_reply,
                               .answer = port_answer,
                               .take_back = port_take_back,
                               .retract = port_retract,
                               .done = port_done};
    lh_bot_attach_port(h, &port);
    tg_bot_set_dispatch(h->app->tg, lh_bot_dispatch, h);
}

void lh_bot_live(struct lh_host *h, struct lh_gen *g)
{
    if (h->app->tg)
        tg_bot_resume(h->app->tg);   /* updates that waited for scripts */
    if (!h->app->tg || (h->mode != LH_RUN && h->mode != LH_CONSOLE))
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
    {"invisible", b_invisible}, {"send_photo", lh_bot_send_photo},
    {"photo_id", lh_bot_photo_id},
    {"is_admin", b_is_admin}, {NULL, NULL},
};

int lh_open_bot(lua_State *L)
{
    if (luaL_newmetatable(L, LH_BOT_CTX_MT)) {
        lua_newtable(L);
        luaL_setfuncs(L, lh_bot_ctx_methods, 0);
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
    lua_setfield(L, LUA_REGISTRYINDEX, LH_BOT_TRAMPOLINE);
    luaL_newlib(L, funcs);
    return 1;
}
