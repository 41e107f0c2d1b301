/* tg_flood.c: the stand-in Telegram's flood limits: sliding windows of
 * send times, per bot, per private chat and per group. */
#include "tg_fake.h"

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

void win_clear(struct window *w) { w->head = w->n = 0; }

/* ---- flood control ---- */

/* ms until this sendMessage would be accepted; 0 = now.  Takes nothing. */
int64_t flood_wait(struct chat *ch, int paid, int64_t now)
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

void flood_take(struct chat *ch, int paid, int64_t now)
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
