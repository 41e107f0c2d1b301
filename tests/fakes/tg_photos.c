/* tg_photos.c: sendPhoto.  An upload (a multipart file part "photo") must
 * be a PNG or JPEG of at most 10 MB; it gets a new file_id (and one for
 * its smaller size), kept with its bytes for /control/photo.  A photo
 * given as a string must be a file_id this stand-in issued, as Telegram
 * knows only its own.  The caption is checked as a message's text (HTML,
 * 1,024 characters) and flood control counts the send as a message. */
#include "tg_fake.h"

static int is_png(const unsigned char *b, size_t n)
{
    return n > 24 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8) && !memcmp(b + 12, "IHDR", 4);
}

static int is_jpeg(const unsigned char *b, size_t n)
{
    return n > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

const struct photo *photo_find(const char *file_id)
{
    for (size_t i = 0; file_id && i < S.nphotos; i++) {
        size_t n = strlen(S.photos[i].file_id);
        if (!strncmp(file_id, S.photos[i].file_id, n) && (!file_id[n] || !strcmp(file_id + n, "-m")))
            return &S.photos[i];
    }
    return NULL;
}

void photos_free(void)
{
    for (size_t i = 0; i < S.nphotos; i++)
        free(S.photos[i].data);
    free(S.photos);
}

/* The uploaded file as a new photo; NULL when answered with an error. */
static const struct photo *photo_take(struct call *k, const struct upload *u)
{
    const unsigned char *b = (const unsigned char *)u->data;
    if (u->len > MAX_PHOTO) {
        fail(k, 400, "Bad Request: file is too big");
        return NULL;
    }
    if (!is_png(b, u->len) && !is_jpeg(b, u->len)) {
        fail(k, 400, "Bad Request: IMAGE_PROCESS_FAILED");
        return NULL;
    }
    if (S.nphotos == S.photos_cap) {
        S.photos_cap = S.photos_cap ? S.photos_cap * 2 : 16;
        S.photos = realloc(S.photos, S.photos_cap * sizeof *S.photos);
    }
    struct photo *p = &S.photos[S.nphotos++];
    memset(p, 0, sizeof *p);
    uint64_t r = mix((uint64_t)S.nphotos ^ (uint64_t)now_ms() << 20);
    snprintf(p->file_id, sizeof p->file_id, "AgACAgFake%zu_%016" PRIx64, S.nphotos, r);
    snprintf(p->unique_id, sizeof p->unique_id, "AQADFake%zu", S.nphotos);
    p->data = malloc(u->len);
    memcpy(p->data, u->data, u->len);
    p->len = u->len;
    p->width = is_png(b, u->len) ? (int)be32(b + 16) : 1;
    p->height = is_png(b, u->len) ? (int)be32(b + 20) : 1;
    S.uploads++;
    return p;
}

/* The photo parameter: an upload (uploaded = 1) or a known file_id. */
static const struct photo *photo_param(struct call *k, int *uploaded)
{
    const char *id = p_str(k->p, "photo");
    for (int i = 0; !id && i < S.nfiles; i++)
        if (!strcmp(S.files[i].name, "photo")) {
            *uploaded = 1;
            return photo_take(k, &S.files[i]);
        }
    const struct photo *p = id ? photo_find(id) : NULL;
    if (!p)
        fail(k, 400, "Bad Request: wrong file identifier/HTTP URL specified");
    *uploaded = 0;
    return p;
}

static cJSON *size_json(const struct photo *p, int small)
{
    cJSON *o = cJSON_CreateObject();
    char id[80], uid[40];
    snprintf(id, sizeof id, "%s%s", p->file_id, small ? "-m" : "");
    snprintf(uid, sizeof uid, "%s%s", p->unique_id, small ? "m" : "");
    cJSON_AddStringToObject(o, "file_id", id);
    cJSON_AddStringToObject(o, "file_unique_id", uid);
    cJSON_AddNumberToObject(o, "file_size", (double)(small ? p->len / 8 : p->len));
    cJSON_AddNumberToObject(o, "width", small ? (p->width + 3) / 4 : p->width);
    cJSON_AddNumberToObject(o, "height", small ? (p->height + 3) / 4 : p->height);
    return o;
}

/* The Message: the caption in place of the text, the photo's sizes. */
static cJSON *photo_message(struct chat *ch, int64_t id, const struct photo *p)
{
    cJSON *m = message_json(ch, id, chat_msg(ch, id));
    cJSON *text = cJSON_DetachItemFromObjectCaseSensitive(m, "text");
    cJSON *ent = cJSON_DetachItemFromObjectCaseSensitive(m, "entities");
    if (text && text->valuestring[0])
        cJSON_AddItemToObject(m, "caption", text);
    else
        cJSON_Delete(text);
    if (ent)
        cJSON_AddItemToObject(m, "caption_entities", ent);
    cJSON *sizes = cJSON_AddArrayToObject(m, "photo");
    cJSON_AddItemToArray(sizes, size_json(p, 1));
    cJSON_AddItemToArray(sizes, size_json(p, 0));
    return m;
}

void m_send_photo(struct call *k)
{
    struct chat *ch = param_chat(k);
    if (!ch || chat_refuses(k, ch))
        return;
    int paid = p_bool(k->p, "allow_paid_broadcast"), uploaded;
    int64_t now = now_ms(), wait = flood_wait(ch, paid, now);
    if (wait > 0) {
        too_many(k, (int)((wait + 999) / 1000));
        return;
    }
    const char *caption = p_str(k->p, "caption");
    struct tg_text t;
    char *keep = NULL, *given = NULL;
    if (caption && *caption) {
        if (render_limit(k, caption, &t, MAX_CAPTION, "Bad Request: message caption is too long"))
            return;
    } else {
        tg_plain("", &t);
    }
    if (check_markup(k, &keep, &given) != 0) {
        tg_text_free(&t);
        return;
    }
    const struct photo *p = photo_param(k, &uploaded);
    if (!p) {
        tg_text_free(&t);
        free(keep);
        free(given);
        return;
    }
    flood_take(ch, paid, now);
    int64_t id = chat_add_msg(ch, 1, S.bot_id, &t, keep);
    S.sent++;
    S.photos_sent++;
    if (!ch->sent_since_reset) {
        ch->sent_since_reset = 1;
        S.chats_sent++;
    }
    if (S.sent == 1)
        S.first_send_ms = now;
    S.last_send_ms = now;
    struct sent *s = log_call("sendPhoto", ch->id, id, caption, p_str(k->p, "parse_mode"), given,
                              paid, NULL, 0);
    size_t vn = strlen(chat_msg(ch, id)->t.text) + 16;
    s->visible = malloc(vn);
    snprintf(s->visible, vn, "[photo] %s", chat_msg(ch, id)->t.text);
    s->file_id = strdup(p->file_id);
    s->uploaded = uploaded;
    free(given);
    ok(k, photo_message(ch, id, p), NULL);
}
