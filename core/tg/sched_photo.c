/* Photos through the scheduler (sched_int.h): a sendPhoto is a message
 * whose text is its caption, sent by file_id when one is known, else
 * uploaded as multipart/form-data; the file_ids Telegram gives are kept by
 * key so that a picture goes up once however many chats get it. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg/sched_int.h"
#include "tg/text.h"

/* Another chat's upload of a key is waited for this long at most. */
#define UPLOAD_WAIT_MS 10000
#define UPLOAD_POLL_MS 200

/* ---- the cache of file_ids ---- */

static struct photo_key *key_find(struct tg_sched *s, const char *key)
{
    for (int i = 0; key && i < TG_PHOTO_KEYS; i++)
        if (s->photo_keys[i].key && !strcmp(s->photo_keys[i].key, key))
            return &s->photo_keys[i];
    return NULL;
}

/* key's entry, made (in place of the least recently used) when missing;
 * NULL when out of memory. */
static struct photo_key *key_get(struct tg_sched *s, const char *key, uint64_t now)
{
    struct photo_key *k = key_find(s, key), *lru = &s->photo_keys[0];
    if (k)
        return k;
    for (int i = 0; i < TG_PHOTO_KEYS && lru->key; i++)
        if (!s->photo_keys[i].key || s->photo_keys[i].used_ms < lru->used_ms)
            lru = &s->photo_keys[i];
    char *copy = strdup(key);
    if (!copy)
        return NULL;
    free(lru->key);
    free(lru->file_id);
    *lru = (struct photo_key){.key = copy, .used_ms = now};
    return lru;
}

static void key_forget(struct photo_key *k)
{
    free(k->key);
    free(k->file_id);
    memset(k, 0, sizeof *k);
}

const char *tg_sched_photo_id(struct tg_sched *s, const char *key)
{
    struct photo_key *k = key_find(s, key);
    return k ? k->file_id : NULL;
}

/* ---- queueing ---- */

void sched_photo_free(struct photo *p)
{
    if (!p)
        return;
    if (p->on_sent)
        p->on_sent(p->ud, NULL);
    free(p->bytes);
    free(p->file_id);
    free(p->key);
    free(p);
}

static int is_image(const unsigned char *b, size_t n)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    return (n > 8 && !memcmp(b, png, 8)) || (n > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF);
}

static int photo_valid(const struct tg_photo *p)
{
    if (p->key && (!*p->key || strlen(p->key) > TG_PHOTO_KEY_MAX))
        return 0;
    if (p->bytes)
        return p->len <= TG_PHOTO_MAX && is_image(p->bytes, p->len);
    return p->file_id && *p->file_id;
}

static struct photo *photo_new(const struct tg_photo *p)
{
    struct photo *ph = calloc(1, sizeof *ph);
    if (!ph)
        return NULL;
    ph->bytes = p->bytes ? malloc(p->len) : NULL;
    ph->len = p->bytes ? p->len : 0;
    ph->file_id = p->file_id ? strdup(p->file_id) : NULL;
    ph->key = p->key ? strdup(p->key) : NULL;
    if ((p->bytes && !ph->bytes) || (p->file_id && !ph->file_id) || (p->key && !ph->key)) {
        sched_photo_free(ph);
        return NULL;
    }
    if (ph->bytes)
        memcpy(ph->bytes, p->bytes, p->len);
    return ph;
}

/* Whether the parameters ask for HTML (the caption is measured as shown). */
static int params_html(const char *params)
{
    cJSON *j = params ? cJSON_Parse(params) : NULL;
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(j, "parse_mode");
    int html = cJSON_IsString(pm) && !strcmp(pm->valuestring, "HTML");
    cJSON_Delete(j);
    return html;
}

int tg_sched_photo(struct tg_sched *s, const struct tg_origin *from, int64_t chat,
                   const struct tg_photo *p)
{
    struct tg_photo q = *p;
    if (!q.bytes && !q.file_id && q.key)   /* by the key alone: the cached file_id */
        q.file_id = tg_sched_photo_id(s, q.key);
    if (!photo_valid(&q))
        return -3;
    int rc;
    struct chat *c = sched_queue_for(s, chat, &rc);
    if (!c)
        return rc;
    char *caption = tg_text_fit(q.caption ? q.caption : "", params_html(q.params), TG_CAPTION_MAX);
    struct msg *m = caption ? sched_msg_new(TG_REPLY, "sendPhoto", q.params, caption) : NULL;
    free(caption);
    if (!m || !(m->photo = photo_new(&q))) {
        if (m)
            sched_msg_free(m);
        return -1;
    }
    m->photo->on_sent = q.on_sent;
    m->photo->ud = q.ud;
    return sched_enqueue_reply(s, c, m, from);
}

/* ---- sending ---- */

