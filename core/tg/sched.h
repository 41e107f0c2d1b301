/* The delivery scheduler: every message to Telegram that belongs to a
 * chat goes through here.
 *
 * - Durable: a message is written to the outbox (SQLite) when queued and
 *   removed when Telegram accepts it; at start the outbox is loaded and
 *   delivered.  An alert is a row of its own (merging it writes that row,
 *   not the whole message again); at start a chat's alert rows are merged
 *   into messages again.  Only a message in flight when the process dies
 *   can be sent twice.
 * - Within limits, as sliding windows (sched_int.h): all chats together
 *   under telegram.rate in any second, a private chat at most 3 in any
 *   3 s, a group at most 20 in any minute.  Only sendMessage counts;
 *   edits and deletes keep their place in the chat's order but are free.
 * - In order per chat, one request per chat at a time; replies to a user
 *   go before alerts; across chats, the message with the smallest key goes
 *   first, where key = time queued - credit: a reply's credit is an hour,
 *   an alert's is 6 s per point of priority (capped at 10 minutes), so
 *   big moves go first and nothing waits forever.
 * - Coalescing: an alert for a chat whose alert message is still waiting
 *   is merged into it (up to 4,096 characters and 50 alerts).
 * - Failures: 429 waits exactly retry_after (for the chat, or for every
 *   chat when that chat was not sending fast); 5xx and network errors back
 *   off exponentially with jitter up to telegram.retry_deadline; 403 and
 *   "chat not found" mark the chat inactive and drop its queue until
 *   tg_sched_activate(); "not modified" is success; refused HTML is resent
 *   as plain text.
 *
 * Built from the runtime (clock, timers, log), the config (telegram.rate,
 * paid_broadcast, retry_deadline), the store (the outbox; NULL: none) and
 * the Bot API client.  Its files: sched_int.h.
 */
#ifndef CW_TG_SCHED_H
#define CW_TG_SCHED_H

#include <stdint.h>
#include <stddef.h>

#include "ops/health.h"
#include "tg/api.h"

struct rt;
struct config;
struct store;
struct tg_api;
struct tg_sched;
struct jsonw;

enum tg_kind { TG_REPLY = 0, TG_ALERT = 1 };

#define TG_TEXT_MAX 4096      /* characters in one message */
#define TG_MERGE_MAX 50       /* alerts merged into one message */

struct tg_sched_stats {
    long queued, sent, retried, rate_limited, failed, merged, dropped_inactive;
    long alerts_sent;         /* alerts inside sent messages */
    long retracted;           /* replies taken back: the data they spoke of was not saved */
    long depth;               /* messages waiting */
    long blocked_chats;       /* inactive chats */
    double oldest_s;          /* age of the oldest waiting message */
};

struct tg_sched *tg_sched_new(const struct rt *rt, const struct config *cfg, struct store *store,
                              struct tg_api *api);
void tg_sched_free(struct tg_sched *s);
/* How a send reaches Telegram: tg_api_call on the client given to
 * tg_sched_new, unless replaced (a unit test's fake Bot API).  Returns a
 * call id, 0 when cb already ran; cb must not run after the scheduler is
 * freed. */
typedef uint64_t (*tg_sched_call_fn)(void *ud, const char *method, const char *body,
                                     const struct httpc_part *parts, int nparts,
                                     long timeout_ms, tg_api_cb cb, void *cb_ud);
void tg_sched_set_call(struct tg_sched *s, tg_sched_call_fn fn, void *ud);

/* Where a reply comes from: the update it answers (0: none), for the log
 * lines about it and for taking it back; and when that update arrived
 * (hist_clock; 0: not timed), for the update-to-reply latency. */
struct tg_origin {
    int64_t update_id;
    double arrived;
};

/* Queues a call for a chat, in the reply class.  method: sendMessage,
 * editMessageText, editMessageReplyMarkup or deleteMessage; params: a JSON
 * object of every parameter but chat_id and text (NULL: {}).  0, or -1
 * (store failure), or -2 (the chat is inactive: nothing queued).
 * tg_sched_send: a message that answers no update. */
int tg_sched_reply(struct tg_sched *s, const struct tg_origin *from, int64_t chat,
                   const char *method, const char *params, const char *text);
int tg_sched_send(struct tg_sched *s, int64_t chat, const char *method, const char *params,
                  const char *text);
