/* When what a reply speaks of was not saved (a lost batch, a failed
 * handler): the reply is taken back, and the chat may be told why
 * (sched_int.h). */
#include <stdlib.h>

#include "store/store.h"
#include "tg/sched_int.h"

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
            sched_retire(s, m);   /* (a row from an earlier batch must not be sent after a restart) */
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
            sched_parts_forget(m, batch, sp);
            sched_retire(s, m);
            n++;
        } else {
            sched_parts_forget(m, batch, sp);   /* (merged meanwhile: sent from memory) */
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
            sched_schedule(s, c);   /* (its head may have changed) */
        }
    }
}

void tg_sched_take_back(struct tg_sched *s, int64_t chat, int64_t update_id)
{
    struct chat *c = update_id ? sched_chat_find(s, chat) : NULL;   /* (0: no update) */
    if (c && take_replies(s, c, 0, update_id)) {
        s->st.retracted++;
        sched_schedule(s, c);
    }
}

/* The chat's replies were taken back: it hears why, instead. */
static void tell_not_saved(struct tg_sched *s, struct chat *c, int64_t update_id)
{
    struct msg *m = sched_msg_new(TG_REPLY, "sendMessage", NULL, not_saved);
    if (m) {
        m->queued_ms = rt_wall_ms(s->rt);
        m->key = sched_key_of(s, TG_REPLY, 0, m->queued_ms);
        m->update_id = update_id;
        sched_enqueue(s, c, m);
    }
    sched_schedule(s, c);
}

void tg_sched_retract(struct tg_sched *s, int64_t chat, int64_t update_id)
{
    struct chat *c = sched_chat_find(s, chat);
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
                for (struct msg *m = k ? c->alerts : c->replies; m; m = m->next) {
                    if (m->batch == batch)
                        m->id = 0;
                    sched_parts_forget(m, batch, 0);
                }
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
        sched_schedule(s, s->held.v[i]);
    s->held.n = 0;
    sched_arm(s, rt_now_ms(s->rt));
}

