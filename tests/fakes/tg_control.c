/* tg_control.c: the stand-in's test-control interface (/control/...),
 * and the routing of every request to it or to the Bot API. */
#include "tg_fake.h"

/* ---- control API ---- */

static void control_reply(struct conn *c, int status, cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    respond(c, status, s, 0);
    free(s);
    cJSON_Delete(j);
}

static cJSON *control_error(const char *description)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", description);
    return j;
}

static int64_t ctl_int(cJSON *b, const char *k, int64_t dflt)
{
    int64_t v;
    return p_int(b, k, &v) == 1 ? v : dflt;
}

static const char *ctl_str(cJSON *b, const char *k, const char *dflt)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(b, k);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static void set_str(char **dst, const char *v)
{
    if (v) {
        free(*dst);
        *dst = strdup(v);
    }
}

/* A user writes in a chat: a `message` update. */
static cJSON *ctl_message(cJSON *b, int *status)
{
    int64_t chat = 0;
    if (p_int(b, "chat", &chat) != 1) {
        *status = 400;
        return control_error("chat is required");
    }
    int64_t from = ctl_int(b, "from", chat);
    const char *text = ctl_str(b, "text", "");
    struct chat *ch = chat_get(chat);
    if (chat >= 0) {
        set_str(&ch->first_name, ctl_str(b, "first_name", NULL));
        set_str(&ch->username, ctl_str(b, "username", NULL));
    } else {
        set_str(&ch->title, ctl_str(b, "title", NULL));
    }
    set_str(&ch->type, ctl_str(b, "type", NULL));
    struct tg_text t = {.text = strdup(text), .len = strlen(text)};   /* exactly as typed */
    t.chars = tg_utf8_chars(text, t.len);
    int64_t mid = chat_add_msg(ch, 0, from, &t, NULL);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "message_id", (double)mid);
    cJSON_AddItemToObject(m, "from", user_json(from, ctl_str(b, "first_name", from == chat ? ch->first_name : NULL),
                                               ctl_str(b, "username", from == chat ? ch->username : NULL)));
    cJSON_AddItemToObject(m, "chat", chat_json(ch));
    cJSON_AddNumberToObject(m, "date", (double)unix_now());
    cJSON_AddStringToObject(m, "text", text);
    if (text[0] == '/') {   /* "/cmd@bot args": the command is an entity */
        size_t n = strcspn(text, " \t\n");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "offset", 0);
        cJSON_AddNumberToObject(e, "length", (double)tg_utf8_chars(text, n));
        cJSON_AddStringToObject(e, "type", "bot_command");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(m, "entities"), e);
    }
    int dropped;
    int64_t uid = push_update("message", m, &dropped);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "update_id", (double)uid);
    cJSON_AddNumberToObject(r, "message_id", (double)mid);
    if (dropped)
        cJSON_AddBoolToObject(r, "dropped", 1);
    return r;
}

/* A user presses an inline button: a `callback_query` update. */
static cJSON *ctl_callback(cJSON *b, int *status)
{
    int64_t chat = 0;
    if (p_int(b, "chat", &chat) != 1) {
        *status = 400;
        return control_error("chat is required");
    }
    int64_t from = ctl_int(b, "from", chat), mid = ctl_int(b, "message_id", 0);
    struct chat *ch = chat_get(chat);
    if (S.ncbq == S.cbq_cap) {
        S.cbq_cap = S.cbq_cap ? S.cbq_cap * 2 : 64;
        S.cbqs = realloc(S.cbqs, S.cbq_cap * sizeof *S.cbqs);
    }
    struct cbq *q = &S.cbqs[S.ncbq++];
    *q = (struct cbq){.chat = chat, .created_ms = now_ms()};
    snprintf(q->id, sizeof q->id, "%" PRIu64, (uint64_t)(4382000000000000000ULL + (uint64_t)++S.cbq_counter));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", q->id);
    cJSON_AddItemToObject(o, "from", user_json(from, ctl_str(b, "first_name", from == chat ? ch->first_name : NULL),
                                               ctl_str(b, "username", from == chat ? ch->username : NULL)));
    struct msg *m = chat_msg(ch, mid);
    if (m) {
        cJSON_AddItemToObject(o, "message", message_json(ch, mid, m));
    } else {   /* InaccessibleMessage: date 0 */
        cJSON *im = cJSON_CreateObject();
        cJSON_AddItemToObject(im, "chat", chat_json(ch));
        cJSON_AddNumberToObject(im, "message_id", (double)mid);
        cJSON_AddNumberToObject(im, "date", 0);
        cJSON_AddItemToObject(o, "message", im);
    }
    char inst[32];
    snprintf(inst, sizeof inst, "%" PRId64, (int64_t)(mix((uint64_t)chat) >> 2));
    cJSON_AddStringToObject(o, "chat_instance", inst);
    cJSON_AddStringToObject(o, "data", ctl_str(b, "data", ""));
    int dropped;
    int64_t uid = push_update("callback_query", o, &dropped);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "update_id", (double)uid);
    cJSON_AddStringToObject(r, "callback_query_id", q->id);
    if (dropped)
        cJSON_AddBoolToObject(r, "dropped", 1);
    return r;
}

