#include "tg/sched.h"

#include "metrics/prom.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "store/store.h"
#include "tg/api.h"
#include "tg/bucket.h"
#include "tg/text.h"
#include "tg/window.h"
#include "util/i64map.h"
#include "util/jsonw.h"

#define MAX_INFLIGHT 64
#define REPLY_CREDIT_MS (3600 * 1000)
#define ALERT_CREDIT_MS_PER_POINT 6000
#define ALERT_CREDIT_MAX_MS (600 * 1000)
/* The windows guaranteed under Telegram's limits (README, "Delivery"):
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
 * apart) so that they all go out as one message (README). */
#define GATHER_MS 50

struct msg {
    struct msg *next;
    int64_t id;                 /* outbox row */
    int kind;
    char *method, *params, *text;
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
    struct part *parts;         /* a merged alert's pieces, in order; NULL */
    int nparts;                 /* (restored from the outbox: NULL, not merged into) */
};

/* One alert inside an alert message. */
struct part {
    char *text, *heading;
    double priority;
    int group;
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
    struct app *app;
    struct tg_api *api;
    struct i64map chats;        /* chat id -> struct chat */
    struct heap ready, waiting;
    struct bucket global;       /* paces the sends evenly ... */
    struct swin global_win;     /* ... and bounds every second */
    uint64_t global_not_before;
    int inflight, pumping;
    struct timer *timer;
    uint64_t timer_due;
    uint64_t rng;
    uint64_t last_429_log_ms;
    int fail_streak;            /* sends failed in a row (for /health), and the last why */
    int unauthorized;
    char last_fail[256];
    struct tg_sched_stats st;
    double origin;              /* the update being handled arrived then (hist_clock), or 0 */
    int64_t origin_update;      /* and its id */
    struct hist reply_latency;  /* an update's arrival to its reply's delivery */
    struct {                    /* chats whose next message waits for its batch's commit */
        struct chat **v;
        size_t n, cap;
    } held;
};

static void pump(struct tg_sched *s);

/* ---- chats ---- */

static struct chat *chat_find(struct tg_sched *s, int64_t id)
{
    return i64map_get(&s->chats, id);
}

static struct chat *chat_get(struct tg_sched *s, int64_t id)
{
    struct chat *c = chat_find(s, id);
    if (c)
        return c;
    if (!(c = calloc(1, sizeof *c)))
        return NULL;
    int rc = id < 0 ? swin_init(&c->win, GROUP_LIMIT, GROUP_SPAN_MS + JITTER_MS)
                    : swin_init(&c->win, CHAT_LIMIT, CHAT_SPAN_MS + JITTER_MS);
    if (rc != 0 || i64map_put(&s->chats, id, c) != 0) {
        swin_free(&c->win);
        free(c);
        return NULL;
    }
    c->s = s;
    c->id = id;
    if (id < 0)
        bucket_init(&c->pace, 16.0 / 60.0, 4, app_now_ms(s->app));
    return c;
}

static struct msg *head(struct chat *c)
{
    return c->replies ? c->replies : c->alerts;
}

/* ---- heaps of chats ---- */

static int64_t hkey(const struct heap *h, const struct chat *c)
{
    return h->which == 1 ? head((struct chat *)c)->key : (int64_t)c->eligible_ms;
}

static void hswap(struct heap *h, size_t a, size_t b)
{
    struct chat *t = h->v[a];
    h->v[a] = h->v[b];
    h->v[b] = t;
    h->v[a]->pos = a;
    h->v[b]->pos = b;
}

static void hup(struct heap *h, size_t i)
{
    while (i > 0 && hkey(h, h->v[(i - 1) / 2]) > hkey(h, h->v[i])) {
        hswap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void hdown(struct heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && hkey(h, h->v[l]) < hkey(h, h->v[m]))
            m = l;
        if (r < h->n && hkey(h, h->v[r]) < hkey(h, h->v[m]))
            m = r;
        if (m == i)
            return;
        hswap(h, i, m);
        i = m;
    }
}

static int hpush(struct heap *h, struct chat *c)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        struct chat **v = realloc(h->v, sizeof *v * cap);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    c->heap = h->which;
    c->pos = h->n;
    h->v[h->n++] = c;
    hup(h, c->pos);
    return 0;
}

static void hremove(struct heap *h, struct chat *c)
{
    size_t i = c->pos;
    c->heap = 0;
    if (--h->n == i)
        return;
    h->v[i] = h->v[h->n];
    h->v[i]->pos = i;
    hup(h, i);
    hdown(h, h->v[i]->pos);
}

static void unschedule(struct tg_sched *s, struct chat *c)
{
    if (c->heap == 1)
        hremove(&s->ready, c);
    else if (c->heap == 2)
        hremove(&s->waiting, c);
}

