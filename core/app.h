/* The one application struct.  Every subsystem hangs off it and it is
 * passed explicitly; there is no other mutable global state (but for the
 * app lws logs to: its log function takes no user pointer; net/lws.c).
 *
 * Threading: one thread, one libuv loop.  Nothing blocks the loop; Lua runs
 * only from loop callbacks that the host schedules (never re-entrantly from
 * a curl or lws callback).
 */
#ifndef CW_APP_H
#define CW_APP_H

#include <stdint.h>
#include <uv.h>

#include "config/config.h"
#include "ops/health.h"
#include "ops/status_page.h"
#include "loop/rt.h"
#include "loop/timers.h"
#include "market/market.h"
#include "metrics/hist.h"
#include "net/httpc.h"
#include "net/lws.h"
#include "util/log.h"

struct store;
struct lh_host;
struct http_server;
struct watch;
struct feed;
struct tg_bot;
struct alert_engine;

struct app {
    uv_loop_t loop;
    struct config cfg;
    const char *config_path;
    struct logger log;

    /* Clock: real, or simulated by the spec runner (moves only on advance). */
    int simulated;
    uint64_t sim_ms;
    struct timers timers;
    struct rt rt;              /* loop, timers, clock and log: what domain code gets */
    uv_timer_t timer_handle;
    uv_idle_t timer_kick;      /* re-arms a timer due now once the timers' pass is over */
    int in_timers;             /* inside that pass (on_uv_timer) */
    struct timer *watchdog;    /* systemd's watchdog, fed by the loop itself */
    struct timer *stop_timer;  /* stopping: checks whether the work is done */
    struct timer *checkpoint;  /* the store's log copied into the database */
    struct diag *diag;         /* admin diagnostics (core/ops) */
    uint64_t stop_deadline;
    uint64_t watchdog_ms;
    uv_check_t commit_check;   /* commits the store batch each iteration */
    uv_idle_t commit_idle;     /* active while a batch waits: poll must not block */
    uv_prepare_t turn_prepare; /* times each loop turn (the work between two polls) */
    uint64_t turn_at_ns, turn_idle_ns;   /* the last turn's end, and the loop's idle time then */
    struct hist turn;          /* loop turns' lengths */
    struct hist_max turn_max;

    struct httpc httpc;
    struct net_lws lws;
    struct store *store;
    struct lh_host *lua;
    struct market market;
    struct feed *feeds[VENUE_COUNT];   /* by enum venue: NULL when off */
    struct tg_bot *tg;           /* NULL without a bot token */
    struct alert_engine *alerts; /* with the store */
    struct http_server *http;
    struct watch *watch;
    struct health health;
    struct status_page status; /* GET / (app_status.c) */

    uv_signal_t sig_int, sig_term, sig_hup;
    int stopping;
    int exit_status;             /* of app_run */
    int tg_up;                   /* the bot signed in to Telegram */
    int64_t started_ms;
};

/* Monotonic milliseconds (simulated in specs). */
#define CW_VERSION "0.1.0"

uint64_t app_now_ms(struct app *a);
/* Wall-clock milliseconds since the epoch (simulated in specs). */
int64_t app_wall_ms(struct app *a);
/* Resident memory of this process. */
long app_rss_bytes(void);
/* Brings /health's entry of each venue that is on up to date (failing
 * when its feed is not running); Binance USDⓈ-M's details into w, unless
 * NULL. */
struct jsonw;
void app_exchange_health(struct app *a, struct jsonw *w);
/* Brings /health's polled entries (store, exchange, telegram) up to date. */
void app_health_refresh(struct app *a);
/* GET / (the status page) and the /health details it shows (app_status.c). */
void app_status_start(struct app *a);
/* Everything /metrics shows, in the Prometheus text format (malloc'd). */
char *app_metrics(struct app *a);

/* Sets up loop, timers, http client; no store or scripts yet. */
int app_init(struct app *a, int simulated);
/* Opens the store named by the config.  Logs and returns -1 on failure. */
int app_open_store(struct app *a);
/* Tears down everything app_init and later steps created. */
void app_destroy(struct app *a);

/* The Telegram side (a->tg) built from the app's parts, in /health; NULL
 * when it cannot start. */
struct tg_bot *app_tg_new(struct app *a);

/* app_diag.c: what admin diagnostics ask of the application; diagnostics
 * that only pass on messages (the console's and the specs', which run no
 * checks); a message to the admins, at most once per admin.repeat_after
 * for each key (1 told, 0 held back or nobody to tell). */
struct diag_hooks;
void app_diag_hooks(struct app *a, struct diag_hooks *hooks);
int app_diag_quiet(struct app *a);
int app_tell_admins(struct app *a, const char *key, const char *html);

/* Runs the bot until SIGINT/SIGTERM.  Returns the exit status. */
int app_run(struct app *a);

#endif