/* Any raw Update without update_id, e.g. {"my_chat_member":{...}}. */
static cJSON *ctl_update(cJSON *b, int *status)
{
    cJSON *it = b->child;
    while (it && (!it->string || !strcmp(it->string, "update_id")))
        it = it->next;
    if (!it) {
        *status = 400;
        return control_error("an Update object with one field such as \"message\" is required");
    }
    char *type = strdup(it->string);
    int dropped;
    int64_t uid = push_update(type, cJSON_DetachItemViaPointer(b, it), &dropped);
    free(type);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "update_id", (double)uid);
    if (dropped)
        cJSON_AddBoolToObject(r, "dropped", 1);
    return r;
}

static cJSON *ctl_sent(cJSON *b)
{
    int64_t chat = 0, since = ctl_int(b, "since", 0);
    int by_chat = p_int(b, "chat", &chat) == 1;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "next", (double)S.seq);
    cJSON *items = cJSON_AddArrayToObject(r, "items");
    for (size_t i = 0; i < S.nlog; i++) {
        const struct sent *s = &S.log[i];
        if (s->seq <= since || (by_chat && s->chat != chat))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seq", (double)s->seq);
        cJSON_AddStringToObject(o, "method", s->method);
        cJSON_AddNumberToObject(o, "chat_id", (double)s->chat);
        cJSON_AddNumberToObject(o, "message_id", (double)s->msg_id);
        cJSON_AddItemToObject(o, "text", s->text ? cJSON_CreateString(s->text) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "parse_mode", s->parse_mode ? cJSON_CreateString(s->parse_mode) : cJSON_CreateNull());
        cJSON *mk = s->markup ? cJSON_Parse(s->markup) : NULL;
        cJSON_AddItemToObject(o, "reply_markup", mk ? mk : cJSON_CreateNull());
        cJSON_AddBoolToObject(o, "paid", s->paid);
        if (s->query_id) {   /* answerCallbackQuery */
            cJSON_AddStringToObject(o, "callback_query_id", s->query_id);
            cJSON_AddBoolToObject(o, "show_alert", s->show_alert);
        }
        if (s->file_id) {   /* sendPhoto */
            cJSON_AddStringToObject(o, "file_id", s->file_id);
            cJSON_AddBoolToObject(o, "uploaded", s->uploaded);
        }
        cJSON_AddNumberToObject(o, "t_ms", (double)s->t_ms);
        cJSON_AddItemToArray(items, o);
    }
    return r;
}

/* GET /control/texts?chat=N: plain text, what the bot sent or edited into
 * the chat as the user sees it, one a line, a newline inside shown as \n.
 * Made for grep in shell tests; empty when nothing was sent. */
static void ctl_texts(struct conn *c, cJSON *b)
{
    int64_t chat = 0;
    int by_chat = p_int(b, "chat", &chat) == 1;
    struct buf out = {0};
    buf_str(&out, "");
    for (size_t i = 0; i < S.nlog; i++) {
        const struct sent *s = &S.log[i];
        if (!s->visible || (by_chat && s->chat != chat))
            continue;
        for (const char *p = s->visible; *p; p++)
            buf_add(&out, *p == '\n' ? "\\n" : p, *p == '\n' ? 2 : 1);
        buf_str(&out, "\n");
    }
    respond_as(c, 200, "text/plain; charset=utf-8", out.p, 0);
    free(out.p);
}

