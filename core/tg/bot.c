#include "tg/bot.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "loop/rt.h"
#include "http/server.h"
#include "metrics/hist.h"
#include "store/store.h"
#include "tg/bucket.h"
#include "tg/update.h"
#include "util/i64map.h"
#include "util/jsonw.h"

#define HANDLED_KEEP 100000    /* update ids remembered in webhook mode */
#define ALLOWED_UPDATES "[\"message\",\"edited_message\",\"callback_query\",\"my_chat_member\"]"

struct pending {
    struct pending *next;
    int64_t update_id;
    char *json;
    double arrived;            /* hist_clock: for the update-to-reply latency */
};

struct chatq {                 /* updates of one chat, handled in order */
    struct pending *head, *tail;
    int busy;
    int64_t running_id;        /* the update being handled, while busy */
    double running_arrived;    /* and when it arrived (hist_clock) */
};

struct tg_bot {
    const struct rt *rt;
    const struct config *cfg;  /* its telegram section */
    struct store *store;       /* the inbox and offset, or NULL */
    struct tg_api api;
    struct tg_sched *sched;
    tg_dispatch_fn dispatch;
    void *dispatch_ud;
    struct i64map chats;       /* chat id -> struct chatq */
    struct i64map users;       /* user id -> struct bucket: updates per user */
    int64_t offset;            /* next getUpdates offset */
    int64_t confirmed;         /* the offset Telegram last acknowledged */
    uint64_t poll_call;
    struct timer *poll_timer;
    int polling, backoff_s;
    int stopping;              /* shutting down: no new updates are taken */
    char username[64];
    void (*started)(void *ud, const char *err);
    void *started_ud;
    long received, duplicates, limited, garbage, webhook_refused;
    uint64_t last_limit_log_ms, last_garbage_log_ms;
};

/* ---- handling, one chat at a time ---- */

static void run_next(struct tg_bot *b, int64_t chat_id, struct chatq *q)
{
    while (!q->busy && q->head && !b->stopping) {   /* (stopping: it waits in the inbox) */
        struct pending *p = q->head;
        int rc = b->dispatch ? b->dispatch(b->dispatch_ud, p->update_id, chat_id, p->json) : 1;
        if (rc > 0)
            return;   /* not now: it stays first in line, and in the inbox */
        if (!(q->head = p->next))
            q->tail = NULL;
        if (rc == 0) {
            q->busy = 1;
            q->running_id = p->update_id;
            q->running_arrived = p->arrived;
        }
        else if (b->store)   /* nothing will run it: it is done */
            store_inbox_done(b->store, p->update_id);
        free(p->json);
        free(p);
    }
}

void tg_bot_resume(struct tg_bot *b)
{
    for (size_t i = 0; i < b->chats.cap; i++)
        if (b->chats.vals[i])
            run_next(b, b->chats.keys[i], b->chats.vals[i]);
}

void tg_bot_stop_intake(struct tg_bot *b)
{
    b->stopping = 1;
    b->polling = 0;
    if (b->poll_timer) {
        timers_cancel(b->rt->timers, b->poll_timer);
        b->poll_timer = NULL;
    }
    if (b->poll_call) {   /* what it would have returned stays with Telegram */
        tg_api_cancel(&b->api, b->poll_call);
        b->poll_call = 0;
    }
}

double tg_bot_arrived(struct tg_bot *b, int64_t chat_id, int64_t update_id)
{
    struct chatq *q = i64map_get(&b->chats, chat_id);
    return q && q->busy && q->running_id == update_id ? q->running_arrived : 0;
}

void tg_bot_done(struct tg_bot *b, int64_t update_id, int64_t chat_id)
{
    if (b->store)
        store_inbox_done(b->store, update_id);
    struct chatq *q = i64map_get(&b->chats, chat_id);
    if (q) {
        q->busy = 0;
        run_next(b, chat_id, q);
    }
}

/* Side effects the core owns, whatever the scripts do: a chat that blocked
 * us is marked, /start brings it back. */
static void membership(struct tg_bot *b, const struct tg_update *up)
{
    if (up->membership == TG_MEMBERSHIP_DEACTIVATE)
        tg_sched_deactivate(b->sched, up->chat_id, up->member_status);
    else if (up->membership == TG_MEMBERSHIP_ACTIVATE)
        tg_sched_activate(b->sched, up->chat_id);
}

static int user_allowed(struct tg_bot *b, int64_t user)
{
    if (!user)
        return 1;
    struct bucket *bk = i64map_get(&b->users, user);
    uint64_t now = rt_now_ms(b->rt);
    if (!bk) {
        if (!(bk = malloc(sizeof *bk)) || i64map_put(&b->users, user, bk) != 0) {
            free(bk);
            return 1;
        }
        double limit = (double)b->cfg->telegram.user_limit;
        bucket_init(bk, limit / b->cfg->telegram.user_window, limit, now);
    }
    return bucket_take(bk, now);
}

