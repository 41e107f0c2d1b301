/* The delivery scheduler's insides, shared by its files (private to
 * core/tg/sched*.c):
 *
 *   sched.c        queueing, the outbox at start, activation, stats
 *   sched_pace.c   the heaps of chats, pacing within Telegram's limits, sending
 *   sched_retry.c  what an answer means: 429s, backoff, blocked chats
 *   sched_merge.c  alerts merged into one message
 *   sched_undo.c   replies taken back when their data was not saved
 *   sched_photo.c  photos: uploads, file_ids and their cache
 */
#ifndef CW_TG_SCHED_INT_H
#define CW_TG_SCHED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "loop/rt.h"
#include "metrics/hist.h"
#include "tg/api.h"
#include "tg/bucket.h"
#include "tg/sched.h"
#include "tg/window.h"
#include "util/i64map.h"

struct store;
struct store_outbox_row;
struct config;

#define MAX_INFLIGHT 64
#define REPLY_CREDIT_MS (3600 * 1000)
#define ALERT_CREDIT_MS_PER_POINT 6000
#define ALERT_CREDIT_MAX_MS (600 * 1000)
/* The windows guaranteed under Telegram's limits (docs/architecture.md, "Telegram"):
 * - all chats: at most rate - max(2, 2 %) sendMessage in any second (30:
 *   28), paced evenly by a bucket, so that jitter moving a send by a few
 *   tens of ms cannot put more than `rate` into Telegram's own second;
 * - a private chat: at most 3 in any 3 s (a burst of 3, then 1 a second);
 * - a group: at most 20 in any minute (a burst of 4, then 16 a minute).
 * A chat's windows are JITTER_MS longer than Telegram's: a send that
 * travels faster than the one 3 s before it still lands outside. */
#define JITTER_MS 200
#define CHAT_LIMIT 3
#define CHAT_SPAN_MS 3000
#define GROUP_LIMIT 20
#define GROUP_SPAN_MS 60000
#define SEND_TIMEOUT_MS 30000
/* An alert message waits this long for the other alerts of the same market
 * event (the timeframes of one move come in separate frames, a few ms
 * apart) so that they all go out as one message (docs/architecture.md, "Telegram"). */
#define GATHER_MS 50

struct msg {
    struct msg *next;
    int64_t id;                 /* outbox row (alerts: their parts have the rows) */
    int kind;
    char *method, *params, *text;   /* an alert message's text: made when sent (NULL) */
    size_t chars;               /* characters (code points) of text */
    int alerts;
    double priority;
    int64_t queued_ms;          /* wall clock, as stored */
    int64_t key;                /* smaller goes first (monotonic ms) */
    int attempts, plain;
    uint64_t first_fail_ms;
    uint64_t gather_ms;         /* a new alert message: not sent before (monotonic) */
    double origin;              /* replies: their update's arrival (hist_clock), or 0 */
    int64_t update_id;          /* and its id, for the log lines about this message */
    uint64_t batch;             /* the store batch its outbox row went into, or 0 */
    uint64_t sp;                /* and the handler's savepoint there, or 0 */
    struct part *parts;         /* an alert message's alerts, in order; NULL: a reply */
    int nparts;
    size_t capparts;
    struct photo *photo;        /* a sendPhoto's picture (text: its caption), or NULL */
};

/* A sendPhoto's picture (sched_photo.c). */
struct photo {
    unsigned char *bytes;       /* to upload, or NULL */
    size_t len;
    char *file_id;              /* to send by, or NULL */
    char *key;                  /* the cache's key, or NULL */
    int by_id;                  /* the send in flight went by file_id */
    tg_photo_cb on_sent;
    void *ud;
};

/* The file_ids of uploaded photos by key, the least recently used
 * replaced; an entry without a file_id is an upload under way (since). */
struct photo_key {
    char *key, *file_id;
    uint64_t used_ms, uploading_ms;
};

/* One alert inside an alert message, with its own outbox row: merging
 * writes one small row, not the whole message again. */
struct part {
    char *text, *heading;
    double priority;
    int group;
    int alerts;                 /* 1 (more: a row merged by an older version) */
    size_t chars, hchars;       /* characters of its text and of its heading */
    int64_t id;                 /* its outbox row, or 0 */
    uint64_t batch, sp;         /* the store batch and savepoint the row went into */
};

struct chat {
    struct tg_sched *s;
    int64_t id;
    struct msg *replies, *replies_tail, *alerts, *alerts_tail;
    struct swin win;            /* sends in the chat's window */
    struct bucket pace;         /* groups: spreads their 20 a minute */
    uint64_t eligible_ms;       /* not before: 429s and backoff */
    uint64_t last_send_ms, prev_send_ms;
    struct msg *sending;        /* the message in flight, the head of its kind's list */
    int inflight, inactive;
    int heap;                   /* 0 none, 1 ready, 2 waiting */
    size_t pos;
};

struct heap {
    struct chat **v;
    size_t n, cap;
    int which;                  /* 1 ready (by head key), 2 waiting (by eligible time) */
};