/* A photo (sendPhoto), paced, ordered and retried as a message.  Sent by
 * file_id when one is given or the cache knows `key`'s; else the bytes are
 * uploaded (multipart) and, once Telegram accepts them, the file_id it
 * gave (the largest size's) is remembered under `key` (the last
 * TG_PHOTO_KEYS keys).  A file_id Telegram refuses is forgotten and the
 * bytes, when there are some, uploaded instead.  Photos are not kept in
 * the outbox (they are made again on demand): a restart loses the unsent
 * ones.  The caption (HTML unless params drop parse_mode) is cut to
 * TG_CAPTION_MAX characters as shown, as plain text when cut.
 * on_sent, when set, runs once: with the file_id when delivered, with
 * NULL when given up on, taken back, or the scheduler freed first. */
#define TG_CAPTION_MAX 1024
#define TG_PHOTO_MAX (10u << 20)   /* bytes: Telegram's limit for an upload */
#define TG_PHOTO_KEYS 512
#define TG_PHOTO_KEY_MAX 128       /* bytes of a key */
typedef void (*tg_photo_cb)(void *ud, const char *file_id);
struct tg_photo {
    const void *bytes;              /* a PNG or JPEG (copied), or NULL */
    size_t len;
    const char *file_id;            /* or NULL */
    const char *key;                /* the cache's key, or NULL */
    const char *caption;            /* or NULL */
    const char *params;             /* JSON object: parse_mode, reply_markup...; NULL: {} */
    tg_photo_cb on_sent;
    void *ud;
};
/* Queues the photo for chat as a reply to `from` (may be NULL).  0, -1
 * (no memory), -2 (the chat is inactive), -3 (no bytes nor file_id, the
 * bytes not a PNG or JPEG, over TG_PHOTO_MAX, or the key too long); on
 * an error on_sent does not run. */
int tg_sched_photo(struct tg_sched *s, const struct tg_origin *from, int64_t chat,
                   const struct tg_photo *p);
/* The file_id remembered for key, or NULL. */
const char *tg_sched_photo_id(struct tg_sched *s, const char *key);

/* An alert to queue: HTML text; priority: bigger goes first; group: alerts
 * merged into one message are ordered by group (then bigger first), and
 * when a message holds more than one group each starts with its heading
 * (HTML, may be NULL).  Group 0: none. */
struct tg_alert {
    const char *text;
    double priority;
    int group;
    const char *heading;
};

/* Queues an alert, merging it into the chat's waiting alert message when
 * there is room.  0 queued, 1 merged, -1 failure, -2 inactive. */
int tg_sched_alert(struct tg_sched *s, int64_t chat, const struct tg_alert *a);

/* Store batch `batch` ended (store_on_end).  Messages wait for their
 * batch's commit; when it is lost instead, they are sent from memory, but
 * if it held a user's data the replies about it are taken back and their
 * chats told it was not saved. */
void tg_sched_batch_end(struct tg_sched *s, uint64_t batch, int ok, int user_data);
/* Takes back update_id's unsent replies in chat (the handler's data was
 * not saved) and tells the chat so instead. */
void tg_sched_retract(struct tg_sched *s, int64_t chat, int64_t update_id);

/* A failed handler's savepoint `sp` of batch `batch` was rolled back
 * (store_on_undo): the messages it queued meanwhile are taken back. */
void tg_sched_undo(struct tg_sched *s, uint64_t batch, uint64_t sp);
/* A failed handler of update_id: its unsent replies in chat (those queued
 * before a wait too) are taken back, without a word (it apologises). */
void tg_sched_take_back(struct tg_sched *s, int64_t chat, int64_t update_id);

/* The user came back (/start): alerts flow again. */
void tg_sched_activate(struct tg_sched *s, int64_t chat);
/* The chat left us (kicked, blocked): as a 403 would. */
void tg_sched_deactivate(struct tg_sched *s, int64_t chat, const char *why);
int tg_sched_active(struct tg_sched *s, int64_t chat);

void tg_sched_stats(struct tg_sched *s, struct tg_sched_stats *out);
/* How long every send waits for Telegram's flood control (ms), or 0. */
uint64_t tg_sched_paused_ms(struct tg_sched *s);
/* Telegram's side of /health: degraded while flood control pauses every
 * send or the last sends kept failing, failing while the token is refused;
 * reason says why. */
enum health_status tg_sched_health(struct tg_sched *s, char *reason, size_t len);
/* Messages waiting, in flight included. */
long tg_sched_pending(struct tg_sched *s);
/* Whether an alert message waits (or is in flight) for chat: what must go
 * before a picture that follows it. */
int tg_sched_alerts_waiting(struct tg_sched *s, int64_t chat);
struct prom;
/* The scheduler's and the Bot API client's metrics. */
void tg_sched_metrics(struct tg_sched *s, struct prom *p);
/* Writes the stats as fields of an open JSON object. */
void tg_sched_stats_json(struct tg_sched *s, struct jsonw *w);

#endif