static void queue(struct tg_bot *b, int64_t update_id, int64_t chat, char *json)
{
    struct chatq *q = i64map_get(&b->chats, chat);
    struct pending *p = malloc(sizeof *p);
    if (!q && (q = calloc(1, sizeof *q)) && i64map_put(&b->chats, chat, q) != 0) {
        free(q);
        q = NULL;
    }
    if (!q || !p) {
        free(p);
        free(json);
        return;   /* still in the inbox: handled after a restart */
    }
    p->update_id = update_id;
    p->json = json;
    p->arrived = hist_clock();
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    run_next(b, chat, q);
}

static void garbage(struct tg_bot *b, const char *what);

/* One update: recorded, then queued.  fresh: not read from the inbox. */
static void take(struct tg_bot *b, const cJSON *u, int fresh)
{
    struct tg_update up;
    tg_update_read(u, &up);
    int64_t id = up.update_id, chat = up.chat_id, user = up.user_id;
    if (up.malformed) {   /* no handler could read it: dropped, never recorded */
        garbage(b, up.malformed);
        if (!fresh && b->store)
            store_inbox_done(b->store, id);
        return;
    }
    char *json = cJSON_PrintUnformatted(u);
    if (!json)
        return;
    if (fresh) {
        int rc = b->store ? store_inbox_add(b->store, id, json) : 1;
        if (rc == 0) {
            b->duplicates++;
            free(json);
            return;
        }
        /* rc < 0: not recorded (the database is locked, full or failing);
         * handled all the same, from memory: that must not cost a user
         * their message */
        b->received++;
        membership(b, &up);   /* (even for a user over the limit) */
        if (!user_allowed(b, user)) {
            b->limited++;
            uint64_t now = rt_now_ms(b->rt);
            if (now - b->last_limit_log_ms >= 10000 || !b->last_limit_log_ms) {
                b->last_limit_log_ms = now;
                log_warn(b->rt->log, "telegram", "user %lld sends more than %ld updates in "
                         "%g s: dropping the excess (%ld so far)", (long long)user,
                         b->cfg->telegram.user_limit, b->cfg->telegram.user_window,
                         b->limited);
            }
            if (b->store)
                store_inbox_done(b->store, id);
            free(json);
            return;
        }
    }
    queue(b, id, chat, json);
}

static void garbage(struct tg_bot *b, const char *what)
{
    b->garbage++;
    uint64_t now = rt_now_ms(b->rt);
    if (now - b->last_garbage_log_ms >= 10000 || !b->last_garbage_log_ms) {
        b->last_garbage_log_ms = now;
        log_warn(b->rt->log, "telegram", "dropped %s (%ld so far)", what, b->garbage);
    }
}

int tg_bot_receive(struct tg_bot *b, const char *json, size_t len)
{
    struct tg_update up;
    cJSON *u = tg_update_parse(json, len, &up);
    if (!u) {
        garbage(b, "an update that is not one");
        return -1;
    }
    int64_t id = up.update_id;
    take(b, u, 1);
    cJSON_Delete(u);
    /* webhook mode has no offset to prune by: Telegram redelivers only
     * what it was not answered 200 for, which is never far back */
    if (b->store && id > HANDLED_KEEP && id % 1000 == 0)
        store_handled_prune(b->store, id - HANDLED_KEEP);
    if (b->store)   /* durable before Telegram hears it arrived */
        store_commit(b->store);
    return 0;
}

static int from_inbox(void *ud, int64_t update_id, const char *body)
{
    struct tg_bot *b = ud;
    cJSON *u = cJSON_Parse(body);
    if (u)
        take(b, u, 0);
    else if (b->store)
        store_inbox_done(b->store, update_id);
    cJSON_Delete(u);
    return 0;
}

/* ---- webhook ---- */

static void reply_json(struct http_response *out, int status, const char *json)
{
    out->status = status;
    out->content_type = "application/json";
    out->body = strdup(json);
    out->len = out->body ? strlen(out->body) : 0;
}

void tg_bot_webhook(void *ud, const struct http_request *rq, struct http_response *out)
{
    struct tg_bot *b = ud;
    char got[300] = "";
    int n = -1;
    if (strcmp(rq->method, "POST") == 0 && !b->stopping)
        n = http_request_header(rq, "x-telegram-bot-api-secret-token:", got, sizeof got);
    struct tg_webhook_answer an;
    tg_webhook_check(rq->method, b->stopping, got, n, b->cfg->telegram.webhook_secret,
                     rq->body_len, &an);
    if (an.receive && rq->body_unread)
        return;   /* the body is read, and we are called again with it */
    b->webhook_refused += an.refused;
    if (an.garbage)
        garbage(b, an.garbage);
    if (an.receive)
        tg_bot_receive(b, rq->body ? rq->body : "", rq->body_len);
    reply_json(out, an.status, an.body);
}

