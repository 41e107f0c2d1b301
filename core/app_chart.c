/* Charts that follow alerts (app_chart.h): the composition of the alert
 * engine's view, the market's candles, the renderer (core/chart) and the
 * Telegram scheduler's photos.
 *
 * A job is one picture: its key (symbol, interval, candle, level), a copy
 * of the candles, then the PNG, then the file_id of its first upload.
 * Chats wait in the job until their alert text has gone and the picture
 * can go: the first by upload, the others by file_id once there is one.
 * Jobs stay a while for chats whose alert comes later on the same candle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "app.h"
#include "app_chart.h"
#include "alert/engine.h"
#include "chart/chart.h"
#include "market/candles.h"
#include "metrics/prom.h"
#include "tg/bot.h"
#include "tg/sched.h"
#include "util/interval.h"

#define CHART_CANDLES 120          /* candles on an alert's chart */
#define CHART_JOBS_MAX 256         /* pictures held; past it a new one is dropped */
#define CHART_KEEP_MS (15 * 60000) /* an idle picture is kept this long */
#define CHART_POLL_MS 100          /* checks for alert texts gone */
#define CHART_WAIT_MS (10 * 60000) /* a chat's picture waits for its text this long */

struct waiter {
    int64_t chat;
    uint64_t since_ms;
};

struct job {
    struct job *next;
    struct app_charts *owner;
    char key[TG_PHOTO_KEY_MAX];
    uint64_t made_ms;
    /* the worker's input and output (untouched by the loop meanwhile) */
    uv_work_t work;
    struct candle *candles;
    size_t ncandles;
    char title[64], subtitle[96], line_label[32];
    struct chart_hline line;
    int has_line;
    struct chart_png png;
    char err[160];
    int rc;
    /* the loop's */
    int rendering, uploading;
    char *file_id;
    char caption[512];
    struct waiter *w;
    size_t nw, capw;
};

struct app_charts {
    struct app *a;
    struct job *jobs;
    size_t njobs;
    struct timer *poll;
    int closing;
    struct app_charts_stats st;
};

struct app_charts *app_charts_new(struct app *a)
{
    struct app_charts *c = calloc(1, sizeof *c);
    if (c)
        c->a = a;
    return c;
}

void app_charts_stats(const struct app_charts *c, struct app_charts_stats *out)
{
    *out = c->st;
}

void app_charts_metrics(const struct app_charts *c, struct prom *p)
{
    static const char name[] = "candlewatch_alert_charts_total",
                      help[] = "Charts after alerts: drawn, failed to draw, and chats' pictures "
                               "dropped (no room, a blocked chat, waited too long).";
    static const char sends[] = "candlewatch_alert_chart_sends_total",
                      shelp[] = "Chart pictures queued for chats: uploaded, or by the file_id of "
                                "an upload.";
    static const char *const outcome[3] = {"drawn", "failed", "dropped"}, *const how[2] = {
        "upload", "file_id"};
    const uint64_t nout[3] = {c->st.rendered, c->st.failed, c->st.dropped},
                   nhow[2] = {c->st.uploads, c->st.by_file_id};
    for (int i = 0; i < 5; i++) {
        char lb[64] = "";   /* (prom_label appends) */
        prom_label(lb, sizeof lb, i < 3 ? "outcome" : "how", i < 3 ? outcome[i] : how[i - 3]);
        prom_counter(p, i < 3 ? name : sends, i < 3 ? help : shelp, lb,
                     (double)(i < 3 ? nout[i] : nhow[i - 3]));
    }
}

static void job_free(struct job *j)
{
    free(j->candles);
    chart_png_free(&j->png);
    free(j->file_id);
    free(j->w);
    free(j);
}

/* A job nothing refers to any more: no render, upload or chat waiting. */
static int job_idle(const struct job *j)
{
    return !j->rendering && !j->uploading && !j->nw;
}

/* Frees the idle jobs that are old (or all idle ones when closing). */
static void sweep(struct app_charts *c, uint64_t now)
{
    for (struct job **pp = &c->jobs; *pp;) {
        struct job *j = *pp;
        if (job_idle(j) && (c->closing || now - j->made_ms >= CHART_KEEP_MS)) {
            *pp = j->next;
            c->njobs--;
            job_free(j);
        } else {
            pp = &j->next;
        }
    }
    if (c->closing && !c->jobs) {
        if (c->poll)
            timers_cancel(&c->a->timers, c->poll);
        free(c);
    }
}

static struct job *job_find(struct app_charts *c, const char *key)
{
    for (struct job *j = c->jobs; j; j = j->next)
        if (!strcmp(j->key, key))
            return j;
    return NULL;
}

