/* What Telegram's answer to a send means for the message, its chat and
 * every chat: delivered, retried later (429, 5xx), given up, or the chat
 * gone (sched_int.h). */
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "store/store.h"
#include "tg/sched_int.h"

static uint64_t rnd(struct tg_sched *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

void sched_deactivate(struct tg_sched *s, struct chat *c, const char *why,
                      const struct msg *about)
{
    if (!c->inactive) {
        c->inactive = 1;
        s->st.blocked_chats++;
        if (s->store)
            store_chat_set_active(s->store, c->id, 0, rt_wall_ms(s->rt));
        const char *fmt = "chat %lld is inactive (%s): its alerts stop until /start";
        if (about)
            log_msg_upd(s->rt->log, about->update_id, LOG_INFO, "telegram", fmt,
                        (long long)c->id, why);
        else
            log_info(s->rt->log, "telegram", fmt, (long long)c->id, why);
    }
    sched_unschedule(s, c);
    if (!c->inflight)
        sched_drop_all(s, c);
}

static void drop_sent(struct tg_sched *s, struct chat *c, const char *why,
                      const struct tg_result *r)
{
    struct msg *m = sched_pop_sending(c);
    s->st.failed++;
    log_msg_upd(s->rt->log, m->update_id, LOG_WARN, "telegram", "%s to chat %lld given up (%s): %s",
                m->method, (long long)c->id, why, r->description);
    sched_retire(s, m);
}

static void delivered(struct tg_sched *s, struct chat *c, struct msg *m)
{
    sched_pop_sending(c);
    s->st.sent++;
    if (m->kind == TG_ALERT)
        s->st.alerts_sent += m->alerts;
    if (m->origin > 0)
        hist_observe(&s->reply_latency, hist_clock() - m->origin);
    sched_retire(s, m);
}

/* 429: the chat waits exactly retry_after, and every chat with it when the
 * limit hit cannot have been the chat's own. */
static void rate_limited(struct tg_sched *s, struct chat *c, const struct msg *m,
                         const struct tg_result *r, uint64_t now)
{
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
        log_msg_upd(s->rt->log, m->update_id, LOG_WARN, "telegram", "429 from Telegram: waiting "
                    "%ld s for %s (%ld 429s so far)", r->retry_after,
                    global ? "every chat" : "one chat", s->st.rate_limited);
    }
}

/* 5xx, a network error, 409: again after an exponential backoff with
 * jitter, until telegram.retry_deadline. */
static void transient(struct tg_sched *s, struct chat *c, struct msg *m,
                      const struct tg_result *r, uint64_t now)
{
    s->st.retried++;
    if (!m->first_fail_ms)
        m->first_fail_ms = now;
    if (now - m->first_fail_ms > (uint64_t)(s->cfg->telegram.retry_deadline * 1000)) {
        drop_sent(s, c, "retried past telegram.retry_deadline", r);
        return;
    }
    int shift = m->attempts < 9 ? m->attempts : 9;
    uint64_t base = 1000ull << shift;   /* 1 s, 2 s, ... about 8.5 min */
    m->attempts++;
    c->eligible_ms = now + base / 2 + rnd(s) % (base + 1);
}

static void refused(struct tg_sched *s, struct chat *c, struct msg *m, const struct tg_result *r,
                    uint64_t now)
{
    switch (r->outcome) {
    case TG_PARSE_ERROR:
        if (!m->plain) {   /* the alert still goes out, without formatting */
            m->plain = 1;
            log_msg_upd(s->rt->log, m->update_id, LOG_WARN, "telegram", "chat %lld: Telegram "
                        "refused the HTML (%s); sending it as plain text", (long long)c->id,
                        r->description);
            return;
        }
        drop_sent(s, c, "refused", r);
        return;
    case TG_UNAUTHORIZED:
        s->st.retried++;
        s->global_not_before = now + 60000;
        log_msg_upd(s->rt->log, m->update_id, LOG_ERROR, "telegram", "Telegram refused the bot "
                    "token (%s); sends pause for a minute", r->description);
        return;
    default:   /* any other 400: retrying will not help (but a photo's file_id: its bytes) */
        if (m->photo && sched_photo_refused(s, m, r))
            return;
        drop_sent(s, c, "refused", r);
        return;
    }
}

void sched_on_sent(void *ud, const struct tg_result *r)
{
    struct chat *c = ud;
    struct tg_sched *s = c->s;
    struct msg *m = c->sending;
    uint64_t now = rt_now_ms(s->rt);
    c->inflight = 0;
    s->inflight--;
    int failed = r->outcome == TG_RETRY_AFTER || r->outcome == TG_TRANSIENT ||
                 r->outcome == TG_CONFLICT || r->outcome == TG_UNAUTHORIZED;
    s->fail_streak = failed ? s->fail_streak + 1 : 0;
    s->unauthorized = r->outcome == TG_UNAUTHORIZED;
    if (failed)
        snprintf(s->last_fail, sizeof s->last_fail, "%s", r->description);
    if (m->photo && r->outcome == TG_OK)
        sched_photo_delivered(s, m, r);
    else if (m->photo)
        sched_photo_failed(s, m);
    if (r->outcome == TG_OK || r->outcome == TG_NOT_MODIFIED)   /* (already says this) */
        delivered(s, c, m);
    else if (r->outcome == TG_RETRY_AFTER)
        rate_limited(s, c, m, r, now);
    else if (r->outcome == TG_TRANSIENT || r->outcome == TG_CONFLICT)
        transient(s, c, m, r, now);
    else if (r->outcome == TG_GONE)
        sched_deactivate(s, c, r->description, m);
    else
        refused(s, c, m, r, now);
    c->sending = NULL;   /* (kept: it waits at the head of its list) */
    if (c->inactive)
        sched_drop_all(s, c);
    sched_schedule(s, c);
    if (!s->pumping)   /* a call refused at once lands here from inside pump */
        sched_pump(s);
}
