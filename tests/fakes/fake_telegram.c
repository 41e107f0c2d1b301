/* fake_telegram: a stand-in for the Telegram Bot API on loopback, for
 * end-to-end tests of the bot.  It answers like api.telegram.org (same
 * JSON shapes, HTTP statuses and error descriptions) and enforces the
 * flood limits, so a bot that misbehaves fails its tests.
 *
 * usage: fake_telegram --port N [--token T] [--rate 30] [--paid-rate 1000]
 *                      [--chat-burst 3] [--group-per-min 20] [--html-lenient]
 *   --port 0 picks a free port; prints "fake_telegram listening on port N".
 *   A limit of 0 switches that limit off.
 *   --token: the only valid token (default 123456:TEST-token).
 *   --html-lenient: accept a bare '&' or '>' in HTML text, as the real
 *     server does; by default they are refused, as the docs demand.
 *   SIGINT/SIGTERM: clean exit, status 0.
 *
 * Bot API: GET/POST /bot<TOKEN>/<method>, parameters from a JSON body, a
 * form body or the query string.  getMe getUpdates sendMessage
 * editMessageText editMessageReplyMarkup deleteMessage answerCallbackQuery
 * setMyCommands getMyCommands deleteMyCommands getChatMember setWebhook
 * deleteWebhook getWebhookInfo.
 *
 * Flood control (sendMessage only), every limit over sliding windows
 * (each window of that length, wherever it starts): > --rate in a second
 * per bot (allow_paid_broadcast: --paid-rate); per private chat 1 a
 * second with bursts of --chat-burst, as > N in any N seconds (N =
 * --chat-burst); > --group-per-min in a minute per group: 429 "Too Many
 * Requests: retry after S".
 *
 * Test control, same port (JSON in, JSON out):
 *   POST /control/message  {"chat":42,"from":42,"text":"/start",...}
 *   POST /control/callback {"chat":42,"from":42,"data":"x","message_id":7}
 *   POST /control/update   {"my_chat_member":{...}}      (any raw Update)
 *   GET  /control/sent?chat=42&since=K     accepted calls, in order
 *   GET  /control/texts?chat=42            plain text: the visible texts sent
 *                                          or edited into the chat, one a line
 *   GET  /control/chat?chat=42             what the chat shows now
 *   GET  /control/stats
 *   POST /control/block|unblock|missing {"chat":42}
 *   POST /control/admins {"chat":-100123,"users":[7,8],"creator":7}
 *   POST /control/fail {"status":500,"count":3,"method":"sendMessage"}
 *        {"status":429,"retry_after":5,"count":N} {"hang":true,"count":N}
 *        {"delay_ms":D,"count":N} {"clear":true}
 *        "count":0 disarms the matching faults ({"status":502,"count":0})
 *   POST /control/reset     clears the sent log and the stats
 *
 * One libuv loop, one thread; HTTP/1.1 with keep-alive, one request at a
 * time per connection, so a long poll, a delay or a hang just leaves its
 * connection waiting.
 */
#include <arpa/inet.h>
#include <cJSON.h>
#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uv.h>

#include "tg_html.h"

#define MAX_HEADER (64 * 1024)
#define MAX_BODY (1024 * 1024)
#define MAX_TEXT 4096
#define MAX_ANSWER_TEXT 200
#define CALLBACK_TTL_MS 15000
#define WEBHOOK_ATTEMPTS 10
#define WEBHOOK_TIMEOUT_MS 10000
#define MAX_FAULTS 16

/* ---- small growable things ---- */

struct buf {
    char *p;
    size_t n, cap;
};

static void buf_add(struct buf *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* Timestamps (ms) in a sliding window, oldest first. */
struct window {
    int64_t *t;
    size_t head, n, cap;
};

static void win_prune(struct window *w, int64_t now, int64_t span)
{
    while (w->n && now - w->t[w->head] >= span) {
        w->head = (w->head + 1) % w->cap;
        w->n--;
    }
}

static void win_push(struct window *w, int64_t t)
{
    if (w->n == w->cap) {   /* grow, unrolling the ring */
        size_t cap = w->cap ? w->cap * 2 : 8;
        int64_t *nt = malloc(cap * sizeof *nt);
        for (size_t i = 0; i < w->n; i++)
            nt[i] = w->t[(w->head + i) % w->cap];
        free(w->t);
        w->t = nt;
        w->cap = cap;
        w->head = 0;
    }
    w->t[(w->head + w->n++) % w->cap] = t;
}

static int64_t win_at(const struct window *w, size_t i) { return w->t[(w->head + i) % w->cap]; }

/* ms until fewer than `limit` stamps are inside the window; 0 if already.
 * limit 0: no limit. */
static int64_t win_wait(struct window *w, int64_t now, int64_t span, long limit)
{
    win_prune(w, now, span);
    if (limit <= 0 || (long)w->n < limit)
        return 0;
    return win_at(w, w->n - (size_t)limit) + span - now;
}

static void win_clear(struct window *w) { w->head = w->n = 0; }

/* ---- state ---- */

struct msg {                /* a message in a chat, by message_id - 1 */
    int from_bot, deleted;
    int64_t from_id, date, edit_date;
    struct tg_text t;
    char *markup;           /* inline keyboard JSON, or NULL */
};

struct chat {
    int64_t id;
    int blocked, missing, sent_since_reset;
    struct msg *msgs;
    size_t nmsgs, cap;
    int64_t *admins;
    size_t nadmins;
    int64_t creator;
    struct window wn;               /* private chats: sends in the last --chat-burst s */
    struct window w60;              /* groups: sends in the last minute */
    struct window w1;               /* stats: sends in the last second */
    char *first_name, *username, *title;
    char *type;             /* set by /control/message "type", else from the id */
};

struct update {
    int64_t id;
    char *json;
    int attempts;           /* webhook deliveries tried */
};

struct sent {               /* one accepted call, for /control/sent */
    int64_t seq, chat, msg_id, t_ms;
    const char *method;
    char *text, *parse_mode, *markup, *query_id;
    char *visible;          /* what the user sees, for /control/texts */
    int paid, show_alert;
};

struct cbq {                /* a callback query the bot may answer */
    char id[32];
    int64_t chat, created_ms;
    int answered;
};

enum fault_kind { F_STATUS, F_HANG, F_DELAY };

struct fault {
    enum fault_kind kind;
    int status, retry_after, count;
    int64_t delay_ms;
    char method[64];        /* "" = any */
};

enum conn_state { C_READ, C_POLL, C_DELAY, C_HANG };

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;       /* long-poll timeout, delayed answer, resume */
    int handles;            /* open handles; freed at 0 */
    int closing;
    enum conn_state state;
    struct buf in;
    size_t req_len;         /* bytes of the request being answered */
    int keep_alive, sent_continue;
    int64_t delay_ms;       /* answer the current request this late */
    int poll_limit;
    char *delayed;          /* a whole response waiting for the timer */
    size_t delayed_len;
    struct conn *prev, *next;
};