/* Puts a chat where it belongs now: ready, waiting, or nowhere. */
static void schedule(struct tg_sched *s, struct chat *c)
{
    unschedule(s, c);
    if (c->inflight || c->inactive || !head(c))
        return;
    if (c->eligible_ms > app_now_ms(s->app))
        hpush(&s->waiting, c);
    else
        hpush(&s->ready, c);
}

/* ---- messages ---- */

static void parts_free(struct part *v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i].text);
        free(v[i].heading);
    }
    free(v);
}

static void msg_free(struct msg *m)
{
    parts_free(m->parts, m->nparts);
    free(m->method);
    free(m->params);
    free(m->text);
    free(m);
}

static int64_t credit_ms(int kind, double priority)
{
    if (kind == TG_REPLY)
        return REPLY_CREDIT_MS;
    double c = priority > 0 ? priority * ALERT_CREDIT_MS_PER_POINT : 0;
    return (int64_t)(c > ALERT_CREDIT_MAX_MS ? ALERT_CREDIT_MAX_MS : c);
}

/* The monotonic key of a message queued at wall time queued_ms. */
static int64_t key_of(struct tg_sched *s, int kind, double priority, int64_t queued_ms)
{
    int64_t age = app_wall_ms(s->app) - queued_ms;
    return (int64_t)app_now_ms(s->app) - (age > 0 ? age : 0) - credit_ms(kind, priority);
}

static struct msg *msg_new(int kind, const char *method, const char *params, const char *text)
{
    struct msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->kind = kind;
    m->method = strdup(method);
    m->params = strdup(params && *params ? params : "{}");
    m->text = strdup(text ? text : "");
    if (!m->method || !m->params || !m->text) {
        msg_free(m);
        return NULL;
    }
    m->chars = tg_text_chars(m->text);
    m->alerts = kind == TG_ALERT;
    return m;
}

static void append(struct chat *c, struct msg *m)
{
    struct msg **h = m->kind == TG_REPLY ? &c->replies : &c->alerts;
    struct msg **t = m->kind == TG_REPLY ? &c->replies_tail : &c->alerts_tail;
    m->next = NULL;
    if (*t)
        (*t)->next = m;
    else
        *h = m;
    *t = m;
}

/* Takes the in-flight message out of its list (it is that list's head:
 * messages of a kind are sent in order, and later ones are appended). */
static struct msg *pop_sending(struct chat *c)
{
    struct msg *m = c->sending;
    c->sending = NULL;
    if (m->kind == TG_REPLY) {
        if (!(c->replies = m->next))
            c->replies_tail = NULL;
    } else if (!(c->alerts = m->next)) {
        c->alerts_tail = NULL;
    }
    return m;
}

static struct msg *pop_head(struct chat *c)
{
    struct msg *m;
    if (c->replies) {
        m = c->replies;
        if (!(c->replies = m->next))
            c->replies_tail = NULL;
    } else {
        m = c->alerts;
        if (m && !(c->alerts = m->next))
            c->alerts_tail = NULL;
    }
    return m;
}

/* The message is finished with (delivered or given up on): out of the
 * outbox and out of memory. */
static void retire(struct tg_sched *s, struct msg *m)
{
    if (m->id && s->app->store)
        store_outbox_remove(s->app->store, m->id);
    msg_free(m);
}

static void drop_all(struct tg_sched *s, struct chat *c)
{
    struct msg *m;
    while ((m = pop_head(c))) {
        s->st.dropped_inactive++;
        retire(s, m);
    }
}

/* ---- sending ---- */

