#include "ops/mail.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "loop/rt.h"
#include "metrics/prom.h"
#include "net/httpc.h"

#define QUEUE_MAX 32          /* diagnostics waiting; beyond, the oldest go */
#define PER_MAIL 16           /* diagnostics in one e-mail */
_Static_assert(PER_MAIL < QUEUE_MAX, "a full queue has one not in flight to drop");
#define MAX_ATTEMPTS 8        /* about 40 minutes of retrying */
#define RETRY_FIRST_MS 10000
#define RETRY_MAX_MS 600000
#define MAX_TO CONFIG_EMAIL_MAX_TO

struct mailer {
    const struct rt *rt;
    const struct config *cfg;   /* email.* */
    struct httpc *httpc;
    char *queue[QUEUE_MAX];   /* plain texts, oldest first */
    int n;
    int sending;              /* queue[0..sending) are in the message in flight */
    uint64_t call;
    int attempts;
    struct timer *retry;
    char url[300], host[64];
    char *to_buf;
    const char *to[MAX_TO + 1];
    long sent, failed, dropped;
};

/* ---- text ---- */

void mail_plain(char *out, size_t outlen, const char *html)
{
    static const struct { const char *name, *ch; } ents[] = {
        {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", "\""}, {"&#39;", "'"}};
    size_t k = 0;
    if (!outlen)
        return;
    for (const char *p = html; *p && k + 1 < outlen;) {
        if (*p == '<') {   /* a tag: dropped */
            const char *e = strchr(p, '>');
            p = e ? e + 1 : p + strlen(p);
            continue;
        }
        size_t i = 0;
        for (; *p == '&' && i < sizeof ents / sizeof ents[0]; i++)
            if (!strncmp(p, ents[i].name, strlen(ents[i].name)))
                break;
        if (*p == '&' && i < sizeof ents / sizeof ents[0]) {
            out[k++] = ents[i].ch[0];
            p += strlen(ents[i].name);
        } else {
            out[k++] = *p++;
        }
    }
    out[k] = 0;
}

