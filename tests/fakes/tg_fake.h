/* The stand-in Telegram's insides, shared by its files (see fake_telegram.c
 * for what it does).  Test code only: nothing here is the bot's. */
#ifndef TG_FAKE_H
#define TG_FAKE_H

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

#include "fakeutil.h"
#include "tg_html.h"

#define MAX_HEADER (64 * 1024)
#define MAX_BODY (11 * 1024 * 1024)   /* a photo upload: up to 10 MB */
#define MAX_CAPTION 1024
#define MAX_PHOTO (10 * 1024 * 1024)
#define MAX_FILES 4
#define MAX_TEXT 4096
#define MAX_ANSWER_TEXT 200
#define CALLBACK_TTL_MS 15000
#define WEBHOOK_ATTEMPTS 10
#define WEBHOOK_TIMEOUT_MS 10000
#define MAX_FAULTS 16

/* Timestamps (ms) in a sliding window, oldest first (tg_flood.c). */
struct window {
    int64_t *t;
    size_t head, n, cap;
};

/* ---- state (defined in fake_telegram.c) ---- */

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
    char *file_id;          /* sendPhoto: the photo's */
    int uploaded;           /* and whether it came as a file (not a file_id) */
};

/* A file part of the multipart request being answered (tg_multipart.c):
 * pointers into the connection's buffer, valid during the call. */
struct upload {
    char name[64], filename[128], ctype[64];
    const char *data;
    size_t len;
};

/* A photo the stand-in took, by file_id (tg_photos.c). */
struct photo {
    char file_id[64], unique_id[32];
    unsigned char *data;
    size_t len;
    int width, height;
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

/* Everything the stand-in knows, one instance (fake_telegram.c). */
struct tg_state {
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
    /* the current request's files, and the photos taken */
    struct upload files[MAX_FILES];
    int nfiles;
    struct photo *photos;
    size_t nphotos, photos_cap;
    long photos_sent, uploads;
    /* sent log */
    struct sent *log;
    size_t nlog, log_cap;
    int64_t seq;
    /* stats */
    long requests, sent, edits, answers, deletes, r429, r403, r400, injected, chats_sent;
    long get_updates, conflicts, webhook_posts, webhook_rejected, duplicate_answers;
    long max_global_per_s, max_chat_per_s;
    int64_t first_send_ms, last_send_ms;
};
extern struct tg_state S;

/* One parsed HTTP request; the pointers are into the connection's buffer. */
struct req {
    char method[16];
    const char *path, *query, *ctype, *body;
    size_t path_len, query_len, ctype_len, body_len;
};

/* One Bot API call being answered: its connection and parameters. */
struct call {
    struct conn *c;
    cJSON *p;
    const char *method;
};

/* fake_telegram.c: the clock and start/stop */
int64_t now_ms(void);
int64_t unix_now(void);
char *xstrdup(const char *s);

/* tg_flood.c: flood-limit accounting */
void win_clear(struct window *w);
int64_t flood_wait(struct chat *ch, int paid, int64_t now);
void flood_take(struct chat *ch, int paid, int64_t now);

/* tg_chats.c: chats and messages, their JSON shapes */
uint64_t mix(uint64_t x);
struct chat *chat_find(int64_t id);
struct chat *chat_get(int64_t id);
const char *chat_kind(const struct chat *c);
struct msg *chat_msg(struct chat *c, int64_t id);
int64_t chat_add_msg(struct chat *c, int from_bot, int64_t from_id, struct tg_text *t, char *markup);
void chat_free(struct chat *c);
cJSON *bot_user_json(void);
cJSON *user_json(int64_t id, const char *first_name, const char *username);
cJSON *chat_json(const struct chat *c);
cJSON *message_json(const struct chat *c, int64_t id, const struct msg *m);

/* tg_http.c: HTTP/1.1 connections, requests and parameters */
const char *reason(int status);
void conn_close(struct conn *c);
void respond_as(struct conn *c, int status, const char *ctype, const char *body, int deferred);
void respond(struct conn *c, int status, const char *body, int deferred);
void respond_len(struct conn *c, int status, const char *ctype, const char *body, size_t n,
                 int deferred);
void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
void on_connection(uv_stream_t *server, int status);
cJSON *build_params(const struct req *q, int sniff, const char **err);
void set_param(cJSON *p, const char *key, cJSON *val);
int p_int(cJSON *p, const char *k, int64_t *out);
const char *p_str(cJSON *p, const char *k);
int p_bool(cJSON *p, const char *k);
cJSON *p_json(cJSON *p, const char *k, int *bad);

/* tg_methods.c: Bot API answers and the message methods */
void answer(struct call *k, int status, char *body);
char *error_body(int code, const char *description, int retry_after);
void fail(struct call *k, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void too_many(struct call *k, int retry_after);
void ok(struct call *k, cJSON *result, const char *description);
void sent_free(struct sent *s);
void m_get_me(struct call *k);
void m_send_message(struct call *k);
void m_edit_text(struct call *k);
void m_edit_markup(struct call *k);
void m_delete(struct call *k);
void m_answer_callback(struct call *k);
void m_set_commands(struct call *k);
void m_get_commands(struct call *k);
void m_delete_commands(struct call *k);
void m_get_chat_member(struct call *k);

struct sent *log_call(const char *method, int64_t chat, int64_t msg_id, const char *text,
                      const char *parse_mode, const char *markup, int paid, const char *query_id,
                      int show_alert);
int chat_refuses(struct call *k, struct chat *ch);
struct chat *param_chat(struct call *k);
int check_markup(struct call *k, char **keep, char **given);
int render_limit(struct call *k, const char *text, struct tg_text *t, size_t max,
                 const char *too_long);

/* tg_multipart.c: multipart/form-data bodies */
/* The fields into p (strings), the files into S.files; NULL or an error. */
const char *multipart_decode(cJSON *p, const struct req *q);

/* tg_photos.c: sendPhoto and the photos taken */
void m_send_photo(struct call *k);
const struct photo *photo_find(const char *file_id);
void photos_free(void);

/* tg_updates.c: updates, long polling and the webhook */
uint32_t default_allowed(void);
size_t pending_count(void);
void m_get_updates(struct call *k);
int64_t push_update(const char *type, cJSON *obj, int *dropped);
void webhook_done(struct webhook_post *w, int status, const char *why);
void webhook_forget(void);
void m_delete_webhook(struct call *k);
void m_set_webhook(struct call *k);
void m_webhook_info(struct call *k);

/* tg_api.c: the Bot API front: token, method table, injected faults */
void bot_api(struct conn *c, const struct req *q, const char *rest, size_t rest_len);

/* tg_control.c: the test-control interface and request routing */
void handle_request(struct conn *c, struct req *q);

#endif