static uint64_t rnd(struct tg_sched *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static int spends_token(const struct msg *m)
{
    return strcmp(m->method, "sendMessage") == 0;
}

/* {"chat_id":..,"text":..,<params>}: params without parse_mode when the
 * HTML was refused, with allow_paid_broadcast in paid mode. */
static char *build_body(struct tg_sched *s, const struct chat *c, const struct msg *m)
{
    cJSON *p = cJSON_Parse(m->params);
    if (!cJSON_IsObject(p)) {
        cJSON_Delete(p);
        p = cJSON_CreateObject();
    }
    cJSON_DeleteItemFromObjectCaseSensitive(p, "chat_id");
    cJSON_DeleteItemFromObjectCaseSensitive(p, "text");
    cJSON_AddNumberToObject(p, "chat_id", (double)c->id);
    if (strcmp(m->method, "deleteMessage") != 0 &&
        strcmp(m->method, "editMessageReplyMarkup") != 0) {
        char *plain = m->plain ? tg_text_plain(m->text) : NULL;
        cJSON_AddStringToObject(p, "text", plain ? plain : m->text);
        free(plain);
    }
    if (m->plain)
        cJSON_DeleteItemFromObjectCaseSensitive(p, "parse_mode");
    if (s->app->cfg.telegram.paid_broadcast && spends_token(m) &&
        !cJSON_GetObjectItemCaseSensitive(p, "allow_paid_broadcast"))
        cJSON_AddTrueToObject(p, "allow_paid_broadcast");
    char *body = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    return body;
}

static void on_sent(void *ud, const struct tg_result *r);

static void send_head(struct tg_sched *s, struct chat *c)
{
    struct msg *m = head(c);
    char *body = build_body(s, c, m);
    c->sending = m;
    c->inflight = 1;
    s->inflight++;
    c->prev_send_ms = c->last_send_ms;
    c->last_send_ms = app_now_ms(s->app);
    if (!body) {
        struct tg_result r = {.outcome = TG_TRANSIENT};
        snprintf(r.description, sizeof r.description, "out of memory");
        on_sent(c, &r);
        return;
    }
    tg_api_call(s->api, m->method, body, SEND_TIMEOUT_MS, on_sent, c);
    free(body);
}

static void deactivate(struct tg_sched *s, struct chat *c, const char *why)
{
    if (!c->inactive) {
        c->inactive = 1;
        s->st.blocked_chats++;
        if (s->app->store)
            store_chat_set_active(s->app->store, c->id, 0, app_wall_ms(s->app));
        log_info(&s->app->log, "telegram", "chat %lld is inactive (%s): its alerts stop until "
                 "/start", (long long)c->id, why);
    }
    unschedule(s, c);
    if (!c->inflight)
        drop_all(s, c);
}

static void drop_sent(struct tg_sched *s, struct chat *c, const char *why,
                      const struct tg_result *r)
{
    struct msg *m = pop_sending(c);
    s->st.failed++;
    log_warn(&s->app->log, "telegram", "%s to chat %lld given up (%s): %s", m->method,
             (long long)c->id, why, r->description);
    retire(s, m);
}

static void on_sent(void *ud, const struct tg_result *r)
{
    struct chat *c = ud;
    struct tg_sched *s = c->s;
    struct msg *m = c->sending;
    uint64_t now = app_now_ms(s->app);
    c->inflight = 0;
    s->inflight--;
    int64_t outer = s->app->log.update_id;   /* log lines about it name its update */
    s->app->log.update_id = m->update_id;
    int failed = r->outcome == TG_RETRY_AFTER || r->outcome == TG_TRANSIENT ||
                 r->outcome == TG_CONFLICT || r->outcome == TG_UNAUTHORIZED;
    s->fail_streak = failed ? s->fail_streak + 1 : 0;
    s->unauthorized = r->outcome == TG_UNAUTHORIZED;
    if (failed)
        snprintf(s->last_fail, sizeof s->last_fail, "%s", r->description);
    switch (r->outcome) {
    case TG_OK:
    case TG_NOT_MODIFIED:   /* the message already says this */
        pop_sending(c);
        s->st.sent++;
        if (m->kind == TG_ALERT)
            s->st.alerts_sent += m->alerts;
        if (m->origin > 0)
            hist_observe(&s->reply_latency, hist_clock() - m->origin);
        retire(s, m);
        break;
    case TG_RETRY_AFTER: {
        /* capped: a garbled huge value must not silence the bot for years */
        uint64_t wait = (uint64_t)(r->retry_after < 3600 ? r->retry_after : 3600) * 1000;
        s->st.rate_limited++;
        s->st.retried++;
        c->eligible_ms = now + wait;
        /* A private chat that had not sent within the last second cannot
         * have flooded itself: the limit hit is the bot's, for every chat.
         * (Groups are paced seconds apart anyway: theirs is their own.) */
        int global = c->id > 0 &&
                     (c->prev_send_ms == 0 || c->last_send_ms - c->prev_send_ms >= 1000);
        if (global && now + wait > s->global_not_before)
            s->global_not_before = now + wait;
        if (now - s->last_429_log_ms >= 10000 || !s->last_429_log_ms) {
            s->last_429_log_ms = now;
            log_warn(&s->app->log, "telegram", "429 from Telegram: waiting %ld s for %s "
                     "(%ld 429s so far)", r->retry_after, global ? "every chat" : "one chat",
                     s->st.rate_limited);
        }
        break;
    }
    case TG_TRANSIENT:
    case TG_CONFLICT:
        s->st.retried++;
        if (!m->first_fail_ms)
            m->first_fail_ms = now;
        if (now - m->first_fail_ms > (uint64_t)(s->app->cfg.telegram.retry_deadline * 1000)) {
            drop_sent(s, c, "retried past telegram.retry_deadline", r);
            break;
        }
        {
            int shift = m->attempts < 9 ? m->attempts : 9;
            uint64_t base = 1000ull << shift;   /* 1 s, 2 s, ... about 8.5 min */
            m->attempts++;
            c->eligible_ms = now + base / 2 + rnd(s) % (base + 1);
        }
        break;
    case TG_GONE:
        deactivate(s, c, r->description);
        break;
    case TG_PARSE_ERROR:
        if (!m->plain) {   /* the alert still goes out, without formatting */
            m->plain = 1;
            log_warn(&s->app->log, "telegram", "chat %lld: Telegram refused the HTML (%s); "
                     "sending it as plain text", (long long)c->id, r->description);
            break;
        }
        drop_sent(s, c, "refused", r);
        break;
    case TG_BAD_REQUEST:
    case TG_OUTCOME_COUNT:
        drop_sent(s, c, "refused", r);
        break;
    case TG_UNAUTHORIZED:
        s->st.retried++;
        s->global_not_before = now + 60000;
        log_error(&s->app->log, "telegram", "Telegram refused the bot token (%s); sends pause "
                  "for a minute", r->description);
        break;
    }
    s->app->log.update_id = outer;
    c->sending = NULL;   /* (kept: it waits at the head of its list) */
    if (c->inactive)
        drop_all(s, c);
    schedule(s, c);
    if (!s->pumping)   /* a call refused at once lands here from inside pump */
        pump(s);
}

static void pump_due(void *ud)
{
    struct tg_sched *s = ud;
    s->timer = NULL;
    pump(s);
}

static void arm(struct tg_sched *s, uint64_t due)
{
    if (s->timer && s->timer_due <= due)
        return;
    if (s->timer)
        timers_cancel(&s->app->timers, s->timer);
    s->timer_due = due;
    s->timer = timers_add(&s->app->timers, due, pump_due, s);
}

/* Sent only once its batch is committed: a message must not tell a user of
 * something the database may yet lose. */
static int uncommitted(struct tg_sched *s, const struct msg *m)
{
    return m->batch && s->app->store && m->batch == store_batch_id(s->app->store);
}

static void hold(struct tg_sched *s, struct chat *c)
{
    if (s->held.n == s->held.cap) {
        size_t cap = s->held.cap ? s->held.cap * 2 : 16;
        struct chat **v = realloc(s->held.v, sizeof *v * cap);
        if (!v) {   /* out of memory: looked at again shortly (not now: pump would spin) */
            c->eligible_ms = app_now_ms(s->app) + 10;
            hpush(&s->waiting, c);
            return;
        }
        s->held.v = v;
        s->held.cap = cap;
    }
    s->held.v[s->held.n++] = c;
}

static void pump(struct tg_sched *s)
{
    s->pumping = 1;
    uint64_t now = app_now_ms(s->app);
    while (s->waiting.n && s->waiting.v[0]->eligible_ms <= now) {
        struct chat *c = s->waiting.v[0];
        hremove(&s->waiting, c);
        hpush(&s->ready, c);
    }
    while (s->ready.n && s->inflight < MAX_INFLIGHT) {
        if (s->global_not_before > now) {
            arm(s, s->global_not_before);
            break;
        }
        struct chat *c = s->ready.v[0];
        if (head(c)->gather_ms > now) {   /* more alerts may join it */
            hremove(&s->ready, c);
            c->eligible_ms = head(c)->gather_ms;
            hpush(&s->waiting, c);
            continue;
        }
        if (uncommitted(s, head(c))) {
            hremove(&s->ready, c);
            hold(s, c);
            continue;
        }
        if (spends_token(head(c))) {
            uint64_t cw = swin_wait_ms(&c->win, now);
            if (!cw && c->id < 0)
                cw = bucket_wait_ms(&c->pace, now);
            if (cw) {
                hremove(&s->ready, c);
                c->eligible_ms = now + cw;
                hpush(&s->waiting, c);
                continue;
            }
            uint64_t gw = swin_wait_ms(&s->global_win, now);
            if (!gw)
                gw = bucket_wait_ms(&s->global, now);
            if (gw) {
                arm(s, now + gw);
                break;
            }
            swin_note(&c->win, now);
            if (c->id < 0)
                bucket_take(&c->pace, now);
            swin_note(&s->global_win, now);
            bucket_take(&s->global, now);
        }
        hremove(&s->ready, c);
        send_head(s, c);
    }
    if (s->waiting.n)
        arm(s, s->waiting.v[0]->eligible_ms);
    s->pumping = 0;
}

/* ---- queueing ---- */

static int enqueue(struct tg_sched *s, struct chat *c, struct msg *m)
{
    if (s->app->store) {
        struct store_outbox_row row = {.chat_id = c->id, .kind = m->kind, .method = m->method,
                                       .params = m->params, .text = m->text,
                                       .alerts = m->alerts, .priority = m->priority,
                                       .queued_ms = m->queued_ms};
        /* When the database fails the message still goes, from memory:
         * a full disk must not silence the bot. */
        if (store_outbox_add(s->app->store, &row) == 0)
            m->id = row.id;
        m->batch = store_batch_id(s->app->store);
        m->sp = store_savepoint_id(s->app->store);
    }
    append(c, m);
    s->st.queued++;
    if (!c->inflight)
        schedule(s, c);
    /* sends start on the next loop turn: alerts a handler queues together
     * are merged first */
    arm(s, app_now_ms(s->app));
    return 0;
}

/* The chat to queue for, or NULL with *rc: -1 out of memory, -2 inactive. */
static struct chat *queue_for(struct tg_sched *s, int64_t chat, int *rc)
{
    struct chat *c = chat_get(s, chat);
    *rc = -1;
    if (c && c->inactive) {
        s->st.dropped_inactive++;
        *rc = -2;
        return NULL;
    }
    return c;
}

int tg_sched_send(struct tg_sched *s, int64_t chat, const char *method, const char *params,
                  const char *text)
{
    int rc;
    struct chat *c = queue_for(s, chat, &rc);
    if (!c)
        return rc;
    struct msg *m = msg_new(TG_REPLY, method, params, text);
    if (!m)
        return -1;
    m->queued_ms = app_wall_ms(s->app);
    m->key = key_of(s, TG_REPLY, 0, m->queued_ms);
    m->origin = s->origin;
    m->update_id = s->origin_update;
    return enqueue(s, c, m);
}

static const char alert_params[] = "{\"parse_mode\":\"HTML\",\"link_preview_options\":"
                                   "{\"is_disabled\":true}}";

/* An alert message's text from its parts: "\n\n" between alerts, and
 * each group's heading when there is more than one group. */
static char *parts_text(const struct part *v, int n)
{
    int groups = 1;
    size_t len = 1;
    for (int i = 0; i < n; i++) {
        groups += i && v[i].group != v[i - 1].group;
        len += strlen(v[i].text) + 2 + (v[i].heading ? strlen(v[i].heading) + 1 : 0);
    }
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (i)
            p = stpcpy(p, "\n\n");
        if (groups > 1 && v[i].heading && (!i || v[i].group != v[i - 1].group))
            p = stpcpy(stpcpy(p, v[i].heading), "\n");
        p = stpcpy(p, v[i].text);
    }
    *p = 0;
    return out;
}

