/* From a candle event to the sink: queued by the market's callback,
 * drained on the loop, each live rule's value once per event, the
 * subscriptions it newly reaches (index.h) grouped by chat, once per chat,
 * rule and candle, held while
 * the chat is paused, otherwise formatted and handed to the sink; a
 * crossing that reaches many chats is sent a slice per loop turn.  The
 * hot path: nothing here allocates per event (the scratch only grows). */
#include "alert/engine_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/grow.h"
#include "loop/rt.h"
#include "util/interval.h"
#include "market/market.h"
#include "store/store.h"

static void drain_events(struct alert_engine *e);
static int fanout_slice(struct alert_engine *e);
static void fire_now(struct alert_engine *e, int rule, const struct candle *c, const char *sym,
                     double move, size_t k);
static int defer(struct alert_engine *e, int rule, const struct candle *c, double move,
                 size_t from, size_t k);

/* One loop turn sends at most FANOUT_SLICE chats' alerts, whatever the
 * number of events that fired them, and stops after TURN_MAX_S, matching
 * included: a market-wide move is hundreds of events of up to a slice
 * each, and sent in one turn they held the loop (and the commit after it)
 * for over half a second; with 100,000 users each event also reaches tens
 * of thousands of subscriptions, and matching every queued one held a
 * turn for a quarter of a second more. */
int alert_drain_turn(struct alert_engine *e)
{
    double t0 = hist_clock();
    e->turn_left = FANOUT_SLICE;
    /* the fan-outs (older) for half the turn at most, then the events (one
     * at least), then the fan-outs again: matching a move's events for a
     * minute must not hold back the alerts of the first ones */
    e->turn_stop = 0;
    e->turn_until = t0 + TURN_MAX_S / 2;
    while (e->turn_left && !e->turn_stop && fanout_slice(e))
        ;
    e->turn_stop = 0;
    e->turn_until = t0 + TURN_MAX_S;
    drain_events(e);
    while (e->turn_left && !e->turn_stop && fanout_slice(e))
        ;
    return alert_busy(e);
}

static void drain_due(void *ud)
{
    struct alert_engine *e = ud;
    e->drain_timer = NULL;
    if (alert_drain_turn(e) && !e->drain_timer)   /* the rest next turn */
        e->drain_timer = timers_add(e->rt->timers, rt_now_ms(e->rt), drain_due, e);
}

/* The market's callback: runs inside network callbacks, so it only
 * queues (no Lua there) and asks the loop to drain. */
void alert_on_event(void *ud, const struct candle *c, enum candle_event ev)
{
    struct alert_engine *e = ud;
    if (ev == CANDLE_IGNORED)
        return;
    if (e->qlen == QUEUE_CAP) {
        e->st.dropped_events++;
        return;
    }
    e->arrived[(e->qhead + e->qlen) % QUEUE_CAP] = hist_clock();
    e->queue[(e->qhead + e->qlen++) % QUEUE_CAP] = *c;
    if (!e->drain_timer)
        e->drain_timer = timers_add(e->rt->timers, rt_now_ms(e->rt), drain_due, e);
}

static void collect(void *ud, uint32_t sub, double level, int up)
{
    struct alert_engine *e = ud;
    const struct preset *p = sub < e->nsubs ? e->subs[sub] : NULL;
    if (!p)
        return;
    struct match *v = grow_from(e->scratch, &e->capscratch, e->nscratch + 1, sizeof *v, 256);
    if (!v)
        return;
    e->scratch = v;
    e->scratch[e->nscratch++] = (struct match){p->chat_id, p->id, p, level, up};
}

/* A chat id's bits in unsigned order (groups' ids are negative). */
static uint64_t chat_key(int64_t chat)
{
    return (uint64_t)chat ^ (UINT64_C(1) << 63);
}

/* The k matches in scratch by chat, then preset: a radix sort on the chat
 * (a byte a pass, skipping the bytes every chat shares), then the few
 * presets of each chat in place.  With 100,000 users one event of a
 * market-wide move matches 40,000 chats, and qsort took 15-30 ms of a
 * loop turn for them; this takes about one.  0, or -1 (no memory: the
 * comparison sort instead). */
