/* fake_smtp: a stand-in SMTP submission server on loopback, for end-to-end
 * tests of the bot's e-mail.  It speaks SMTP as RFC 5321, RFC 4954 (AUTH)
 * and RFC 3207 (STARTTLS) describe it, closely enough for libcurl's real
 * client, and refuses what a strict real server refuses, with the codes
 * and enhanced status codes Postfix uses, so a bot that misbehaves fails
 * its tests.
 *
 * usage: fake_smtp --port N [--spool DIR] [--user U --password P]
 *                  [--tls-cert F --tls-key F] [--implicit-tls] [--require-tls]
 *                  [--fail N] [--max-size BYTES]
 *   --port 0 picks a free port; prints "fake_smtp listening on port N".
 *   --spool DIR: where accepted messages go (created if missing); without
 *     it messages are only logged.
 *   --user/--password: the only valid credentials; AUTH is then offered
 *     and MAIL refused until it succeeds.
 *   --tls-cert/--tls-key: PEM files; STARTTLS is then offered.
 *   --implicit-tls: TLS from the first byte (smtps://), no STARTTLS.
 *   --require-tls: no AUTH offered, and no AUTH/MAIL/RCPT/DATA taken, before TLS.
 *   --fail N: the first N messages that would be accepted get 451 at the
 *     end of DATA instead (to test retries).
 *   --max-size: SIZE limit in bytes (default 10485760; 0: none).
 *   SIGINT/SIGTERM: clean exit, status 0 (a session in progress gets 421).
 *
 * Commands: EHLO HELO STARTTLS AUTH (PLAIN, LOGIN; initial response or 334
 * continuation, "*" aborts) MAIL (SIZE= BODY= AUTH= after EHLO) RCPT DATA
 * RSET NOOP QUIT.  VRFY EXPN HELP TURN ETRN BDAT ...: 502; anything else 500.
 * EHLO offers PIPELINING, SIZE, STARTTLS, AUTH PLAIN LOGIN, ENHANCEDSTATUSCODES
 * and 8BITMIME as they apply.  Pipelined commands are answered in order.
 *
 * Enforced: command order (503), AUTH only after EHLO, credentials (535
 * 5.7.8), authentication before MAIL (530 5.7.0), TLS first with
 * --require-tls (530 5.7.0 Must issue a STARTTLS command first), EHLO again
 * after STARTTLS (it forgets HELO/EHLO, AUTH and the transaction; plaintext
 * pipelined after STARTTLS is discarded), mailbox syntax (501), unknown
 * parameters (555), at most 100 recipients (452), lines of at most 1000
 * bytes with CRLF (500; AUTH lines 12288, as RFC 4954 asks), lines ending
 * in CRLF only: a bare LF in a command is 500 and in a message 550 (RFC
 * 5321 2.3.8 forbids it), SIZE= above the limit (552 at MAIL) and a message
 * above it (552 after DATA), 20 errors in a session (421, disconnect), 30 s
 * idle (421, disconnect).  DATA ends only at CRLF.CRLF and is dot-unstuffed.
 *
 * Files: each accepted message is DIR/%06d.eml (1, 2, ... per run; written
 * to DIR/.%06d.eml.tmp, then renamed): an "X-Envelope-From: <a>" line, one
 * "X-Envelope-To: <b>" line per recipient (CRLF-ended), then the message
 * exactly as received, dot-unstuffed, ending in CRLF.
 *
 * stdout, one line each, flushed:
 *   fake_smtp listening on port N
 *   accepted N from <a> to <b>,<c> bytes M     (M: the message, unstuffed)
 *   refused VERB: CODE TEXT                    (every 4xx/5xx reply; VERB is
 *                                               the command answered, "-" for
 *                                               timeout, shutdown, too many errors)
 * stderr: TLS handshake failures, plaintext dropped after STARTTLS, spool
 * write errors.
 *
 * One connection at a time, one thread: others wait in the listen backlog.
 * Sockets are non-blocking and every wait is a ppoll() with SIGINT/SIGTERM
 * unblocked, so a signal stops the server at once, even mid-session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakeutil.h"

#define HOST "localhost"
#define IDLE_TIMEOUT_S 30
#define MAX_LINE 1000           /* RFC 5321 4.5.3.1.6, CRLF included */
#define MAX_AUTH_LINE 12288     /* RFC 4954 4 */
#define MAX_RCPTS 100           /* the least RFC 5321 4.5.3.1.8 allows */
#define MAX_ERRORS 20           /* Postfix's smtpd_hard_error_limit */
#define DEFAULT_MAX_SIZE 10485760L

/* ---- state ---- */

static struct {
    const char *spool, *user, *password, *cert, *key;
    int implicit_tls, require_tls;
    long fail_left, max_size, seq;
    SSL_CTX *tls;                   /* NULL: no TLS configured */
    sigset_t waitmask;              /* the mask while waiting: signals let in */
    volatile sig_atomic_t stop;
} S;

