/* tg_methods.c: the Bot API methods that answer, send, edit and delete,
 * with the checks Telegram makes on chats, texts and keyboards. */
#include "tg_fake.h"

/* ---- Bot API answers ---- */

void answer(struct call *k, int status, char *body)
{
    if (status == 429) S.r429++;
    else if (status == 403) S.r403++;
    else if (status == 400) S.r400++;
    respond(k->c, status, body, 0);
    free(body);
}

char *error_body(int code, const char *description, int retry_after)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddNumberToObject(j, "error_code", code);
    cJSON_AddStringToObject(j, "description", description);
    if (retry_after > 0)
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(j, "parameters"), "retry_after", retry_after);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

void fail(struct call *k, int code, const char *fmt, ...)
{
    char d[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    answer(k, code, error_body(code, d, 0));
}

void too_many(struct call *k, int retry_after)
{
    char d[64];
    snprintf(d, sizeof d, "Too Many Requests: retry after %d", retry_after);
    answer(k, 429, error_body(429, d, retry_after));
}

/* {"ok":true,"result":...}, taking result; description optional. */
void ok(struct call *k, cJSON *result, const char *description)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddItemToObject(j, "result", result);
    if (description)
        cJSON_AddStringToObject(j, "description", description);
    answer(k, 200, cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
}

struct sent *log_call(const char *method, int64_t chat, int64_t msg_id, const char *text,
                             const char *parse_mode, const char *markup, int paid, const char *query_id,
                             int show_alert)
{
    if (S.nlog == S.log_cap) {
        S.log_cap = S.log_cap ? S.log_cap * 2 : 256;
        S.log = realloc(S.log, S.log_cap * sizeof *S.log);
    }
    S.log[S.nlog++] = (struct sent){.seq = ++S.seq, .chat = chat, .msg_id = msg_id, .t_ms = now_ms(),
                                    .method = method, .text = xstrdup(text),
                                    .parse_mode = xstrdup(parse_mode), .markup = xstrdup(markup),
                                    .query_id = xstrdup(query_id), .paid = paid,
                                    .show_alert = show_alert};
    return &S.log[S.nlog - 1];
}

void sent_free(struct sent *s)
{
    free(s->text);
    free(s->parse_mode);
    free(s->markup);
    free(s->query_id);
    free(s->visible);
    free(s->file_id);
}

/* ---- message checks shared by send and edit ---- */

/* 1 when the chat refuses (answered 403/400), 0 when usable. */
int chat_refuses(struct call *k, struct chat *ch)
{
    if (ch->blocked) {
        if (ch->id >= 0)
            fail(k, 403, "Forbidden: bot was blocked by the user");
        else
            fail(k, 403, "Forbidden: bot was kicked from the %s chat", chat_kind(ch));
        return 1;
    }
    if (ch->missing) {
        fail(k, 400, "Bad Request: chat not found");
        return 1;
    }
    return 0;
}

/* chat_id parameter -> chat; 0 when answered with an error. */
struct chat *param_chat(struct call *k)
{
    int64_t id;
    int r = p_int(k->p, "chat_id", &id);
    if (r == 0) {
        fail(k, 400, "Bad Request: chat_id is empty");
        return NULL;
    }
    if (r < 0) {   /* @channelusername and friends: no such chat here */
        fail(k, 400, "Bad Request: chat not found");
        return NULL;
    }
    return chat_get(id);
}

/* text + parse_mode -> what the user sees, at most max characters (else
 * too_long); 0, or -1 when answered. */
int render_limit(struct call *k, const char *text, struct tg_text *t, size_t max,
                 const char *too_long)
{
    const char *mode = p_str(k->p, "parse_mode");
    if (!text || !*text) {
        fail(k, 400, "Bad Request: message text is empty");
        return -1;
    }
    if (!tg_utf8_valid(text, strlen(text))) {
        fail(k, 400, "Bad Request: text must be encoded in UTF-8");
        return -1;
    }
    if (mode && !strcasecmp(mode, "HTML")) {
        char err[300];
        if (tg_parse_html(text, S.html_strict, t, err, sizeof err) != 0) {
            fail(k, 400, "Bad Request: can't parse entities: %s", err);
            return -1;
        }
    } else if (!mode || !*mode || !strcasecmp(mode, "Markdown") || !strcasecmp(mode, "MarkdownV2")) {
        tg_plain(text, t);   /* Markdown is not interpreted here */
    } else {
        fail(k, 400, "Bad Request: unsupported parse_mode");
        return -1;
    }
    if (t->len == 0) {
        tg_text_free(t);
        fail(k, 400, "Bad Request: message text is empty");
        return -1;
    }
    if (t->chars > max) {
        tg_text_free(t);
        fail(k, 400, "%s", too_long);
        return -1;
    }
    return 0;
}

static int render_text(struct call *k, const char *text, struct tg_text *t)
{
    return render_limit(k, text, t, MAX_TEXT, "Bad Request: message is too long");
}

static const char *const button_kinds[] = {"url", "callback_data", "web_app", "login_url",
                                           "switch_inline_query", "switch_inline_query_current_chat",
                                           "switch_inline_query_chosen_chat", "copy_text",
                                           "callback_game", "pay"};

/* An error description for a bad inline button, or NULL. */
static const char *button_error(cJSON *b)
{
    if (!cJSON_IsObject(b))
        return "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object";
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "text")))
        return "Bad Request: can't parse inline keyboard button: Field \"text\" must be of type String";
    cJSON *cd = cJSON_GetObjectItemCaseSensitive(b, "callback_data");
    if (cd && (!cJSON_IsString(cd) || !cd->valuestring[0] || strlen(cd->valuestring) > 64))
        return "Bad Request: BUTTON_DATA_INVALID";
    cJSON *url = cJSON_GetObjectItemCaseSensitive(b, "url");
    if (url && (!cJSON_IsString(url) || (strncmp(url->valuestring, "http://", 7) &&
                                         strncmp(url->valuestring, "https://", 8) &&
                                         strncmp(url->valuestring, "tg://", 5))))
        return "Bad Request: BUTTON_URL_INVALID";
    for (size_t i = 0; i < sizeof button_kinds / sizeof button_kinds[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(b, button_kinds[i]))
            return NULL;
    return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
}

