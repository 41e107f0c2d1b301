#include "tg/update.h"

#include <cJSON.h>
#include <string.h>

int64_t tg_update_int(const cJSON *n)
{
    if (!cJSON_IsNumber(n))
        return 0;
    double d = n->valuedouble;
    /* -2^63 <= d < 2^63, both exact as doubles; NaN fails both */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return 0;
    return (int64_t)d;
}

static int64_t num(const cJSON *o, const char *k)
{
    return tg_update_int(cJSON_GetObjectItemCaseSensitive(o, k));
}

static const cJSON *obj(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsObject(v) ? v : NULL;
}

/* Telegram's ids have at most 52 significant bits: a whole number below
 * 2^53 in magnitude, and not 0.  Anything else is no id (1e30, 1.5, "12"). */
static int64_t valid_id(const cJSON *n)
{
    if (!cJSON_IsNumber(n))
        return 0;
    double d = n->valuedouble;
    if (!(d > -9007199254740992.0 && d < 9007199254740992.0) || d != (double)(int64_t)d)
        return 0;
    return (int64_t)d;
}

/* A string field that is absent or a string (handlers read it as text). */
static int string_or_absent(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return !v || cJSON_IsString(v);
}

/* What a message (or a membership change) must hold for a handler: its
 * chat, its sender (a user: a positive id), text if any as a string;
 * NULL when it does, else why not. */
static const char *check_message(const cJSON *m, int need_from, struct tg_update *out)
{
    out->chat_id = valid_id(cJSON_GetObjectItemCaseSensitive(obj(m, "chat"), "id"));
    out->user_id = valid_id(cJSON_GetObjectItemCaseSensitive(obj(m, "from"), "id"));
    if (!out->chat_id)
        return "an update without a valid chat";
    if (out->user_id < 0 || (need_from && !out->user_id))
        return "an update without a valid sender";
    /* (0 is seen: an inaccessible message's id may be) */
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "message_id");
    if (!string_or_absent(m, "text") ||
        (mid && !(cJSON_IsNumber(mid) && (mid->valuedouble == 0 || valid_id(mid) > 0))))
        return "an update with a malformed message";
    return NULL;
}

/* A button press: its sender, its id (to answer it), data if any as a
 * string, and either the message it is under or an inline message. */
static const char *check_callback(const cJSON *cb, struct tg_update *out)
{
    out->user_id = valid_id(cJSON_GetObjectItemCaseSensitive(obj(cb, "from"), "id"));
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cb, "id");
    if (out->user_id <= 0)
        return "a button press without a valid sender";
    if (!cJSON_IsString(id) || !string_or_absent(cb, "data"))
        return "a malformed button press";
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(cb, "message");
    if (!m) {
        const cJSON *im = cJSON_GetObjectItemCaseSensitive(cb, "inline_message_id");
        if (!cJSON_IsString(im))
            return "a button press under no message";
        out->chat_id = out->user_id;   /* inline messages: answer the user */
        return NULL;
    }
    struct tg_update under;
    if (!cJSON_IsObject(m) || check_message(m, 0, &under))
        return "a button press under a malformed message";
    out->chat_id = under.chat_id;
    return NULL;
}