/* The alert's candle and up to CHART_CANDLES - 1 closed ones before it,
 * oldest first, into j (malloc'd).  -1 out of memory. */
static int copy_candles(struct job *j, const struct market *m, const struct candle *alert)
{
    const struct series *s = candles_series(&m->candles, alert->symbol, alert->interval);
    j->candles = malloc(CHART_CANDLES * sizeof *j->candles);
    if (!j->candles)
        return -1;
    size_t n = 0;
    const struct candle *before[CHART_CANDLES];
    for (uint32_t i = 0; s && n < CHART_CANDLES - 1; i++) {
        const struct candle *k = series_closed(s, m->candles.history, i);
        if (!k)
            break;
        if (k->open_time < alert->open_time)
            before[n++] = k;
    }
    for (size_t i = 0; i < n; i++)
        j->candles[i] = *before[n - 1 - i];
    j->candles[n] = *alert;
    j->ncandles = n + 1;
    return 0;
}

static void html_escape(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 6 < n; s++) {
        const char *e = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" : NULL;
        if (e)
            k += (size_t)snprintf(out + k, n - k, "%s", e);
        else
            out[k++] = *s;
    }
    out[k] = 0;
}

/* Title, subtitle, caption; a move's threshold as a price line. */
static void describe(struct job *j, const struct alert_view *v)
{
    const struct alert_rule_def *r = v->rule;
    const struct candle *c = v->candle;
    int dp = r->decimals < 0 ? 0 : r->decimals > 8 ? 8 : r->decimals;
    snprintf(j->title, sizeof j->title, "%s %s", v->symbol, interval_name(c->interval));
    if (r->mode == RULE_MOVE)
        snprintf(j->subtitle, sizeof j->subtitle, "%s %+.*f%s", r->label, dp, v->chart_level,
                 r->unit);
    else
        snprintf(j->subtitle, sizeof j->subtitle, "%s %s %.*f%s", r->label,
                 r->mode == RULE_CROSS ? (v->up ? "crossed above" : "crossed below")
                                       : (v->up ? "at or above" : "at or below"),
                 dp, v->chart_level, r->unit);
    if (r->mode == RULE_MOVE && !strcmp(r->unit, "%")) {
        snprintf(j->line_label, sizeof j->line_label, "%+.*f%%", dp, v->chart_level);
        j->line = (struct chart_hline){c->open * (1 + v->chart_level / 100), j->line_label,
                                       CHART_LINE_THRESHOLD};
        j->has_line = 1;
    }
    char t[128], sub[192];
    html_escape(j->title, t, sizeof t);
    html_escape(j->subtitle, sub, sizeof sub);
    snprintf(j->caption, sizeof j->caption, "<b>%s</b> · %s", t, sub);
}

/* (a worker thread: only the job's own fields) */
static void render_work(uv_work_t *w)
{
    struct job *j = w->data;
    struct chart_spec s;
    chart_spec_init(&s);
    s.title = j->title;
    s.subtitle = j->subtitle;
    s.candles = j->candles;
    s.ncandles = j->ncandles;
    s.highlight = (long)j->ncandles - 1;
    if (j->has_line) {
        s.lines = &j->line;
        s.nlines = 1;
    }
    j->rc = chart_render(&s, &j->png, j->err, sizeof j->err);
}

static void pump(struct app_charts *c, struct job *j);
static void arm_poll(struct app_charts *c);

/* The upload's answer: its file_id for the other chats, or NULL (given
 * up on: the next chat waiting uploads). */
static void uploaded(void *ud, const char *file_id)
{
    struct job *j = ud;
    struct app_charts *c = j->owner;
    j->uploading = 0;
    if (file_id && !j->file_id && (j->file_id = strdup(file_id)))
        chart_png_free(&j->png);   /* (by file_id from now on) */
    if (!c->closing)
        pump(c, j);
    sweep(c, rt_now_ms(&c->a->rt));
}

/* Queues the picture for one chat: by file_id, or as the upload. */
static int send_one(struct app_charts *c, struct job *j, int64_t chat)
{
    struct tg_sched *s = tg_bot_sched(c->a->tg);
    struct tg_photo p = {.key = j->key, .caption = j->caption, .params = "{\"parse_mode\":\"HTML\"}"};
    if (j->file_id) {
        p.file_id = j->file_id;
        c->st.by_file_id++;
    } else {
        p.bytes = j->png.data;
        p.len = j->png.len;
        p.on_sent = uploaded;
        p.ud = j;
    }
    int rc = tg_sched_photo(s, NULL, chat, &p);
    if (rc == 0 && !j->file_id) {
        j->uploading = 1;
        c->st.uploads++;
    }
    return rc;
}

/* Sends to the chats whose alert text has gone, as far as the job allows
 * (one upload at a time); the others wait for the poll. */
