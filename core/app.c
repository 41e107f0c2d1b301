#include "app.h"

#include "alert/engine.h"
#include "tg/bot.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http/server.h"
#include "loop/sdnotify.h"
#include "loop/watch.h"
#include "market/feed.h"
#include "market/venue.h"
#include "metrics/prom.h"
#include "ops/diag.h"
#include "lua/host.h"
#include "store/store.h"
#include "tg/text.h"

/* Reload once the scripts folder has been quiet this long: editors make
 * several events per save. */
#define WATCH_SETTLE_MS 150

uint64_t app_now_ms(struct app *a)
{
    return a->simulated ? a->sim_ms : uv_now(&a->loop);
}

int64_t app_wall_ms(struct app *a)
{
    if (a->simulated)
        return (int64_t)a->sim_ms;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The runtime's clock (loop/rt.h) is the application's. */
static uint64_t rt_clock_now(void *clock)
{
    return app_now_ms(clock);
}

static int64_t rt_clock_wall(void *clock)
{
    return app_wall_ms(clock);
}

static void on_uv_timer(uv_timer_t *t);
static void on_timer_kick(uv_idle_t *i);

/* The heap's earliest deadline moved: re-arm the one uv timer for it. */
static void timers_changed(void *ud)
{
    struct app *a = ud;
    if (a->simulated || a->in_timers)   /* (on_uv_timer re-arms when its pass ends) */
        return;
    uint64_t next = timers_next(&a->timers);
    if (next == UINT64_MAX) {
        uv_timer_stop(&a->timer_handle);
        return;
    }
    uint64_t now = uv_now(&a->loop);
    uv_timer_start(&a->timer_handle, on_uv_timer, next > now ? next - now : 0, 0);
}

/* A timer added due now by a timer callback (the alert fan-out's "the rest
 * next turn", the scheduler's pump) runs in the next loop turn, after the
 * poll and the commit: libuv 1.44 runs a uv timer started with timeout 0
 * from its own callback again in the same pass, and such a chain held one
 * turn for seconds (every slice of a market-wide move, uncommitted, with
 * no I/O served).  Re-armed from the idle phase, which follows the timers. */
static void on_uv_timer(uv_timer_t *t)
{
    struct app *a = t->data;
    a->in_timers = 1;
    timers_run_due(&a->timers, uv_now(&a->loop));
    a->in_timers = 0;
    if (timers_next(&a->timers) <= uv_now(&a->loop)) {
        uv_timer_stop(&a->timer_handle);
        uv_idle_start(&a->timer_kick, on_timer_kick);
        return;
    }
    timers_changed(a);
}

static void on_timer_kick(uv_idle_t *i)
{
    uv_idle_stop(i);
    timers_changed(i->data);
}

/* End of a loop iteration: commit what the iteration wrote, in one go. */
static void on_check(uv_check_t *c)
{
    struct app *a = c->data;
    uv_idle_stop(&a->commit_idle);
    if (a->store && store_batch_open(a->store)) {
        store_commit(a->store);
        const char *err = store_error(a->store);
        health_set(&a->health, "store", err ? HEALTH_FAILING : HEALTH_OK, err);
    }
}

/* Just before the loop polls: the turn that ends here lasted from the
 * last one's end, less the time the loop then spent waiting in poll. */
static void on_turn_end(uv_prepare_t *p)
{
    struct app *a = p->data;
    uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(&a->loop);
    if (a->turn_at_ns) {
        double busy = (double)((now - a->turn_at_ns) - (idle - a->turn_idle_ns)) / 1e9;
        hist_observe(&a->turn, busy);
        hist_max_observe(&a->turn_max, busy, hist_clock());
    }
    a->turn_at_ns = now;
    a->turn_idle_ns = idle;
}

static void on_idle(uv_idle_t *i)
{
    (void)i;   /* its being active is the point: see batch_opened */
}

/* A write opened a batch.  If that happened in a timer callback, the loop
 * would next block in poll and commit only when something woke it — seconds
 * later, or never before a crash (a delivered message was then sent again
 * after kill -9).  An active idle handle makes this iteration's poll
 * return at once, so the check commits now. */
static void batch_opened(void *ud)
{
    struct app *a = ud;
    if (!a->simulated)
        uv_idle_start(&a->commit_idle, on_idle);
}

/* A batch ended: messages waiting for it may go, or, when it was lost,
 * what they said about it is taken back. */
static void batch_ended(void *ud, uint64_t id, int ok, int user_data)
{
    struct app *a = ud;
    if (a->tg)
        tg_sched_batch_end(tg_bot_sched(a->tg), id, ok, user_data);
    if (!ok && a->alerts)
        alert_engine_batch_lost(a->alerts, id);
}

/* A failed handler's writes were rolled back: memory follows, and what
 * it queued is taken back. */
static void handler_undone(void *ud, uint64_t batch, uint64_t sp)
{
    struct app *a = ud;
    if (a->tg)
        tg_sched_undo(tg_bot_sched(a->tg), batch, sp);
    if (a->alerts)
        alert_engine_undo(a->alerts, batch, sp);
}

/* The jitter of reconnects and retries (rand) differs per process: left
 * unseeded, every instance backs off on the same schedule, and after an
 * outage they all come back in the same instant. */
static void app_seed(void)
{
    unsigned seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
    srand(seed);
}

int app_init(struct app *a, int simulated)
{
    a->simulated = simulated;
    if (!simulated)   /* (specs and replays stay repeatable) */
        app_seed();
    /* Specs start from a fixed date so their output does not depend on it. */
    a->sim_ms = 1767225600000ull;  /* 2026-01-01T00:00:00Z */
    if (uv_loop_init(&a->loop) != 0)
        return -1;
    timers_init(&a->timers);
    a->timers.changed = timers_changed;
    a->timers.changed_ud = a;
    a->rt = (struct rt){.loop = &a->loop, .timers = &a->timers, .log = &a->log,
                        .now = rt_clock_now, .wall = rt_clock_wall, .clock = a};
    uv_timer_init(&a->loop, &a->timer_handle);
    a->timer_handle.data = a;
    uv_check_init(&a->loop, &a->commit_check);
    a->commit_check.data = a;
    uv_idle_init(&a->loop, &a->commit_idle);
    a->commit_idle.data = a;
    uv_idle_init(&a->loop, &a->timer_kick);
    a->timer_kick.data = a;
    uv_prepare_init(&a->loop, &a->turn_prepare);
    a->turn_prepare.data = a;
    uv_loop_configure(&a->loop, UV_METRICS_IDLE_TIME);   /* (for on_turn_end) */
    if (httpc_init(&a->httpc, &a->loop, &a->log) != 0)
        return -1;
    a->httpc.ca_file = a->cfg.tls.ca_file;
    if (market_init(&a->market, (uint32_t)a->cfg.exchange.history, &a->log) != 0)
        return -1;
    a->started_ms = app_wall_ms(a);
    health_set(&a->health, "loop", HEALTH_OK, NULL);
    return 0;
}

static void alerts_detail(void *ud, struct jsonw *w)
{
    struct app *a = ud;
    if (a->alerts)
        alert_stats_json(a->alerts, w);
}

/* The engine's sink in the bot: the Telegram scheduler (once it runs). */
static void alert_to_tg(void *ud, int64_t chat, const struct alert_msg *m)
{
    struct app *a = ud;
    if (!a->tg)
        return;
    struct tg_alert t = {m->text, m->priority, m->group, m->heading};
    tg_sched_alert(tg_bot_sched(a->tg), chat, &t);
}

static int open_alerts(struct app *a)
{
    struct alert_deps d = {.rt = &a->rt, .cfg = &a->cfg, .store = a->store,
                           .market = &a->market, .text_chars = tg_text_chars,
                           .text_invisible = tg_text_invisible};
    if (!(a->alerts = alert_engine_new(&d)))
        return -1;
    alert_set_sink(a->alerts, &(struct alert_sink){alert_to_tg, a});
    return 0;
}

/* The store's log is copied into the database once a second past 4 MB, by
 * a store thread (on the loop it took 1.7 s for a market-wide move's 64
 * MB); past 64 MB the loop copies the little written since, so the log
 * starts over.  Replays copy in place, not while alerts fan out. */
#define CHECKPOINT_EVERY_MS 1000
#define CHECKPOINT_PAGES 1000
#define CHECKPOINT_FORCE_PAGES 16384

static void checkpoint_due(void *ud)
{
    struct app *a = ud;
    int pages = store_wal_frames(a->store);
    if (!a->simulated && pages >= CHECKPOINT_FORCE_PAGES && !store_checkpoint_running(a->store))
        store_checkpoint_here(a->store);
    else if (pages >= CHECKPOINT_FORCE_PAGES ||
             (pages >= CHECKPOINT_PAGES &&
              (!a->simulated || !(a->alerts && alert_busy(a->alerts)))))
        store_checkpoint(a->store);
    a->checkpoint = timers_add(&a->timers, app_now_ms(a) + CHECKPOINT_EVERY_MS, checkpoint_due, a);
}

int app_open_store(struct app *a)
{
    char err[1024];
    if (store_open(&a->store, a->cfg.database, &a->log, err, sizeof err) != 0) {
        log_error(&a->log, "store", "%s", err);
        return -1;
    }
    health_set(&a->health, "store", HEALTH_OK, NULL);
    store_on_batch(a->store, batch_opened, a);
    store_on_end(a->store, batch_ended, a);
    store_on_undo(a->store, handler_undone, a);
    if (!a->simulated) {   /* every mode commits at the end of each loop turn */
        uv_check_start(&a->commit_check, on_check);
        if (store_checkpoint_in_background(a->store) != 0)
            log_warn(&a->log, "store", "no checkpoint thread: the loop copies the log itself");
    }
    if (open_alerts(a) != 0) {
        log_error(&a->log, "alerts", "out of memory");
        return -1;
    }
    health_set(&a->health, "alerts", HEALTH_OK, NULL);
    health_set_detail(&a->health, "alerts", alerts_detail, a);
    a->checkpoint = timers_add(&a->timers, app_now_ms(a) + CHECKPOINT_EVERY_MS, checkpoint_due, a);
    return 0;
}

static void close_if_open(uv_handle_t *h)
{
    if (h->loop && !uv_is_closing(h))
        uv_close(h, NULL);
}

/* Stops everything in the order that loses nothing: no new work, scripts
 * and their requests ended, the store committed and checkpointed. */
/* Fed from a loop timer at half systemd's interval: a loop that stops
 * turning stops feeding it, and systemd restarts the process. */
static void feed_watchdog(void *ud)
{
    struct app *a = ud;
    sdnotify("WATCHDOG=1");
    a->watchdog = timers_add(&a->timers, app_now_ms(a) + a->watchdog_ms / 2, feed_watchdog, a);
}

static void shutdown_all(struct app *a)
{
    if (a->stop_timer) {
        timers_cancel(&a->timers, a->stop_timer);
        a->stop_timer = NULL;
    }
    if (a->watchdog) {
        timers_cancel(&a->timers, a->watchdog);
        a->watchdog = NULL;
    }
    if (a->checkpoint) {
        timers_cancel(&a->timers, a->checkpoint);
        a->checkpoint = NULL;
    }
    watch_stop(a->watch);
    a->watch = NULL;
    for (int v = 0; v < VENUE_COUNT; v++)
        feed_stop(a->feeds[v]);
    net_lws_stop(&a->lws);
    diag_free(a->diag, a->exit_status);   /* (a clean stop: marked as one) */
    a->diag = NULL;
    lh_free(a->lua);
    a->lua = NULL;
    if (a->tg)
        health_set_detail(&a->health, "telegram", NULL, NULL);
    tg_bot_free(a->tg);   /* the outbox keeps what was not sent */
    a->tg = NULL;
    alert_engine_free(a->alerts);
    a->alerts = NULL;
    httpc_close(&a->httpc);
    store_close(a->store);
    a->store = NULL;
    close_if_open((uv_handle_t *)&a->timer_handle);
    close_if_open((uv_handle_t *)&a->commit_check);
    close_if_open((uv_handle_t *)&a->commit_idle);
    close_if_open((uv_handle_t *)&a->timer_kick);
    close_if_open((uv_handle_t *)&a->turn_prepare);
    close_if_open((uv_handle_t *)&a->sig_int);
    close_if_open((uv_handle_t *)&a->sig_term);
    close_if_open((uv_handle_t *)&a->sig_hup);
}

void app_destroy(struct app *a)
{
    shutdown_all(a);
    uv_run(&a->loop, UV_RUN_DEFAULT);   /* lets the closes complete */
    net_lws_free(&a->lws);
    uv_run(&a->loop, UV_RUN_DEFAULT);
    http_server_free(a->http);
    a->http = NULL;
    for (int v = 0; v < VENUE_COUNT; v++) {
        feed_free(a->feeds[v]);
        a->feeds[v] = NULL;
    }
    market_free(&a->market);
    if (uv_loop_close(&a->loop) != 0)
        log_warn(&a->log, "loop", "handles still open at exit");
    timers_free(&a->timers);
    config_free(&a->cfg);
}

/* Stopping: done once no handler runs and the outbox is empty, or at the
 * deadline; what was not sent stays in the outbox for the next start. */
static void drain_check(void *ud)
{
    struct app *a = ud;
    a->stop_timer = NULL;
    int running = lh_running(a->lua);
    long pending = a->tg ? tg_sched_pending(tg_bot_sched(a->tg)) : 0;
    if ((running || pending) && app_now_ms(a) < a->stop_deadline) {
        a->stop_timer = timers_add(&a->timers, app_now_ms(a) + 50, drain_check, a);
        return;
    }
    if (running || pending)
        log_warn(&a->log, "app", "shutdown_timeout reached: %d handlers cut short, %ld messages "
                 "kept in the outbox for the next start", running, pending);
    else
        log_info(&a->log, "app", "handlers finished and the outbox is empty");
    shutdown_all(a);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct app *a = s->data;
    if (signum == SIGHUP) {
        lh_reload_soon(a->lua, "SIGHUP");
        return;
    }
    if (a->stopping) {
        /* Second signal: leave now.  Every commit is already in the WAL. */
        log_warn(&a->log, "app", "second signal: exiting at once");
        _exit(0);
    }
    a->stopping = 1;
    diag_stop(a->diag);
    sdnotify("STOPPING=1");
    log_info(&a->log, "app", "%s: stopping: no new updates; running handlers finish and the "
             "outbox is flushed for up to %g s", signum == SIGINT ? "SIGINT" : "SIGTERM",
             a->cfg.shutdown_timeout);
    /* what comes in stops now; what is under way gets shutdown_timeout */
    watch_stop(a->watch);
    a->watch = NULL;
    for (int v = 0; v < VENUE_COUNT; v++)
        feed_stop(a->feeds[v]);
    if (a->tg)
        tg_bot_stop_intake(a->tg);
    a->stop_deadline = app_now_ms(a) + (uint64_t)(a->cfg.shutdown_timeout * 1000);
    drain_check(a);
}

static void on_scripts_changed(void *ud)
{
    struct app *a = ud;
    lh_reload_soon(a->lua, "file change");
}

void app_exchange_health(struct app *a, struct jsonw *w)
{
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct venue_ops *vo = venue_ops_of(v);
        const struct config_venue *vc = config_venue_of(&a->cfg, v);
        if (a->feeds[v])
            feed_health(a->feeds[v], v == VENUE_USDM ? w : NULL);
        else if (vo && vc->enabled > 0)
            health_set(&a->health, vo->health, HEALTH_FAILING, "the feed is not running");
    }
}

