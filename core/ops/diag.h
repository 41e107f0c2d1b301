/* Admin diagnostics: the operators (config `admins`) get a Telegram
 * message when something is wrong, before users notice, and another when
 * it has cleared.  Checked every few seconds on the loop from what the
 * core already knows (/health, the scheduler, the scripts' error counts,
 * resident memory); each kind is repeated at most once per
 * admin.repeat_after while it lasts.  Once Telegram is reached at start,
 * admins are told that the process (re)started, and whether the previous
 * run ended in a crash or stopped with an error (a failed start).
 * With email.server set, the same goes by e-mail too (ops/mail.h). */
#ifndef CW_OPS_DIAG_H
#define CW_OPS_DIAG_H

#include <stdint.h>

struct config;
struct diag;
struct health;
struct httpc;
struct store;
struct rt;

enum diag_kind {
    DIAG_FEED, DIAG_SCRIPTS_LOAD, DIAG_SCRIPT_ERRORS, DIAG_FLOOD, DIAG_STORE, DIAG_MEMORY,
    DIAG_KINDS
};

/* What diagnostics ask the rest of the program, filled in by app.c (every
 * one is called; ud is passed back). */
struct diag_hooks {
    void *ud;
    /* Brings /health's "exchange" entry up to date (nothing when the feed is off). */
    void (*feed_refresh)(void *ud);
    /* The scripts' errors so far, and the last one's text (never NULL). */
    long (*script_errors)(void *ud);
    const char *(*script_last_error)(void *ud);
    /* HTML to a chat on Telegram: 0 when queued, -1 when not (or no bot). */
    int (*telegram_send)(void *ud, int64_t chat, const char *html);
    /* How long Telegram asked the bot to wait before sending (0: not, or no bot). */
    uint64_t (*telegram_paused_ms)(void *ud);
    /* Resident memory of the process. */
    long (*rss_bytes)(void);
};

/* Checks every few seconds on rt's loop: cfg's admins and admin.* (kept),
 * e-mail (email.*) through httpc, the run mark in store (may be NULL),
 * the exchange and scripts entries of health.  tg_up: Telegram is already
 * reached (or there is no bot); else the greeting waits for
 * diag_telegram_up(). */
struct diag *diag_start(const struct rt *rt, const struct config *cfg, struct httpc *httpc,
                        struct store *store, struct health *health,
                        const struct diag_hooks *hooks, int tg_up);
/* Diagnostics that only pass on messages (diag_tell): no checks, no
 * greeting, no run mark (the console's and the specs'). */
struct diag *diag_new(const struct rt *rt, const struct config *cfg, struct httpc *httpc,
                      const struct diag_hooks *hooks);
/* A message of someone else's (a script's: host.tell_admins) to the
 * admins, on Telegram and by e-mail: at most once per admin.repeat_after
 * for each key (1-64 bytes; the last DIAG_KEYS keys are remembered).
 * 1 told, 0 held back, or no admin to tell (d may be NULL). */
#define DIAG_KEYS 256
int diag_tell(struct diag *d, const char *key, const char *html);
/* The bot signed in: the admins hear of the start (once). */
void diag_telegram_up(struct diag *d);
/* The application is stopping: no more checks (d may be NULL). */
void diag_stop(struct diag *d);
/* Marks the run as ended cleanly (exit_status 0) or with that status. */
void diag_free(struct diag *d, int exit_status);
struct prom;
/* Messages to the admins, on Telegram and by e-mail (d may be NULL). */
void diag_metrics(const struct diag *d, struct prom *p);

#endif
