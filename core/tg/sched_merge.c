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
    /* (from 1: most alert messages carry one alert) */
    struct part *v = grow_from(t->parts, &t->capparts, (size_t)t->nparts + 1, sizeof *v, 1);
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
    struct chat *c = sched_queue_for(s, chat, &rc);
    if (!c)
        return rc;
    struct msg *t = c->alerts_tail;
    size_t chars;
    int at;
    char *merged;
    /* merge into the alert message still waiting (not the one in flight) */
    if (t && t != c->sending && t->parts && t->alerts < TG_MERGE_MAX &&
        (merged = merge_part(t, &one, &chars, &at))) {
        if (s->store && t->id)   /* (failing: the alert still goes, from memory) */
            store_outbox_set_text(s->store, t->id, merged, t->alerts + 1);
        free(t->text);
        t->text = merged;
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
    char *text = m ? merge_part(m, &one, &chars, &at) : NULL;
    if (!text) {
        if (m)
            sched_msg_free(m);
        return -1;
    }
    free(m->text);
    m->text = text;
    m->chars = chars;
    m->priority = priority;
    m->queued_ms = rt_wall_ms(s->rt);
    m->key = sched_key_of(s, TG_ALERT, priority, m->queued_ms);
    m->gather_ms = rt_now_ms(s->rt) + GATHER_MS;
    return sched_enqueue(s, c, m);
}

