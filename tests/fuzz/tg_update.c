/* libFuzzer target for the webhook's intake (make fuzz): the request's
 * check (method, shutdown, secret token, size), its body collected as the
 * HTTP server does, then read as a Telegram update.  Whatever the bytes:
 * no crash, no out-of-bounds read, no undefined behaviour; the request is
 * taken exactly when it is a POST with the right secret; an update reads
 * back the same after the inbox's round trip (print, parse); and what it
 * says is consistent (a known kind; a message or a press that is not
 * malformed has a chat and a sender, one that is has neither...); and a
 * message's "/command@bot args" reads consistently.
 *
 * Input: byte 0 picks the method (bits 0-1) and shutting down (bit 2);
 * byte 1 is the secret's length (255: no header); then the secret; then
 * byte k, the size of the pieces the body arrives in; the rest is the
 * body. */
#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/intake.h"
#include "tg/update.h"

static const char want[] = "Fuzz_secret-token42";

/* Numbers cJSON may print inexactly (its 15-digit form is accepted within
 * an epsilon), or that are not whole: ids past 2^52 never come from
 * Telegram. */
static int has_inexact(const cJSON *j)
{
    for (; j; j = j->next) {
        if (cJSON_IsNumber(j) && !(fabs(j->valuedouble) < 4503599627370496.0 &&
                                   j->valuedouble == floor(j->valuedouble)))
            return 1;
        if (has_inexact(j->child))
            return 1;
    }
    return 0;
}

static int same_update(const struct tg_update *a, const struct tg_update *b)
{
    return a->update_id == b->update_id && a->kind == b->kind && a->chat_id == b->chat_id &&
           a->user_id == b->user_id && a->membership == b->membership &&
           !a->malformed == !b->malformed &&
           (a->member_status == b->member_status ||
            (a->member_status && b->member_status && !strcmp(a->member_status, b->member_status)));
}

static void check_update(const struct tg_update *u)
{
    if (u->kind >= TG_UPD_KIND_COUNT || u->membership >= TG_MEMBERSHIP_COUNT)
        abort();
    if (u->kind == TG_UPD_NONE && (u->chat_id || u->user_id))
        abort();
    /* what handlers rely on: a well-formed message or press has a chat
     * and a sender (a user), whole ids below 2^53; a malformed one has
     * neither, and no side effect */
    int handled = u->kind == TG_UPD_MESSAGE || u->kind == TG_UPD_EDITED_MESSAGE ||
                  u->kind == TG_UPD_CALLBACK_QUERY;
    if (u->malformed && (!u->kind || u->chat_id || u->user_id || u->membership))
        abort();
    if (!u->malformed && handled && (!u->chat_id || u->user_id <= 0))
        abort();
    if (u->chat_id <= -(1LL << 53) || u->chat_id >= 1LL << 53 || u->user_id >= 1LL << 53)
        abort();
    if (u->kind == TG_UPD_MY_CHAT_MEMBER && !u->malformed && !u->chat_id)
        abort();
    if ((u->membership == TG_MEMBERSHIP_DEACTIVATE) !=
        (u->member_status && (!strcmp(u->member_status, "kicked") ||
                              !strcmp(u->member_status, "left"))))
        abort();
    if (u->membership == TG_MEMBERSHIP_NONE && u->member_status)
        abort();
}

/* A message's command, read for this bot and before it knows its name:
 * the name fits, is lower case and holds no separator; the arguments lie
 * within the text; only a mention makes it another bot's. */