static void part_remove(struct msg *t, int at)
{
    free(t->parts[at].text);
    free(t->parts[at].heading);
    memmove(t->parts + at, t->parts + at + 1, sizeof *t->parts * (size_t)(--t->nparts - at));
}

/* The part for a, placed in t's parts (by group, then bigger first) at
 * *pos; the new text, or NULL when it does not fit in one message (or no
 * memory). */
static char *merge_part(struct msg *t, const struct tg_alert *a, size_t *chars, int *pos)
{
    struct part *v = realloc(t->parts, sizeof *v * (size_t)(t->nparts + 1));
    if (!v)
        return NULL;
    t->parts = v;
    int at = t->nparts;
    while (at > 0 && (v[at - 1].group > a->group ||
                      (v[at - 1].group == a->group && v[at - 1].priority < a->priority)))
        at--;
    struct part np = {strdup(a->text), a->heading ? strdup(a->heading) : NULL, a->priority,
                      a->group};
    if (!np.text || (a->heading && !np.heading)) {
        free(np.text);
        free(np.heading);
        return NULL;
    }
    memmove(v + at + 1, v + at, sizeof *v * (size_t)(t->nparts - at));
    v[at] = np;
    t->nparts++;
    *pos = at;
    char *text = parts_text(v, t->nparts);
    /* (one alert alone goes as it is, however long) */
    if (text && ((*chars = tg_text_chars(text)) <= TG_TEXT_MAX || t->nparts == 1))
        return text;
    free(text);   /* too long: the part comes out again */
    part_remove(t, at);
    return NULL;
}