struct webhook_post {       /* the one delivery under way */
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    uv_timer_t timer;
    int handles, done;
    int64_t update_id;
    char *out;
    struct buf in;
};

static const char *const update_types[] = {
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "message_reaction",
    "message_reaction_count", "inline_query", "chosen_inline_result", "callback_query",
    "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
    "my_chat_member", "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost"};
#define NTYPES ((int)(sizeof update_types / sizeof update_types[0]))

static struct {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_signal_t sigint, sigterm;
    int stopping;
    uint64_t start_ns;
    /* options */
    const char *token;
    int64_t bot_id;
    long rate, paid_rate, chat_burst, group_per_min;
    int html_strict;
    /* connections */
    struct conn *conns;
    struct conn *poll;              /* the held getUpdates, if any */
    /* chats: open addressing on id */
    struct chat **chats;
    size_t nchats, chats_cap;
    /* updates: [head, n) are unconfirmed */
    struct update *upd;
    size_t upd_head, upd_n, upd_cap;
    int64_t last_update_id, confirmed_id;
    uint32_t allowed;               /* bit per update_types[] */
    long filtered;
    /* webhook */
    char *wh_url, *wh_secret, *wh_host, *wh_path;
    int wh_port, wh_max_conn;
    struct webhook_post *wh;
    uv_timer_t wh_retry;
    int64_t wh_error_date;
    char wh_error[128];
    /* callback queries */
    struct cbq *cbqs;
    size_t ncbq, cbq_cap;
    int64_t cbq_counter;
    /* commands, as a JSON array */
    char *commands;
    /* injected faults */
    struct fault faults[MAX_FAULTS];
    int nfaults;
    /* flood windows */
    struct window global, paid, all_sends;
    /* sent log */
    struct sent *log;
    size_t nlog, log_cap;
    int64_t seq;
    /* stats */
    long requests, sent, edits, answers, deletes, r429, r403, r400, injected, chats_sent;
    long get_updates, conflicts, webhook_posts, webhook_rejected, duplicate_answers;
    long max_global_per_s, max_chat_per_s;
    int64_t first_send_ms, last_send_ms;
} S;

static int64_t now_ms(void) { return (int64_t)((uv_hrtime() - S.start_ns) / 1000000); }

static int64_t unix_now(void) { return (int64_t)time(NULL); }

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* ---- chats ---- */

static uint64_t mix(uint64_t x)
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

static struct chat *chat_find(int64_t id)
{
    if (!S.chats_cap)
        return NULL;
    return S.chats[chat_slot(S.chats, S.chats_cap, id)];
}

/* Every chat exists unless a test marked it missing. */
static struct chat *chat_get(int64_t id)
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

static const char *chat_kind(const struct chat *c) { return c->type ? c->type : chat_type(c->id); }

static struct msg *chat_msg(struct chat *c, int64_t id)
{
    if (id < 1 || (uint64_t)id > c->nmsgs || c->msgs[id - 1].deleted)
        return NULL;
    return &c->msgs[id - 1];
}

/* Message ids are per chat and shared by both sides, as in Telegram. */
static int64_t chat_add_msg(struct chat *c, int from_bot, int64_t from_id, struct tg_text *t, char *markup)
{
    if (c->nmsgs == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->msgs = realloc(c->msgs, c->cap * sizeof *c->msgs);
    }
    c->msgs[c->nmsgs] = (struct msg){.from_bot = from_bot, .from_id = from_id, .date = unix_now(),
                                     .t = *t, .markup = markup};
    return (int64_t)++c->nmsgs;
}

static void chat_free(struct chat *c)
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

static cJSON *bot_user_json(void)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "id", (double)S.bot_id);
    cJSON_AddBoolToObject(u, "is_bot", 1);
    cJSON_AddStringToObject(u, "first_name", "Candlewatch Test");
    cJSON_AddStringToObject(u, "username", "candlewatch_test_bot");
    return u;
}

static cJSON *user_json(int64_t id, const char *first_name, const char *username)
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

static cJSON *chat_json(const struct chat *c)
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

static cJSON *message_json(const struct chat *c, int64_t id, const struct msg *m)
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

/* ---- HTTP connections ---- */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

struct wreq {
    uv_write_t req;
    int close_after;
    char data[];
};

static void conn_close(struct conn *c);
static void process_input(struct conn *c);

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles == 0) {
        free(c->in.p);
        free(c->delayed);
        free(c);
    }
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (S.poll == c)
        S.poll = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        S.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct conn *c = req->handle->data;
    if ((status < 0 || w->close_after) && !c->closing)
        conn_close(c);
    free(w);
}

static void write_raw(struct conn *c, const char *data, size_t len, int close_after)
{
    struct wreq *w = malloc(sizeof *w + len);
    memcpy(w->data, data, len);
    w->close_after = close_after;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        conn_close(c);
    }
}

/* The whole response (head and body) in one malloc'd block. */
static char *format_response(int status, const char *ctype, const char *body, size_t len, int keep_alive,
                             size_t *out_len)
{
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nServer: fake_telegram\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                      status, reason(status), ctype, len, keep_alive ? "keep-alive" : "close");
    char *r = malloc((size_t)hn + len);
    memcpy(r, head, (size_t)hn);
    memcpy(r + hn, body, len);
    *out_len = (size_t)hn + len;
    return r;
}

