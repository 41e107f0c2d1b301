/* Admin diagnostics: the operators (config `admins`) get a Telegram
 * message when something is wrong, before users notice, and another when
 * it has cleared.  Checked every few seconds on the loop from what the
 * core already knows (/health, the scheduler, the scripts' error counts,
 * resident memory); each kind is repeated at most once per
 * admin.repeat_after while it lasts.  At start, admins are told that the
 * process (re)started, and whether the previous run ended in a crash.
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

struct diag *diag_start(struct app *a);
void diag_free(struct diag *d);
struct prom;
/* Messages to the admins, on Telegram and by e-mail (d may be NULL). */
void diag_metrics(const struct diag *d, struct prom *p);

#endif