enum gone { G_NO, G_EOF, G_ERROR, G_TIMEOUT, G_STOP };

struct conn {
    int fd;
    SSL *ssl;                       /* non-NULL from the TLS handshake on */
    enum gone gone;                 /* why the connection can no longer be used */
    char in[16384];
    size_t in_off, in_len;
};

struct line {
    struct buf b;                   /* the line without its terminator (truncated at cap) */
    size_t total;                   /* its real length, terminator included */
    int crlf;                       /* ended in CRLF, not a bare LF */
};

struct sess {
    struct conn c;
    struct line line;
    char verb[16];                  /* the command being answered, for the log */
    int helo;                       /* 0: none yet, 1: HELO, 2: EHLO */
    int authed, errors, in_mail;
    char *from;
    char **rcpt;
    size_t nrcpt;
};

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* ---- connection I/O: non-blocking, waits in ppoll ---- */

static int io_wait(struct conn *c, short events)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    const struct timespec idle = {IDLE_TIMEOUT_S, 0};
    for (;;) {
        if (S.stop) {
            c->gone = G_STOP;
            return -1;
        }
        int r = ppoll(&p, 1, &idle, &S.waitmask);
        if (r > 0)
            return 0;       /* readable, writable or an error the next call reports */
        if (r == 0) {
            c->gone = G_TIMEOUT;
            return -1;
        }
        if (errno != EINTR) {
            c->gone = G_ERROR;
            return -1;
        }
    }
}

/* Waits as OpenSSL asks; -1 when it is not a wait but a failure. */
static int tls_retry(struct conn *c, int ret)
{
    switch (SSL_get_error(c->ssl, ret)) {
    case SSL_ERROR_WANT_READ: return io_wait(c, POLLIN);
    case SSL_ERROR_WANT_WRITE: return io_wait(c, POLLOUT);
    case SSL_ERROR_ZERO_RETURN: c->gone = G_EOF; return -1;
    default: if (!c->gone) c->gone = G_ERROR; return -1;
    }
}

/* > 0 bytes read; <= 0 the connection is gone (c->gone says why). */
static ssize_t conn_read(struct conn *c, char *p, size_t n)
{
    for (;;) {
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, p, (int)n);
            if (r > 0)
                return r;
            if (tls_retry(c, r) != 0)
                return -1;
            continue;
        }
        ssize_t r = recv(c->fd, p, n, 0);
        if (r > 0)
            return r;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (io_wait(c, POLLIN) != 0)
                return -1;
            continue;
        }
        c->gone = r == 0 ? G_EOF : G_ERROR;
        return -1;
    }
}

static int conn_write(struct conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t r;
        if (c->ssl) {
            ERR_clear_error();
            int w = SSL_write(c->ssl, p, (int)n);
            if (w <= 0) {
                if (tls_retry(c, w) != 0)
                    return -1;
                continue;
            }
            r = w;
        } else {
            r = send(c->fd, p, n, MSG_NOSIGNAL);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (io_wait(c, POLLOUT) != 0)
                    return -1;
                continue;
            }
            if (r < 0) {
                c->gone = G_ERROR;
                return -1;
            }
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads through the next LF, keeping at most cap bytes of the line; the
 * rest of an over-long line is consumed, so the reply comes after it.
 * 1: a line; 0: the connection is gone. */
static int read_line(struct conn *c, struct line *l, size_t cap)
{
    char last = 0;
    l->b.n = 0;
    l->total = 0;
    l->crlf = 0;
    buf_add(&l->b, "", 0);
    for (;;) {
        if (c->in_off == c->in_len) {
            ssize_t r = conn_read(c, c->in, sizeof c->in);
            if (r <= 0)
                return 0;
            c->in_off = 0;
            c->in_len = (size_t)r;
        }
        char *start = c->in + c->in_off;
        char *lf = memchr(start, '\n', c->in_len - c->in_off);
        size_t n = lf ? (size_t)(lf - start) : c->in_len - c->in_off;
        if (n)
            last = start[n - 1];
        if (l->b.n < cap)
            buf_add(&l->b, start, n < cap - l->b.n ? n : cap - l->b.n);
        l->total += n;
        c->in_off += n;
        if (lf) {
            c->in_off++;
            l->total++;
            l->crlf = last == '\r';
            if (l->crlf && l->total <= cap)
                l->b.p[--l->b.n] = '\0';
            return 1;
        }
    }
}

static int tls_start(struct conn *c)
{
    c->ssl = SSL_new(S.tls);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
        goto fail;
    for (;;) {
        ERR_clear_error();
        int r = SSL_accept(c->ssl);
        if (r == 1)
            return 0;
        if (tls_retry(c, r) != 0)
            goto fail;
    }
fail:;
    unsigned long e = ERR_get_error();
    fprintf(stderr, "fake_smtp: TLS handshake failed: %s\n",
            e ? ERR_error_string(e, NULL) : c->gone == G_TIMEOUT ? "timeout"
                                          : c->gone == G_STOP  ? "shutting down"
                                                               : "connection closed");
    SSL_free(c->ssl);       /* no SSL_shutdown after a failed handshake */
    c->ssl = NULL;
    if (!c->gone)
        c->gone = G_ERROR;
    return -1;
}

static void conn_close(struct conn *c)
{
    if (c->ssl) {
        if (c->gone == G_NO || c->gone == G_TIMEOUT || c->gone == G_STOP)
            SSL_shutdown(c->ssl);   /* one try at close_notify; no waiting */
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    close(c->fd);
}

/* ---- replies ---- */

/* Copies client text into a reply or the log: printable ASCII only, so
 * nothing a client sends can end a reply line early. */
static void sanitize(char *dst, size_t size, const char *src, size_t n)
{
    size_t i = 0;
    for (; i < n && i + 1 < size && src[i]; i++)
        dst[i] = src[i] > ' ' && src[i] < 0x7f ? src[i] : '?';
    dst[i] = '\0';
}

/* One reply line; every 4xx/5xx is logged and counts as an error. */
static void reply(struct sess *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof line - 3)
        n = (int)sizeof line - 3;
    if (line[0] == '4' || line[0] == '5') {
        s->errors++;
        say("refused %s: %s", s->verb, line);
    }
    memcpy(line + n, "\r\n", 2);
    conn_write(&s->c, line, (size_t)n + 2);
}

/* ---- mail transaction ---- */

static void txn_reset(struct sess *s)
{
    free(s->from);
    s->from = NULL;
    for (size_t i = 0; i < s->nrcpt; i++)
        free(s->rcpt[i]);
    free(s->rcpt);
    s->rcpt = NULL;
    s->nrcpt = 0;
    s->in_mail = 0;
}

static int tls_needed(const struct sess *s) { return S.require_tls && !s->c.ssl; }

static int auth_offered(const struct sess *s) { return S.user && !tls_needed(s); }

static int is_atext(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch));
}