/* Drops the answered request from the input and reads the next one; from
 * a timer, so deferred answers never recurse into other connections. */
static void on_resume(uv_timer_t *t)
{
    process_input(t->data);
}

static void request_done(struct conn *c, int deferred)
{
    memmove(c->in.p, c->in.p + c->req_len, c->in.n - c->req_len);
    c->in.n -= c->req_len;
    c->req_len = 0;
    c->sent_continue = 0;
    c->state = c->keep_alive ? C_READ : C_HANG;   /* closing after this answer */
    if (deferred && !c->closing)
        uv_timer_start(&c->timer, on_resume, 0, 0);
}

static void on_delayed(uv_timer_t *t)
{
    struct conn *c = t->data;
    write_raw(c, c->delayed, c->delayed_len, !c->keep_alive);
    free(c->delayed);
    c->delayed = NULL;
    request_done(c, 1);
}

/* Answers the current request of c (now, or after an injected delay).
 * deferred: the answer comes from a timer or another request, not from
 * inside process_input. */
static void respond_as(struct conn *c, int status, const char *ctype, const char *body, int deferred)
{
    if (c->closing)
        return;
    size_t len;
    char *r = format_response(status, ctype, body, strlen(body), c->keep_alive, &len);
    if (c->delay_ms > 0) {
        c->delayed = r;
        c->delayed_len = len;
        c->state = C_DELAY;
        uv_timer_start(&c->timer, on_delayed, (uint64_t)c->delay_ms, 0);
        c->delay_ms = 0;
        return;
    }
    write_raw(c, r, len, !c->keep_alive);
    free(r);
    request_done(c, deferred);
}

static void respond(struct conn *c, int status, const char *body, int deferred)
{
    respond_as(c, status, "application/json", body, deferred);
}

/* An error before the request is understood: answer and hang up. */
static void respond_fatal(struct conn *c, int status, const char *description)
{
    char body[256];
    snprintf(body, sizeof body, "{\"ok\":false,\"error_code\":%d,\"description\":\"%s\"}", status, description);
    size_t len;
    char *r = format_response(status, "application/json", body, strlen(body), 0, &len);
    write_raw(c, r, len, 1);
    free(r);
    c->state = C_HANG;   /* read nothing more */
}

/* ---- requests ---- */

struct req {
    char method[16];
    const char *path, *query, *ctype, *body;
    size_t path_len, query_len, ctype_len, body_len;
};

static void handle_request(struct conn *c, struct req *q);

static int header_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k))
        return 0;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *val = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static int has_token(const char *v, size_t n, const char *tok)
{
    size_t k = strlen(tok);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(v + i, tok, k))
            return 1;
    return 0;
}

/* Parses one request at the start of c->in.  1: complete (q filled,
 * c->req_len set), 0: need more bytes, -1: answered with an error. */
static int parse_request(struct conn *c, struct req *q)
{
    char *p = c->in.p;
    size_t n = c->in.n;
    if (!p)
        return 0;   /* nothing read yet */
    char *end = n >= 4 ? memmem(p, n, "\r\n\r\n", 4) : NULL;
    if (!end) {
        if (n > MAX_HEADER)
            respond_fatal(c, 431, "Request Header Fields Too Large");
        return n > MAX_HEADER ? -1 : 0;
    }
    size_t head_len = (size_t)(end - p) + 4;
    char *line_end = memmem(p, head_len, "\r\n", 2);
    char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 - p >= (long)sizeof q->method || line_end - sp2 < 9 ||
        strncmp(sp2 + 1, "HTTP/1.", 7)) {
        respond_fatal(c, 400, "Bad Request: malformed HTTP request");
        return -1;
    }
    memset(q, 0, sizeof *q);
    memcpy(q->method, p, (size_t)(sp1 - p));
    q->path = sp1 + 1;
    size_t target_len = (size_t)(sp2 - sp1 - 1);
    const char *qm = memchr(q->path, '?', target_len);
    q->path_len = qm ? (size_t)(qm - q->path) : target_len;
    q->query = qm ? qm + 1 : "";
    q->query_len = qm ? target_len - q->path_len - 1 : 0;
    int http10 = sp2[8] == '0';
    c->keep_alive = !http10;
    long long clen = 0;
    int expect = 0;
    for (char *l = line_end + 2; l < end; ) {
        char *le = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);
        size_t ln = (size_t)(le - l);
        const char *v;
        size_t vn;
        if (header_is(l, ln, "Content-Length", &v, &vn)) {
            char tmp[24];
            char *e = NULL;
            snprintf(tmp, sizeof tmp, "%.*s", (int)(vn < 23 ? vn : 23), v);
            clen = strtoll(tmp, &e, 10);
            if (!vn || *e || clen < 0) {
                respond_fatal(c, 400, "Bad Request: invalid Content-Length");
                return -1;
            }
        } else if (header_is(l, ln, "Transfer-Encoding", &v, &vn) && has_token(v, vn, "chunked")) {
            respond_fatal(c, 411, "Length Required");
            return -1;
        } else if (header_is(l, ln, "Connection", &v, &vn)) {
            if (has_token(v, vn, "close"))
                c->keep_alive = 0;
            else if (has_token(v, vn, "keep-alive"))
                c->keep_alive = 1;
        } else if (header_is(l, ln, "Content-Type", &v, &vn)) {
            q->ctype = v;
            q->ctype_len = vn;
        } else if (header_is(l, ln, "Expect", &v, &vn) && has_token(v, vn, "100-continue")) {
            expect = 1;
        }
        l = le + 2;
    }
    if (clen > MAX_BODY) {
        respond_fatal(c, 413, "Request Entity Too Large");
        return -1;
    }
    if (n < head_len + (size_t)clen) {
        /* libcurl waits for this before sending a body over 1 KB */
        if (expect && !c->sent_continue) {
            c->sent_continue = 1;
            write_raw(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, 0);
        }
        return 0;
    }
    if (!q->ctype) {
        q->ctype = "";
        q->ctype_len = 0;
    }
    q->body = p + head_len;
    q->body_len = (size_t)clen;
    c->req_len = head_len + (size_t)clen;
    return 1;
}