/* reply_markup -> *keep (the inline keyboard a Message shows, or NULL)
 * and *given (as sent, for the log); 0, or -1 when answered. */
int check_markup(struct call *k, char **keep, char **given)
{
    int bad;
    cJSON *m = p_json(k->p, "reply_markup", &bad);
    *keep = *given = NULL;
    if (bad || (m && !cJSON_IsObject(m))) {
        fail(k, 400, "Bad Request: can't parse reply keyboard markup JSON object");
        return -1;
    }
    if (!m)
        return 0;
    cJSON *kb = cJSON_GetObjectItemCaseSensitive(m, "inline_keyboard");
    if (kb) {
        if (!cJSON_IsArray(kb)) {
            fail(k, 400, "Bad Request: can't parse inline keyboard: Field \"inline_keyboard\" must be of type Array");
            return -1;
        }
        cJSON *row, *b;
        cJSON_ArrayForEach(row, kb) {
            if (!cJSON_IsArray(row)) {
                fail(k, 400, "Bad Request: can't parse inline keyboard: rows must be of type Array");
                return -1;
            }
            cJSON_ArrayForEach(b, row) {
                const char *e = button_error(b);
                if (e) {
                    fail(k, 400, "%s", e);
                    return -1;
                }
            }
        }
        if (cJSON_GetArraySize(kb) > 0)
            *keep = cJSON_PrintUnformatted(m);
    }
    *given = cJSON_PrintUnformatted(m);
    return 0;
}

/* The text and the keyboard of a send or an edit, checked as Telegram
 * does; -1 after answering the call with the error. */
static int render_message(struct call *k, const char *text, struct tg_text *t, char **keep,
                          char **given)
{
    if (render_text(k, text, t) != 0)
        return -1;
    if (check_markup(k, keep, given) != 0) {
        tg_text_free(t);
        return -1;
    }
    return 0;
}