/* Dot-string or quoted-string (RFC 5321 4.1.2). */
static int valid_local(const char *p, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    if (p[0] == '"') {
        if (n < 2 || p[n - 1] != '"')
            return 0;
        for (size_t i = 1; i + 1 < n; i++) {
            if (p[i] < ' ' || p[i] > '~')
                return 0;
            if (p[i] == '\\') {     /* quoted-pair: the next character is literal */
                if (++i + 1 >= n || p[i] < ' ' || p[i] > '~')
                    return 0;
            } else if (p[i] == '"') {
                return 0;
            }
        }
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (i == 0 || i + 1 == n || p[i + 1] == '.')
                return 0;
        } else if (!is_atext((unsigned char)p[i]))
            return 0;
    }
    return 1;
}

/* A host name of letters, digits and hyphens, or an address literal. */
static int valid_domain(const char *p, size_t n)
{
    if (n == 0 || n > 255)
        return 0;
    if (p[0] == '[') {
        if (n < 3 || p[n - 1] != ']')
            return 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (p[i] <= ' ' || p[i] > '~' || strchr("[]\\", p[i]))
                return 0;
        return 1;
    }
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '.') {
            if (label == 0 || label > 63 || p[i - 1] == '-')
                return 0;
            label = 0;
        } else if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
                   (p[i] >= '0' && p[i] <= '9') || (p[i] == '-' && label > 0))
            label++;
        else
            return 0;
    }
    return 1;
}

static int valid_mailbox(const char *a)
{
    const char *at = strrchr(a, '@');
    size_t n = strlen(a);
    return at && n <= 254 && valid_local(a, (size_t)(at - a)) &&
           valid_domain(at + 1, n - (size_t)(at - a) - 1);
}

/* "<path>" at *pp: the path, malloc'd, and *pp past it; NULL if malformed.
 * Printable ASCII only (no SMTPUTF8 offered); a space or '>' only inside a
 * quoted local part; no source routes (valid_mailbox refuses them). */
static char *parse_path(const char **pp)
{
    const char *p = *pp, *q;
    int quoted = 0;
    while (*p == ' ')
        p++;                        /* "MAIL FROM: <a>", as Postfix allows */
    if (*p != '<')
        return NULL;
    for (q = p + 1; *q && (quoted || *q != '>'); q++) {
        if (*q < ' ' || *q > '~' || (!quoted && (*q == ' ' || *q == '<')))
            return NULL;
        if (quoted && *q == '\\' && q[1])
            q++;
        else if (*q == '"')
            quoted = !quoted;
    }
    if (*q != '>' || (q[1] && q[1] != ' '))
        return NULL;
    *pp = q + 1;
    return strndup(p + 1, (size_t)(q - p - 1));
}