static void process_input(struct conn *c)
{
    while (!c->closing && c->state == C_READ) {
        struct req q;
        if (parse_request(c, &q) != 1)
            return;
        handle_request(c, &q);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    b->base = malloc(65536);
    b->len = 65536;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (nread < 0) {
        conn_close(c);   /* also ends a long poll or a hang */
    } else if (nread > 0 && !c->closing) {
        buf_add(&c->in, b->base, (size_t)nread);
        if (c->in.n > MAX_HEADER + MAX_BODY + 65536)
            conn_close(c);   /* bytes piling up behind a request we hold */
        else
            process_input(c);
    }
    free(b->base);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    uv_tcp_init(&S.loop, &c->tcp);
    uv_timer_init(&S.loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = S.conns;
    if (S.conns)
        S.conns->prev = c;
    S.conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- parameters ---- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static char *url_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            o[k++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            o[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = '\0';
    return o;
}

static void set_param(cJSON *p, const char *key, cJSON *val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(p, key);
    cJSON_AddItemToObject(p, key, val);
}

/* a=1&b=x%20y: every value a string, as Telegram receives them. */
static void form_decode(cJSON *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t e = amp ? (size_t)(amp - s) : n;
        const char *eq = memchr(s + i, '=', e - i);
        if (e > i) {
            size_t kn = eq ? (size_t)(eq - s) - i : e - i;
            char *k = url_decode(s + i, kn);
            char *v = eq ? url_decode(eq + 1, e - (size_t)(eq + 1 - s)) : strdup("");
            if (*k)
                set_param(p, k, cJSON_CreateString(v));
            free(k);
            free(v);
        }
        i = e + 1;
    }
}

static int prefix_ci(const char *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    return n >= k && !strncasecmp(s, pre, k);
}

static int looks_like_object(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i < n && s[i] == '{';
}

/* Query string, then the body on top.  NULL with *err on a bad body.
 * sniff: a body starting with '{' is JSON whatever its Content-Type (for
 * the control API, so `curl -d '{...}'` works). */
static cJSON *build_params(const struct req *q, int sniff, const char **err)
{
    cJSON *p = cJSON_CreateObject();
    form_decode(p, q->query, q->query_len);
    if (!q->body_len)
        return p;
    int json = prefix_ci(q->ctype, q->ctype_len, "application/json") ||
               ((!q->ctype_len || sniff) && looks_like_object(q->body, q->body_len));
    if (json) {
        cJSON *j = cJSON_ParseWithLength(q->body, q->body_len);
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            cJSON_Delete(p);
            *err = "Bad Request: can't parse JSON object";
            return NULL;
        }
        while (j->child) {
            cJSON *it = cJSON_DetachItemViaPointer(j, j->child);
            if (!it->string) {
                cJSON_Delete(it);
                continue;
            }
            char *key = strdup(it->string);
            set_param(p, key, it);
            free(key);
        }
        cJSON_Delete(j);
    } else if (prefix_ci(q->ctype, q->ctype_len, "multipart/")) {
        cJSON_Delete(p);
        *err = "Bad Request: fake_telegram does not read multipart/form-data; send JSON or a form";
        return NULL;
    } else {
        form_decode(p, q->body, q->body_len);
    }
    return p;
}

/* 1 and *out: present and an integer (number or numeric string);
 * 0: absent or empty; -1: present but not an integer. */
static int p_int(cJSON *p, const char *k, int64_t *out)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d != d || d > 9.2e18 || d < -9.2e18 || (double)(int64_t)d != d)
            return -1;
        *out = (int64_t)d;
        return 1;
    }
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0])
            return 0;
        char *e = NULL;
        long long x = strtoll(v->valuestring, &e, 10);
        if (*e)
            return -1;
        *out = x;
        return 1;
    }
    return -1;
}

/* A string parameter; numbers become their text, as Telegram does. */
static const char *p_str(cJSON *p, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.17g", v->valuedouble);
        cJSON *s = cJSON_CreateString(tmp);
        set_param(p, k, s);
        return s->valuestring;
    }
    return NULL;
}

static int p_bool(cJSON *p, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    if (cJSON_IsNumber(v))
        return v->valuedouble != 0;
    if (cJSON_IsString(v))
        return !strcasecmp(v->valuestring, "true") || !strcmp(v->valuestring, "1");
    return 0;
}

/* An object/array parameter, which may also come JSON-encoded in a string
 * (forms always do that).  NULL if absent; *bad when unparsable. */
static cJSON *p_json(cJSON *p, const char *k, int *bad)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    *bad = 0;
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsObject(v) || cJSON_IsArray(v))
        return v;
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0])
            return NULL;
        cJSON *j = cJSON_Parse(v->valuestring);
        if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
            set_param(p, k, j);
            return j;
        }
        cJSON_Delete(j);
    }
    *bad = 1;
    return NULL;
}

/* ---- Bot API answers ---- */

struct call {
    struct conn *c;
    cJSON *p;
    const char *method;
};

static void answer(struct call *k, int status, char *body)
{
    if (status == 429) S.r429++;
    else if (status == 403) S.r403++;
    else if (status == 400) S.r400++;
    respond(k->c, status, body, 0);
    free(body);
}

static char *error_body(int code, const char *description, int retry_after)
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