static int same_markup(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* ---- methods ---- */

void m_get_me(struct call *k)
{
    cJSON *u = bot_user_json();
    cJSON_AddBoolToObject(u, "can_join_groups", 1);
    cJSON_AddBoolToObject(u, "can_read_all_group_messages", 0);
    cJSON_AddBoolToObject(u, "supports_inline_queries", 0);
    ok(k, u, NULL);
}

void m_send_message(struct call *k)
{
    struct chat *ch = param_chat(k);
    if (!ch || chat_refuses(k, ch))
        return;
    int paid = p_bool(k->p, "allow_paid_broadcast");
    int64_t now = now_ms(), wait = flood_wait(ch, paid, now);
    if (wait > 0) {
        too_many(k, (int)((wait + 999) / 1000));
        return;
    }
    const char *text = p_str(k->p, "text");
    struct tg_text t;
    char *keep, *given;
    if (render_message(k, text, &t, &keep, &given) != 0)
        return;
    flood_take(ch, paid, now);
    int64_t id = chat_add_msg(ch, 1, S.bot_id, &t, keep);
    S.sent++;
    if (!ch->sent_since_reset) {
        ch->sent_since_reset = 1;
        S.chats_sent++;
    }
    if (S.sent == 1)
        S.first_send_ms = now;
    S.last_send_ms = now;
    log_call("sendMessage", ch->id, id, text, p_str(k->p, "parse_mode"), given, paid, NULL, 0)->visible =
        strdup(chat_msg(ch, id)->t.text);
    free(given);
    ok(k, message_json(ch, id, chat_msg(ch, id)), NULL);
}

/* chat_id + message_id -> the message; NULL when answered. */
static struct msg *param_msg(struct call *k, struct chat **out, const char *not_found)
{
    if (cJSON_GetObjectItemCaseSensitive(k->p, "inline_message_id")) {
        fail(k, 400, "Bad Request: fake_telegram has no inline messages");
        return NULL;
    }
    struct chat *ch = param_chat(k);
    if (!ch || chat_refuses(k, ch))
        return NULL;
    int64_t id;
    if (p_int(k->p, "message_id", &id) != 1) {
        fail(k, 400, "Bad Request: message identifier is not specified");
        return NULL;
    }
    struct msg *m = chat_msg(ch, id);
    if (!m) {
        fail(k, 400, "%s", not_found);
        return NULL;
    }
    *out = ch;
    return m;
}

static void finish_edit(struct call *k, struct chat *ch, struct msg *m, struct tg_text *t, char *keep,
                        char *given, const char *text)
{
    int64_t id = (int64_t)(m - ch->msgs) + 1;
    if (tg_text_same(&m->t, t) && same_markup(m->markup, keep)) {
        tg_text_free(t);
        free(keep);
        free(given);
        fail(k, 400, "Bad Request: message is not modified: specified new message content and reply markup "
                     "are exactly the same as a current content and reply markup of the message");
        return;
    }
    tg_text_free(&m->t);
    free(m->markup);
    m->t = *t;
    m->markup = keep;
    m->edit_date = unix_now();
    S.edits++;
    struct sent *s = log_call(k->method, ch->id, id, text, p_str(k->p, "parse_mode"), given, 0, NULL, 0);
    if (text)   /* editMessageText; editMessageReplyMarkup shows no new text */
        s->visible = strdup(m->t.text);
    free(given);
    ok(k, message_json(ch, id, m), NULL);
}

/* The message an edit names, if the bot may edit it; NULL when answered. */
static struct msg *editable_msg(struct call *k, struct chat **ch)
{
    struct msg *m = param_msg(k, ch, "Bad Request: message to edit not found");
    if (m && !m->from_bot) {
        fail(k, 400, "Bad Request: message can't be edited");
        return NULL;
    }
    return m;
}

void m_edit_text(struct call *k)
{
    struct chat *ch;
    struct msg *m = editable_msg(k, &ch);
    if (!m)
        return;
    const char *text = p_str(k->p, "text");
    struct tg_text t;
    char *keep, *given;
    if (render_message(k, text, &t, &keep, &given) != 0)
        return;
    finish_edit(k, ch, m, &t, keep, given, text);
}

void m_edit_markup(struct call *k)
{
    struct chat *ch;
    struct msg *m = editable_msg(k, &ch);
    if (!m)
        return;
    char *keep, *given;
    if (check_markup(k, &keep, &given) != 0)
        return;
    struct tg_text t;   /* the same text: only the markup may differ */
    tg_plain(m->t.text, &t);
    t.nent = m->t.nent;
    t.ent = calloc(t.nent ? t.nent : 1, sizeof *t.ent);
    for (size_t i = 0; i < t.nent; i++) {
        t.ent[i] = m->t.ent[i];
        t.ent[i].arg = xstrdup(m->t.ent[i].arg);
    }
    finish_edit(k, ch, m, &t, keep, given, NULL);
}

void m_delete(struct call *k)
{
    struct chat *ch;
    struct msg *m = param_msg(k, &ch, "Bad Request: message to delete not found");
    if (!m)
        return;
    m->deleted = 1;
    S.deletes++;
    log_call("deleteMessage", ch->id, (int64_t)(m - ch->msgs) + 1, NULL, NULL, NULL, 0, NULL, 0);
    ok(k, cJSON_CreateTrue(), NULL);
}

static struct cbq *cbq_find(const char *id)
{
    for (size_t i = 0; id && i < S.ncbq; i++)
        if (!strcmp(S.cbqs[i].id, id))
            return &S.cbqs[i];
    return NULL;
}

void m_answer_callback(struct call *k)
{
    const char *id = p_str(k->p, "callback_query_id");
    const char *text = p_str(k->p, "text");
    struct cbq *q = cbq_find(id);
    if (q && q->answered)
        S.duplicate_answers++;
    /* Answered, unknown or older than 15 s: Telegram no longer knows it. */
    if (!q || q->answered || now_ms() - q->created_ms > CALLBACK_TTL_MS) {
        fail(k, 400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
        return;
    }
    if (text && tg_utf8_chars(text, strlen(text)) > MAX_ANSWER_TEXT) {
        fail(k, 400, "Bad Request: MESSAGE_TOO_LONG");
        return;
    }
    q->answered = 1;
    S.answers++;
    log_call("answerCallbackQuery", q->chat, 0, text, NULL, NULL, 0, q->id, p_bool(k->p, "show_alert"));
    ok(k, cJSON_CreateTrue(), NULL);
}

static int command_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

void m_set_commands(struct call *k)
{
    int bad;
    cJSON *list = p_json(k->p, "commands", &bad), *c;
    if (!cJSON_IsArray(list)) {
        fail(k, 400, "Bad Request: can't parse commands JSON object");
        return;
    }
    if (cJSON_GetArraySize(list) > 100) {
        fail(k, 400, "Bad Request: BOT_COMMANDS_TOO_MUCH");
        return;
    }
    cJSON *keep = cJSON_CreateArray();
    cJSON_ArrayForEach(c, list) {
        cJSON *cmd = cJSON_GetObjectItemCaseSensitive(c, "command");
        cJSON *desc = cJSON_GetObjectItemCaseSensitive(c, "description");
        const char *err = NULL;
        if (!cJSON_IsString(cmd) || !command_ok(cmd->valuestring))
            err = "Bad Request: BOT_COMMAND_INVALID";
        else if (!cJSON_IsString(desc) || !desc->valuestring[0] ||
                 tg_utf8_chars(desc->valuestring, strlen(desc->valuestring)) > 256)
            err = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID";
        if (err) {
            cJSON_Delete(keep);
            fail(k, 400, "%s", err);
            return;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "command", cmd->valuestring);
        cJSON_AddStringToObject(o, "description", desc->valuestring);
        cJSON_AddItemToArray(keep, o);
    }
    free(S.commands);
    S.commands = cJSON_PrintUnformatted(keep);
    cJSON_Delete(keep);
    ok(k, cJSON_CreateTrue(), NULL);
}

void m_get_commands(struct call *k)
{
    ok(k, S.commands ? cJSON_Parse(S.commands) : cJSON_CreateArray(), NULL);
}

void m_delete_commands(struct call *k)
{
    free(S.commands);
    S.commands = NULL;
    ok(k, cJSON_CreateTrue(), NULL);
}

void m_get_chat_member(struct call *k)
{
    struct chat *ch = param_chat(k);
    int64_t user;
    if (!ch)
        return;
    if (ch->missing) {
        fail(k, 400, "Bad Request: chat not found");
        return;
    }
    if (p_int(k->p, "user_id", &user) != 1) {
        fail(k, 400, "Bad Request: user_id is empty");
        return;
    }
    const char *status = "member";
    if (ch->id < 0 && ch->creator == user) {
        status = "creator";
    } else if (ch->id < 0) {
        for (size_t i = 0; i < ch->nadmins; i++)
            if (ch->admins[i] == user)
                status = "administrator";
    }
    cJSON *r = cJSON_CreateObject();
    cJSON *u = user == S.bot_id ? bot_user_json() : cJSON_CreateObject();
    if (user != S.bot_id) {
        cJSON_AddNumberToObject(u, "id", (double)user);
        cJSON_AddBoolToObject(u, "is_bot", 0);
        cJSON_AddStringToObject(u, "first_name", "User");
    }
    cJSON_AddItemToObject(r, "user", u);
    cJSON_AddStringToObject(r, "status", status);
    if (!strcmp(status, "administrator")) {
        cJSON_AddBoolToObject(r, "can_be_edited", 0);
        cJSON_AddBoolToObject(r, "is_anonymous", 0);
        cJSON_AddBoolToObject(r, "can_manage_chat", 1);
        cJSON_AddBoolToObject(r, "can_delete_messages", 1);
        cJSON_AddBoolToObject(r, "can_restrict_members", 1);
        cJSON_AddBoolToObject(r, "can_promote_members", 0);
        cJSON_AddBoolToObject(r, "can_change_info", 1);
        cJSON_AddBoolToObject(r, "can_invite_users", 1);
    } else if (!strcmp(status, "creator")) {
        cJSON_AddBoolToObject(r, "is_anonymous", 0);
    }
    ok(k, r, NULL);
}