static int sort_by_chat(struct alert_engine *e, size_t k)
{
    struct match *tmp = grow_from(e->sorted, &e->capsorted, k, sizeof *tmp, 256);
    if (!tmp)
        return -1;
    e->sorted = tmp;
    struct match *src = e->scratch;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t at[257] = {0};
        for (size_t i = 0; i < k; i++)
            at[((chat_key(src[i].chat) >> shift) & 255) + 1]++;
        if (at[((chat_key(src[0].chat) >> shift) & 255) + 1] == k)
            continue;   /* (every chat has this byte) */
        for (int b = 0; b < 256; b++)
            at[b + 1] += at[b];
        for (size_t i = 0; i < k; i++)
            tmp[at[(chat_key(src[i].chat) >> shift) & 255]++] = src[i];
        struct match *t = src;
        src = tmp;
        tmp = t;
    }
    if (src != e->scratch) {   /* (an odd number of passes: the buffers swap) */
        size_t cap = e->capscratch;
        e->sorted = e->scratch;
        e->capscratch = e->capsorted;
        e->capsorted = cap;
        e->scratch = src;
    }
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && src[j].chat == src[j - 1].chat &&
                           src[j].preset < src[j - 1].preset; j--) {
            struct match t = src[j];
            src[j] = src[j - 1];
            src[j - 1] = t;
        }
    return 0;
}

static int by_chat(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    if (x->chat != y->chat)
        return x->chat < y->chat ? -1 : 1;
    return (x->preset > y->preset) - (x->preset < y->preset);
}

/* When the rule's formatter fails or is gone: a move in percent, any other
 * rule's value in its own words and unit. */
static char *default_text(const struct alert_view *a)
{
    char *s = malloc(512);
    const struct alert_rule_def *r = a->rule;
    const char *iv = interval_name(a->candle->interval), *name = a->npresets ? a->presets[0] : "";
    if (s && (!r || !strcmp(r->unit, "%")))
        snprintf(s, 512, "<b>%s</b> %s %s %+.2f%% (%s)", a->symbol, iv, a->up ? "▲" : "▼",
                 a->move, name);
    else if (s)
        snprintf(s, 512, "<b>%s</b> %s %s %s %.*f → %.*f%s%s (%s)", a->symbol, iv, r->label,
                 a->up ? "▲" : "▼", r->decimals, a->level, r->decimals + 1, a->move,
                 r->unit[0] ? " " : "", r->unit, name);
    return s;
}

/* One more alert in the minute of now_ms (a slot reused from an hour ago
 * starts over). */
static void count_minute(struct alert_engine *e, int64_t now_ms)
{
    int64_t minute = now_ms / 60000;
    int slot = (int)(minute % ALERT_MINUTES);
    if (e->per_min.minute[slot] != minute) {
        e->per_min.minute[slot] = minute;
        e->per_min.n[slot] = 0;
    }
    e->per_min.n[slot]++;
}

void alert_fired_per_minute(const struct alert_engine *e, int64_t now_ms,
                            uint32_t out[ALERT_MINUTES])
{
    int64_t last = now_ms / 60000;
    for (int i = 0; i < ALERT_MINUTES; i++) {
        int64_t minute = last - (ALERT_MINUTES - 1) + i;
        int slot = (int)(minute % ALERT_MINUTES);
        out[i] = e->per_min.minute[slot] == minute ? e->per_min.n[slot] : 0;
    }
}

/* The candle fired for the chat and rule: marked (never again) and logged. */
static void mark(struct alert_engine *e, int rule, const struct candle *c, const char *sym,
                 double move, const struct match *m, size_t n)
{
    fired_set(&e->fired, m->chat, rule, c->symbol, c->interval, c->open_time);
    e->st.fired++;
    count_minute(e, rt_wall_ms(e->rt));
    struct store *st = e->store;
    if (st) {
        store_fired_set(st, m->chat, e->rules[rule].name, sym, c->interval, c->open_time);
        for (size_t i = 0; i < n; i++)
            store_alert_log(st, m[i].preset, m->chat, sym, c->interval, c->open_time, move,
                            rt_wall_ms(e->rt));
    }
}

int alert_view_chart_key(const struct alert_view *v, char *out, size_t n)
{
    /* (the rule and the direction too: they are in the picture's caption) */
    return snprintf(out, n, "alert:%s:%s:%lld:%s:%s:%.10g", v->symbol,
                    interval_name(v->candle->interval), (long long)v->candle->open_time,
                    v->rule->name, v->up ? "up" : "down", v->chart_level);
}