void tg_update_read(const cJSON *u, struct tg_update *out)
{
    static const char *const kinds[] = {"message", "edited_message", "my_chat_member"};
    static const enum tg_update_kind kind_of[] = {TG_UPD_MESSAGE, TG_UPD_EDITED_MESSAGE,
                                                  TG_UPD_MY_CHAT_MEMBER};
    memset(out, 0, sizeof *out);
    out->update_id = num(u, "update_id");
    const cJSON *msg = NULL;   /* a message whose text may be /start */
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !out->kind; i++) {
        const cJSON *m = obj(u, kinds[i]);
        if (m) {
            out->kind = kind_of[i];
            out->malformed = check_message(m, i < 2, out);
            if (i < 2)
                msg = m;
        }
    }
    const cJSON *cb = out->kind ? NULL : obj(u, "callback_query");
    if (cb) {
        out->kind = TG_UPD_CALLBACK_QUERY;
        out->malformed = check_callback(cb, out);
    }
    if (out->malformed) {   /* dropped: no handler, no side effect */
        out->chat_id = out->user_id = 0;
        return;
    }
    /* A membership change decides, whatever else the update holds (it
     * applies to the chat found above). */
    const cJSON *mcm = obj(u, "my_chat_member");
    if (mcm) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj(mcm, "new_chat_member"), "status");
        const char *s = cJSON_IsString(st) ? st->valuestring : "";
        if (!strcmp(s, "kicked") || !strcmp(s, "left")) {
            out->membership = TG_MEMBERSHIP_DEACTIVATE;
            out->member_status = s[0] == 'k' ? "kicked" : "left";
        } else if (!strcmp(s, "member") || !strcmp(s, "administrator")) {
            out->membership = TG_MEMBERSHIP_ACTIVATE;
        }
        return;
    }
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(msg, "text");
    if (cJSON_IsString(text) && strncmp(text->valuestring, "/start", 6) == 0 &&
        (text->valuestring[6] == '\0' || text->valuestring[6] == ' ' ||
         text->valuestring[6] == '@'))
        out->membership = TG_MEMBERSHIP_ACTIVATE;
}

cJSON *tg_update_parse(const char *json, size_t len, struct tg_update *out)
{
    cJSON *u = cJSON_ParseWithLength(json, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(u, "update_id");
    /* an id out of int64's range is no id: it would be stored as another */
    if (!cJSON_IsObject(u) || !cJSON_IsNumber(id) ||
        (!tg_update_int(id) && id->valuedouble != 0)) {
        cJSON_Delete(u);
        memset(out, 0, sizeof *out);
        return NULL;
    }
    tg_update_read(u, out);
    return u;
}

/* The mention ends at a space, a newline or the text's end. */
static int mentions(const char *mention, const char *me)
{
    size_t n = strlen(me);
    return strncmp(mention, me, n) == 0 &&
           (mention[n] == '\0' || mention[n] == ' ' || mention[n] == '\n');
}

enum tg_command tg_update_command(const char *text, const char *bot_username, char *name,
                                  size_t size, const char **args)
{
    if (size)
        name[0] = '\0';
    *args = NULL;
    if (text[0] != '/')
        return TG_CMD_NONE;
    size_t n = strcspn(text + 1, " @\n");
    const char *at = text + 1 + n;
    if (*at == '@') {
        if (*bot_username && !mentions(at + 1, bot_username))
            return TG_CMD_OTHER_BOT;
        at += 1 + strcspn(at + 1, " \n");
    }
    if (n < size) {
        for (size_t i = 0; i < n; i++) {
            char c = text[1 + i];
            name[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        name[n] = '\0';
    }
    while (*at == ' ' || *at == '\n')
        at++;
    *args = at;
    return TG_CMD_OURS;
}

/* Equal without an early exit, so timing says nothing about the secret. */
static int same_secret(const char *got, size_t got_n, const char *want)
{
    size_t want_n = strlen(want);
    unsigned char d = got_n != want_n;
    for (size_t i = 0; i < want_n; i++)
        d |= (unsigned char)(want[i] ^ (i < got_n ? got[i] : 0));
    return d == 0;
}

void tg_webhook_check(const char *method, int stopping, const char *secret, int secret_len,
                      const char *want, size_t body_len, struct tg_webhook_answer *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(method, "POST") != 0) {
        out->status = 405;
        out->body = "{\"error\":\"use POST\"}";
    } else if (stopping) {   /* Telegram delivers it again later */
        out->status = 503;
        out->body = "{\"error\":\"shutting down\"}";
    } else if (secret_len < 0 || !want || !same_secret(secret, (size_t)secret_len, want)) {
        out->status = 401;
        out->body = "{\"error\":\"wrong or missing secret token\"}";
        out->refused = 1;
        out->garbage = "a webhook request without the right secret token";
    } else if (body_len > TG_WEBHOOK_BODY_MAX) {
        out->status = 413;
        out->body = "{\"error\":\"too large\"}";
        out->garbage = "an oversized webhook request";
    } else {
        /* garbage is dropped and counted, and still answered 200: Telegram
         * would only send it again */
        out->status = 200;
        out->body = "{}";
        out->receive = 1;
    }
}