static void check_command(const cJSON *update)
{
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(update, "message");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(msg, "text");
    if (!cJSON_IsString(text))
        return;
    const char *t = text->valuestring;
    size_t len = strlen(t);
    static const char *const me[] = {"Fuzz_bot", ""};
    for (int i = 0; i < 2; i++) {
        char name[16];
        const char *args;
        enum tg_command c = tg_update_command(t, me[i], name, sizeof name, &args);
        if ((c == TG_CMD_NONE) != (t[0] != '/') ||
            (c == TG_CMD_OTHER_BOT && (!i || !strchr(t, '@'))))
            abort();
        if (c != TG_CMD_OURS) {
            if (args || name[0])
                abort();
            continue;
        }
        if (!args || args < t || args > t + len || strlen(name) >= sizeof name ||
            strpbrk(name, " @\nABCDEFGHIJKLMNOPQRSTUVWXYZ") || *args == ' ' || *args == '\n')
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"POST", "GET", "OTHER", "POST"};
    if (size < 3)
        return 0;
    const char *method = methods[data[0] & 3];
    int stopping = (data[0] >> 2) & 1;
    int secret_len = data[1] == 255 ? -1 : data[1];
    size_t at = 2 + (secret_len > 0 ? (size_t)secret_len : 0);
    if (at + 1 > size)
        return 0;
    char secret[256];
    memcpy(secret, data + 2, secret_len > 0 ? (size_t)secret_len : 0);
    size_t piece = data[at] ? data[at] : 1;
    const uint8_t *raw = data + at + 1;
    size_t raw_len = size - at - 1;

    struct tg_webhook_answer an;
    tg_webhook_check(method, stopping, secret, secret_len, want, raw_len, &an);
    int right = secret_len == (int)strlen(want) && !memcmp(secret, want, strlen(want));
    int should = !strcmp(method, "POST") && !stopping && right;
    if (an.receive != should || (an.receive && an.status != 200) ||
        (!an.receive && an.status == 200) || an.refused != (an.status == 401) || !an.body ||
        (an.status != 200 && an.status != 401 && an.status != 405 && an.status != 413 &&
         an.status != 503))
        abort();
    cJSON *probe = cJSON_Parse(an.body);
    if (!cJSON_IsObject(probe))
        abort();
    cJSON_Delete(probe);
    if (!an.receive)
        return 0;

    /* the body as the server collects it: announced, then in pieces */
    char cl[32];
    snprintf(cl, sizeof cl, "%zu", raw_len);
    enum http_intake in = http_intake_post(cl, 0);
    if (in != (raw_len ? HTTP_INTAKE_BODY : HTTP_INTAKE_NOW))
        abort();
    struct http_body b = {0};
    for (size_t off = 0; off < raw_len; off += piece)
        if (http_body_append(&b, raw + off, raw_len - off < piece ? raw_len - off : piece))
            abort();
    if (b.too_big || b.len != raw_len || (raw_len && (memcmp(b.p, raw, raw_len) || b.p[b.len])))
        abort();

    /* an exact-size copy: ASan then catches any read past the body */
    char *body = malloc(raw_len ? raw_len : 1);
    memcpy(body, raw, raw_len);
    struct tg_update u;
    cJSON *j = tg_update_parse(body, raw_len, &u);
    if (j) {
        check_update(&u);
        check_command(j);
        struct tg_update again;
        tg_update_read(j, &again);
        if (!same_update(&u, &again))
            abort();
        /* the inbox keeps the update as printed; a restart reads it back */
        char *kept = cJSON_PrintUnformatted(j);
        if (!kept)
            abort();
        struct tg_update back;
        cJSON *k = tg_update_parse(kept, strlen(kept), &back);
        if (!k || (!same_update(&u, &back) && !has_inexact(j)))
            abort();
        cJSON_Delete(k);
        free(kept);
        cJSON_Delete(j);
    } else if (u.update_id || u.kind || u.chat_id || u.user_id || u.membership) {
        abort();
    } else {
        /* getUpdates' list: each item read as it comes, whatever it is */
        cJSON *list = cJSON_ParseWithLength(body, raw_len);
        const cJSON *item;
        cJSON_ArrayForEach(item, list)
        {
            tg_update_read(item, &u);
            check_update(&u);
        }
        cJSON_Delete(list);
    }
    http_body_free(&b);
    free(body);
    return 0;
}