static void fire(struct alert_engine *e, int rule, const struct candle *c, const char *sym,
                 double move, const struct match *m, size_t n)
{
    /* once per candle, and never for one older than the last that fired
     * (a restart's warm start replays the last closes) */
    int64_t last = fired_get(&e->fired, m->chat, rule, c->symbol, c->interval);
    if (last && c->open_time <= last) {
        e->st.duplicates++;
        return;
    }
    struct pause *pz = alert_pause_holding(e, m->chat);
    if (pz) {
        alert_pause_hold(e, pz, rule, c, sym, move);
        mark(e, rule, c, sym, move, m, n);
        return;
    }
    const char *names[16];
    int nn = 0, chart = 0;
    double chart_level = 0;
    for (size_t i = 0; i < n; i++) {
        if (nn < 16)
            names[nn++] = m[i].p->name;
        if (m[i].p->chart && !chart++)
            chart_level = m[i].level;
    }
    /* the level the chat's first preset reached or crossed (a move down: -t) */
    struct alert_view v = {c, sym, move, m->level, m->up, names, nn, &e->rules[rule].def,
                           chart > 0, chart_level};
    char *heading = NULL;
    char *text = e->hooks.format ? e->hooks.format(e->hooks.ud, rule, &v, &heading) : NULL;
    if (!text)
        text = default_text(&v);
    if (!text) {
        free(heading);
        return;
    }
    /* grouped by timeframe in a merged message, bigger moves first */
    struct alert_msg msg = {ALERT_LIVE, text, heading, fabs(move), 1 + c->interval, &v, 0};
    if (e->sink.alert)
        e->sink.alert(e->sink.ud, m->chat, &msg);
    if (e->now_arrived > 0)
        hist_observe(&e->frame_alert, hist_clock() - e->now_arrived);
    free(text);
    free(heading);
    mark(e, rule, c, sym, move, m, n);
}

static void evaluate(struct alert_engine *e, const struct candle *c)
{
    struct market *m = e->market;
    const char *sym = m->syms.v[c->symbol].name;
    int64_t now = market_exchange_now(m, rt_wall_ms(e->rt));
    int64_t age = now - (c->closed ? c->close_time : c->event_time);
    int late = age > (int64_t)(e->cfg->exchange.late_alert_max * 1000);
    for (int r = 0; r < e->nrules; r++) {
        struct rule *ru = &e->rules[r];
        if (!ru->live || !(c->closed ? ru->def.on_close : ru->def.on_forming) || !e->hooks.value)
            continue;
        /* no preset of the rule watches this pair and timeframe: its value
         * is not needed (a rule's state sees only the events it is asked) */
        uint32_t rank = c->symbol < e->nrank
                            ? index_rank(m->syms.v[c->symbol].venue, e->rank[c->symbol]) : 0;
        if (index_idle(&ru->ix, c->symbol, c->interval, rank, c->open_time, c->closed))
            continue;
        int ok = 0;
        double v = e->hooks.value(e->hooks.ud, r, c, sym, &ok);
        if (!ok || !isfinite(v))
            continue;
        e->st.evaluated++;
        e->nscratch = 0;
        /* late: history is complete, but nobody wants old news; nor does it
         * move the watermark, so a fresh update of the candle may fire */
        size_t n = index_update(&ru->ix, c->symbol, c->interval, rank, c->open_time, c->closed,
                                v, late, collect, e);
        if (!n)
            continue;
        e->st.matched += n;
        if (late) {
            e->st.late++;
            continue;
        }
        double qv = c->symbol < m->nqv && m->quote_volume ? m->quote_volume[c->symbol] : 0;
        size_t k = 0;   /* drop presets whose volume floor this pair is under */
        for (size_t i = 0; i < e->nscratch; i++)
            if (!(e->scratch[i].p->min_volume > 0 && qv < e->scratch[i].p->min_volume))
                e->scratch[k++] = e->scratch[i];
        if (k > 1 && sort_by_chat(e, k) != 0)
            qsort(e->scratch, k, sizeof *e->scratch, by_chat);
        size_t chats = 0;
        for (size_t i = 0; i < k; i++)
            chats += !i || e->scratch[i].chat != e->scratch[i - 1].chat;
        /* beyond this turn's share, or behind fan-outs still going: later,
         * in order */
        if (chats && hist_clock() > e->turn_until)
            e->turn_stop = 1;
        if (chats && (chats > e->turn_left || e->fanouts || e->turn_stop) &&
            defer(e, r, c, v, 0, k))
            continue;
        fire_now(e, r, c, sym, v, k);
    }
}

/* The k matches in scratch, chat by chat, within this turn's share: what
 * the turn's time does not cover waits (in order: no fan-out is pending
 * here) for the next turns. */
