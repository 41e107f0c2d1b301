/* tg_api.c: the front of the stand-in's Bot API: the token, the method
 * table and the faults a test injected. */
#include "tg_fake.h"


static const struct {
    const char *name;
    void (*fn)(struct call *);
} methods[] = {
    {"getMe", m_get_me},
    {"getUpdates", m_get_updates},
    {"sendMessage", m_send_message},
    {"sendPhoto", m_send_photo},
    {"editMessageText", m_edit_text},
    {"editMessageReplyMarkup", m_edit_markup},
    {"deleteMessage", m_delete},
    {"answerCallbackQuery", m_answer_callback},
    {"setMyCommands", m_set_commands},
    {"getMyCommands", m_get_commands},
    {"deleteMyCommands", m_delete_commands},
    {"getChatMember", m_get_chat_member},
    {"setWebhook", m_set_webhook},
    {"deleteWebhook", m_delete_webhook},
    {"getWebhookInfo", m_webhook_info},
};

/* ---- injected faults ---- */

/* The first armed fault for this method, used up by one; NULL if none. */
static struct fault *fault_take(const char *method)
{
    for (int i = 0; i < S.nfaults; i++) {
        struct fault *f = &S.faults[i];
        if (f->count > 0 && (!f->method[0] || !strcasecmp(f->method, method))) {
            f->count--;
            return f;
        }
    }
    return NULL;
}

/* 1 when the fault answered (or swallowed) the request. */
static int apply_fault(struct call *k, struct fault *f)
{
    if (f->kind == F_DELAY) {
        k->c->delay_ms = f->delay_ms;
        return 0;
    }
    S.injected++;
    if (f->kind == F_HANG) {
        k->c->state = C_HANG;   /* no answer; the client gives up */
        return 1;
    }
    if (f->status == 429) {
        too_many(k, f->retry_after > 0 ? f->retry_after : 1);
        return 1;
    }
    /* 500 "Internal Server Error", 502 "Bad Gateway", ...: Telegram's texts */
    answer(k, f->status, error_body(f->status, reason(f->status), 0));
    return 1;
}

void bot_api(struct conn *c, const struct req *q, const char *rest, size_t rest_len)
{
    const char *slash = memchr(rest, '/', rest_len);
    char method[64] = "";
    struct call k = {.c = c, .method = method};
    S.requests++;
    if (slash && rest_len - (size_t)(slash + 1 - rest) < sizeof method)
        snprintf(method, sizeof method, "%.*s", (int)(rest_len - (size_t)(slash + 1 - rest)), slash + 1);
    struct fault *f = method[0] ? fault_take(method) : NULL;
    if (f && apply_fault(&k, f))
        return;
    size_t tl = slash ? (size_t)(slash - rest) : rest_len;
    if (tl != strlen(S.token) || memcmp(rest, S.token, tl)) {
        answer(&k, 401, error_body(401, "Unauthorized", 0));
        return;
    }
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (strcasecmp(methods[i].name, method))
            continue;
        const char *err = NULL;
        k.method = methods[i].name;
        k.p = build_params(q, 0, &err);
        if (!k.p) {
            answer(&k, 400, error_body(400, err, 0));
            return;
        }
        methods[i].fn(&k);
        cJSON_Delete(k.p);
        return;
    }
    answer(&k, 404, error_body(404, "Not Found", 0));
}