/* The next " KEY[=VALUE]" at *pp into key/val; 0 at the end. */
static int next_param(const char **pp, char *key, size_t ksize, const char **val, size_t *vlen)
{
    const char *p = *pp;
    while (*p == ' ')
        p++;
    if (!*p)
        return 0;
    size_t n = strcspn(p, "= ");
    sanitize(key, ksize, p, n);
    p += n;
    *val = NULL;
    *vlen = 0;
    if (*p == '=') {
        *val = ++p;
        *vlen = strcspn(p, " ");
        p += *vlen;
    }
    *pp = p;
    return 1;
}

/* MAIL parameters we advertise (RFC 1870 SIZE, RFC 6152 BODY, RFC 4954
 * AUTH); 0 ok, -1 refused (replied). */
static int mail_params(struct sess *s, const char *p)
{
    char key[64];
    const char *val;
    size_t vlen;
    while (next_param(&p, key, sizeof key, &val, &vlen)) {
        if (s->helo != 2) {
            reply(s, "555 5.5.4 Unsupported option: %s", key);
            return -1;
        }
        if (!strcasecmp(key, "SIZE")) {
            if (!val || vlen == 0 || vlen > 18 || strspn(val, "0123456789") < vlen) {
                reply(s, "501 5.5.4 Bad SIZE syntax");
                return -1;
            }
            if (S.max_size && strtol(val, NULL, 10) > S.max_size) {
                reply(s, "552 5.3.4 Message size exceeds fixed limit");
                return -1;
            }
        } else if (!strcasecmp(key, "BODY")) {
            if (!val || !((vlen == 4 && !strncasecmp(val, "7BIT", 4)) ||
                          (vlen == 8 && !strncasecmp(val, "8BITMIME", 8)))) {
                reply(s, "501 5.5.4 Bad BODY syntax");
                return -1;
            }
        } else if (!strcasecmp(key, "AUTH") && auth_offered(s) && val && vlen) {
            /* the submitter's identity for relaying: noted by real servers, unused here */
        } else {
            reply(s, "555 5.5.4 Unsupported option: %s", key);
            return -1;
        }
    }
    return 0;
}

/* ---- SASL (RFC 4954) ---- */

static int b64_value(int ch)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = ch ? strchr(A, ch) : NULL;
    return p ? (int)(p - A) : -1;
}

/* Strict base64: whole quads, '=' only as final padding. */
static int b64_decode(const char *in, size_t n, struct buf *out)
{
    out->n = 0;
    buf_add(out, "", 0);
    if (n % 4)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            v[k] = b64_value((unsigned char)in[i + k]);
            if (in[i + k] == '=' && i + 4 == n && k >= 2 && (k == 3 || in[i + 3] == '='))
                v[k] = 0, pad++;
            else if (v[k] < 0)
                return -1;
        }
        unsigned long q = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
                          (unsigned long)v[2] << 6 | (unsigned long)v[3];
        char bytes[3] = {(char)(q >> 16), (char)(q >> 8), (char)q};
        buf_add(out, bytes, (size_t)(3 - pad));
    }
    return 0;
}

enum { SASL_OK, SASL_REFUSED, SASL_GONE };

/* One client response, decoded into out: the initial response if the AUTH
 * command carried one ("=" is an empty one), else after "334 challenge". */
static int sasl_response(struct sess *s, const char *challenge, const char *initial, struct buf *out)
{
    const char *r = initial;
    if (!r) {
        reply(s, "334 %s", challenge);
        if (!read_line(&s->c, &s->line, MAX_AUTH_LINE))
            return SASL_GONE;
        if (s->line.total > MAX_AUTH_LINE || !s->line.crlf) {
            reply(s, "500 5.5.2 Error: %s", s->line.crlf ? "line too long" : "bare <LF> received");
            return SASL_REFUSED;
        }
        r = s->line.b.p;
        if (!strcmp(r, "*")) {
            reply(s, "501 5.7.0 Authentication aborted");
            return SASL_REFUSED;
        }
    } else if (!strcmp(r, "=")) {
        r = "";
    }
    if (b64_decode(r, strlen(r), out) != 0) {
        reply(s, "501 5.5.2 Cannot decode response");
        return SASL_REFUSED;
    }
    return SASL_OK;
}

static int creds_ok(const char *u, size_t ulen, const char *p, size_t plen)
{
    return ulen == strlen(S.user) && !memcmp(u, S.user, ulen) &&
           plen == strlen(S.password) && !memcmp(p, S.password, plen);
}

static void auth_result(struct sess *s, int ok)
{
    if (ok) {
        s->authed = 1;
        reply(s, "235 2.7.0 Authentication successful");
    } else {
        reply(s, "535 5.7.8 Authentication credentials invalid");
    }
}

/* PLAIN (RFC 4616): authzid NUL authcid NUL passwd; an authzid other than
 * the user itself would be a proxy login, which nobody is allowed here. */