int tg_sched_alert(struct tg_sched *s, int64_t chat, const struct tg_alert *a)
{
    struct tg_alert one = *a;
    double priority = one.priority = a->priority >= 0 ? a->priority : 0;   /* NaN: the lowest */
    int rc;
    struct chat *c = queue_for(s, chat, &rc);
    if (!c)
        return rc;
    struct msg *t = c->alerts_tail;
    size_t chars;
    int at;
    char *merged;
    /* merge into the alert message still waiting (not the one in flight) */
    if (t && t != c->sending && t->parts && t->alerts < TG_MERGE_MAX &&
        (merged = merge_part(t, &one, &chars, &at))) {
        if (s->app->store && t->id)   /* (failing: the alert still goes, from memory) */
            store_outbox_set_text(s->app->store, t->id, merged, t->alerts + 1);
        free(t->text);
        t->text = merged;
        t->chars = chars;
        t->alerts++;
        s->st.merged++;
        if (priority > t->priority) {
            t->priority = priority;
            int64_t k = key_of(s, TG_ALERT, priority, t->queued_ms);
            if (k < t->key) {
                t->key = k;
                if (c->heap == 1 && head(c) == t)
                    hup(&s->ready, c->pos);
            }
        }
        return 1;
    }
    struct msg *m = msg_new(TG_ALERT, "sendMessage", alert_params, "");
    char *text = m ? merge_part(m, &one, &chars, &at) : NULL;
    if (!text) {
        if (m)
            msg_free(m);
        return -1;
    }
    free(m->text);
    m->text = text;
    m->chars = chars;
    m->priority = priority;
    m->queued_ms = app_wall_ms(s->app);
    m->key = key_of(s, TG_ALERT, priority, m->queued_ms);
    m->gather_ms = app_now_ms(s->app) + GATHER_MS;
    return enqueue(s, c, m);
}