void app_health_refresh(struct app *a)
{
    if (a->store) {
        const char *err = store_error(a->store);
        health_set(&a->health, "store", err ? HEALTH_FAILING : HEALTH_OK, err);
    }
    app_exchange_health(a, NULL);
    if (a->tg && health_get(&a->health, "telegram")) {   /* (once signed in) */
        char why[256];
        enum health_status st = tg_sched_health(tg_bot_sched(a->tg), why, sizeof why);
        health_set(&a->health, "telegram", st, why[0] ? why : NULL);
    }
}

/* GET /health */
static void route_health(void *ud, const struct http_request *rq, struct http_response *out)
{
    struct app *a = ud;
    if (strcmp(rq->method, "GET") != 0) {
        out->status = 405;
        out->content_type = "application/json";
        out->body = strdup("{\"error\":\"use GET\"}");
        out->len = out->body ? strlen(out->body) : 0;
        return;
    }
    app_health_refresh(a);
    out->body = health_json(&a->health);
    out->len = out->body ? strlen(out->body) : 0;
    out->status = health_overall(&a->health) == HEALTH_FAILING ? 503 : 200;
    out->content_type = "application/json";
}

long app_rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    if (f)
        fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

char *app_metrics(struct app *a)
{
    struct prom p;
    prom_init(&p);
    char lb[64] = "";
    prom_label(lb, sizeof lb, "version", CW_VERSION);
    prom_gauge(&p, "candlewatch_build_info", "The running build.", lb, 1);
    prom_gauge(&p, "candlewatch_start_time_seconds", "When the process started (Unix time).",
               NULL, (double)a->started_ms / 1000);
    prom_gauge(&p, "candlewatch_resident_memory_bytes", "Resident memory.", NULL,
               (double)app_rss_bytes());
    prom_histogram(&p, "candlewatch_loop_turn_seconds",
                   "Loop turns: the work between two waits for I/O (timers, I/O callbacks, "
                   "the commit).", &a->turn);
    prom_gauge(&p, "candlewatch_loop_turn_max_seconds", "The longest loop turn in the last "
               "10 to 20 s.", NULL, hist_max_get(&a->turn_max, hist_clock()));
    market_metrics(&a->market, &p);
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct venue_ops *vo = venue_ops_of(v);
        if (vo && config_venue_of(&a->cfg, v)->enabled > 0)
            feed_metrics(a->feeds[v], vo, &p);
    }
    if (a->alerts)
        alert_metrics(a->alerts, &p);
    if (a->tg)
        tg_sched_metrics(tg_bot_sched(a->tg), &p);
    if (a->store)
        store_metrics(a->store, &p);
    if (a->lua)
        lh_metrics(a->lua, &p);
    diag_metrics(a->diag, &p);
    if (a->http)
        http_server_metrics(a->http, &p);
    char *text = prom_finish(&p);
    if (text)   /* (a script's help text could hold one of its secrets) */
        log_mask_all(&a->log, text);
    return text;
}