static void fail(struct call *k, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct call *k, int code, const char *fmt, ...)
{
    char d[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    answer(k, code, error_body(code, d, 0));
}

static void too_many(struct call *k, int retry_after)
{
    char d[64];
    snprintf(d, sizeof d, "Too Many Requests: retry after %d", retry_after);
    answer(k, 429, error_body(429, d, retry_after));
}

/* {"ok":true,"result":...}, taking result; description optional. */
static void ok(struct call *k, cJSON *result, const char *description)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddItemToObject(j, "result", result);
    if (description)
        cJSON_AddStringToObject(j, "description", description);
    answer(k, 200, cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
}

static struct sent *log_call(const char *method, int64_t chat, int64_t msg_id, const char *text,
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

static void sent_free(struct sent *s)
{
    free(s->text);
    free(s->parse_mode);
    free(s->markup);
    free(s->query_id);
    free(s->visible);
}

/* ---- flood control ---- */

/* ms until this sendMessage would be accepted; 0 = now.  Takes nothing. */
static int64_t flood_wait(struct chat *ch, int paid, int64_t now)
{
    int64_t w = paid ? win_wait(&S.paid, now, 1000, S.paid_rate) : win_wait(&S.global, now, 1000, S.rate);
    int64_t wc = 0;
    if (ch->id < 0) {
        wc = win_wait(&ch->w60, now, 60000, S.group_per_min);
    } else if (S.chat_burst > 0) {   /* --chat-burst 0: no per-chat limit */
        wc = win_wait(&ch->wn, now, S.chat_burst * 1000, S.chat_burst);
    }
    return w > wc ? w : wc;
}

static void flood_take(struct chat *ch, int paid, int64_t now)
{
    win_push(paid ? &S.paid : &S.global, now);
    win_push(ch->id < 0 ? &ch->w60 : &ch->wn, now);
    /* stats: the busiest second overall and in one chat */
    win_prune(&S.all_sends, now, 1000);
    win_push(&S.all_sends, now);
    if ((long)S.all_sends.n > S.max_global_per_s)
        S.max_global_per_s = (long)S.all_sends.n;
    win_prune(&ch->w1, now, 1000);
    win_push(&ch->w1, now);
    if ((long)ch->w1.n > S.max_chat_per_s)
        S.max_chat_per_s = (long)ch->w1.n;
}

/* ---- message checks shared by send and edit ---- */

/* 1 when the chat refuses (answered 403/400), 0 when usable. */
static int chat_refuses(struct call *k, struct chat *ch)
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
static struct chat *param_chat(struct call *k)
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

/* text + parse_mode -> what the user sees; 0, or -1 when answered. */
static int render_text(struct call *k, const char *text, struct tg_text *t)
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
    if (t->chars > MAX_TEXT) {
        tg_text_free(t);
        fail(k, 400, "Bad Request: message is too long");
        return -1;
    }
    return 0;
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
static int check_markup(struct call *k, char **keep, char **given)
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

static void m_get_me(struct call *k)
{
    cJSON *u = bot_user_json();
    cJSON_AddBoolToObject(u, "can_join_groups", 1);
    cJSON_AddBoolToObject(u, "can_read_all_group_messages", 0);
    cJSON_AddBoolToObject(u, "supports_inline_queries", 0);
    ok(k, u, NULL);
}

static void m_send_message(struct call *k)
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

static void m_edit_text(struct call *k)
{
    struct chat *ch;
    struct msg *m = param_msg(k, &ch, "Bad Request: message to edit not found");
    if (!m)
        return;
    if (!m->from_bot) {
        fail(k, 400, "Bad Request: message can't be edited");
        return;
    }
    const char *text = p_str(k->p, "text");
    struct tg_text t;
    char *keep, *given;
    if (render_message(k, text, &t, &keep, &given) != 0)
        return;
    finish_edit(k, ch, m, &t, keep, given, text);
}

static void m_edit_markup(struct call *k)
{
    struct chat *ch;
    struct msg *m = param_msg(k, &ch, "Bad Request: message to edit not found");
    if (!m)
        return;
    if (!m->from_bot) {
        fail(k, 400, "Bad Request: message can't be edited");
        return;
    }
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

static void m_delete(struct call *k)
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

static void m_answer_callback(struct call *k)
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

static void m_set_commands(struct call *k)
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

static void m_get_commands(struct call *k)
{
    ok(k, S.commands ? cJSON_Parse(S.commands) : cJSON_CreateArray(), NULL);
}

static void m_delete_commands(struct call *k)
{
    free(S.commands);
    S.commands = NULL;
    ok(k, cJSON_CreateTrue(), NULL);
}

static void m_get_chat_member(struct call *k)
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

/* ---- updates ---- */

static int type_index(const char *t)
{
    for (int i = 0; i < NTYPES; i++)
        if (!strcmp(update_types[i], t))
            return i;
    return -1;
}

static uint32_t default_allowed(void)
{
    uint32_t all = (uint32_t)((1ULL << NTYPES) - 1);
    return all & ~(1u << type_index("chat_member")) & ~(1u << type_index("message_reaction")) &
           ~(1u << type_index("message_reaction_count"));
}

/* allowed_updates: [] = the default set, omitted = keep the previous one.
 * 0, or -1 when answered with an error. */
static int take_allowed(struct call *k)
{
    int bad;
    cJSON *a = p_json(k->p, "allowed_updates", &bad), *t;
    if (bad || (a && !cJSON_IsArray(a))) {
        fail(k, 400, "Bad Request: can't parse allowed updates JSON array");
        return -1;
    }
    if (!a)
        return 0;
    uint32_t mask = 0;
    cJSON_ArrayForEach(t, a) {
        int i = cJSON_IsString(t) ? type_index(t->valuestring) : -1;
        if (i >= 0)   /* unknown names are ignored, as Telegram does */
            mask |= 1u << i;
    }
    S.allowed = mask ? mask : default_allowed();
    return 0;
}

static void confirm_head(void)
{
    struct update *u = &S.upd[S.upd_head++];
    S.confirmed_id = u->id;
    free(u->json);
    u->json = NULL;
}

static void drop_pending(void)
{
    while (S.upd_head < S.upd_n)
        confirm_head();
}

static size_t pending_count(void) { return S.upd_n - S.upd_head; }

/* {"ok":true,"result":[<up to limit pending updates>]} */
static char *updates_body(int limit)
{
    struct buf b = {0};
    buf_str(&b, "{\"ok\":true,\"result\":[");
    for (size_t i = S.upd_head; i < S.upd_n && (int)(i - S.upd_head) < limit; i++) {
        if (i > S.upd_head)
            buf_str(&b, ",");
        buf_str(&b, S.upd[i].json);
    }
    buf_str(&b, "]}");
    return b.p;
}

static void poll_stop(struct conn *c)
{
    uv_timer_stop(&c->timer);
    if (S.poll == c)
        S.poll = NULL;
}

/* Answers the held getUpdates (if any) with what is pending now. */
static void poll_answer(void)
{
    struct conn *c = S.poll;
    if (!c)
        return;
    poll_stop(c);
    char *body = updates_body(c->poll_limit);
    respond(c, 200, body, 1);
    free(body);
}

static void poll_fail(const char *description)
{
    struct conn *c = S.poll;
    if (!c)
        return;
    poll_stop(c);
    S.conflicts++;
    char *body = error_body(409, description, 0);
    respond(c, 409, body, 1);
    free(body);
}

static void on_poll_timeout(uv_timer_t *t)
{
    if (S.poll == t->data)
        poll_answer();   /* nothing came: [] */
}

static const char webhook_conflict[] =
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

static void m_get_updates(struct call *k)
{
    S.get_updates++;
    if (S.wh_url) {
        S.conflicts++;
        fail(k, 409, "%s", webhook_conflict);
        return;
    }
    /* a newer getUpdates ends the one still waiting */
    poll_fail("Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
    int64_t offset = 0, limit = 100, timeout = 0;
    if (p_int(k->p, "offset", &offset) < 0 || p_int(k->p, "limit", &limit) < 0 ||
        p_int(k->p, "timeout", &timeout) < 0) {
        fail(k, 400, "Bad Request: wrong parameter type");
        return;
    }
    if (take_allowed(k) != 0)
        return;
    if (offset < 0) {   /* -N: only the last N are kept */
        size_t keep = offset < -1000000 ? 1000000 : (size_t)-offset;   /* no overflow on INT64_MIN */
        while (pending_count() > keep)
            confirm_head();
    } else {
        while (S.upd_head < S.upd_n && S.upd[S.upd_head].id < offset)
            confirm_head();
    }
    limit = limit < 1 ? 1 : limit > 100 ? 100 : limit;
    if (pending_count() == 0 && timeout > 0) {
        struct conn *c = k->c;
        c->state = C_POLL;
        c->poll_limit = (int)limit;
        S.poll = c;
        uv_timer_start(&c->timer, on_poll_timeout, (uint64_t)(timeout > 86400 ? 86400 : timeout) * 1000, 0);
        return;
    }
    char *body = updates_body((int)limit);
    respond(k->c, 200, body, 0);
    free(body);
}

static void webhook_kick(void);

/* Adds an Update: {"update_id":N, type: obj}.  Takes obj.  Types the bot
 * did not ask for are dropped when created, as Telegram does. */
static int64_t push_update(const char *type, cJSON *obj, int *dropped)
{
    int64_t id = ++S.last_update_id;
    int ti = type_index(type);
    *dropped = ti >= 0 && !(S.allowed & (1u << ti));
    if (*dropped) {
        S.filtered++;
        cJSON_Delete(obj);
        return id;
    }
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "update_id", (double)id);
    cJSON_AddItemToObject(u, type, obj);
    if (S.upd_n == S.upd_cap) {
        S.upd_cap = S.upd_cap ? S.upd_cap * 2 : 64;
        S.upd = realloc(S.upd, S.upd_cap * sizeof *S.upd);
    }
    S.upd[S.upd_n++] = (struct update){.id = id, .json = cJSON_PrintUnformatted(u)};
    cJSON_Delete(u);
    poll_answer();
    webhook_kick();
    return id;
}

/* ---- webhook ---- */

static void on_webhook_closed(uv_handle_t *h)
{
    struct webhook_post *w = h->data;
    if (--w->handles == 0) {
        free(w->out);
        free(w->in.p);
        free(w);
    }
}

static void on_webhook_retry(uv_timer_t *t)
{
    (void)t;
    webhook_kick();
}

/* Ends the delivery: 2xx confirms the update, anything else is retried
 * in a second, up to WEBHOOK_ATTEMPTS times. */
static void webhook_done(struct webhook_post *w, int status, const char *why)
{
    if (w->done)
        return;
    w->done = 1;
    S.wh = NULL;
    uv_close((uv_handle_t *)&w->tcp, on_webhook_closed);
    uv_close((uv_handle_t *)&w->timer, on_webhook_closed);
    struct update *head = S.upd_head < S.upd_n ? &S.upd[S.upd_head] : NULL;
    if (head && head->id != w->update_id)
        head = NULL;   /* dropped meanwhile */
    if (status >= 200 && status < 300) {
        if (head)
            confirm_head();
        webhook_kick();
        return;
    }
    S.webhook_rejected++;
    S.wh_error_date = unix_now();
    if (status > 0)
        snprintf(S.wh_error, sizeof S.wh_error, "Wrong response from the webhook: %d %s", status, reason(status));
    else
        snprintf(S.wh_error, sizeof S.wh_error, "%s", why);
    if (head && ++head->attempts >= WEBHOOK_ATTEMPTS)
        confirm_head();   /* given up */
    uv_timer_start(&S.wh_retry, on_webhook_retry, 1000, 0);
}

/* The status code once the whole answer is in (or the peer closed). */
static int webhook_status(const struct buf *in, int eof)
{
    if (in->n < 12 || strncmp(in->p, "HTTP/1.", 7))
        return eof || in->n >= 12 ? -1 : 0;
    int status = atoi(in->p + 9);
    const char *end = strstr(in->p, "\r\n\r\n");
    if (!end)
        return eof ? status : 0;
    const char *cl = strcasestr(in->p, "\r\ncontent-length:");
    if (cl && cl < end) {
        size_t need = (size_t)(end + 4 - in->p) + (size_t)atol(cl + 17);
        return in->n >= need || eof ? status : 0;
    }
    if (strcasestr(in->p, "chunked"))
        return strstr(end, "\r\n0\r\n") || !strncmp(end + 4, "0\r\n", 3) || eof ? status : 0;
    return eof ? status : 0;
}

static void on_webhook_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct webhook_post *w = s->data;
    if (nread > 0 && w->in.n < 65536)
        buf_add(&w->in, b->base, (size_t)nread);
    free(b->base);
    if (nread == 0 || w->done)
        return;
    int status = webhook_status(&w->in, nread < 0);
    if (status < 0)
        webhook_done(w, -1, "Wrong response from the webhook: not HTTP");
    else if (status > 0)
        webhook_done(w, status, NULL);
    else if (nread < 0)
        webhook_done(w, -1, "Connection closed by the webhook");
}

static void on_webhook_written(uv_write_t *req, int status)
{
    struct webhook_post *w = req->data;
    if (status < 0)
        webhook_done(w, -1, "Connection reset by the webhook");
}

static void on_webhook_connect(uv_connect_t *req, int status)
{
    struct webhook_post *w = req->data;
    if (w->done)
        return;
    if (status < 0) {
        webhook_done(w, -1, "Connection refused");
        return;
    }
    uv_buf_t b = uv_buf_init(w->out, (unsigned)strlen(w->out));
    w->wreq.data = w;
    uv_write(&w->wreq, (uv_stream_t *)&w->tcp, &b, 1, on_webhook_written);
    uv_read_start((uv_stream_t *)&w->tcp, on_alloc, on_webhook_read);
}

static void on_webhook_timeout(uv_timer_t *t)
{
    webhook_done(t->data, -1, "Read timeout expired");
}

static int webhook_addr(struct sockaddr_storage *sa)
{
    if (strchr(S.wh_host, ':'))
        return uv_ip6_addr(S.wh_host, S.wh_port, (struct sockaddr_in6 *)sa);
    return uv_ip4_addr(S.wh_host, S.wh_port, (struct sockaddr_in *)sa);
}

/* Posts the oldest pending update, if a webhook is set and nothing is
 * under way (one at a time keeps them in order). */
static void webhook_kick(void)
{
    if (!S.wh_url || S.wh || uv_is_active((uv_handle_t *)&S.wh_retry) || !pending_count())
        return;
    struct update *u = &S.upd[S.upd_head];
    struct webhook_post *w = calloc(1, sizeof *w);
    struct buf out = {0};
    char head[1024];
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n",
             S.wh_path, S.wh_host, S.wh_port, strlen(u->json));
    buf_str(&out, head);
    if (S.wh_secret) {
        buf_str(&out, "X-Telegram-Bot-Api-Secret-Token: ");
        buf_str(&out, S.wh_secret);
        buf_str(&out, "\r\n");
    }
    buf_str(&out, "\r\n");
    buf_str(&out, u->json);
    w->out = out.p;
    w->update_id = u->id;
    w->handles = 2;
    uv_tcp_init(&S.loop, &w->tcp);
    uv_timer_init(&S.loop, &w->timer);
    w->tcp.data = w->timer.data = w->creq.data = w;
    S.wh = w;
    S.webhook_posts++;
    uv_timer_start(&w->timer, on_webhook_timeout, WEBHOOK_TIMEOUT_MS, 0);
    struct sockaddr_storage sa;
    if (webhook_addr(&sa) != 0 ||
        uv_tcp_connect(&w->creq, &w->tcp, (struct sockaddr *)&sa, on_webhook_connect) != 0)
        webhook_done(w, -1, "Failed to connect");
}

/* http://host[:port][/path] on loopback only: nothing leaves the machine.
 * 0, or -1 with *why. */
static int parse_webhook_url(const char *url, char **host, int *port, char **path, const char **why)
{
    if (strncmp(url, "http://", 7)) {
        *why = "Bad Request: bad webhook: fake_telegram delivers to http://127.0.0.1 (loopback) only";
        return -1;
    }
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    char hp[256];
    if (hl == 0 || hl >= sizeof hp) {
        *why = "Bad Request: bad webhook: Webhook URL is invalid";
        return -1;
    }
    memcpy(hp, h, hl);
    hp[hl] = '\0';
    char *colon = hp[0] == '[' ? strstr(hp, "]:") : strrchr(hp, ':');
    *port = 80;
    if (colon) {
        if (hp[0] == '[')
            colon++;
        *colon = '\0';
        *port = atoi(colon + 1);
    }
    char *name = hp;
    if (name[0] == '[') {
        name++;
        char *rb = strchr(name, ']');
        if (rb)
            *rb = '\0';
    }
    if (!strcmp(name, "localhost"))
        name = "127.0.0.1";
    unsigned char a[16];
    int loop4 = inet_pton(AF_INET, name, a) == 1 && a[0] == 127;
    int loop6 = !loop4 && !strcmp(name, "::1");
    if ((!loop4 && !loop6) || *port <= 0 || *port > 65535) {
        *why = "Bad Request: bad webhook: fake_telegram delivers to http://127.0.0.1 (loopback) only";
        return -1;
    }
    *host = strdup(name);
    *path = strdup(slash ? slash : "/");
    return 0;
}

static int secret_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 256)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