void tg_sched_activate(struct tg_sched *s, int64_t chat)
{
    struct chat *c = chat_find(s, chat);
    if (!c || !c->inactive)
        return;
    c->inactive = 0;
    s->st.blocked_chats--;
    if (s->app->store)
        store_chat_set_active(s->app->store, chat, 1, app_wall_ms(s->app));
    log_info(&s->app->log, "telegram", "chat %lld is active again", (long long)chat);
}

void tg_sched_deactivate(struct tg_sched *s, int64_t chat, const char *why)
{
    struct chat *c = chat_get(s, chat);
    if (c)
        deactivate(s, c, why);
}

int tg_sched_active(struct tg_sched *s, int64_t chat)
{
    struct chat *c = chat_find(s, chat);
    return !c || !c->inactive;
}

/* ---- when the database loses a batch ---- */

static const char not_saved[] =
    "⚠️ That did not go through: the bot could not save it, as its database is failing. "
    "Nothing was changed; please try again in a few minutes.";

/* Takes the unsent replies that match out of the chat's queue; how many. */
static int take_replies(struct tg_sched *s, struct chat *c, uint64_t batch, int64_t update_id)
{
    int n = 0;
    struct msg **pp = &c->replies, *prev = NULL;
    while (*pp) {
        struct msg *m = *pp;
        if (m != c->sending && (batch ? m->batch == batch : m->update_id == update_id)) {
            *pp = m->next;
            if (c->replies_tail == m)
                c->replies_tail = prev;
            retire(s, m);   /* (a row from an earlier batch must not be sent after a restart) */
            n++;
        } else {
            prev = m;
            pp = &m->next;
        }
    }
    return n;
}

/* Takes the messages a failed handler queued out of one of the chat's
 * lists (k 0: replies, 1: alerts); their outbox rows were rolled back. */
static int take_undone(struct tg_sched *s, struct chat *c, int k, uint64_t batch, uint64_t sp)
{
    int n = 0;
    struct msg **pp = k ? &c->alerts : &c->replies, *prev = NULL;
    struct msg **tail = k ? &c->alerts_tail : &c->replies_tail;
    while (*pp) {
        struct msg *m = *pp;
        if (m != c->sending && m->batch == batch && m->sp == sp) {
            *pp = m->next;
            if (*tail == m)
                *tail = prev;
            m->id = 0;   /* (its row is gone; the id may be given again) */
            retire(s, m);
            n++;
        } else {
            prev = m;
            pp = &m->next;
        }
    }
    return n;
}

void tg_sched_undo(struct tg_sched *s, uint64_t batch, uint64_t sp)
{
    for (size_t i = 0; i < s->chats.cap; i++) {
        struct chat *c = s->chats.vals[i];
        if (c && (take_undone(s, c, 0, batch, sp) + take_undone(s, c, 1, batch, sp))) {
            s->st.retracted++;
            schedule(s, c);   /* (its head may have changed) */
        }
    }
}

void tg_sched_take_back(struct tg_sched *s, int64_t chat, int64_t update_id)
{
    struct chat *c = update_id ? chat_find(s, chat) : NULL;   /* (0: no update) */
    if (c && take_replies(s, c, 0, update_id)) {
        s->st.retracted++;
        schedule(s, c);
    }
}

