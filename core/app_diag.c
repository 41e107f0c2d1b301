/* What admin diagnostics (ops/diag.c) ask of the rest of the application
 * (struct diag_hooks), and the scripts' way to the admins through them. */
#include "app.h"

#include "lua/host.h"
#include "ops/diag.h"
#include "tg/bot.h"
#include "tg/sched.h"

static void diag_feed_refresh(void *ud)
{
    struct app *a = ud;
    app_exchange_health(a, NULL);
}

static long diag_script_errors(void *ud)
{
    struct app *a = ud;
    return a->lua ? lh_errors_total(a->lua) : 0;
}

static const char *diag_script_last_error(void *ud)
{
    struct app *a = ud;
    return a->lua ? lh_last_error(a->lua) : "";
}

static int diag_telegram_send(void *ud, int64_t chat, const char *html)
{
    struct app *a = ud;
    return a->tg ? tg_sched_send(tg_bot_sched(a->tg), chat, "sendMessage",
                                 "{\"parse_mode\":\"HTML\"}", html)
                 : -1;
}

static uint64_t diag_telegram_paused_ms(void *ud)
{
    struct app *a = ud;
    return a->tg ? tg_sched_paused_ms(tg_bot_sched(a->tg)) : 0;
}

void app_diag_hooks(struct app *a, struct diag_hooks *hooks)
{
    *hooks = (struct diag_hooks){a, diag_feed_refresh, diag_script_errors,
                                 diag_script_last_error, diag_telegram_send,
                                 diag_telegram_paused_ms, app_rss_bytes};
}

int app_diag_quiet(struct app *a)
{
    struct diag_hooks hooks;
    app_diag_hooks(a, &hooks);
    if (!a->diag)
        a->diag = diag_new(&a->rt, &a->cfg, &a->httpc, &hooks);
    return a->diag ? 0 : -1;
}

int app_tell_admins(struct app *a, const char *key, const char *html)
{
    return diag_tell(a->diag, key, html);
}
