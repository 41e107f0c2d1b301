/* The scheduler's pacing: which chat sends next, and when, so that no
 * window of Telegram's limits is exceeded (sched_int.h). */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "store/store.h"
#include "tg/sched_int.h"
#include "tg/text.h"
#include "util/grow.h"

/* ---- heaps of chats ---- */

static int64_t hkey(const struct heap *h, const struct chat *c)
{
    return h->which == 1 ? sched_head((struct chat *)c)->key : (int64_t)c->eligible_ms;
}

static void hswap(struct heap *h, size_t a, size_t b)
{
    struct chat *t = h->v[a];
    h->v[a] = h->v[b];
    h->v[b] = t;
    h->v[a]->pos = a;
    h->v[b]->pos = b;
}

void sched_hup(struct heap *h, size_t i)
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
    struct chat **v = grow(h->v, &h->cap, h->n + 1, sizeof *v);
    if (!v)
        return -1;
    h->v = v;
    c->heap = h->which;
    c->pos = h->n;
    h->v[h->n++] = c;
    sched_hup(h, c->pos);
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
    sched_hup(h, i);
    hdown(h, h->v[i]->pos);
}

void sched_unschedule(struct tg_sched *s, struct chat *c)
{
    if (c->heap == 1)
        hremove(&s->ready, c);
    else if (c->heap == 2)
        hremove(&s->waiting, c);
}

/* Puts a chat where it belongs now: ready, waiting, or nowhere. */
void sched_schedule(struct tg_sched *s, struct chat *c)
{
    sched_unschedule(s, c);
    if (c->inflight || c->inactive || !sched_head(c))
        return;
    if (c->eligible_ms > rt_now_ms(s->rt))
        hpush(&s->waiting, c);
    else
        hpush(&s->ready, c);
}

/* ---- sending ---- */

static int sched_spends_token(const struct msg *m)
{
    return strcmp(m->method, "sendMessage") == 0 || strcmp(m->method, "sendPhoto") == 0;
}

/* {"chat_id":..,"text":..,<params>} (a photo: its "caption"): params
 * without parse_mode when the HTML was refused, with allow_paid_broadcast
 * in paid mode.  NULL: no memory. */
static cJSON *build_params(struct tg_sched *s, const struct chat *c, const struct msg *m)
{
    const char *text = sched_msg_text((struct msg *)m);
    if (!text)
        return NULL;
    cJSON *p = cJSON_Parse(m->params);
    if (!cJSON_IsObject(p)) {
        cJSON_Delete(p);
        p = cJSON_CreateObject();
    }
    const char *field = m->photo ? "caption" : "text";
    cJSON_DeleteItemFromObjectCaseSensitive(p, "chat_id");
    cJSON_DeleteItemFromObjectCaseSensitive(p, field);
    cJSON_AddNumberToObject(p, "chat_id", (double)c->id);
    if (strcmp(m->method, "deleteMessage") != 0 &&
        strcmp(m->method, "editMessageReplyMarkup") != 0 && (*text || !m->photo)) {
        char *plain = m->plain ? tg_text_plain(text) : NULL;
        cJSON_AddStringToObject(p, field, plain ? plain : text);
        free(plain);
    }
    if (m->plain || (m->photo && !*text))
        cJSON_DeleteItemFromObjectCaseSensitive(p, "parse_mode");
    if (s->cfg->telegram.paid_broadcast && sched_spends_token(m) &&
        !cJSON_GetObjectItemCaseSensitive(p, "allow_paid_broadcast"))
        cJSON_AddTrueToObject(p, "allow_paid_broadcast");
    return p;
}