/* The chat's replies were taken back: it hears why, instead. */
static void tell_not_saved(struct tg_sched *s, struct chat *c, int64_t update_id)
{
    struct msg *m = msg_new(TG_REPLY, "sendMessage", NULL, not_saved);
    if (m) {
        m->queued_ms = app_wall_ms(s->app);
        m->key = key_of(s, TG_REPLY, 0, m->queued_ms);
        m->update_id = update_id;
        enqueue(s, c, m);
    }
    schedule(s, c);
}

void tg_sched_retract(struct tg_sched *s, int64_t chat, int64_t update_id)
{
    struct chat *c = chat_find(s, chat);
    if (c && take_replies(s, c, 0, update_id)) {
        s->st.retracted++;
        tell_not_saved(s, c, update_id);
    }
}

void tg_sched_batch_end(struct tg_sched *s, uint64_t batch, int ok, int user_data)
{
    if (!ok) {
        for (size_t i = 0; i < s->chats.cap; i++) {
            struct chat *c = s->chats.vals[i];
            if (!c)
                continue;
            /* Their outbox rows are gone and the ids may be given again:
             * these messages now live in memory only. */
            for (int k = 0; k < 2; k++)
                for (struct msg *m = k ? c->alerts : c->replies; m; m = m->next)
                    if (m->batch == batch)
                        m->id = 0;
            /* What the replies say was about data that is gone. */
            if (user_data && take_replies(s, c, batch, 0)) {
                s->st.retracted++;
                tell_not_saved(s, c, 0);
            }
        }
    }
    if (!s->held.n)
        return;
    for (size_t i = 0; i < s->held.n; i++)
        schedule(s, s->held.v[i]);
    s->held.n = 0;
    arm(s, app_now_ms(s->app));
}

/* ---- start and stop ---- */

static int load_row(void *ud, const struct store_outbox_row *r)
{
    struct tg_sched *s = ud;
    struct chat *c = chat_get(s, r->chat_id);
    struct msg *m = c ? msg_new(r->kind == TG_ALERT ? TG_ALERT : TG_REPLY, r->method, r->params,
                                r->text)
                      : NULL;
    if (!m)
        return 1;
    m->id = r->id;
    m->alerts = r->alerts;
    m->priority = r->priority;
    m->queued_ms = r->queued_ms;
    m->key = key_of(s, m->kind, m->priority, m->queued_ms);
    append(c, m);
    return 0;
}

static int load_inactive(void *ud, int64_t chat)
{
    struct tg_sched *s = ud;
    struct chat *c = chat_get(s, chat);
    if (!c)
        return 1;
    c->inactive = 1;
    s->st.blocked_chats++;
    return 0;
}

struct tg_sched *tg_sched_new(struct app *app, struct tg_api *api)
{
    struct tg_sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->app = app;
    s->api = api;
    s->ready.which = 1;
    s->waiting.which = 2;
    s->rng = (uint64_t)app_wall_ms(app) | 1;
    double rate = app->cfg.telegram.rate > 0 ? app->cfg.telegram.rate
                  : app->cfg.telegram.paid_broadcast ? 1000 : 30;
    double margin = rate * 0.02 > 2 ? rate * 0.02 : 2;
    int per_s = rate - margin >= 1 ? (int)(rate - margin) : 1;
    bucket_init(&s->global, per_s, 1, app_now_ms(app));
    if (swin_init(&s->global_win, per_s, 1000) != 0) {
        free(s);
        return NULL;
    }
    long pending = 0;
    if (app->store) {
        store_chats_inactive_each(app->store, load_inactive, s);
        store_outbox_each(app->store, load_row, s);
        for (size_t i = 0; i < s->chats.cap; i++) {
            struct chat *c = s->chats.vals[i];
            if (!c)
                continue;
            for (struct msg *m = c->replies; m; m = m->next)
                pending++;
            for (struct msg *m = c->alerts; m; m = m->next)
                pending++;
            if (c->inactive)
                drop_all(s, c);
            schedule(s, c);
        }
    }
    if (pending)
        log_info(&app->log, "telegram", "%ld messages from the outbox to deliver", pending);
    pump(s);
    return s;
}

void tg_sched_free(struct tg_sched *s)
{
    if (!s)
        return;
    if (s->timer)
        timers_cancel(&s->app->timers, s->timer);
    for (size_t i = 0; i < s->chats.cap; i++) {
        struct chat *c = s->chats.vals[i];
        if (!c)
            continue;
        struct msg *m;
        while ((m = pop_head(c)))   /* still in the outbox: sent after a restart */
            msg_free(m);
        swin_free(&c->win);
        free(c);
    }
    i64map_free(&s->chats);
    swin_free(&s->global_win);
    free(s->held.v);
    free(s->ready.v);
    free(s->waiting.v);
    free(s);
}