static void webhook_forget(void)
{
    free(S.wh_url);
    free(S.wh_secret);
    free(S.wh_host);
    free(S.wh_path);
    S.wh_url = S.wh_secret = S.wh_host = S.wh_path = NULL;
}

static void webhook_clear(void)
{
    webhook_forget();
    uv_timer_stop(&S.wh_retry);
}

static void m_delete_webhook(struct call *k)
{
    int had = S.wh_url != NULL;
    webhook_clear();
    if (p_bool(k->p, "drop_pending_updates"))
        drop_pending();
    ok(k, cJSON_CreateTrue(), had ? "Webhook was deleted" : "Webhook is already deleted");
}

static void m_set_webhook(struct call *k)
{
    const char *url = p_str(k->p, "url"), *secret = p_str(k->p, "secret_token"), *why = NULL;
    if (!url || !*url) {
        m_delete_webhook(k);
        return;
    }
    if (secret && *secret && !secret_ok(secret)) {
        fail(k, 400, "Bad Request: secret token contains unallowed characters");
        return;
    }
    char *host, *path;
    int port;
    if (parse_webhook_url(url, &host, &port, &path, &why) != 0) {
        fail(k, 400, "%s", why);
        return;
    }
    if (take_allowed(k) != 0) {
        free(host);
        free(path);
        return;
    }
    int same = S.wh_url && !strcmp(S.wh_url, url);
    webhook_clear();
    if (!same)
        S.wh_error_date = 0;   /* a new URL starts without errors */
    S.wh_url = strdup(url);
    S.wh_secret = secret && *secret ? strdup(secret) : NULL;
    S.wh_host = host;
    S.wh_path = path;
    S.wh_port = port;
    int64_t mc = 40;
    if (p_int(k->p, "max_connections", &mc) == 1)
        S.wh_max_conn = (int)(mc < 1 ? 1 : mc > 100 ? 100 : mc);
    else
        S.wh_max_conn = 40;
    if (p_bool(k->p, "drop_pending_updates"))
        drop_pending();
    poll_fail(webhook_conflict);
    ok(k, cJSON_CreateTrue(), same ? "Webhook is already set" : "Webhook was set");
    webhook_kick();
}