/* GET /metrics */
static void route_metrics(void *ud, const struct http_request *rq, struct http_response *out)
{
    struct app *a = ud;
    if (strcmp(rq->method, "GET") != 0) {
        out->status = 405;
        out->content_type = "text/plain";
        out->body = strdup("use GET\n");
    } else {
        out->status = 200;
        out->content_type = "text/plain; version=0.0.4; charset=utf-8";
        out->body = app_metrics(a);
    }
    out->len = out->body ? strlen(out->body) : 0;
}

static void exchange_detail(void *ud, struct jsonw *w)
{
    feed_health(ud, w);
}

/* Starts the feed of each venue that is on; 0, or 1 (logged) when one
 * cannot start. */
static int start_feeds(struct app *a, char *err, size_t errlen)
{
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct venue_ops *vo = venue_ops_of(v);
        if (config_venue_of(&a->cfg, v)->enabled <= 0)
            continue;
        if (!vo) {
            log_error(&a->log, "config", "%s.enabled: this build has no %s feed",
                      v == VENUE_BYBIT ? "bybit" : "?", venue_name(v));
            return 1;
        }
        a->market.log_closes = a->log.level == LOG_DEBUG;
        a->feeds[v] = feed_start(&a->rt, &a->cfg, vo, &a->market, &a->httpc, &a->lws,
                                 &a->health, err, errlen);
        if (!a->feeds[v]) {
            log_error(&a->log, "market", "%s", err);
            return 1;
        }
        health_set_detail(&a->health, vo->health, exchange_detail, a->feeds[v]);
    }
    return 0;
}

