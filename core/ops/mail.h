/* Admin diagnostics by e-mail (config email.*), because Telegram itself
 * may be what is failing.  Sent through libcurl's SMTP on the loop: one
 * message in flight; what diagnostics say meanwhile waits and goes in the
 * next message together; a failed send is retried with a growing delay.
 *
 *   struct mailer *m = mail_new(rt, cfg, httpc);   // NULL when email.server is unset
 *   mail_send(m, "⚠️ <b>Database</b>: disk full");
 */
#ifndef CW_OPS_MAIL_H
#define CW_OPS_MAIL_H

#include <stddef.h>

struct config;
struct httpc;
struct mailer;
struct prom;
struct rt;

/* cfg (its email.*) is kept and read at each send. */
struct mailer *mail_new(const struct rt *rt, const struct config *cfg, struct httpc *httpc);
void mail_free(struct mailer *m);
/* Queues a diagnostic written for Telegram (HTML: tags are dropped and
 * entities decoded for the plain-text mail). */
void mail_send(struct mailer *m, const char *html);
/* E-mails sent and failed attempts, for /metrics. */
void mail_metrics(const struct mailer *m, struct prom *p);

/* An e-mail of the texts (plain, LF line ends) from `from` to the
 * NULL-terminated `to`: headers, a blank line, the texts; CRLF throughout.
 * malloc'd, or NULL.  seq makes its Message-ID unique. */
char *mail_message(const char *from, const char *const *to, const char *host, long seq,
                   char *const *texts, int n);
/* The plain text of Telegram HTML, into out (always terminated). */
void mail_plain(char *out, size_t outlen, const char *html);
/* A Subject header's value: ASCII as it is, else RFC 2047 base64 words. */
void mail_subject(char *out, size_t outlen, const char *text);

#endif