static void pump(struct app_charts *c, struct job *j)
{
    if (j->rendering || !c->a->tg)
        return;
    struct tg_sched *s = tg_bot_sched(c->a->tg);
    uint64_t now = rt_now_ms(&c->a->rt);
    size_t keep = 0;
    for (size_t i = 0; i < j->nw; i++) {
        struct waiter w = j->w[i];
        int ready = j->rc == 0 && (j->file_id || !j->uploading);
        if (j->rc != 0 || now - w.since_ms >= CHART_WAIT_MS) {
            c->st.dropped++;
            continue;
        }
        if (!ready || tg_sched_alerts_waiting(s, w.chat)) {
            j->w[keep++] = w;
            continue;
        }
        if (send_one(c, j, w.chat) != 0)
            c->st.dropped++;   /* (a blocked chat, or no memory) */
    }
    j->nw = keep;
    if (keep)
        arm_poll(c);
}

static void poll_due(void *ud)
{
    struct app_charts *c = ud;
    c->poll = NULL;
    for (struct job *j = c->jobs; j; j = j->next)
        if (j->nw)
            pump(c, j);
}

static void arm_poll(struct app_charts *c)
{
    if (!c->poll && !c->closing)
        c->poll = timers_add(&c->a->timers, rt_now_ms(&c->a->rt) + CHART_POLL_MS, poll_due, c);
}

static void render_done(uv_work_t *w, int status)
{
    struct job *j = w->data;
    struct app_charts *c = j->owner;
    j->rendering = 0;
    free(j->candles);   /* (drawn: not needed again) */
    j->candles = NULL;
    if (status != 0 && j->rc == 0) {
        j->rc = -1;
        snprintf(j->err, sizeof j->err, "cancelled");
    }
    if (j->rc == 0) {
        c->st.rendered++;
    } else {
        c->st.failed++;
        log_warn(&c->a->log, "chart", "%s: no chart: %s", j->key, j->err);
    }
    if (!c->closing)
        pump(c, j);
    else
        j->nw = 0;
    sweep(c, rt_now_ms(&c->a->rt));
}

static int add_waiter(struct job *j, int64_t chat, uint64_t now)
{
    if (j->nw == j->capw) {
        size_t cap = j->capw ? j->capw * 2 : 8;
        struct waiter *v = realloc(j->w, cap * sizeof *v);
        if (!v)
            return -1;
        j->w = v;
        j->capw = cap;
    }
    j->w[j->nw++] = (struct waiter){chat, now};
    return 0;
}

/* A new job for the alert: its candles copied, its render queued. */
static struct job *job_new(struct app_charts *c, const char *key, const struct alert_view *v,
                           uint64_t now)
{
    if (c->njobs >= CHART_JOBS_MAX)
        sweep(c, now);
    if (c->njobs >= CHART_JOBS_MAX)
        return NULL;
    struct job *j = calloc(1, sizeof *j);
    if (!j || copy_candles(j, &c->a->market, v->candle) != 0) {
        free(j);
        return NULL;
    }
    j->owner = c;
    j->made_ms = now;
    snprintf(j->key, sizeof j->key, "%s", key);
    describe(j, v);
    j->work.data = j;
    if (uv_queue_work(&c->a->loop, &j->work, render_work, render_done) != 0) {
        job_free(j);
        return NULL;
    }
    j->rendering = 1;
    j->next = c->jobs;
    c->jobs = j;
    c->njobs++;
    return j;
}

void app_charts_alert(struct app_charts *c, int64_t chat, const struct alert_view *v)
{
    if (!c || c->closing || !c->a->tg || !v || !v->chart)
        return;
    char key[TG_PHOTO_KEY_MAX];
    if (alert_view_chart_key(v, key, sizeof key) >= (int)sizeof key) {
        c->st.dropped++;   /* (a cut key could name another alert's picture) */
        return;
    }
    uint64_t now = rt_now_ms(&c->a->rt);
    struct job *j = job_find(c, key);
    if (!j)
        j = job_new(c, key, v, now);
    if (!j || add_waiter(j, chat, now) != 0) {
        c->st.dropped++;
        return;
    }
    pump(c, j);   /* (a picture drawn before: at once, once the text has gone) */
}

void app_charts_close(struct app_charts *c)
{
    if (!c)
        return;
    c->closing = 1;
    if (c->poll) {
        timers_cancel(&c->a->timers, c->poll);
        c->poll = NULL;
    }
    for (struct job *j = c->jobs; j; j = j->next)
        j->nw = 0;   /* (not sent: pictures are not kept across a stop) */
    sweep(c, rt_now_ms(&c->a->rt));   /* (frees c when nothing is under way) */
}
