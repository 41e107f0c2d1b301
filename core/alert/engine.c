/* The engine's set-up (its start-up from the store, the market's
 * callbacks, the sink and hooks), the pruning of old marks, and its
 * statistics.  The subjects are in preset.c, fanout.c and pause.c. */
#include "alert/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "loop/rt.h"
#include "util/interval.h"
#include "market/market.h"
#include "metrics/prom.h"
#include "store/store.h"
#include "util/jsonw.h"

/* ---- set-up ---- */

void alert_set_sink(struct alert_engine *e, const struct alert_sink *s)
{
    e->sink = *s;
}

void alert_set_hooks(struct alert_engine *e, const struct alert_hooks *h)
{
    e->hooks = *h;
}

static int load_fired(void *ud, int64_t chat, const char *rule, const char *symbol, int iv,
                      int64_t open_time)
{
    struct alert_engine *e = ud;
    int id = symtab_add(&e->market->syms, symbol, strlen(symbol));
    int slot = alert_rule_slot(e, rule, 0);   /* (a rule without presets needs no marks) */
    if (id >= 0 && slot >= 0 && iv >= 0 && iv < IV_COUNT)
        fired_set(&e->fired, chat, slot, (uint32_t)id, iv, open_time);
    return 0;
}

/* Old marks and statistics go now and then: a week of the log is kept for
 * /preset's statistics, and the marks an alert could still need.  A step
 * of PRUNE_STEP rows a loop turn: after a market-wide move with 100,000
 * users, reading every mark at once took one turn 85-200 ms. */
#define PRUNE_STEP 5000

static void prune_due(void *ud)
{
    struct alert_engine *e = ud;
    uint64_t wait = 0;   /* the next step in the next turn */
    if (e->prune_marks) {
        e->prune_marks =
            store_fired_prune_step(e->store, e->fired.late_ms, &e->prune_from, PRUNE_STEP) > 0;
    } else {
        int n = store_alert_log_prune(e->store, rt_wall_ms(e->rt) - 8 * DAY_MS, PRUNE_STEP);
        if (n > 0)
            e->st.log_pruned += (uint64_t)n;
        if (n != PRUNE_STEP) {   /* done: the marks first, the next time */
            e->prune_marks = 1;
            e->prune_from = 0;
            wait = PRUNE_EVERY_MS;
        }
    }
    e->prune_timer = timers_add(e->rt->timers, rt_now_ms(e->rt) + wait, prune_due, e);
}

struct alert_engine *alert_engine_new(const struct alert_deps *d)
{
    struct alert_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->queue = malloc(sizeof *e->queue * QUEUE_CAP)) ||
        !(e->arrived = malloc(sizeof *e->arrived * QUEUE_CAP))) {
        if (e)
            free(e->queue);
        free(e);
        return NULL;
    }
    e->rt = d->rt;
    e->cfg = d->cfg;
    e->store = d->store;
    e->market = d->market;
    e->text_chars = d->text_chars;
    e->text_invisible = d->text_invisible;
    /* a mark matters while an alert for its candle could still be news */
    e->fired.late_ms = (int64_t)(d->cfg->exchange.late_alert_max * 1000);
    alert_ranks_update(e);
    if (d->store) {
        e->loading = 1;   /* presets indexed in two passes */
        store_presets_each(d->store, alert_load_preset, e);
        e->loading = 0;
        alert_index_loaded(e);
        fired_reserve(&e->fired, (size_t)store_fired_count(d->store, e->fired.late_ms));
        store_fired_each(d->store, e->fired.late_ms, load_fired, e);
        store_kv_each(d->store, PAUSE_SCOPE, alert_load_pause, e);
        store_kv_each(d->store, QUIET_SCOPE, alert_load_quiet, e);
        store_commit(d->store);
        alert_prepare(e);
    }
    e->prune_marks = 1;
    if (d->store)   /* not in the way of start-up */
        e->prune_timer = timers_add(e->rt->timers, rt_now_ms(e->rt) + PRUNE_FIRST_MS, prune_due, e);
    e->market->on_event = alert_on_event;
    e->market->on_event_ud = e;
    e->market->on_ranking = alert_on_ranking;
    e->market->on_ranking_ud = e;
    if (e->st.presets)
        log_info(e->rt->log, "alerts", "%llu presets, %llu subscriptions",
                 (unsigned long long)e->st.presets, (unsigned long long)e->st.subscriptions);
    return e;
}