static void fire_now(struct alert_engine *e, int rule, const struct candle *c, const char *sym,
                     double move, size_t k)
{
    size_t sent = 0;
    for (size_t i = 0, j; i < k; i = j) {
        /* (the clock read every 16 chats: a chat's alert costs 20-100 us) */
        if (sent && !(sent & 15) && hist_clock() > e->turn_until && defer(e, rule, c, move, i, k)) {
            e->turn_stop = 1;
            return;
        }
        for (j = i; j < k && e->scratch[j].chat == e->scratch[i].chat; j++)
            ;
        fire(e, rule, c, sym, move, e->scratch + i, j - i);
        sent++;
        e->turn_left -= e->turn_left > 0;
    }
}

/* Keeps matches [from, k) in scratch for later slices; 0 when out of
 * memory (then they are sent at once). */
static int defer(struct alert_engine *e, int rule, const struct candle *c, double move,
                 size_t from, size_t k)
{
    struct fanout *f = calloc(1, sizeof *f);
    k -= from;
    if (!f || !(f->m = malloc(sizeof *f->m * k))) {
        free(f);
        return 0;
    }
    memcpy(f->m, e->scratch + from, sizeof *f->m * k);
    f->c = *c;
    f->arrived = e->now_arrived;
    f->rule = rule;
    f->move = move;
    f->n = k;
    if (e->fanouts_tail)
        e->fanouts_tail->next = f;
    else
        e->fanouts = f;
    e->fanouts_tail = f;
    if (!e->drain_timer)
        e->drain_timer = timers_add(e->rt->timers, rt_now_ms(e->rt), drain_due, e);
    return 1;
}

/* Sends what is left of this turn's share from the oldest fan-out; 1
 * while any remain. */
static int fanout_slice(struct alert_engine *e)
{
    struct fanout *f = e->fanouts;
    if (!f)
        return 0;
    const char *sym = e->market->syms.v[f->c.symbol].name;
    e->now_arrived = f->arrived;
    while (f->done < f->n && e->turn_left && !e->turn_stop) {
        size_t i = f->done, j = i, k = i;
        for (; j < f->n && f->m[j].chat == f->m[i].chat; j++) {
            const struct preset *p = alert_preset_get(e, f->m[j].preset);
            if (p && p->active) {   /* (deleted or paused since: skipped) */
                f->m[k] = f->m[j];
                f->m[k++].p = p;
            }
        }
        if (k > i)
            fire(e, f->rule, &f->c, sym, f->move, f->m + i, k - i);
        f->done = j;
        e->turn_left--;
        if (!(e->turn_left & 15) && hist_clock() > e->turn_until)
            e->turn_stop = 1;   /* (the clock read every 16 chats) */
    }
    if (f->done == f->n) {
        if (!(e->fanouts = f->next))
            e->fanouts_tail = NULL;
        free(f->m);
        free(f);
    }
    return e->fanouts != NULL;
}

/* What the event will read, asked for at once: the book's states and
 * each live rule's index entries for its pair and timeframe (one cache
 * miss after another, they were most of an event's time with every rule
 * live: tests/bench/indicator_cost.c). */
static void prefetch_event(const struct alert_engine *e, const struct candle *c)
{
    for (int r = 0; r < e->nrules; r++)
        if (e->rules[r].live)
            index_prefetch(&e->rules[r].ix, c->symbol, c->interval);
    ind_book_prefetch(&e->market->ind, c->symbol, c->interval);
}

/* The queued events, one at least, then while the turn's time lasts: the
 * rest wait in the queue for the next turn. */
static void drain_events(struct alert_engine *e)
{
    for (int first = 1; e->qlen && (first || hist_clock() <= e->turn_until); first = 0) {
        struct candle c = e->queue[e->qhead];
        e->now_arrived = e->arrived[e->qhead];
        e->qhead = (e->qhead + 1) % QUEUE_CAP;
        e->qlen--;
        e->st.events++;
        prefetch_event(e, &c);
        /* the indicators as of this event, whatever is queued after it */
        ind_book_closed(&e->market->ind, &c);
        evaluate(e, &c);
    }
}

int alert_busy(const struct alert_engine *e)
{
    return e->qlen || e->fanouts;
}

void alert_drain(struct alert_engine *e)
{
    e->turn_left = SIZE_MAX;
    e->turn_until = INFINITY;
    e->turn_stop = 0;
    drain_events(e);
    while (fanout_slice(e))
        ;
}


void alert_fanouts_free(struct alert_engine *e)
{
    while (e->fanouts) {
        struct fanout *f = e->fanouts;
        e->fanouts = f->next;
        free(f->m);
        free(f);
    }
}