static int auth_plain(struct sess *s, const char *initial)
{
    struct buf d = {0};
    int r = sasl_response(s, "", initial, &d);
    if (r == SASL_OK) {
        const char *z1 = memchr(d.p, '\0', d.n);
        const char *z2 = z1 ? memchr(z1 + 1, '\0', d.n - (size_t)(z1 + 1 - d.p)) : NULL;
        int ok = 0;
        if (z2 && !memchr(z2 + 1, '\0', d.n - (size_t)(z2 + 1 - d.p))) {
            size_t zlen = (size_t)(z1 - d.p), ulen = (size_t)(z2 - z1 - 1);
            ok = (zlen == 0 || (zlen == ulen && !memcmp(d.p, z1 + 1, ulen))) &&
                 creds_ok(z1 + 1, ulen, z2 + 1, d.n - (size_t)(z2 + 1 - d.p));
        }
        auth_result(s, ok);
    }
    buf_free(&d);
    return r == SASL_GONE;
}

/* LOGIN: the de-facto mechanism, "Username:" then "Password:" in base64. */
static int auth_login(struct sess *s, const char *initial)
{
    struct buf u = {0}, p = {0};
    int r = sasl_response(s, "VXNlcm5hbWU6", initial, &u);
    if (r == SASL_OK)
        r = sasl_response(s, "UGFzc3dvcmQ6", NULL, &p);
    if (r == SASL_OK)
        auth_result(s, creds_ok(u.p, u.n, p.p, p.n));
    buf_free(&u);
    buf_free(&p);
    return r == SASL_GONE;
}

/* ---- commands: each returns 1 to end the session ---- */

static int cmd_ehlo(struct sess *s, const char *arg)
{
    if (!*arg) {
        reply(s, "501 5.5.4 Syntax: EHLO hostname");
        return 0;
    }
    txn_reset(s);                   /* RFC 5321 4.1.4: EHLO is also a reset */
    s->helo = 2;
    char size[32];
    snprintf(size, sizeof size, "SIZE %ld", S.max_size);
    const char *ext[8];
    size_t n = 0;
    ext[n++] = HOST;
    ext[n++] = "PIPELINING";
    ext[n++] = size;
    if (S.tls && !s->c.ssl)
        ext[n++] = "STARTTLS";
    if (auth_offered(s))
        ext[n++] = "AUTH PLAIN LOGIN";
    ext[n++] = "ENHANCEDSTATUSCODES";
    ext[n++] = "8BITMIME";
    struct buf b = {0};
    for (size_t i = 0; i < n; i++) {
        buf_add(&b, i + 1 < n ? "250-" : "250 ", 4);
        buf_add(&b, ext[i], strlen(ext[i]));
        buf_add(&b, "\r\n", 2);
    }
    conn_write(&s->c, b.p, b.n);
    buf_free(&b);
    return 0;
}

static int cmd_helo(struct sess *s, const char *arg)
{
    if (!*arg) {
        reply(s, "501 5.5.4 Syntax: HELO hostname");
        return 0;
    }
    txn_reset(s);
    s->helo = 1;
    reply(s, "250 %s", HOST);
    return 0;
}

static int cmd_starttls(struct sess *s, const char *arg)
{
    if (*arg) {
        reply(s, "501 5.5.4 Syntax: STARTTLS");
        return 0;
    }
    if (s->c.ssl) {
        reply(s, "554 5.5.1 Error: TLS already active");
        return 0;
    }
    if (!S.tls) {
        reply(s, "502 5.5.1 Error: command not implemented");
        return 0;
    }
    /* Plaintext pipelined behind STARTTLS must not count as sent over TLS
     * (the CVE-2011-0411 injection); real servers drop it. */
    if (s->c.in_off < s->c.in_len) {
        fprintf(stderr, "fake_smtp: discarding %zu plaintext bytes sent after STARTTLS\n",
                s->c.in_len - s->c.in_off);
        s->c.in_off = s->c.in_len;
    }
    reply(s, "220 2.0.0 Ready to start TLS");
    if (s->c.gone || tls_start(&s->c) != 0)
        return 1;
    /* RFC 3207 4.2: forget everything learnt from the client before TLS */
    txn_reset(s);
    s->helo = 0;
    s->authed = 0;
    return 0;
}

static int cmd_auth(struct sess *s, const char *arg)
{
    if (s->helo != 2)
        reply(s, "503 5.5.1 Error: send EHLO first");
    else if (tls_needed(s))
        reply(s, "530 5.7.0 Must issue a STARTTLS command first");
    else if (!S.user)
        reply(s, "503 5.5.1 Error: authentication not enabled");
    else if (s->authed)
        reply(s, "503 5.5.1 Error: already authenticated");
    else if (s->in_mail)
        reply(s, "503 5.5.1 Error: MAIL transaction in progress");
    else {
        size_t n = strcspn(arg, " ");
        const char *initial = arg[n] ? arg + n + 1 : NULL;
        if (n == 0 || (initial && (!*initial || strchr(initial, ' '))))
            reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
        else if (n == 5 && !strncasecmp(arg, "PLAIN", 5))
            return auth_plain(s, initial);
        else if (n == 5 && !strncasecmp(arg, "LOGIN", 5))
            return auth_login(s, initial);
        else
            reply(s, "504 5.5.4 Unrecognized authentication type");
    }
    return 0;
}