/* ---- long polling ---- */

static void poll_now(void *ud);

static void poll_later(struct tg_bot *b, int seconds)
{
    if (!b->poll_timer && b->polling)
        b->poll_timer = timers_add(b->rt->timers, rt_now_ms(b->rt) + (uint64_t)seconds * 1000,
                                   poll_now, b);
}

static void on_updates(void *ud, const struct tg_result *r)
{
    struct tg_bot *b = ud;
    b->poll_call = 0;
    if (r->outcome != TG_OK || !cJSON_IsArray(r->result)) {
        int wait = r->outcome == TG_RETRY_AFTER ? (int)(r->retry_after < 3600 ? r->retry_after : 3600)
                                                : b->backoff_s;
        b->backoff_s = b->backoff_s ? (b->backoff_s * 2 > 60 ? 60 : b->backoff_s * 2) : 1;
        if (r->outcome == TG_CONFLICT)
            log_error(b->rt->log, "telegram", "getUpdates: %s (is a webhook set, or another "
                      "instance running?)", r->description);
        else
            log_warn(b->rt->log, "telegram", "getUpdates failed (%s): %s; again in %d s",
                     tg_outcome_name(r->outcome), r->description, wait ? wait : 1);
        poll_later(b, wait ? wait : 1);
        return;
    }
    b->backoff_s = 0;
    /* What we asked with is confirmed: Telegram has forgotten below it. */
    if (b->confirmed < b->offset && b->store)
        store_handled_prune(b->store, b->offset);
    b->confirmed = b->offset;
    const cJSON *u;
    cJSON_ArrayForEach(u, r->result)
    {
        int64_t id = tg_update_int(cJSON_GetObjectItemCaseSensitive(u, "update_id"));
        if (!cJSON_IsObject(u) || id <= 0) {
            garbage(b, "a malformed update in getUpdates");
            continue;
        }
        if (id >= b->offset)
            b->offset = id + 1;
        if (id >= b->confirmed)
            take(b, u, 1);
    }
    if (b->store) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)b->offset);
        store_kv_set(b->store, "telegram", "offset", v);
        store_commit(b->store);   /* in the inbox before the next offset confirms it */
    }
    poll_now(b);
}

static void poll_now(void *ud)
{
    struct tg_bot *b = ud;
    b->poll_timer = NULL;
    if (!b->polling || b->poll_call)
        return;
    char body[256];
    long timeout = (long)b->cfg->telegram.poll_timeout;
    if (timeout < 1)
        timeout = 1;   /* 0 would be short polling, a busy loop */
    snprintf(body, sizeof body, "{\"offset\":%lld,\"timeout\":%ld,\"allowed_updates\":%s}",
             (long long)b->offset, timeout, ALLOWED_UPDATES);
    b->poll_call = tg_api_call(&b->api, "getUpdates", body, (timeout + 15) * 1000, on_updates, b);
}

/* ---- start ---- */

static void started(struct tg_bot *b, const char *err)
{
    if (b->started) {
        void (*cb)(void *, const char *) = b->started;
        b->started = NULL;
        cb(b->started_ud, err);
    }
}

static void on_webhook_set(void *ud, const struct tg_result *r)
{
    struct tg_bot *b = ud;
    if (r->outcome != TG_OK) {
        char err[400];
        snprintf(err, sizeof err, "setWebhook failed: %s", r->description);
        started(b, err);
        return;
    }
    if (b->store) {
        store_kv_set(b->store, "telegram", "webhook", "true");
        store_commit(b->store);
    }
    log_info(b->rt->log, "telegram", "webhook set: updates arrive at %s",
             b->cfg->telegram.webhook_path);
    started(b, NULL);
}

static void on_webhook_deleted(void *ud, const struct tg_result *r)
{
    struct tg_bot *b = ud;
    if (r->outcome == TG_OK && b->store) {
        store_kv_set(b->store, "telegram", "webhook", NULL);
        store_commit(b->store);
    }
    b->polling = 1;
    poll_now(b);
    started(b, NULL);
}

