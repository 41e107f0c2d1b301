/* Admin diagnostics' decisions, in-process on a simulated clock: what is
 * told to whom and when (the feed only after admin.feed_down_after, a
 * reminder per admin.repeat_after, "cleared" once it is over), and nothing
 * once the application is stopping. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "ops/health.h"
#include "loop/rt.h"
#include "ops/diag.h"
#include "tap.h"

static uint64_t sim_ms;
static struct timers ts;

static uint64_t sim_now(void *clock)
{
    return *(uint64_t *)clock;
}

static int64_t sim_wall(void *clock)
{
    return (int64_t)*(uint64_t *)clock;
}

/* What the hooks are asked and answer. */
static struct {
    char said[64][700];
    int64_t to[64];
    int n;
    int refreshes;
    long errors;
    const char *last_error;
    uint64_t paused;
    long rss;
} w;

static void hk_feed_refresh(void *ud)
{
    (void)ud;
    w.refreshes++;
}

static long hk_script_errors(void *ud)
{
    (void)ud;
    return w.errors;
}

static const char *hk_last_error(void *ud)
{
    (void)ud;
    return w.last_error;
}

static int hk_send(void *ud, int64_t chat, const char *html)
{
    (void)ud;
    if (w.n == 64)
        return -1;
    w.to[w.n] = chat;
    snprintf(w.said[w.n++], sizeof w.said[0], "%s", html);
    return 0;
}

static uint64_t hk_paused(void *ud)
{
    (void)ud;
    return w.paused;
}

static long hk_rss(void)
{
    return w.rss;
}

/* Moves the clock to t (ms), firing the checks due on the way. */
static void run_to(uint64_t t)
{
    while (timers_next(&ts) <= t) {
        sim_ms = timers_next(&ts);
        timers_run_due(&ts, sim_ms);
    }
    sim_ms = t;
}

/* How many messages since `from` contain s. */
static int said(int from, const char *s)
{
    int k = 0;
    for (int i = from; i < w.n; i++)
        k += strstr(w.said[i], s) != NULL;
    return k;
}