/* accept() failed (net/lws.c heard it from lws): the HTTP server pauses. */
static void lws_accept_failed(void *ud)
{
    struct app *a = ud;
    if (a->http)
        http_server_accept_failed(a->http);
}

/* A webhook secret: the configured one (config_check has vetted it), or 32
 * random characters. */
static int webhook_secret(struct app *a)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    if (a->cfg.telegram.webhook_secret)
        return 0;
    unsigned char rnd[32];
    char buf[33];
    if (uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL) != 0)
        return -1;
    for (size_t i = 0; i < sizeof rnd; i++)
        buf[i] = ok[rnd[i] % 64];
    buf[32] = '\0';
    a->cfg.telegram.webhook_secret = strdup(buf);
    return a->cfg.telegram.webhook_secret ? 0 : -1;
}

struct tg_bot *app_tg_new(struct app *a)
{
    struct tg_bot *b = tg_bot_new(&a->rt, &a->cfg, a->store, &a->httpc);
    if (b) {
        health_set(&a->health, "telegram", HEALTH_OK, NULL);
        health_set_detail(&a->health, "telegram", tg_bot_health_detail, b);
    }
    return b;
}

/* The Telegram side, before the scripts load (they register commands). */
static int telegram_prepare(struct app *a)
{
    if (a->cfg.telegram.webhook_url && webhook_secret(a) != 0)
        return -1;
    if (!(a->tg = app_tg_new(a))) {
        log_error(&a->log, "telegram", "cannot start the Telegram client");
        return -1;
    }
    return 0;
}