static cJSON *ctl_chat(cJSON *b, int *status)
{
    int64_t id;
    struct chat *ch = p_int(b, "chat", &id) == 1 ? chat_find(id) : NULL;
    if (!ch) {
        *status = 404;
        return control_error("unknown chat");
    }
    cJSON *r = chat_json(ch);
    cJSON_AddBoolToObject(r, "blocked", ch->blocked);
    cJSON_AddBoolToObject(r, "missing", ch->missing);
    cJSON *ms = cJSON_AddArrayToObject(r, "messages");
    for (size_t i = 0; i < ch->nmsgs; i++) {
        if (ch->msgs[i].deleted)
            continue;
        cJSON *m = message_json(ch, (int64_t)i + 1, &ch->msgs[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(m, "chat");
        cJSON_AddItemToArray(ms, m);
    }
    return r;
}

static cJSON *ctl_stats(void)
{
    cJSON *r = cJSON_CreateObject();
    const struct { const char *k; long v; } n[] = {
        {"requests", S.requests}, {"sent", S.sent}, {"photos", S.photos_sent}, {"uploads", S.uploads}, {"edits", S.edits}, {"answers", S.answers},
        {"deletes", S.deletes}, {"rejected_429", S.r429}, {"rejected_403", S.r403},
        {"rejected_400", S.r400}, {"failed_injected", S.injected}, {"chats", S.chats_sent},
        {"first_send_ms", (long)S.first_send_ms}, {"last_send_ms", (long)S.last_send_ms},
        {"max_global_per_s", S.max_global_per_s}, {"max_chat_per_s", S.max_chat_per_s},
        {"get_updates", S.get_updates}, {"conflicts_409", S.conflicts},
        {"pending_updates", (long)pending_count()}, {"offset_confirmed", (long)S.confirmed_id},
        {"last_update_id", (long)S.last_update_id}, {"updates_filtered", S.filtered},
        {"webhook_posts", S.webhook_posts}, {"webhook_rejected", S.webhook_rejected},
        {"duplicate_answers", S.duplicate_answers}, {"polling", S.poll != NULL}};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        cJSON_AddNumberToObject(r, n[i].k, (double)n[i].v);
    cJSON_AddItemToObject(r, "commands", S.commands ? cJSON_Parse(S.commands) : cJSON_CreateArray());
    return r;
}

static void reset_stats(void)
{
    for (size_t i = 0; i < S.nlog; i++)
        sent_free(&S.log[i]);
    S.nlog = 0;
    S.requests = S.sent = S.edits = S.answers = S.deletes = S.r429 = S.r403 = S.r400 = 0;
    S.injected = S.chats_sent = S.get_updates = S.conflicts = S.webhook_posts = 0;
    S.webhook_rejected = S.duplicate_answers = S.max_global_per_s = S.max_chat_per_s = S.filtered = 0;
    S.first_send_ms = S.last_send_ms = 0;
    S.photos_sent = S.uploads = 0;   /* (the photos stay: their file_ids stay valid) */
    win_clear(&S.all_sends);
    for (size_t i = 0; i < S.chats_cap; i++)
        if (S.chats[i]) {
            S.chats[i]->sent_since_reset = 0;
            win_clear(&S.chats[i]->w1);
        }
}

/* Disarms the faults that match what is given: status, method, hang,
 * delay_ms (nothing given: all). */
static void fault_disarm(cJSON *b)
{
    int64_t st = ctl_int(b, "status", 0);
    const char *method = ctl_str(b, "method", NULL);
    int hang = p_bool(b, "hang"), delay = ctl_int(b, "delay_ms", 0) > 0;
    for (int i = 0; i < S.nfaults; i++) {
        struct fault *f = &S.faults[i];
        if ((st && (f->kind != F_STATUS || f->status != st)) || (hang && f->kind != F_HANG) ||
            (delay && f->kind != F_DELAY) || (method && strcasecmp(method, f->method)))
            continue;
        f->count = 0;
    }
}

static cJSON *ctl_fail(cJSON *b, int *status)
{
    if (p_bool(b, "clear")) {
        S.nfaults = 0;
        return cJSON_CreateObject();
    }
    if (ctl_int(b, "count", 1) <= 0) {   /* {"status":502,"count":0}: stop that storm */
        fault_disarm(b);
        return cJSON_CreateObject();
    }
    if (S.nfaults == MAX_FAULTS) {   /* reuse spent slots first */
        int k = 0;
        for (int i = 0; i < S.nfaults; i++)
            if (S.faults[i].count > 0)
                S.faults[k++] = S.faults[i];
        S.nfaults = k;
    }
    if (S.nfaults == MAX_FAULTS) {
        *status = 400;
        return control_error("too many armed faults");
    }
    struct fault f = {.count = (int)ctl_int(b, "count", 1), .status = (int)ctl_int(b, "status", 500),
                      .retry_after = (int)ctl_int(b, "retry_after", 1), .delay_ms = ctl_int(b, "delay_ms", 0)};
    f.kind = p_bool(b, "hang") ? F_HANG : f.delay_ms > 0 ? F_DELAY : F_STATUS;
    if (f.kind == F_STATUS && (f.status < 400 || f.status > 599)) {
        *status = 400;
        return control_error("status must be 400..599");
    }
    snprintf(f.method, sizeof f.method, "%s", ctl_str(b, "method", ""));
    S.faults[S.nfaults++] = f;
    return cJSON_CreateObject();
}

static cJSON *ctl_chat_flag(cJSON *b, const char *what, int *status)
{
    int64_t id;
    if (p_int(b, "chat", &id) != 1) {
        *status = 400;
        return control_error("chat is required");
    }
    struct chat *ch = chat_get(id);
    if (!strcmp(what, "block"))
        ch->blocked = 1;
    else if (!strcmp(what, "unblock"))
        ch->blocked = 0;
    else
        ch->missing = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(b, "missing"));
    return cJSON_CreateObject();
}

static cJSON *ctl_admins(cJSON *b, int *status)
{
    int64_t id;
    cJSON *users = cJSON_GetObjectItemCaseSensitive(b, "users"), *u;
    if (p_int(b, "chat", &id) != 1 || (users && !cJSON_IsArray(users))) {
        *status = 400;
        return control_error("chat and a users array are required");
    }
    struct chat *ch = chat_get(id);
    free(ch->admins);
    ch->admins = calloc((size_t)cJSON_GetArraySize(users) + 1, sizeof *ch->admins);
    ch->nadmins = 0;
    cJSON_ArrayForEach(u, users)
        if (cJSON_IsNumber(u))
            ch->admins[ch->nadmins++] = (int64_t)u->valuedouble;
    ch->creator = ctl_int(b, "creator", 0);
    return cJSON_CreateObject();
}

static void control(struct conn *c, const struct req *q, const char *name, size_t n)
{
    const char *err = NULL;
    cJSON *b = build_params(q, 1, &err);
    int status = 200;
    cJSON *r;
    if (!b) {
        control_reply(c, 400, control_error(err));
        return;
    }
#define IS(s) (n == sizeof(s) - 1 && !memcmp(name, s, n))
    if (IS("photo")) {   /* the bytes of a photo taken, by file_id */
        const struct photo *ph = photo_find(p_str(b, "file_id"));
        if (ph)
            respond_len(c, 200, ph->data[0] == 0x89 ? "image/png" : "image/jpeg",
                        (const char *)ph->data, ph->len, 0);
        else
            control_reply(c, 404, control_error("no photo with that file_id"));
        cJSON_Delete(b);
        return;
    }
    if (IS("texts")) {   /* the one plain-text answer */
        ctl_texts(c, b);
        cJSON_Delete(b);
        return;
    }
    if (IS("message")) r = ctl_message(b, &status);
    else if (IS("callback")) r = ctl_callback(b, &status);
    else if (IS("update")) r = ctl_update(b, &status);
    else if (IS("sent")) r = ctl_sent(b);
    else if (IS("chat")) r = ctl_chat(b, &status);
    else if (IS("stats")) r = ctl_stats();
    else if (IS("block") || IS("unblock") || IS("missing")) {
        char what[16];
        snprintf(what, sizeof what, "%.*s", (int)n, name);
        r = ctl_chat_flag(b, what, &status);
    } else if (IS("admins")) r = ctl_admins(b, &status);
    else if (IS("fail")) r = ctl_fail(b, &status);
    else if (IS("reset")) {
        reset_stats();
        r = cJSON_CreateObject();
    } else {
        status = 404;
        r = control_error("unknown control path");
    }
#undef IS
    cJSON_Delete(b);
    control_reply(c, status, r);
}

void handle_request(struct conn *c, struct req *q)
{
    c->delay_ms = 0;
    if (q->path_len > 4 && !memcmp(q->path, "/bot", 4)) {
        bot_api(c, q, q->path + 4, q->path_len - 4);
    } else if (q->path_len > 9 && !memcmp(q->path, "/control/", 9)) {
        control(c, q, q->path + 9, q->path_len - 9);
    } else {
        char *body = error_body(404, "Not Found", 0);
        respond(c, 404, body, 0);
        free(body);
    }
}