void alert_engine_free(struct alert_engine *e)
{
    if (!e)
        return;
    free(e->touched.v);
    if (e->drain_timer)
        timers_cancel(e->rt->timers, e->drain_timer);
    if (e->prune_timer)
        timers_cancel(e->rt->timers, e->prune_timer);
    if (e->market->on_event_ud == e) {
        e->market->on_event = NULL;
        e->market->on_ranking = NULL;
    }
    for (uint32_t i = 0; i < e->nsubs; i++)
        alert_preset_free(e->subs[i]);
    free(e->subs);
    i64map_free(&e->by_id);
    i64map_free(&e->per_user);
    alert_pauses_free(e);
    for (int i = 0; i < e->nrules; i++)
        index_free(&e->rules[i].ix);
    fired_free(&e->fired);
    free(e->rank);
    alert_fanouts_free(e);
    free(e->queue);
    free(e->arrived);
    free(e->scratch);
    free(e->sorted);
    free(e);
}

uint64_t alert_visited(const struct alert_engine *e)
{
    uint64_t n = 0;
    for (int i = 0; i < e->nrules; i++)
        n += e->rules[i].ix.visited;
    return n;
}

void alert_stats(struct alert_engine *e, struct alert_stats *out)
{
    *out = e->st;
    out->visited = alert_visited(e);
}

size_t alert_users(struct alert_engine *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->per_user.cap; i++)
        n += (intptr_t)e->per_user.vals[i] > 1;   /* (stored as presets + 1) */
    return n;
}

size_t alert_chats(struct alert_engine *e, int64_t **out)
{
    struct i64map seen = {0};
    size_t n = 0;
    *out = malloc(sizeof **out * (e->nsubs ? e->nsubs : 1));
    for (uint32_t i = 0; *out && i < e->nsubs; i++) {
        const struct preset *p = e->subs[i];
        if (p && !i64map_get(&seen, p->chat_id) && i64map_put(&seen, p->chat_id, (void *)1) == 0)
            (*out)[n++] = p->chat_id;
    }
    i64map_free(&seen);
    return n;
}

void alert_metrics(struct alert_engine *e, struct prom *p)
{
    const struct alert_stats *s = &e->st;
    prom_gauge(p, "candlewatch_presets", "Presets in memory.", NULL, (double)s->presets);
    prom_gauge(p, "candlewatch_subscriptions", "Entries in the subscription index.", NULL,
               (double)s->subscriptions);
    prom_counter(p, "candlewatch_candle_events_total", "Candle events handed to the rules.",
                 NULL, (double)s->events);
    prom_counter(p, "candlewatch_rule_evaluations_total", "Rule values computed.", NULL,
                 (double)s->evaluated);
    prom_counter(p, "candlewatch_subscriptions_visited_total",
                 "Subscriptions the rules' values newly reached (each looked at once per "
                 "candle and direction).", NULL, (double)alert_visited(e));
    prom_counter(p, "candlewatch_alerts_fired_total", "Alerts fired (one per chat and candle).",
                 NULL, (double)s->fired);
    prom_counter(p, "candlewatch_alerts_duplicates_suppressed_total",
                 "Alerts not sent again for a candle that already fired.", NULL,
                 (double)s->duplicates);
    prom_counter(p, "candlewatch_alerts_late_total", "Crossings withheld as old news.", NULL,
                 (double)s->late);
    prom_counter(p, "candlewatch_alerts_held_total", "Alerts held while a chat was paused.",
                 NULL, (double)s->held);
    prom_counter(p, "candlewatch_candle_events_dropped_total",
                 "Candle events dropped because the queue was full.", NULL,
                 (double)s->dropped_events);
    prom_histogram(p, "candlewatch_frame_alert_seconds",
                   "From a candle event's arrival to its alerts queued for Telegram.",
                   &e->frame_alert);
}

void alert_stats_json(struct alert_engine *e, struct jsonw *w)
{
    const struct alert_stats *s = &e->st;
    jsonw_kv_int(w, "presets", (long long)s->presets);
    jsonw_kv_int(w, "subscriptions", (long long)s->subscriptions);
    jsonw_kv_int(w, "events", (long long)s->events);
    jsonw_kv_int(w, "evaluated", (long long)s->evaluated);
    jsonw_kv_int(w, "visited", (long long)alert_visited(e));
    jsonw_kv_int(w, "matched", (long long)s->matched);
    jsonw_kv_int(w, "fired", (long long)s->fired);
    jsonw_kv_int(w, "duplicates_suppressed", (long long)s->duplicates);
    jsonw_kv_int(w, "late_not_sent", (long long)s->late);
    jsonw_kv_int(w, "held_while_paused", (long long)s->held);
    jsonw_kv_int(w, "events_dropped", (long long)s->dropped_events);
    jsonw_kv_int(w, "log_rows_pruned", (long long)s->log_pruned);
}