static size_t base64(char *out, const unsigned char *in, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[k++] = abc[v >> 18 & 63];
        out[k++] = abc[v >> 12 & 63];
        out[k++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[k++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[k] = 0;
    return k;
}

void mail_subject(char *out, size_t outlen, const char *text)
{
    int ascii = 1;
    for (const char *p = text; *p; p++)
        ascii &= (unsigned char)*p >= ' ' && (unsigned char)*p < 127;
    if (ascii) {
        snprintf(out, outlen, "%s", text);
        return;
    }
    /* encoded words of at most 45 bytes (60 in base64, within the 75
     * allowed), cut between UTF-8 characters, folded onto new lines */
    size_t k = 0, len = strlen(text);
    out[0] = 0;
    for (size_t i = 0; i < len;) {
        size_t n = len - i < 45 ? len - i : 45;
        while (n > 1 && i + n < len && ((unsigned char)text[i + n] & 0xC0) == 0x80)
            n--;
        char b64[64];
        base64(b64, (const unsigned char *)text + i, n);
        int w = snprintf(out + k, outlen - k, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", b64);
        if (w < 0 || (size_t)w >= outlen - k)
            break;   /* what fits */
        k += (size_t)w;
        i += n;
    }
}

char *mail_message(const char *from, const char *const *to, const char *host, long seq,
                   char *const *texts, int n)
{
    char subject[600], date[64], line[200];
    /* room for every header at its longest, and each text with CRs added */
    size_t cap = 2048 + strlen(from);
    for (int i = 0; to[i]; i++)
        cap += strlen(to[i]) + 8;
    for (int i = 0; i < n; i++)
        cap += strlen(texts[i]) * 2 + 8;
    char *msg = malloc(cap);
    if (!msg)
        return NULL;
    /* the subject: the first diagnostic's first line */
    size_t fl = n ? strcspn(texts[0], "\n") : 0;
    if (fl > 100) {
        fl = 100;
        while (fl && ((unsigned char)texts[0][fl] & 0xC0) == 0x80)
            fl--;
    }
    snprintf(line, sizeof line, "candlewatch on %s: %.*s%s", host, (int)fl, n ? texts[0] : "",
             n > 1 ? " (and more)" : "");
    mail_subject(subject, sizeof subject, line);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    size_t k = (size_t)snprintf(msg, cap, "From: candlewatch <%s>\r\nTo: ", from);
    /* one recipient a line: a header line must stay under 998 characters */
    for (int i = 0; to[i]; i++)
        k += (size_t)snprintf(msg + k, cap - k, "%s%s", i ? ",\r\n " : "", to[i]);
    k += (size_t)snprintf(msg + k, cap - k,
        "\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%lld.%d.%ld@%s>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        "Auto-Submitted: auto-generated\r\n\r\n",
        subject, date, (long long)now, (int)getpid(), seq, host);
    for (int i = 0; i < n && k + 8 < cap; i++) {
        for (const char *p = texts[i]; *p && k + 4 < cap; p++) {
            if (*p == '\n')
                msg[k++] = '\r';
            msg[k++] = *p;
        }
        k += (size_t)snprintf(msg + k, cap - k, "\r\n\r\n");
    }
    msg[k] = 0;
    return msg;
}

/* ---- sending ---- */

static void start(struct mailer *m);

static void retry_due(void *ud)
{
    struct mailer *m = ud;
    m->retry = NULL;
    start(m);
}

static void drop_front(struct mailer *m, int n)
{
    for (int i = 0; i < n; i++)
        free(m->queue[i]);
    memmove(m->queue, m->queue + n, sizeof m->queue[0] * (size_t)(m->n - n));
    m->n -= n;
}

static void on_sent(void *ud, const struct httpc_resp *r)
{
    struct mailer *m = ud;
    const struct rt *rt = m->rt;
    int n = m->sending;
    m->call = 0;
    m->sending = 0;
    if (!r->err) {
        m->sent++;
        m->attempts = 0;
        drop_front(m, n);
        log_info(rt->log, "ops", "e-mailed %d diagnostics to the admins", n);
        start(m);
        return;
    }
    m->failed++;
    if (++m->attempts >= MAX_ATTEMPTS) {
        log_error(rt->log, "ops", "e-mail to the admins failed %d times (%s): %d diagnostics "
                  "given up on", m->attempts, r->err, n);
        m->dropped += n;
        drop_front(m, n);
        m->attempts = 0;
        start(m);
        return;
    }
    uint64_t wait = (uint64_t)RETRY_FIRST_MS << (m->attempts - 1);
    if (wait > RETRY_MAX_MS)
        wait = RETRY_MAX_MS;
    log_warn(rt->log, "ops", "e-mail to the admins failed (%s); retrying in %llu s", r->err,
             (unsigned long long)wait / 1000);
    m->retry = timers_add(rt->timers, rt_now_ms(rt) + wait, retry_due, m);
}

static void start(struct mailer *m)
{
    if (m->call || m->retry || !m->n)
        return;
    const struct config *cfg = m->cfg;
    int n = m->n < PER_MAIL ? m->n : PER_MAIL;
    char *msg = mail_message(cfg->email.from, m->to, m->host, m->sent + m->failed, m->queue, n);
    struct httpc_mail rq = {.url = m->url, .tls = cfg->email.tls != CONFIG_TLS_NONE,
                            .user = cfg->email.user, .password = cfg->email.password,
                            .from = cfg->email.from, .to = m->to, .message = msg};
    m->call = msg ? httpc_mail(m->httpc, &rq, on_sent, m) : 0;
    free(msg);
    if (m->call) {
        m->sending = n;
        return;
    }
    m->failed++;   /* could not even start: try again later */
    m->retry = timers_add(m->rt->timers, rt_now_ms(m->rt) + RETRY_FIRST_MS, retry_due, m);
}

void mail_send(struct mailer *m, const char *html)
{
    if (!m)
        return;
    size_t len = strlen(html) + 1;
    char *text = malloc(len);
    if (!text)
        return;
    mail_plain(text, len, html);
    if (m->n == QUEUE_MAX) {   /* the oldest not in flight makes room */
        int at = m->sending;   /* (< QUEUE_MAX: at most PER_MAIL are in flight) */
        free(m->queue[at]);
        memmove(m->queue + at, m->queue + at + 1, sizeof m->queue[0] * (size_t)(m->n - at - 1));
        m->n--;
        m->dropped++;
    }
    m->queue[m->n++] = text;
    start(m);
}

struct mailer *mail_new(const struct rt *rt, const struct config *c, struct httpc *httpc)
{
    if (!c->email.server)
        return NULL;
    struct mailer *m = calloc(1, sizeof *m);
    if (!m || !(m->to_buf = strdup(c->email.to))) {
        free(m);
        return NULL;
    }
    m->rt = rt;
    m->cfg = c;
    m->httpc = httpc;
    int implicit = c->email.tls == CONFIG_TLS_IMPLICIT;
    long port = c->email.port ? c->email.port : implicit ? 465 : 587;
    snprintf(m->url, sizeof m->url, "%s://%s:%ld", implicit ? "smtps" : "smtp",
             c->email.server, port);
    int n = 0;
    for (char *save, *t = strtok_r(m->to_buf, "\n", &save); t && n < MAX_TO;
         t = strtok_r(NULL, "\n", &save))
        m->to[n++] = t;
    m->to[n] = NULL;
    if (gethostname(m->host, sizeof m->host) != 0 || !m->host[0])
        snprintf(m->host, sizeof m->host, "localhost");
    m->host[sizeof m->host - 1] = 0;
    return m;
}

void mail_free(struct mailer *m)
{
    if (!m)
        return;
    if (m->call)
        httpc_cancel(m->httpc, m->call);
    if (m->retry)
        timers_cancel(m->rt->timers, m->retry);
    drop_front(m, m->n);
    free(m->to_buf);
    free(m);
}

void mail_metrics(const struct mailer *m, struct prom *p)
{
    static const char *const res[] = {"sent", "failed", "dropped"};
    long v[] = {m ? m->sent : 0, m ? m->failed : 0, m ? m->dropped : 0};
    for (int i = 0; i < 3; i++) {
        char lab[32] = "";
        prom_label(lab, sizeof lab, "result", res[i]);
        prom_counter(p, "candlewatch_admin_emails_total",
                     "E-mails to the admins: sent, attempts that failed, diagnostics given up on.",
                     lab, (double)v[i]);
    }
}