struct tg_sched {
    const struct rt *rt;
    const struct config *cfg;   /* telegram.rate, paid_broadcast, retry_deadline */
    struct store *store;        /* the outbox, or NULL */
    struct tg_api *api;
    tg_sched_call_fn call;      /* sends go through here (tg_sched_set_call) */
    void *call_ud;
    struct i64map chats;        /* chat id -> struct chat */
    struct heap ready, waiting;
    struct bucket global;       /* paces the sends evenly ... */
    struct swin global_win;     /* ... and bounds every second */
    uint64_t global_not_before;
    int promote_left;           /* chats the pump may still make ready this turn */
    int inflight, pumping;
    struct timer *timer;
    uint64_t timer_due;
    uint64_t rng;
    uint64_t last_429_log_ms;
    int fail_streak;            /* sends failed in a row (for /health), and the last why */
    int unauthorized;
    char last_fail[256];
    struct tg_sched_stats st;
    struct hist reply_latency;  /* an update's arrival to its reply's delivery */
    struct photo_key photo_keys[TG_PHOTO_KEYS];
    struct {                    /* chats whose next message waits for its batch's commit */
        struct chat **v;
        size_t n, cap;
    } held;
};

/* sched.c */
struct chat *sched_chat_find(struct tg_sched *s, int64_t id);
struct msg *sched_head(struct chat *c);
struct msg *sched_msg_new(int kind, const char *method, const char *params, const char *text);
void sched_msg_free(struct msg *m);
/* The monotonic key of a message queued at wall time queued_ms. */
int64_t sched_key_of(struct tg_sched *s, int kind, double priority, int64_t queued_ms);
/* Writes m to the outbox and queues it last of its kind; 0. */
int sched_enqueue(struct tg_sched *s, struct chat *c, struct msg *m);
/* A reply (or a message answering no update when from is NULL): stamped
 * with its time, key and origin, then queued; 0. */
int sched_enqueue_reply(struct tg_sched *s, struct chat *c, struct msg *m,
                        const struct tg_origin *from);
/* The chat to queue for, or NULL with *rc: -1 out of memory, -2 inactive. */
struct chat *sched_queue_for(struct tg_sched *s, int64_t chat, int *rc);
/* Takes the in-flight message out of its list (its head). */
struct msg *sched_pop_sending(struct chat *c);
/* Finished with (delivered or given up on): out of the outbox and memory. */
void sched_retire(struct tg_sched *s, struct msg *m);
void sched_drop_all(struct tg_sched *s, struct chat *c);

/* sched_pace.c */
void sched_hup(struct heap *h, size_t i);
void sched_unschedule(struct tg_sched *s, struct chat *c);
/* Puts a chat where it belongs now: ready, waiting, or nowhere. */
void sched_schedule(struct tg_sched *s, struct chat *c);
/* The pump runs at `due` (monotonic ms) at the latest. */
void sched_arm(struct tg_sched *s, uint64_t due);
void sched_pump(struct tg_sched *s);

/* sched_retry.c */
/* Telegram answered the chat's message in flight (a tg_api_cb; ud: chat). */
void sched_on_sent(void *ud, const struct tg_result *r);
/* The chat blocked us: its queue is dropped.  about: the message whose
 * answer said so (its update is named in the log), or NULL. */
void sched_deactivate(struct tg_sched *s, struct chat *c, const char *why,
                      const struct msg *about);

/* sched_photo.c */
void sched_photo_free(struct photo *p);
/* The photo's call: by file_id as a JSON body in *body, or an upload as
 * *parts (*nparts; the strings they point to in *keep, freed with
 * sched_photo_parts_free).  params: the message's, with chat_id and its
 * caption set.  -1: no memory. */
int sched_photo_call(struct tg_sched *s, struct msg *m, struct cJSON *params, char **body,
                     struct httpc_part **parts, int *nparts);
void sched_photo_parts_free(struct httpc_part *parts, int nparts);
/* Another chat's upload of the same key is under way: wait for its file_id. */
int sched_photo_waits(struct tg_sched *s, const struct msg *m, uint64_t now);
/* Telegram took the photo (r: its answer). */
void sched_photo_delivered(struct tg_sched *s, struct msg *m, const struct tg_result *r);
/* Its send failed (any way): an upload no longer holds the other chats back. */
void sched_photo_failed(struct tg_sched *s, struct msg *m);
/* Telegram refused it: 1 when it is tried again (a file_id refused: the
 * bytes instead), 0 when it is to be given up. */
int sched_photo_refused(struct tg_sched *s, struct msg *m, const struct tg_result *r);

/* sched_merge.c */
void sched_parts_free(struct part *v, int n);
/* The message's text: an alert message's made from its parts when a merge
 * changed them; NULL: no memory. */
const char *sched_msg_text(struct msg *m);
/* Writes the part's outbox row (failing: it still goes, from memory). */
void sched_part_store(struct tg_sched *s, struct chat *c, struct msg *m, struct part *p);
/* Its parts' rows written in batch (and savepoint sp, unless sp is 0) are
 * gone: the ids may be given again. */
void sched_parts_forget(struct msg *m, uint64_t batch, uint64_t sp);
/* An alert row from the outbox at start-up, merged into the chat's last
 * message as when it was queued: 0, or 1 with a new message in *out (to
 * queue), or -1 (no memory). */
int sched_alert_restore(struct tg_sched *s, struct chat *c, const struct store_outbox_row *r,
                        struct msg **out);

#endif