static void m_webhook_info(struct call *k)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "url", S.wh_url ? S.wh_url : "");
    cJSON_AddBoolToObject(r, "has_custom_certificate", 0);
    cJSON_AddNumberToObject(r, "pending_update_count", (double)pending_count());
    if (S.wh_url) {
        cJSON_AddNumberToObject(r, "max_connections", S.wh_max_conn);
        cJSON_AddStringToObject(r, "ip_address", S.wh_host);
        if (S.wh_error_date) {
            cJSON_AddNumberToObject(r, "last_error_date", (double)S.wh_error_date);
            cJSON_AddStringToObject(r, "last_error_message", S.wh_error);
        }
    }
    ok(k, r, NULL);
}

static const struct {
    const char *name;
    void (*fn)(struct call *);
} methods[] = {
    {"getMe", m_get_me},
    {"getUpdates", m_get_updates},
    {"sendMessage", m_send_message},
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

static void bot_api(struct conn *c, const struct req *q, const char *rest, size_t rest_len)
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
        {"requests", S.requests}, {"sent", S.sent}, {"edits", S.edits}, {"answers", S.answers},
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

static void handle_request(struct conn *c, struct req *q)
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

/* ---- start and stop ---- */

static void free_all(void)
{
    for (size_t i = 0; i < S.chats_cap; i++)
        if (S.chats[i])
            chat_free(S.chats[i]);
    free(S.chats);
    for (size_t i = S.upd_head; i < S.upd_n; i++)
        free(S.upd[i].json);
    free(S.upd);
    for (size_t i = 0; i < S.nlog; i++)
        sent_free(&S.log[i]);
    free(S.log);
    free(S.cbqs);
    free(S.commands);
    free(S.global.t);
    free(S.paid.t);
    free(S.all_sends.t);
    webhook_forget();
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    if (S.stopping)
        return;
    S.stopping = 1;
    /* close everything; uv_run returns once the handles are gone */
    while (S.conns)
        conn_close(S.conns);
    if (S.wh)
        webhook_done(S.wh, -1, "shutting down");
    uv_close((uv_handle_t *)&S.listener, NULL);
    uv_close((uv_handle_t *)&S.wh_retry, NULL);
    uv_close((uv_handle_t *)&S.sigint, NULL);
    uv_close((uv_handle_t *)&S.sigterm, NULL);
}

static long opt_long(const char *name, const char *v)
{
    char *e = NULL;
    long x = strtol(v, &e, 10);
    if (!*v || *e || x < 0) {
        fprintf(stderr, "fake_telegram: %s needs a number, not %s\n", name, v);
        exit(2);
    }
    return x;
}

static int parse_args(int argc, char **argv, int *port)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--html-lenient")) {
            S.html_strict = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "fake_telegram: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (!strcmp(a, "--port")) *port = (int)opt_long(a, v);
        else if (!strcmp(a, "--token")) S.token = v;
        else if (!strcmp(a, "--rate")) S.rate = opt_long(a, v);
        else if (!strcmp(a, "--paid-rate")) S.paid_rate = opt_long(a, v);
        else if (!strcmp(a, "--chat-burst")) S.chat_burst = opt_long(a, v);
        else if (!strcmp(a, "--group-per-min")) S.group_per_min = opt_long(a, v);
        else {
            fprintf(stderr, "usage: fake_telegram --port N [--token T] [--rate 30] [--paid-rate 1000] "
                            "[--chat-burst 3] [--group-per-min 20] [--html-lenient]\n");
            return -1;
        }
    }
    if (*port < 0 || *port > 65535) {
        fprintf(stderr, "fake_telegram: bad --port\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = -1;
    S.token = "123456:TEST-token";
    S.rate = 30;
    S.paid_rate = 1000;
    S.chat_burst = 3;
    S.group_per_min = 20;
    S.html_strict = 1;
    if (parse_args(argc, argv, &port) != 0)
        return 2;
    if (port < 0) {
        fprintf(stderr, "fake_telegram: --port N is required (0: any free port)\n");
        return 2;
    }
    S.bot_id = strtoll(S.token, NULL, 10);
    S.allowed = default_allowed();
    S.start_ns = uv_hrtime();
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&S.loop);
    uv_tcp_init(&S.loop, &S.listener);
    uv_timer_init(&S.loop, &S.wh_retry);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    int rc = uv_tcp_bind(&S.listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&S.listener, 511, on_connection);
    if (rc != 0) {
        fprintf(stderr, "fake_telegram: cannot listen on port %d: %s\n", port, uv_strerror(rc));
        return 1;
    }
    struct sockaddr_in bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&S.listener, (struct sockaddr *)&bound, &blen);
    printf("fake_telegram listening on port %d\n", ntohs(bound.sin_port));
    fflush(stdout);
    uv_signal_init(&S.loop, &S.sigint);
    uv_signal_start(&S.sigint, on_signal, SIGINT);
    uv_signal_init(&S.loop, &S.sigterm);
    uv_signal_start(&S.sigterm, on_signal, SIGTERM);
    uv_run(&S.loop, UV_RUN_DEFAULT);
    uv_loop_close(&S.loop);
    free_all();
    return 0;
}