static void telegram_started(void *ud, const char *err)
{
    struct app *a = ud;
    if (!err) {   /* only now is "candlewatch started" true (and sendable) */
        a->tg_up = 1;
        if (a->diag)
            diag_telegram_up(a->diag);
        return;
    }
    log_error(&a->log, "telegram", "%s", err);
    if (!a->stopping) {
        a->stopping = 1;
        a->exit_status = 1;
        shutdown_all(a);
    }
}

static void start_signal(struct app *a, uv_signal_t *s, int signum)
{
    uv_signal_init(&a->loop, s);
    s->data = a;
    uv_signal_start(s, on_signal, signum);
}

int app_run(struct app *a)
{
    char err[512];
    a->lua = lh_new(a, LH_RUN);
    if (!a->lua) {
        log_error(&a->log, "app", "cannot create the Lua state");
        return 1;
    }
    if (a->cfg.telegram.token && telegram_prepare(a) != 0)
        return 1;
    /* A broken script does not stop the bot: it starts without it, reports
     * it in /health, and picks up the fix on the next change. */
    lh_reload(a->lua, "start");
    if (lh_sections_verdict(a->lua) != 0)   /* (config.lua's mistake, as a bad key is) */
        return 2;
    if (a->tg) {
        lh_bot_attach(a->lua);
        tg_bot_start(a->tg, telegram_started, a);
    }
    if (net_lws_init(&a->lws, &a->loop, &a->log, err, sizeof err) != 0) {
        log_error(&a->log, "http", "%s", err);
        return 1;
    }
    a->lws.accept_failed = lws_accept_failed;
    a->lws.accept_ud = a;
    if (!(a->http = http_server_start(&a->rt, &a->cfg, &a->lws, err, sizeof err))) {
        log_error(&a->log, "http", "%s", err);
        return 1;
    }
    http_server_route(a->http, "/health", route_health, a);
    http_server_route(a->http, "/metrics", route_metrics, a);
    app_status_start(a);
    if (a->tg && a->cfg.telegram.webhook_url &&
        http_server_route(a->http, a->cfg.telegram.webhook_path, tg_bot_webhook, a->tg) != 0) {
        log_error(&a->log, "config", "telegram.webhook_path: too long (at most 63 characters)");
        return 2;
    }
    /* exchange.enabled: unset means on when there is a bot token, so that
     * trying the bot locally never reaches out to the real exchange */
    if (a->cfg.exchange.enabled < 0)
        a->cfg.exchange.enabled = a->cfg.telegram.token != NULL;
    if (!a->cfg.exchange.enabled)
        log_info(&a->log, "market", a->cfg.telegram.token
                                        ? "the market feed is off (exchange.enabled = false)"
                                        : "the market feed is off (no bot token; set "
                                          "exchange.enabled = true to stream anyway)");
    if (start_feeds(a, err, sizeof err) != 0)
        return 1;
    log_info(&a->log, "http", "listening on %s (port %d)", a->cfg.http.listen,
             http_server_port(a->http));
    a->watch = watch_start(&a->loop, a->cfg.scripts, WATCH_SETTLE_MS, on_scripts_changed, a);
    if (!a->watch)
        log_warn(&a->log, "scripts", "cannot watch %s: reload with SIGHUP", a->cfg.scripts);
    start_signal(a, &a->sig_int, SIGINT);
    start_signal(a, &a->sig_term, SIGTERM);
    start_signal(a, &a->sig_hup, SIGHUP);
    uv_check_start(&a->commit_check, on_check);
    uv_prepare_start(&a->turn_prepare, on_turn_end);
    if (!a->cfg.telegram.token)
        log_info(&a->log, "app", "no bot token (BOT_TOKEN): Telegram is off");
    log_info(&a->log, "app", "candlewatch running (pid %d)", (int)getpid());
    struct diag_hooks hooks;
    app_diag_hooks(a, &hooks);
    a->diag = diag_start(&a->rt, &a->cfg, &a->httpc, a->store, &a->health, &hooks,
                         a->tg_up || !a->tg);
    sdnotify("READY=1");
    if ((a->watchdog_ms = sdnotify_watchdog_ms())) {
        log_info(&a->log, "app", "systemd watchdog: %llu ms", (unsigned long long)a->watchdog_ms);
        feed_watchdog(a);
    }
    uv_run(&a->loop, UV_RUN_DEFAULT);
    log_info(&a->log, "app", "stopped");
    return a->exit_status;
}