uint64_t tg_sched_paused_ms(struct tg_sched *s)
{
    uint64_t now = app_now_ms(s->app);
    return s->global_not_before > now ? s->global_not_before - now : 0;
}

enum health_status tg_sched_health(struct tg_sched *s, char *reason, size_t len)
{
    uint64_t paused = tg_sched_paused_ms(s);
    if (s->unauthorized) {
        snprintf(reason, len, "Telegram refuses the bot token: %s", s->last_fail);
        return HEALTH_FAILING;
    }
    if (paused) {
        snprintf(reason, len, "flood control: every send waits %llu s",
                 (unsigned long long)(paused + 999) / 1000);
        return HEALTH_DEGRADED;
    }
    if (s->fail_streak >= 3) {   /* (one failure now and then is normal) */
        snprintf(reason, len, "the last %d sends failed: %s", s->fail_streak, s->last_fail);
        return HEALTH_DEGRADED;
    }
    reason[0] = 0;
    return HEALTH_OK;
}

long tg_sched_pending(struct tg_sched *s)
{
    struct tg_sched_stats st;
    tg_sched_stats(s, &st);
    return st.depth;   /* (a message in flight is still at the head of its list) */
}

void tg_sched_origin(struct tg_sched *s, double arrived, int64_t update_id)
{
    s->origin = arrived;
    s->origin_update = update_id;
}

void tg_sched_metrics(struct tg_sched *s, struct prom *p)
{
    struct tg_sched_stats st;
    tg_sched_stats(s, &st);
    prom_counter(p, "candlewatch_telegram_messages_sent_total", "Messages Telegram accepted.",
                 NULL, (double)st.sent);
    prom_counter(p, "candlewatch_alerts_sent_total", "Alerts delivered (inside sent messages).",
                 NULL, (double)st.alerts_sent);
    prom_counter(p, "candlewatch_telegram_rate_limited_total", "429 answers from Telegram.",
                 NULL, (double)st.rate_limited);
    prom_counter(p, "candlewatch_telegram_merged_alerts_total",
                 "Alerts merged into a waiting message.", NULL, (double)st.merged);
    prom_counter(p, "candlewatch_telegram_dropped_total",
                 "Messages given up on (refused, or past the retry deadline).", NULL,
                 (double)st.failed);
    prom_counter(p, "candlewatch_telegram_retracted_total",
                 "Replies taken back because the data they spoke of was not saved.", NULL,
                 (double)st.retracted);
    prom_gauge(p, "candlewatch_telegram_queue_depth", "Messages waiting to be sent.", NULL,
               (double)st.depth);
    prom_gauge(p, "candlewatch_telegram_queue_oldest_seconds",
               "Age of the oldest waiting message.", NULL, st.oldest_s);
    prom_gauge(p, "candlewatch_telegram_inactive_chats", "Chats that blocked the bot.", NULL,
               (double)st.blocked_chats);
    prom_histogram(p, "candlewatch_update_reply_seconds",
                   "From an update's arrival to its reply's delivery.", &s->reply_latency);
    tg_api_metrics(s->api, p);
}

void tg_sched_stats(struct tg_sched *s, struct tg_sched_stats *out)
{
    *out = s->st;
    out->depth = 0;
    int64_t oldest = 0, now = app_wall_ms(s->app);
    for (size_t i = 0; i < s->chats.cap; i++) {
        struct chat *c = s->chats.vals[i];
        if (!c)
            continue;
        for (int k = 0; k < 2; k++)
            for (struct msg *m = k ? c->alerts : c->replies; m; m = m->next) {
                out->depth++;
                if (!oldest || m->queued_ms < oldest)
                    oldest = m->queued_ms;
            }
    }
    out->oldest_s = oldest ? (double)(now - oldest) / 1000.0 : 0;
}

void tg_sched_stats_json(struct tg_sched *s, struct jsonw *w)
{
    struct tg_sched_stats st;
    tg_sched_stats(s, &st);
    jsonw_kv_int(w, "queue_depth", st.depth);
    jsonw_key(w, "oldest_queued_s");
    jsonw_num(w, st.oldest_s);
    jsonw_kv_int(w, "sent", st.sent);
    jsonw_kv_int(w, "retried", st.retried);
    jsonw_kv_int(w, "rate_limited_429", st.rate_limited);
    jsonw_kv_int(w, "failed", st.failed);
    jsonw_kv_int(w, "merged_alerts", st.merged);
    jsonw_kv_int(w, "retracted", st.retracted);
    jsonw_kv_int(w, "blocked_chats", st.blocked_chats);
    jsonw_kv_int(w, "dropped_for_inactive_chats", st.dropped_inactive);
}