static int cmd_mail(struct sess *s, const char *arg)
{
    if (!s->helo)
        reply(s, "503 5.5.1 Error: send HELO/EHLO first");
    else if (tls_needed(s))
        reply(s, "530 5.7.0 Must issue a STARTTLS command first");
    else if (S.user && !s->authed)
        reply(s, "530 5.7.0 Authentication required");
    else if (s->in_mail)
        reply(s, "503 5.5.1 Error: nested MAIL command");
    else if (strncasecmp(arg, "FROM:", 5))
        reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
    else {
        const char *p = arg + 5;
        char *from = parse_path(&p);
        if (!from || (*from && !valid_mailbox(from)))
            reply(s, "501 5.1.7 Bad sender address syntax");
        else if (mail_params(s, p) == 0) {
            s->from = from;
            s->in_mail = 1;
            reply(s, "250 2.1.0 Ok");
            return 0;
        }
        free(from);
    }
    return 0;
}

static int cmd_rcpt(struct sess *s, const char *arg)
{
    char key[64];
    const char *val;
    size_t vlen;
    if (tls_needed(s))
        reply(s, "530 5.7.0 Must issue a STARTTLS command first");
    else if (!s->in_mail)
        reply(s, "503 5.5.1 Error: need MAIL command");
    else if (strncasecmp(arg, "TO:", 3))
        reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
    else {
        const char *p = arg + 3;
        char *to = parse_path(&p);
        if (!to || !(valid_mailbox(to) || !strcasecmp(to, "postmaster")))
            reply(s, "501 5.1.3 Bad recipient address syntax");
        else if (next_param(&p, key, sizeof key, &val, &vlen))
            reply(s, "555 5.5.4 Unsupported option: %s", key);   /* no DSN offered */
        else if (s->nrcpt >= MAX_RCPTS)
            reply(s, "452 4.5.3 Error: too many recipients");
        else {
            s->rcpt = realloc(s->rcpt, (s->nrcpt + 1) * sizeof *s->rcpt);
            if (!s->rcpt) {
                fprintf(stderr, "fake_smtp: out of memory\n");
                exit(1);
            }
            s->rcpt[s->nrcpt++] = to;
            reply(s, "250 2.1.5 Ok");
            return 0;
        }
        free(to);
    }
    return 0;
}

enum body { B_OK, B_TOO_BIG, B_LONG_LINE, B_BARE_LF, B_GONE };

/* Reads the message up to CRLF.CRLF, unstuffing dots (RFC 5321 4.5.2).
 * After the first fault the rest is read and dropped, so the reply still
 * comes after the end of the data, where the client waits for it. */
static enum body read_body(struct sess *s, struct buf *msg)
{
    enum body res = B_OK;
    int after_crlf = 1;             /* the DATA line ended in CRLF */
    for (;;) {
        struct line *l = &s->line;
        if (!read_line(&s->c, l, MAX_LINE))
            return B_GONE;
        if (after_crlf && l->crlf && l->total == 3 && l->b.p[0] == '.')
            return res;
        after_crlf = l->crlf;
        if (res != B_OK)
            continue;
        if (l->total > MAX_LINE)
            res = B_LONG_LINE;
        else if (!l->crlf)
            res = B_BARE_LF;
        else {
            size_t skip = l->b.p[0] == '.';
            size_t n = l->b.n - skip;
            if (S.max_size && msg->n + n + 2 > (size_t)S.max_size)
                res = B_TOO_BIG;
            else {
                buf_add(msg, l->b.p + skip, n);
                buf_add(msg, "\r\n", 2);
            }
        }
    }
}

/* Writes DIR/%06d.eml through a temporary name, so a reader never sees
 * half a message. */
