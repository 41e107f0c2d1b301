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

struct app;
struct diag;

enum diag_kind {
    DIAG_FEED, DIAG_SCRIPTS_LOAD, DIAG_SCRIPT_ERRORS, DIAG_FLOOD, DIAG_STORE, DIAG_MEMORY,
    DIAG_KINDS
};

/* tg_up: Telegram is already reached (or there is no bot); else the
 * greeting waits for diag_telegram_up(). */
struct diag *diag_start(struct app *a, int tg_up);
/* The bot signed in: the admins hear of the start (once). */
void diag_telegram_up(struct diag *d);
void diag_free(struct diag *d);
struct prom;
/* Messages to the admins, on Telegram and by e-mail (d may be NULL). */
void diag_metrics(const struct diag *d, struct prom *p);

#endif
