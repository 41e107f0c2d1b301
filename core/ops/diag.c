#include "ops/diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "ops/health.h"
#include "loop/rt.h"
#include "metrics/prom.h"
#include "ops/mail.h"
#include "store/store.h"
#include "tg/text.h"

#define CHECK_MS 2000
#define ERRORS_QUIET_MS 600000   /* script errors "clear" after 10 quiet minutes */

struct state {
    int active, told;            /* wrong now; admins were told */
    uint64_t since_ms, told_ms;  /* (monotonic) */
};

struct told {                    /* a key of diag_tell's, and when it was told */
    char key[65];
    uint64_t at_ms;
};

struct diag {
    const struct rt *rt;
    const struct config *cfg;    /* admins, admin.* */
    struct store *store;         /* NULL: none */
    struct health *health;       /* the "exchange" and "scripts" entries are read */
    struct diag_hooks hooks;
    int stopping;                /* diag_stop: checks no more */
    struct timer *timer;
    struct state st[DIAG_KINDS];
    long script_errors;          /* the scripts' total at the last check */
    uint64_t feed_wrong_ms;      /* the feed has not been ok since, or 0 */
    uint64_t last_error_ms;
    uint64_t sent;
    struct mailer *mail;         /* NULL: no e-mail */
    char last_run[32];           /* the previous run's "running" mark, or "" */
    int greeted;                 /* the admins were told of the start */
    struct told told[DIAG_KEYS];
};

static const char *const titles[DIAG_KINDS] = {
    "Market data", "Scripts", "Script errors", "Telegram flood control", "Database", "Memory"};

/* The number of admins the text was queued for on Telegram. */
static int tell(struct diag *d, const char *text)
{
    int n = 0;
    mail_send(d->mail, text);
    for (int i = 0; i < d->cfg->nadmins; i++)
        if (d->hooks.telegram_send(d->hooks.ud, d->cfg->admins[i], text) == 0)
            n++;
    d->sent += (uint64_t)n;
    return n;
}

/* key's slot: its own, else a free one, else the one told longest ago. */
static struct told *told_slot(struct diag *d, const char *key)
{
    struct told *oldest = &d->told[0];
    for (int i = 0; i < DIAG_KEYS; i++) {
        struct told *t = &d->told[i];
        if (!strcmp(t->key, key))
            return t;
        if (!t->key[0] || (oldest->key[0] && t->at_ms < oldest->at_ms))
            oldest = t;
    }
    return oldest;
}

int diag_tell(struct diag *d, const char *key, const char *html)
{
    if (!d || !*key || strlen(key) >= sizeof d->told[0].key)
        return 0;
    uint64_t now = rt_now_ms(d->rt), repeat = (uint64_t)(d->cfg->admin.repeat_after * 1000);
    struct told *t = told_slot(d, key);
    if (!strcmp(t->key, key) && now - t->at_ms < repeat)
        return 0;
    if (tell(d, html) == 0 && !d->mail)
        return 0;   /* nobody heard: the next call tries again */
    snprintf(t->key, sizeof t->key, "%s", key);
    t->at_ms = now;
    return 1;
}

/* One kind's state this check: wrong (with what) or not. */
static void update(struct diag *d, enum diag_kind k, int wrong, const char *what)
{
    struct state *s = &d->st[k];
    uint64_t now = rt_now_ms(d->rt), repeat = (uint64_t)(d->cfg->admin.repeat_after * 1000);
    char text[700];
    if (wrong) {
        if (!s->active) {
            s->active = 1;
            s->since_ms = now;
        }
        if (!s->told || now - s->told_ms >= repeat) {
            snprintf(text, sizeof text, "⚠️ <b>%s</b>%s: %s", titles[k],
                     s->told ? " (still)" : "", what);
            tell(d, text);
            s->told = 1;
            s->told_ms = now;
        }
        return;
    }
    if (s->active && s->told) {
        snprintf(text, sizeof text, "✅ <b>%s</b>: cleared after %llu min", titles[k],
                 (unsigned long long)((now - s->since_ms) / 60000));
        tell(d, text);
    }
    s->active = s->told = 0;
}

/* The feed: told once it has been wrong for admin.feed_down_after. */
static void check_feed(struct diag *d, uint64_t now)
{
    char what[600];
    d->hooks.feed_refresh(d->hooks.ud);   /* (its entry is brought up to date when read) */
    const struct health_entry *feed = health_get(d->health, "exchange");
    if (feed && feed->status != HEALTH_OK) {
        if (!d->feed_wrong_ms)
            d->feed_wrong_ms = now;
        tg_text_escape(what, sizeof what, feed->reason);
        if (now - d->feed_wrong_ms >= (uint64_t)(d->cfg->admin.feed_down_after * 1000))
            update(d, DIAG_FEED, 1, what);
    } else {
        d->feed_wrong_ms = 0;
        update(d, DIAG_FEED, 0, NULL);
    }
}

/* Scripts that do not load, and errors new since the last check (they
 * clear after ERRORS_QUIET_MS without one). */