int main(void)
{
    struct config cfg;
    config_defaults(&cfg);
    long long admins[] = {7, 8};
    cfg.admins = admins;
    cfg.nadmins = 2;
    cfg.admin.feed_down_after = 60;
    cfg.admin.repeat_after = 3600;
    cfg.admin.memory_mb = 500;
    struct logger lg;
    log_init(&lg);
    lg.out = NULL;
    timers_init(&ts);
    struct rt rt = {.timers = &ts, .log = &lg, .now = sim_now, .wall = sim_wall, .clock = &sim_ms};
    struct health health = {0};
    health_set(&health, "exchange", HEALTH_OK, NULL);
    health_set(&health, "scripts", HEALTH_OK, NULL);
    w.last_error = "";
    w.rss = 100L << 20;
    const struct diag_hooks hooks = {NULL, hk_feed_refresh, hk_script_errors, hk_last_error,
                                     hk_send, hk_paused, hk_rss};

    struct diag *d = diag_start(&rt, &cfg, NULL, NULL, &health, &hooks, 0);
    ok(d != NULL, "diagnostics start without a store or e-mail");
    is_int(w.n, 0, "no greeting before Telegram is reached");
    diag_telegram_up(d);
    is_int(w.n, 2, "once it is, each admin is greeted");
    ok(w.to[0] == 7 && w.to[1] == 8, "the greeting goes to the admins");
    is_int(said(0, "started"), 2, "the greeting says the bot started (no previous run known)");
    diag_telegram_up(d);
    is_int(w.n, 2, "the greeting is said once");

    run_to(10000);
    is_int(w.n, 2, "all well: nothing is said");
    ok(w.refreshes >= 4, "each check brings the feed's health up to date");

    /* the feed: unwell for less than feed_down_after, then longer */
    int at = w.n;
    health_set(&health, "exchange", HEALTH_FAILING, "no live connection <to the exchange>");
    run_to(40000);
    is_int(w.n, at, "a feed unwell for less than admin.feed_down_after is not told");
    run_to(75000);
    is_int(said(at, "Market data"), 2, "past admin.feed_down_after, each admin is told once");
    is_int(said(at, "&lt;to the exchange&gt;"), 2, "with the reason, escaped for HTML");
    at = w.n;
    run_to(75000 + 3000000);
    is_int(w.n, at, "no reminder before admin.repeat_after");
    run_to(75000 + 3700000);
    is_int(said(at, "(still)"), 2, "a reminder after admin.repeat_after");
    at = w.n;
    health_set(&health, "exchange", HEALTH_OK, NULL);
    run_to(sim_ms + 2000);
    is_int(said(at, "cleared"), 2, "once well again, the admins hear it cleared");
    at = w.n;
    run_to(sim_ms + 10000);
    is_int(w.n, at, "and nothing more");

    /* script errors: new ones told at once, with the last one's text */
    w.errors = 3;
    w.last_error = "rules/x.lua:4: boom";
    run_to(sim_ms + 2000);
    is_int(said(at, "3 new errors; the last: rules/x.lua:4: boom"), 2,
           "new script errors are told with the last one");

    /* flood control and memory */
    at = w.n;
    w.paused = 12500;
    w.rss = 600L << 20;
    run_to(sim_ms + 2000);
    is_int(said(at, "wait 13 s"), 2, "Telegram's flood wait is told, rounded up to seconds");
    is_int(said(at, "resident memory is 600 MB (admin.memory_mb = 500)"), 2,
           "memory above admin.memory_mb is told");
    is_int(said(at, "Database"), 0, "without a store, no database diagnostic");

    /* stopping: the checks say nothing more, whatever is wrong */
    at = w.n;
    w.paused = 0;
    w.rss = 100L << 20;
    health_set(&health, "exchange", HEALTH_FAILING, "gone");
    diag_stop(d);
    run_to(sim_ms + 3600000 * 2);
    is_int(w.n, at, "once stopping, nothing is told (not even what cleared)");

    diag_free(d, 0);

    /* keyed messages (host.tell_admins) through diagnostics that run no
     * checks: each key at most once per admin.repeat_after */
    w.n = 0;
    struct diag *q = diag_new(&rt, &cfg, NULL, &hooks);
    run_to(sim_ms + 3600000);
    is_int(w.n, 0, "diagnostics made with diag_new check nothing and greet nobody");
    is_int(diag_tell(q, "gas.key", "<b>Gas</b>: the key is refused"), 1, "a keyed message is told");
    is_int(said(0, "<b>Gas</b>: the key is refused"), 2, "to each admin, as given");
    is_int(diag_tell(q, "gas.key", "again"), 0, "the same key is held back");
    is_int(diag_tell(q, "gas.rate", "another"), 1, "another key is not");
    run_to(sim_ms + 3599000);
    is_int(diag_tell(q, "gas.key", "again"), 0, "still held back before admin.repeat_after");
    run_to(sim_ms + 1000);
    is_int(diag_tell(q, "gas.key", "again"), 1, "told again once it has passed");
    is_int(said(0, "again"), 2, "(each admin once)");
    char long_key[80];
    memset(long_key, 'k', 65);
    long_key[65] = '\0';
    is_int(diag_tell(q, long_key, "x"), 0, "a key over 64 bytes is refused");
    is_int(diag_tell(NULL, "k", "x"), 0, "no diagnostics: nobody is told");
    cfg.nadmins = 0;
    is_int(diag_tell(q, "gas.none", "x"), 0, "no admins (and no e-mail): nobody is told");
    diag_free(q, 0);
    timers_free(&ts);
    cfg.admins = NULL;
    cfg.nadmins = 0;
    config_free(&cfg);
    return done();
}