int sched_photo_waits(struct tg_sched *s, const struct msg *m, uint64_t now)
{
    struct photo *p = m->photo;
    if (!p || p->file_id || !p->key)
        return 0;
    struct photo_key *k = key_find(s, p->key);
    if (!k || k->file_id || !k->uploading_ms || now - k->uploading_ms >= UPLOAD_WAIT_MS)
        return 0;
    return UPLOAD_POLL_MS;
}

static int add_part(struct httpc_part *v, int *n, const char *name, char *data)
{
    if (!data)
        return -1;
    v[(*n)++] = (struct httpc_part){.name = name, .data = data, .len = strlen(data)};
    return 0;
}

void sched_photo_parts_free(struct httpc_part *parts, int nparts)
{
    for (int i = 0; i < nparts; i++)
        if (!parts[i].filename)
            free((char *)parts[i].data);
    free(parts);
}

/* Every parameter as a form field (objects as their JSON), then the file. */
static int upload_parts(struct photo *p, cJSON *params, struct httpc_part **out, int *nout)
{
    int n = 0, cap = cJSON_GetArraySize(params) + 1;
    struct httpc_part *v = calloc((size_t)cap, sizeof *v);
    if (!v)
        return -1;
    for (cJSON *it = params->child; it; it = it->next) {
        char *data = cJSON_IsString(it) ? strdup(it->valuestring) : cJSON_PrintUnformatted(it);
        if (add_part(v, &n, it->string, data) != 0) {
            sched_photo_parts_free(v, n);
            return -1;
        }
    }
    int png = p->bytes[0] == 0x89;
    v[n++] = (struct httpc_part){.name = "photo", .data = (const char *)p->bytes, .len = p->len,
                                 .filename = png ? "chart.png" : "photo.jpg",
                                 .type = png ? "image/png" : "image/jpeg"};
    *out = v;
    *nout = n;
    return 0;
}

int sched_photo_call(struct tg_sched *s, struct msg *m, cJSON *params, char **body,
                     struct httpc_part **parts, int *nparts)
{
    struct photo *p = m->photo;
    uint64_t now = rt_now_ms(s->rt);
    struct photo_key *k = key_find(s, p->key);
    const char *id = p->file_id ? p->file_id : k ? k->file_id : NULL;
    *body = NULL;
    *parts = NULL;
    *nparts = 0;
    if (k)
        k->used_ms = now;
    if ((p->by_id = id != NULL)) {
        cJSON_AddStringToObject(params, "photo", id);
        return (*body = cJSON_PrintUnformatted(params)) ? 0 : -1;
    }
    if (p->key && (k = key_get(s, p->key, now)))
        k->uploading_ms = now;   /* the other chats wait for its file_id */
    return upload_parts(p, params, parts, nparts);
}

/* ---- answers ---- */

/* The largest size's file_id in a Message's photo array, or NULL. */
static const char *largest_file_id(const cJSON *msg)
{
    const cJSON *sz, *best = NULL;
    double best_area = -1;
    cJSON_ArrayForEach(sz, cJSON_GetObjectItemCaseSensitive(msg, "photo")) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(sz, "width");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(sz, "height");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(sz, "file_id");
        double area = cJSON_IsNumber(w) && cJSON_IsNumber(h) ? w->valuedouble * h->valuedouble : 0;
        if (cJSON_IsString(id) && area > best_area) {
            best = id;
            best_area = area;
        }
    }
    return best ? best->valuestring : NULL;
}

void sched_photo_delivered(struct tg_sched *s, struct msg *m, const struct tg_result *r)
{
    struct photo *p = m->photo;
    const char *id = largest_file_id(r->result);
    struct photo_key *k = p->key ? key_find(s, p->key) : NULL;
    if (p->key && id && !p->by_id && (k || (k = key_get(s, p->key, rt_now_ms(s->rt))))) {
        char *copy = strdup(id);
        if (copy) {
            free(k->file_id);
            k->file_id = copy;
        }
        k->uploading_ms = 0;
    }
    if (p->on_sent) {
        tg_photo_cb cb = p->on_sent;
        p->on_sent = NULL;
        cb(p->ud, id);
    }
}

void sched_photo_failed(struct tg_sched *s, struct msg *m)
{
    struct photo_key *k = m->photo->key ? key_find(s, m->photo->key) : NULL;
    if (k && !m->photo->by_id)
        k->uploading_ms = 0;   /* (a waiting chat uploads its own) */
}

int sched_photo_refused(struct tg_sched *s, struct msg *m, const struct tg_result *r)
{
    struct photo *p = m->photo;
    struct photo_key *k = p->key ? key_find(s, p->key) : NULL;
    if (!p->by_id || !p->bytes || r->outcome != TG_BAD_REQUEST)
        return 0;
    /* a file_id Telegram no longer knows (another bot's, or expired): the bytes */
    log_msg_upd(s->rt->log, m->update_id, LOG_WARN, "telegram", "Telegram refused a photo's "
                "file_id (%s): uploading it again", r->description);
    if (k)
        key_forget(k);
    free(p->file_id);
    p->file_id = NULL;
    return 1;
}