static void check_scripts(struct diag *d, uint64_t now)
{
    char what[600];
    const struct health_entry *sc = health_get(d->health, "scripts");
    tg_text_escape(what, sizeof what, sc ? sc->reason : "");
    update(d, DIAG_SCRIPTS_LOAD, sc && sc->status != HEALTH_OK, what);

    long errors = d->hooks.script_errors(d->hooks.ud);
    if (errors > d->script_errors) {
        char last[512];
        tg_text_escape(last, sizeof last, d->hooks.script_last_error(d->hooks.ud));
        snprintf(what, sizeof what, "%ld new errors; the last: %s", errors - d->script_errors,
                 last);
        d->last_error_ms = now;
        d->script_errors = errors;
        update(d, DIAG_SCRIPT_ERRORS, 1, what);
    } else if (d->st[DIAG_SCRIPT_ERRORS].active && now - d->last_error_ms >= ERRORS_QUIET_MS) {
        update(d, DIAG_SCRIPT_ERRORS, 0, NULL);
    }
}

static void check_store(struct diag *d)
{
    char what[600];
    /* a failing database is tried again here, so that it is seen to
     * recover even when nothing else writes */
    if (d->store && store_error(d->store))
        store_probe(d->store);
    const char *err = d->store ? store_error(d->store) : NULL;
    tg_text_escape(what, sizeof what, err ? err : "");
    update(d, DIAG_STORE, err != NULL, what);
}

static void check(void *ud)
{
    struct diag *d = ud;
    d->timer = timers_add(d->rt->timers, rt_now_ms(d->rt) + CHECK_MS, check, d);
    if (d->stopping)
        return;
    uint64_t now = rt_now_ms(d->rt);
    char what[600];
    check_feed(d, now);
    check_scripts(d, now);

    uint64_t paused = d->hooks.telegram_paused_ms(d->hooks.ud);
    snprintf(what, sizeof what, "Telegram asked the bot to wait %llu s before sending again",
             (unsigned long long)(paused + 999) / 1000);
    update(d, DIAG_FLOOD, paused > 0, what);

    check_store(d);

    long mb = d->hooks.rss_bytes() >> 20, limit = d->cfg->admin.memory_mb;
    snprintf(what, sizeof what, "resident memory is %ld MB (admin.memory_mb = %ld)", mb, limit);
    update(d, DIAG_MEMORY, limit > 0 && mb > limit, what);
}

#define RUN_SCOPE "ops"

struct diag *diag_new(const struct rt *rt, const struct config *cfg, struct httpc *httpc,
                      const struct diag_hooks *hooks)
{
    struct diag *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->rt = rt;
    d->cfg = cfg;
    d->hooks = *hooks;
    d->mail = mail_new(rt, cfg, httpc);
    return d;
}

struct diag *diag_start(const struct rt *rt, const struct config *cfg, struct httpc *httpc,
                        struct store *store, struct health *health,
                        const struct diag_hooks *hooks, int tg_up)
{
    struct diag *d = diag_new(rt, cfg, httpc, hooks);
    if (!d)
        return NULL;
    d->store = store;
    d->health = health;
    d->script_errors = hooks->script_errors(hooks->ud);
    /* "running" is written at start and removed at a clean stop: found at
     * start, the previous run crashed (or was killed); "failed: N", it
     * stopped with exit status N */
    char *was = NULL;
    if (store && store_kv_get(store, RUN_SCOPE, "running", &was) == 1)
        snprintf(d->last_run, sizeof d->last_run, "%s", was);
    free(was);
    if (store) {
        store_kv_set(store, RUN_SCOPE, "running", "1");
        store_commit(store);
    }
    if (tg_up)
        diag_telegram_up(d);
    d->timer = timers_add(rt->timers, rt_now_ms(rt) + CHECK_MS, check, d);
    return d;
}

void diag_stop(struct diag *d)
{
    if (d)
        d->stopping = 1;
}

void diag_telegram_up(struct diag *d)
{
    if (d->greeted)
        return;
    d->greeted = 1;
    char text[200];
    int status = 0;
    if (!d->last_run[0])
        snprintf(text, sizeof text, "▶️ <b>candlewatch started</b>");
    else if (sscanf(d->last_run, "failed: %d", &status) == 1)
        snprintf(text, sizeof text, "🔄 <b>candlewatch started</b>; the previous run stopped "
                 "with an error (exit status %d: see its log)", status);
    else
        snprintf(text, sizeof text, "🔄 <b>candlewatch restarted</b> after the previous run "
                 "ended without a clean stop (a crash, kill -9 or power loss)");
    tell(d, text);
}

void diag_free(struct diag *d, int exit_status)
{
    if (!d)
        return;
    if (d->timer)
        timers_cancel(d->rt->timers, d->timer);
    if (d->store) {   /* a clean stop, or one with an error (such as a failed start) */
        char failed[32];
        snprintf(failed, sizeof failed, "failed: %d", exit_status);
        store_kv_set(d->store, RUN_SCOPE, "running", exit_status ? failed : NULL);
    }
    mail_free(d->mail);
    free(d);
}

void diag_metrics(const struct diag *d, struct prom *p)
{
    prom_counter(p, "candlewatch_admin_messages_total",
                 "Diagnostics queued for the admins on Telegram.", NULL,
                 d ? (double)d->sent : 0);
    mail_metrics(d ? d->mail : NULL, p);
}