static void send_head(struct tg_sched *s, struct chat *c)
{
    struct msg *m = sched_head(c);
    cJSON *p = build_params(s, c, m);
    char *body = NULL;
    struct httpc_part *parts = NULL;
    int nparts = 0, rc = -1;
    if (p && m->photo)
        rc = sched_photo_call(s, m, p, &body, &parts, &nparts);
    else if (p)
        rc = (body = cJSON_PrintUnformatted(p)) ? 0 : -1;
    c->sending = m;
    c->inflight = 1;
    s->inflight++;
    c->prev_send_ms = c->last_send_ms;
    c->last_send_ms = rt_now_ms(s->rt);
    if (rc != 0) {
        cJSON_Delete(p);
        struct tg_result r = {.outcome = TG_TRANSIENT};
        snprintf(r.description, sizeof r.description, "out of memory");
        sched_on_sent(c, &r);
        return;
    }
    s->call(s->call_ud, m->method, body, parts, nparts, SEND_TIMEOUT_MS, sched_on_sent, c);
    sched_photo_parts_free(parts, nparts);
    cJSON_Delete(p);
    free(body);
}

/* Chats whose wait ended go to the ready heap, PROMOTE_MAX a run of the
 * pump's timer (once a loop turn at most): when a market-wide move queued
 * an alert message for each of 100,000 chats, their gathering ended
 * together and moving them all took one turn 135 ms; the rest follow in
 * the next turns, long before the sends (1,000 a second at most) reach
 * them.  (The pump run by an answer uses what the turn left.) */
#define PROMOTE_MAX 1024

static void pump_due(void *ud)
{
    struct tg_sched *s = ud;
    s->timer = NULL;
    s->promote_left = PROMOTE_MAX;
    sched_pump(s);
}

void sched_arm(struct tg_sched *s, uint64_t due)
{
    if (s->timer && s->timer_due <= due)
        return;
    if (s->timer)
        timers_cancel(s->rt->timers, s->timer);
    s->timer_due = due;
    s->timer = timers_add(s->rt->timers, due, pump_due, s);
}

/* Sent only once its batch is committed: a message must not tell a user of
 * something the database may yet lose. */
static int uncommitted(struct tg_sched *s, const struct msg *m)
{
    return m->batch && s->store && m->batch == store_batch_id(s->store);
}

static void hold(struct tg_sched *s, struct chat *c)
{
    struct chat **v = grow(s->held.v, &s->held.cap, s->held.n + 1, sizeof *v);
    if (!v) {   /* out of memory: looked at again shortly (not now: pump would spin) */
        c->eligible_ms = rt_now_ms(s->rt) + 10;
        hpush(&s->waiting, c);
        return;
    }
    s->held.v = v;
    s->held.v[s->held.n++] = c;
}


static void promote(struct tg_sched *s, uint64_t now)
{
    for (; s->promote_left && s->waiting.n && s->waiting.v[0]->eligible_ms <= now;
         s->promote_left--) {
        struct chat *c = s->waiting.v[0];
        hremove(&s->waiting, c);
        hpush(&s->ready, c);
    }
}

void sched_pump(struct tg_sched *s)
{
    s->pumping = 1;
    uint64_t now = rt_now_ms(s->rt);
    promote(s, now);
    while (s->ready.n && s->inflight < MAX_INFLIGHT) {
        if (s->global_not_before > now) {
            sched_arm(s, s->global_not_before);
            break;
        }
        struct chat *c = s->ready.v[0];
        uint64_t photo_wait = sched_photo_waits(s, sched_head(c), now);
        if (photo_wait)   /* another chat is uploading this picture: its file_id */
            sched_head(c)->gather_ms = now + photo_wait;
        if (sched_head(c)->gather_ms > now) {   /* more alerts may join it */
            hremove(&s->ready, c);
            c->eligible_ms = sched_head(c)->gather_ms;
            hpush(&s->waiting, c);
            continue;
        }
        if (uncommitted(s, sched_head(c))) {
            hremove(&s->ready, c);
            hold(s, c);
            continue;
        }
        if (sched_spends_token(sched_head(c))) {
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
                sched_arm(s, now + gw);
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
    if (s->waiting.n)   /* (past: the chats not promoted this turn, in the next) */
        sched_arm(s, s->waiting.v[0]->eligible_ms);
    s->pumping = 0;
}