static void on_me(void *ud, const struct tg_result *r)
{
    struct tg_bot *b = ud;
    if (r->outcome != TG_OK) {
        char err[400];
        snprintf(err, sizeof err, r->outcome == TG_UNAUTHORIZED
                                      ? "Telegram refused the bot token (%s): check BOT_TOKEN"
                                      : "cannot reach Telegram (%s)",
                 r->description);
        started(b, err);
        return;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(r->result, "username");
    snprintf(b->username, sizeof b->username, "%s",
             cJSON_IsString(name) ? name->valuestring : "");
    log_info(b->rt->log, "telegram", "signed in as @%s", b->username);
    const struct config *cfg = b->cfg;
    if (cfg->telegram.webhook_url) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "url", cfg->telegram.webhook_url);
        cJSON_AddStringToObject(p, "secret_token", cfg->telegram.webhook_secret);
        cJSON_AddRawToObject(p, "allowed_updates", ALLOWED_UPDATES);
        char *body = cJSON_PrintUnformatted(p);
        cJSON_Delete(p);
        tg_api_call(&b->api, "setWebhook", body, 0, on_webhook_set, b);
        free(body);
        return;
    }
    char *was = NULL;
    if (b->store && store_kv_get(b->store, "telegram", "webhook", &was) == 1) {
        free(was);
        log_info(b->rt->log, "telegram", "switching back from the webhook to long polling");
        tg_api_call(&b->api, "deleteWebhook", "{}", 0, on_webhook_deleted, b);
        return;
    }
    b->polling = 1;
    poll_now(b);
    started(b, NULL);
}

void tg_bot_start(struct tg_bot *b, void (*cb)(void *ud, const char *err), void *ud)
{
    b->started = cb;
    b->started_ud = ud;
    tg_api_call(&b->api, "getMe", "{}", 0, on_me, b);
}

static void on_commands(void *ud, const struct tg_result *r)
{
    struct tg_bot *b = ud;
    if (r->outcome != TG_OK)
        log_warn(b->rt->log, "telegram", "setMyCommands failed: %s", r->description);
}

void tg_bot_set_commands(struct tg_bot *b, const char *json_array)
{
    size_t n = strlen(json_array) + 32;
    char *body = malloc(n);
    if (!body)
        return;
    snprintf(body, n, "{\"commands\":%s}", json_array);
    tg_api_call(&b->api, "setMyCommands", body, 0, on_commands, b);
    free(body);
}

void tg_bot_health_detail(void *ud, struct jsonw *w)
{
    struct tg_bot *b = ud;
    jsonw_kv_str(w, "mode", b->cfg->telegram.webhook_url ? "webhook" : "polling");
    jsonw_kv_int(w, "updates_received", b->received);
    jsonw_kv_int(w, "updates_duplicate", b->duplicates);
    jsonw_kv_int(w, "updates_rate_limited", b->limited);
    jsonw_kv_int(w, "updates_malformed", b->garbage);
    jsonw_kv_int(w, "webhook_refused", b->webhook_refused);
    tg_sched_stats_json(b->sched, w);
}

struct tg_bot *tg_bot_new(const struct rt *rt, const struct config *cfg, struct store *store,
                          struct httpc *httpc)
{
    struct tg_bot *b = calloc(1, sizeof *b);
    if (!b || tg_api_init(&b->api, httpc, rt->log, cfg->telegram.api_url,
                          cfg->telegram.token ? cfg->telegram.token : "") != 0) {
        free(b);
        return NULL;
    }
    b->rt = rt;
    b->cfg = cfg;
    b->store = store;
    if (!(b->sched = tg_sched_new(rt, cfg, store, &b->api))) {
        tg_api_free(&b->api);
        free(b);
        return NULL;
    }
    char *off = NULL;
    if (store && store_kv_get(store, "telegram", "offset", &off) == 1)
        b->offset = b->confirmed = strtoll(off, NULL, 10);
    free(off);
    return b;
}

void tg_bot_set_dispatch(struct tg_bot *b, tg_dispatch_fn fn, void *ud)
{
    b->dispatch = fn;
    b->dispatch_ud = ud;
    /* what was received but not handled before the last stop */
    if (fn && b->store)
        store_inbox_each(b->store, from_inbox, b);
}

void tg_bot_free(struct tg_bot *b)
{
    if (!b)
        return;
    b->polling = 0;
    if (b->poll_timer)
        timers_cancel(b->rt->timers, b->poll_timer);
    tg_api_free(&b->api);   /* cancels the poll and every send */
    tg_sched_free(b->sched);
    for (size_t i = 0; i < b->chats.cap; i++) {
        struct chatq *q = b->chats.vals[i];
        if (!q)
            continue;
        while (q->head) {
            struct pending *p = q->head;
            q->head = p->next;
            free(p->json);
            free(p);
        }
        free(q);
    }
    i64map_free(&b->chats);
    for (size_t i = 0; i < b->users.cap; i++)
        free(b->users.vals[i]);
    i64map_free(&b->users);
    free(b);
}

struct tg_api *tg_bot_api(struct tg_bot *b)
{
    return &b->api;
}

struct tg_sched *tg_bot_sched(struct tg_bot *b)
{
    return b->sched;
}

const char *tg_bot_username(const struct tg_bot *b)
{
    return b->username;
}
