/* The delivery scheduler (sched.h): queueing, the outbox at start, chats
 * that blocked us, stats.  Pacing is in sched_pace.c, answers and retries
 * in sched_retry.c, merging alerts in sched_merge.c, taking replies back
 * in sched_undo.c (sched_int.h). */
#include "tg/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "metrics/prom.h"
#include "store/store.h"
#include "tg/sched_int.h"
#include "tg/text.h"
#include "util/jsonw.h"

/* ---- chats ---- */

struct chat *sched_chat_find(struct tg_sched *s, int64_t id)
{
    return i64map_get(&s->chats, id);
}

static struct chat *sched_chat_get(struct tg_sched *s, int64_t id)
{
    struct chat *c = sched_chat_find(s, id);
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
        bucket_init(&c->pace, 16.0 / 60.0, 4, rt_now_ms(s->rt));
    return c;
}

struct msg *sched_head(struct chat *c)
{
    return c->replies ? c->replies : c->alerts;
}

/* ---- messages ---- */

void sched_msg_free(struct msg *m)
{
    sched_parts_free(m->parts, m->nparts);
    sched_photo_free(m->photo);
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
int64_t sched_key_of(struct tg_sched *s, int kind, double priority, int64_t queued_ms)
{
    int64_t age = rt_wall_ms(s->rt) - queued_ms;
    return (int64_t)rt_now_ms(s->rt) - (age > 0 ? age : 0) - credit_ms(kind, priority);
}

struct msg *sched_msg_new(int kind, const char *method, const char *params, const char *text)
{
    struct msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->kind = kind;
    m->method = strdup(method);
    m->params = strdup(params && *params ? params : "{}");
    m->text = strdup(text ? text : "");
    if (!m->method || !m->params || !m->text) {
        sched_msg_free(m);
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
struct msg *sched_pop_sending(struct chat *c)
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

static struct msg *sched_pop_head(struct chat *c)
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
void sched_retire(struct tg_sched *s, struct msg *m)
{
    if (m->id && s->store)
        store_outbox_remove(s->store, m->id);
    for (int i = 0; i < m->nparts && s->store; i++)
        if (m->parts[i].id)
            store_outbox_remove(s->store, m->parts[i].id);
    sched_msg_free(m);
}

void sched_drop_all(struct tg_sched *s, struct chat *c)
{
    struct msg *m;
    while ((m = sched_pop_head(c))) {
        s->st.dropped_inactive++;
        sched_retire(s, m);
    }
}

/* ---- queueing ---- */

int sched_enqueue(struct tg_sched *s, struct chat *c, struct msg *m)
{
    if (s->store && m->parts) {   /* an alert: its rows are its parts' */
        for (int i = 0; i < m->nparts; i++)
            sched_part_store(s, c, m, &m->parts[i]);
        m->batch = store_batch_id(s->store);
        m->sp = store_savepoint_id(s->store);
    } else if (s->store) {
        struct store_outbox_row row = {.chat_id = c->id, .kind = m->kind, .method = m->method,
                                       .params = m->params, .text = m->text,
                                       .alerts = m->alerts, .priority = m->priority,
                                       .queued_ms = m->queued_ms};
        /* When the database fails the message still goes, from memory:
         * a full disk must not silence the bot.  (A photo has no row: it
         * is made again on demand.) */
        if (!m->photo && store_outbox_add(s->store, &row) == 0)
            m->id = row.id;
        m->batch = store_batch_id(s->store);
        m->sp = store_savepoint_id(s->store);
    }
    append(c, m);
    s->st.queued++;
    if (!c->inflight)
        sched_schedule(s, c);
    /* sends start on the next loop turn: alerts a handler queues together
     * are merged first */
    sched_arm(s, rt_now_ms(s->rt));
    return 0;
}

/* The chat to queue for, or NULL with *rc: -1 out of memory, -2 inactive. */
struct chat *sched_queue_for(struct tg_sched *s, int64_t chat, int *rc)
{
    struct chat *c = sched_chat_get(s, chat);
    *rc = -1;
    if (c && c->inactive) {
        s->st.dropped_inactive++;
        *rc = -2;
        return NULL;
    }
    return c;
}

int tg_sched_reply(struct tg_sched *s, const struct tg_origin *from, int64_t chat,
                   const char *method, const char *params, const char *text)
{
    int rc;
    struct chat *c = sched_queue_for(s, chat, &rc);
    if (!c)
        return rc;
    struct msg *m = sched_msg_new(TG_REPLY, method, params, text);
    if (!m)
        return -1;
    return sched_enqueue_reply(s, c, m, from);
}

int sched_enqueue_reply(struct tg_sched *s, struct chat *c, struct msg *m,
                        const struct tg_origin *from)
{
    m->queued_ms = rt_wall_ms(s->rt);
    m->key = sched_key_of(s, TG_REPLY, 0, m->queued_ms);
    if (from) {
        m->origin = from->arrived;
        m->update_id = from->update_id;
    }
    return sched_enqueue(s, c, m);
}

int tg_sched_send(struct tg_sched *s, int64_t chat, const char *method, const char *params,
                  const char *text)
{
    return tg_sched_reply(s, NULL, chat, method, params, text);
}

void tg_sched_activate(struct tg_sched *s, int64_t chat)
{
    struct chat *c = sched_chat_find(s, chat);
    if (!c || !c->inactive)
        return;
    c->inactive = 0;
    s->st.blocked_chats--;
    if (s->store)
        store_chat_set_active(s->store, chat, 1, rt_wall_ms(s->rt));
    log_info(s->rt->log, "telegram", "chat %lld is active again", (long long)chat);
}

void tg_sched_deactivate(struct tg_sched *s, int64_t chat, const char *why)
{
    struct chat *c = sched_chat_get(s, chat);
    if (c)
        sched_deactivate(s, c, why, NULL);
}

int tg_sched_active(struct tg_sched *s, int64_t chat)
{
    struct chat *c = sched_chat_find(s, chat);
    return !c || !c->inactive;
}

/* ---- start and stop ---- */

static int load_row(void *ud, const struct store_outbox_row *r)
{
    struct tg_sched *s = ud;
    struct chat *c = sched_chat_get(s, r->chat_id);
    struct msg *m = NULL;
    if (c && r->kind == TG_ALERT) {   /* merged as when it was queued */
        int rc = sched_alert_restore(s, c, r, &m);
        if (rc == 1)
            append(c, m);
        return rc < 0;
    }
    if (c)
        m = sched_msg_new(TG_REPLY, r->method, r->params, r->text);
    if (!m)
        return 1;
    m->id = r->id;
    m->alerts = r->alerts;
    m->priority = r->priority;
    m->queued_ms = r->queued_ms;
    m->key = sched_key_of(s, m->kind, m->priority, m->queued_ms);
    append(c, m);
    return 0;
}

static int load_inactive(void *ud, int64_t chat)
{
    struct tg_sched *s = ud;
    struct chat *c = sched_chat_get(s, chat);
    if (!c)
        return 1;
    c->inactive = 1;
    s->st.blocked_chats++;
    return 0;
}

/* The outbox left by the last run: queued again (an inactive chat's dropped). */
static long load_outbox(struct tg_sched *s)
{
    long pending = 0;
    store_chats_inactive_each(s->store, load_inactive, s);
    store_outbox_each(s->store, load_row, s);
    for (size_t i = 0; i < s->chats.cap; i++) {
        struct chat *c = s->chats.vals[i];
        if (!c)
            continue;
        for (struct msg *m = c->replies; m; m = m->next)
            pending++;
        for (struct msg *m = c->alerts; m; m = m->next)
            pending++;
        if (c->inactive)
            sched_drop_all(s, c);
        sched_schedule(s, c);
    }
    return pending;
}

static uint64_t api_call(void *ud, const char *method, const char *body,
                         const struct httpc_part *parts, int nparts, long timeout_ms,
                         tg_api_cb cb, void *cb_ud)
{
    if (parts)
        return tg_api_form(ud, method, parts, nparts, timeout_ms, cb, cb_ud);
    return tg_api_call(ud, method, body, timeout_ms, cb, cb_ud);
}

void tg_sched_set_call(struct tg_sched *s, tg_sched_call_fn fn, void *ud)
{
    s->call = fn;
    s->call_ud = ud;
}

struct tg_sched *tg_sched_new(const struct rt *rt, const struct config *cfg, struct store *store,
                              struct tg_api *api)
{
    struct tg_sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->rt = rt;
    s->cfg = cfg;
    s->store = store;
    s->api = api;
    s->call = api_call;
    s->call_ud = api;
    s->ready.which = 1;
    s->waiting.which = 2;
    s->rng = (uint64_t)rt_wall_ms(rt) | 1;
    double rate = cfg->telegram.rate > 0 ? cfg->telegram.rate
                  : cfg->telegram.paid_broadcast ? 1000 : 30;
    double margin = rate * 0.02 > 2 ? rate * 0.02 : 2;
    int per_s = rate - margin >= 1 ? (int)(rate - margin) : 1;
    bucket_init(&s->global, per_s, 1, rt_now_ms(rt));
    if (swin_init(&s->global_win, per_s, 1000) != 0) {
        free(s);
        return NULL;
    }
    long pending = store ? load_outbox(s) : 0;
    if (pending)
        log_info(rt->log, "telegram", "%ld messages from the outbox to deliver", pending);
    sched_arm(s, rt_now_ms(rt));   /* (on the loop's first turn, through tg_sched_set_call's) */
    return s;
}

void tg_sched_free(struct tg_sched *s)
{
    if (!s)
        return;
    if (s->timer)
        timers_cancel(s->rt->timers, s->timer);
    for (size_t i = 0; i < s->chats.cap; i++) {
        struct chat *c = s->chats.vals[i];
        if (!c)
            continue;
        struct msg *m;
        while ((m = sched_pop_head(c)))   /* still in the outbox: sent after a restart */
            sched_msg_free(m);
        swin_free(&c->win);
        free(c);
    }
    i64map_free(&s->chats);
    swin_free(&s->global_win);
    for (int i = 0; i < TG_PHOTO_KEYS; i++) {
        free(s->photo_keys[i].key);
        free(s->photo_keys[i].file_id);
    }
    free(s->held.v);
    free(s->ready.v);
    free(s->waiting.v);
    free(s);
}

uint64_t tg_sched_paused_ms(struct tg_sched *s)
{
    uint64_t now = rt_now_ms(s->rt);
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

int tg_sched_alerts_waiting(struct tg_sched *s, int64_t chat)
{
    struct chat *c = sched_chat_find(s, chat);
    return c && c->alerts;   /* (the one in flight is still the head) */
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
    if (s->api)
        tg_api_metrics(s->api, p);
}

void tg_sched_stats(struct tg_sched *s, struct tg_sched_stats *out)
{
    *out = s->st;
    out->depth = 0;
    int64_t oldest = 0, now = rt_wall_ms(s->rt);
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