static int spool_write(long seq, const struct sess *s, const struct buf *msg)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%06ld.eml.tmp", S.spool, seq) >= sizeof tmp ||
        (size_t)snprintf(dst, sizeof dst, "%s/%06ld.eml", S.spool, seq) >= sizeof dst) {
        fprintf(stderr, "fake_smtp: spool path too long\n");
        return -1;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "fake_smtp: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "X-Envelope-From: <%s>\r\n", s->from);
    for (size_t i = 0; i < s->nrcpt; i++)
        fprintf(f, "X-Envelope-To: <%s>\r\n", s->rcpt[i]);
    if (msg->n)
        fwrite(msg->p, 1, msg->n, f);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, dst) != 0) {
        fprintf(stderr, "fake_smtp: cannot write %s: %s\n", dst, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Spools and logs before the 250 goes out, so a client that has its
 * answer finds the file and the log line already there. */
static void accept_message(struct sess *s, const struct buf *msg)
{
    if (S.fail_left > 0) {
        S.fail_left--;
        reply(s, "451 4.3.0 Temporary failure, try again later");
        return;
    }
    long seq = S.seq + 1;
    if (S.spool && spool_write(seq, s, msg) != 0) {
        reply(s, "451 4.3.0 Error: queue file write error");
        return;
    }
    S.seq = seq;
    printf("accepted %ld from <%s> to ", seq, s->from);
    for (size_t i = 0; i < s->nrcpt; i++)
        printf("%s<%s>", i ? "," : "", s->rcpt[i]);
    printf(" bytes %zu\n", msg->n);
    fflush(stdout);
    reply(s, "250 2.0.0 Ok: queued as %06ld", seq);
}

static int cmd_data(struct sess *s, const char *arg)
{
    if (*arg)
        reply(s, "501 5.5.4 Syntax: DATA");
    else if (tls_needed(s))
        reply(s, "530 5.7.0 Must issue a STARTTLS command first");
    else if (!s->in_mail)
        reply(s, "503 5.5.1 Error: need MAIL command");
    else if (!s->nrcpt)
        reply(s, "503 5.5.1 Error: need RCPT command");
    else {
        struct buf msg = {0};
        reply(s, "354 End data with <CR><LF>.<CR><LF>");
        enum body r = read_body(s, &msg);
        switch (r) {
        case B_GONE: break;
        case B_TOO_BIG: reply(s, "552 5.3.4 Message size exceeds fixed limit"); break;
        case B_LONG_LINE: reply(s, "500 5.5.2 Error: message line too long"); break;
        case B_BARE_LF: reply(s, "550 5.5.2 Error: bare <LF> received"); break;
        case B_OK: accept_message(s, &msg); break;
        }
        buf_free(&msg);
        txn_reset(s);
        return r == B_GONE;
    }
    return 0;
}

static int cmd_rset(struct sess *s, const char *arg)
{
    if (*arg) {
        reply(s, "501 5.5.4 Syntax: RSET");
        return 0;
    }
    txn_reset(s);
    reply(s, "250 2.0.0 Ok");
    return 0;
}

static int cmd_noop(struct sess *s, const char *arg)
{
    (void)arg;                      /* RFC 5321 4.1.1.9: a parameter is ignored */
    reply(s, "250 2.0.0 Ok");
    return 0;
}

static int cmd_quit(struct sess *s, const char *arg)
{
    if (*arg) {
        reply(s, "501 5.5.4 Syntax: QUIT");
        return 0;
    }
    reply(s, "221 2.0.0 Bye");
    return 1;
}

static const struct {
    const char *verb;
    int (*fn)(struct sess *, const char *);
} COMMANDS[] = {
    {"EHLO", cmd_ehlo}, {"HELO", cmd_helo}, {"STARTTLS", cmd_starttls},
    {"AUTH", cmd_auth}, {"MAIL", cmd_mail}, {"RCPT", cmd_rcpt},
    {"DATA", cmd_data}, {"RSET", cmd_rset}, {"NOOP", cmd_noop},
    {"QUIT", cmd_quit},
};

/* Known to SMTP but not offered: 502, not 500 (RFC 5321 4.2.4). */
static const char *const UNIMPLEMENTED[] = {
    "VRFY", "EXPN", "HELP", "TURN", "ETRN", "ATRN", "BDAT", "SEND", "SOML", "SAML",
};

/* Answers the command in s->line; 1 ends the session. */
static int dispatch(struct sess *s)
{
    const struct line *l = &s->line;
    const char *p = l->b.p;
    size_t vlen = strcspn(p, " ");
    sanitize(s->verb, sizeof s->verb, vlen ? p : "-", vlen ? vlen : 1);
    for (char *v = s->verb; *v; v++)
        *v = (char)(*v >= 'a' && *v <= 'z' ? *v - 32 : *v);
    const char *arg = p + vlen;
    while (*arg == ' ')
        arg++;
    /* trailing blanks are not part of the argument (clients do send them) */
    char *end = l->b.p + l->b.n;
    while (end > arg && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';

    int is_auth = !strcmp(s->verb, "AUTH");
    if (l->total > (is_auth ? MAX_AUTH_LINE : MAX_LINE))
        reply(s, "500 5.5.2 Error: line too long");
    else if (!l->crlf)
        reply(s, "500 5.5.2 Error: bare <LF> received");
    else if (vlen == 0 || memchr(p, '\0', l->b.n))
        reply(s, "500 5.5.2 Error: bad syntax");
    else {
        for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
            if (!strcmp(s->verb, COMMANDS[i].verb))
                return COMMANDS[i].fn(s, arg);
        for (size_t i = 0; i < sizeof UNIMPLEMENTED / sizeof UNIMPLEMENTED[0]; i++)
            if (!strcmp(s->verb, UNIMPLEMENTED[i])) {
                reply(s, "502 5.5.1 Error: command not implemented");
                return 0;
            }
        reply(s, "500 5.5.2 Error: command not recognized");
    }
    return 0;
}

static void serve(int fd)
{
    struct sess s = {.c = {.fd = fd}};
    strcpy(s.verb, "-");
    if (!S.implicit_tls || tls_start(&s.c) == 0) {
        reply(&s, "220 %s ESMTP fake_smtp", HOST);
        while (!s.c.gone && read_line(&s.c, &s.line, MAX_AUTH_LINE) && !dispatch(&s)) {
            if (s.errors >= MAX_ERRORS) {
                strcpy(s.verb, "-");
                reply(&s, "421 4.7.0 %s Error: too many errors", HOST);
                break;
            }
        }
        strcpy(s.verb, "-");
        if (s.c.gone == G_TIMEOUT)
            reply(&s, "421 4.4.2 %s Error: timeout exceeded", HOST);
        else if (s.c.gone == G_STOP)
            reply(&s, "421 4.3.2 %s Service shutting down", HOST);
    }
    conn_close(&s.c);
    txn_reset(&s);
    buf_free(&s.line.b);
}

/* ---- setup ---- */

static void on_signal(int sig)
{
    (void)sig;
    S.stop = 1;
}

/* SIGINT/SIGTERM are blocked except inside ppoll(), so one that arrives
 * between a check of S.stop and the wait cannot be missed. */
static void signals_setup(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);       /* OpenSSL writes with write(), not MSG_NOSIGNAL */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &S.waitmask);
    sigdelset(&S.waitmask, SIGINT);
    sigdelset(&S.waitmask, SIGTERM);
}

static int tls_setup(void)
{
    S.tls = SSL_CTX_new(TLS_server_method());
    if (!S.tls || !SSL_CTX_set_min_proto_version(S.tls, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(S.tls, S.cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(S.tls, S.key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(S.tls) != 1) {
        fprintf(stderr, "fake_smtp: cannot use %s / %s: %s\n", S.cert, S.key,
                ERR_error_string(ERR_get_error(), NULL));
        return -1;
    }
    return 0;
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "fake_smtp: cannot listen on port %d: %s\n", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    printf("fake_smtp listening on port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

static void accept_loop(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    while (!S.stop) {
        if (ppoll(&p, 1, NULL, &S.waitmask) < 0) {
            if (errno == EINTR)
                continue;           /* the loop condition decides */
            fprintf(stderr, "fake_smtp: poll: %s\n", strerror(errno));
            return;
        }
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            serve(fd);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: fake_smtp --port N [--spool DIR] [--user U --password P] "
                    "[--tls-cert F --tls-key F] [--implicit-tls] [--require-tls] "
                    "[--fail N] [--max-size BYTES]\n");
    return -1;
}

static int parse_args(int argc, char **argv, long *port)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--implicit-tls")) {
            S.implicit_tls = 1;
            continue;
        }
        if (!strcmp(a, "--require-tls")) {
            S.require_tls = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "fake_smtp: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (!strcmp(a, "--port")) *port = opt_long(a, v);
        else if (!strcmp(a, "--spool")) S.spool = v;
        else if (!strcmp(a, "--user")) S.user = v;
        else if (!strcmp(a, "--password")) S.password = v;
        else if (!strcmp(a, "--tls-cert")) S.cert = v;
        else if (!strcmp(a, "--tls-key")) S.key = v;
        else if (!strcmp(a, "--fail")) S.fail_left = opt_long(a, v);
        else if (!strcmp(a, "--max-size")) S.max_size = opt_long(a, v);
        else return usage();
    }
    const char *err = NULL;
    if (*port < 0) err = "--port N is required (0: any free port)";
    else if (*port > 65535) err = "--port is at most 65535";
    else if (!S.user != !S.password) err = "--user and --password go together";
    else if (!S.cert != !S.key) err = "--tls-cert and --tls-key go together";
    else if ((S.implicit_tls || S.require_tls) && !S.cert) err = "TLS needs --tls-cert and --tls-key";
    if (err) {
        fprintf(stderr, "fake_smtp: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long port = -1;
    S.max_size = DEFAULT_MAX_SIZE;
    if (parse_args(argc, argv, &port) != 0)
        return 2;
    if (S.spool && mkdir(S.spool, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fake_smtp: cannot create %s: %s\n", S.spool, strerror(errno));
        return 1;
    }
    if (S.cert && tls_setup() != 0) {
        SSL_CTX_free(S.tls);
        return 1;
    }
    signals_setup();
    int lfd = listen_on((int)port);
    if (lfd >= 0) {
        accept_loop(lfd);
        close(lfd);
    }
    SSL_CTX_free(S.tls);
    return lfd >= 0 ? 0 : 1;
}
