/* tg_chats.c: the stand-in Telegram's chats and their messages, and the
 * JSON shapes of users, chats and messages. */
#include "tg_fake.h"

/* ---- chats ---- */

uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static size_t chat_slot(struct chat **tab, size_t cap, int64_t id)
{
    size_t i = (size_t)mix((uint64_t)id) & (cap - 1);
    while (tab[i] && tab[i]->id != id)
        i = (i + 1) & (cap - 1);
    return i;
}

struct chat *chat_find(int64_t id)
{
    if (!S.chats_cap)
        return NULL;
    return S.chats[chat_slot(S.chats, S.chats_cap, id)];
}

/* Every chat exists unless a test marked it missing. */
struct chat *chat_get(int64_t id)
{
    struct chat *c = chat_find(id);
    if (c)
        return c;
    if ((S.nchats + 1) * 2 > S.chats_cap) {
        size_t cap = S.chats_cap ? S.chats_cap * 2 : 64;
        struct chat **tab = calloc(cap, sizeof *tab);
        for (size_t i = 0; i < S.chats_cap; i++)
            if (S.chats[i])
                tab[chat_slot(tab, cap, S.chats[i]->id)] = S.chats[i];
        free(S.chats);
        S.chats = tab;
        S.chats_cap = cap;
    }
    c = calloc(1, sizeof *c);
    c->id = id;
    S.chats[chat_slot(S.chats, S.chats_cap, id)] = c;
    S.nchats++;
    return c;
}

/* Telegram's ids: private chats are positive, groups negative, and
 * supergroups (and channels) -100 followed by the channel id. */
static const char *chat_type(int64_t id)
{
    char s[32];
    if (id >= 0)
        return "private";
    snprintf(s, sizeof s, "%" PRId64, id);
    return strlen(s) > 4 && !strncmp(s, "-100", 4) ? "supergroup" : "group";
}

const char *chat_kind(const struct chat *c) { return c->type ? c->type : chat_type(c->id); }

struct msg *chat_msg(struct chat *c, int64_t id)
{
    if (id < 1 || (uint64_t)id > c->nmsgs || c->msgs[id - 1].deleted)
        return NULL;
    return &c->msgs[id - 1];
}

/* Message ids are per chat and shared by both sides, as in Telegram. */
int64_t chat_add_msg(struct chat *c, int from_bot, int64_t from_id, struct tg_text *t, char *markup)
{
    if (c->nmsgs == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->msgs = realloc(c->msgs, c->cap * sizeof *c->msgs);
    }
    c->msgs[c->nmsgs] = (struct msg){.from_bot = from_bot, .from_id = from_id, .date = unix_now(),
                                     .t = *t, .markup = markup};
    return (int64_t)++c->nmsgs;
}

void chat_free(struct chat *c)
{
    for (size_t i = 0; i < c->nmsgs; i++) {
        tg_text_free(&c->msgs[i].t);
        free(c->msgs[i].markup);
    }
    free(c->msgs);
    free(c->admins);
    free(c->w60.t);
    free(c->wn.t);
    free(c->w1.t);
    free(c->first_name);
    free(c->username);
    free(c->title);
    free(c->type);
    free(c);
}

/* ---- JSON shapes ---- */

cJSON *bot_user_json(void)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "id", (double)S.bot_id);
    cJSON_AddBoolToObject(u, "is_bot", 1);
    cJSON_AddStringToObject(u, "first_name", "Candlewatch Test");
    cJSON_AddStringToObject(u, "username", "candlewatch_test_bot");
    return u;
}

cJSON *user_json(int64_t id, const char *first_name, const char *username)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "id", (double)id);
    cJSON_AddBoolToObject(u, "is_bot", 0);
    cJSON_AddStringToObject(u, "first_name", first_name ? first_name : "User");
    if (username)
        cJSON_AddStringToObject(u, "username", username);
    cJSON_AddStringToObject(u, "language_code", "en");
    return u;
}

cJSON *chat_json(const struct chat *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "id", (double)c->id);
    if (c->id >= 0) {
        cJSON_AddStringToObject(j, "first_name", c->first_name ? c->first_name : "User");
        if (c->username)
            cJSON_AddStringToObject(j, "username", c->username);
    } else {
        cJSON_AddStringToObject(j, "title", c->title ? c->title : "Group");
    }
    cJSON_AddStringToObject(j, "type", chat_kind(c));
    return j;
}

static cJSON *entities_json(const struct tg_text *t)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < t->nent; i++) {
        const struct tg_entity *e = &t->ent[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "offset", (double)e->offset);
        cJSON_AddNumberToObject(o, "length", (double)e->length);
        cJSON_AddStringToObject(o, "type", e->type);
        if (e->arg && !strcmp(e->type, "text_link"))
            cJSON_AddStringToObject(o, "url", e->arg);
        else if (e->arg && !strcmp(e->type, "pre"))
            cJSON_AddStringToObject(o, "language", e->arg);
        else if (e->arg && !strcmp(e->type, "custom_emoji"))
            cJSON_AddStringToObject(o, "custom_emoji_id", e->arg);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

cJSON *message_json(const struct chat *c, int64_t id, const struct msg *m)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "message_id", (double)id);
    cJSON_AddItemToObject(j, "from", m->from_bot ? bot_user_json()
                                                 : user_json(m->from_id, c->first_name, c->username));
    cJSON_AddItemToObject(j, "chat", chat_json(c));
    cJSON_AddNumberToObject(j, "date", (double)m->date);
    if (m->edit_date)
        cJSON_AddNumberToObject(j, "edit_date", (double)m->edit_date);
    cJSON_AddStringToObject(j, "text", m->t.text);
    if (m->t.nent)
        cJSON_AddItemToObject(j, "entities", entities_json(&m->t));
    if (m->markup)
        cJSON_AddItemToObject(j, "reply_markup", cJSON_Parse(m->markup));
    return j;
}
