/* Alerts for a chat merged into its waiting alert message, ordered by
 * group and priority, within one message's limits (sched_int.h). */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tg/sched_int.h"
#include "tg/text.h"
#include "util/grow.h"

void sched_parts_free(struct part *v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i].text);
        free(v[i].heading);
    }
    free(v);
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

/* The characters parts_text would make, from each part's own count: a
 * merge costs no copy of the message (50 copies of up to 4 KB, and the
 * allocator's work for each, were a loop turn's share in a market-wide
 * move). */
static size_t parts_chars(const struct part *v, int n)
{
    int groups = 1;
    size_t chars = n > 1 ? 2 * (size_t)(n - 1) : 0;
    for (int i = 0; i < n; i++)
        groups += i && v[i].group != v[i - 1].group;
    for (int i = 0; i < n; i++) {
        chars += v[i].chars;
        if (groups > 1 && v[i].heading && (!i || v[i].group != v[i - 1].group))
            chars += v[i].hchars + 1;
    }
    return chars;
}

const char *sched_msg_text(struct msg *m)
{
    if (m->parts && !m->text)
        m->text = parts_text(m->parts, m->nparts);
    return m->text;
}

static void part_remove(struct msg *t, int at)
{
    free(t->parts[at].text);
    free(t->parts[at].heading);
    memmove(t->parts + at, t->parts + at + 1, sizeof *t->parts * (size_t)(--t->nparts - at));
}

/* The part for a, placed in t's parts (by group, then bigger first) at
 * *pos, and t's text to be made again when it is sent; 0, or -1 when it
 * does not fit in one message (or no memory). */
static int merge_part(struct msg *t, const struct tg_alert *a, size_t *chars, int *pos)
{
    /* (from 1: most alert messages carry one alert) */
    struct part *v = grow_from(t->parts, &t->capparts, (size_t)t->nparts + 1, sizeof *v, 1);
    if (!v)
        return -1;
    t->parts = v;
    int at = t->nparts;
    while (at > 0 && (v[at - 1].group > a->group ||
                      (v[at - 1].group == a->group && v[at - 1].priority < a->priority)))
        at--;
    struct part np = {.text = strdup(a->text), .heading = a->heading ? strdup(a->heading) : NULL,
                      .priority = a->priority, .group = a->group, .alerts = 1};
    if (!np.text || (a->heading && !np.heading)) {
        free(np.text);
        free(np.heading);
        return -1;
    }
    np.chars = tg_text_chars(np.text);
    np.hchars = np.heading ? tg_text_chars(np.heading) : 0;
    memmove(v + at + 1, v + at, sizeof *v * (size_t)(t->nparts - at));
    v[at] = np;
    t->nparts++;
    *pos = at;
    /* (one alert alone goes as it is, however long) */
    if ((*chars = parts_chars(v, t->nparts)) <= TG_TEXT_MAX || t->nparts == 1) {
        free(t->text);
        t->text = NULL;
        return 0;
    }
    part_remove(t, at);   /* too long: the part comes out again */
    return -1;
}

void sched_part_store(struct tg_sched *s, struct chat *c, struct msg *m, struct part *p)
{
    if (!s->store)
        return;
    struct store_outbox_row row = {.chat_id = c->id, .kind = TG_ALERT, .method = m->method,
                                   .params = m->params, .text = p->text, .alerts = p->alerts,
                                   .priority = p->priority, .queued_ms = rt_wall_ms(s->rt),
                                   .group = p->group, .heading = p->heading};
    if (store_outbox_add(s->store, &row) == 0)
        p->id = row.id;
    p->batch = store_batch_id(s->store);
    p->sp = store_savepoint_id(s->store);
}

void sched_parts_forget(struct msg *m, uint64_t batch, uint64_t sp)
{
    for (int i = 0; i < m->nparts; i++)
        if (m->parts[i].batch == batch && (!sp || m->parts[i].sp == sp))
            m->parts[i].id = 0;
}

/* The message's place among the chat's: its priority is its biggest
 * alert's, its age its oldest's. */
static void restored_key(struct tg_sched *s, struct msg *m, const struct store_outbox_row *r)
{
    if (r->priority > m->priority)
        m->priority = r->priority;
    if (!m->queued_ms || r->queued_ms < m->queued_ms)
        m->queued_ms = r->queued_ms;
    m->key = sched_key_of(s, TG_ALERT, m->priority, m->queued_ms);
}

int sched_alert_restore(struct tg_sched *s, struct chat *c, const struct store_outbox_row *r,
                        struct msg **out)
{
    struct tg_alert a = {r->text, r->priority >= 0 ? r->priority : 0, r->group, r->heading};
    struct msg *t = c->alerts_tail, *m = NULL;
    size_t chars;
    int at, made = 0;
    if (!(t && t->parts && t->alerts + r->alerts <= TG_MERGE_MAX &&
          merge_part(t, &a, &chars, &at) == 0)) {
        if (!(m = t = sched_msg_new(TG_ALERT, r->method, r->params, "")))
            return -1;
        t->alerts = 0;
        made = 1;
        if (merge_part(t, &a, &chars, &at) != 0) {
            sched_msg_free(t);
            return -1;
        }
    }
    t->parts[at].alerts = r->alerts > 0 ? r->alerts : 1;
    t->parts[at].id = r->id;
    t->alerts += t->parts[at].alerts;
    t->chars = chars;
    restored_key(s, t, r);
    *out = m;
    return made;
}

int tg_sched_alert(struct tg_sched *s, int64_t chat, const struct tg_alert *a)
{
    struct tg_alert one = *a;
    double priority = one.priority = a->priority >= 0 ? a->priority : 0;   /* NaN: the lowest */
    int rc;
    struct chat *c = sched_queue_for(s, chat, &rc);
    if (!c)
        return rc;
    struct msg *t = c->alerts_tail;
    size_t chars;
    int at;
    /* merge into the alert message still waiting (not the one in flight) */
    if (t && t != c->sending && t->parts && t->alerts < TG_MERGE_MAX &&
        merge_part(t, &one, &chars, &at) == 0) {
        sched_part_store(s, c, t, &t->parts[at]);   /* (its own row: O(1), not the message) */
        t->chars = chars;
        t->alerts++;
        s->st.merged++;
        if (priority > t->priority) {
            t->priority = priority;
            int64_t k = sched_key_of(s, TG_ALERT, priority, t->queued_ms);
            if (k < t->key) {
                t->key = k;
                if (c->heap == 1 && sched_head(c) == t)
                    sched_hup(&s->ready, c->pos);
            }
        }
        return 1;
    }
    struct msg *m = sched_msg_new(TG_ALERT, "sendMessage", alert_params, "");
    if (!m || merge_part(m, &one, &chars, &at) != 0) {
        if (m)
            sched_msg_free(m);
        return -1;
    }
    m->chars = chars;
    m->priority = priority;
    m->queued_ms = rt_wall_ms(s->rt);
    m->key = sched_key_of(s, TG_ALERT, priority, m->queued_ms);
    m->gather_ms = rt_now_ms(s->rt) + GATHER_MS;
    return sched_enqueue(s, c, m);
}

