#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_ctx {
    SSL_CTX *ctx;
};

struct tls_client {
    SSL *ssl;
    BIO *in, *out;
    int ready;
    char error[256];
};

struct tls_ctx *tls_ctx_new(const char *ca_file, char *err, size_t errlen)
{
    struct tls_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->ctx = SSL_CTX_new(TLS_client_method()))) {
        snprintf(err, errlen, "cannot create a TLS context");
        free(c);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_verify_paths(c->ctx);
    if (ca_file && SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1) {
        snprintf(err, errlen, "tls.ca_file %s: cannot load it", ca_file);
        tls_ctx_free(c);
        return NULL;
    }
    return c;
}

void tls_ctx_free(struct tls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

static void set_error(struct tls_client *tc, const char *what)
{
    unsigned long e = ERR_get_error();
    long v = SSL_get_verify_result(tc->ssl);
    if (v != X509_V_OK)
        snprintf(tc->error, sizeof tc->error, "%s: certificate: %s", what,
                 X509_verify_cert_error_string(v));
    else if (e)
        snprintf(tc->error, sizeof tc->error, "%s: %s", what, ERR_reason_error_string(e));
    else
        snprintf(tc->error, sizeof tc->error, "%s", what);
    ERR_clear_error();
}

/* Drives the handshake; 0 (done or waiting for bytes) or -1. */
static int handshake(struct tls_client *tc)
{
    if (tc->ready)
        return 0;
    int r = SSL_do_handshake(tc->ssl);
    if (r == 1) {
        tc->ready = 1;
        return 0;
    }
    int e = SSL_get_error(tc->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    set_error(tc, "TLS handshake failed");
    return -1;
}

struct tls_client *tls_client_new(struct tls_ctx *ctx, const char *host)
{
    struct tls_client *tc = calloc(1, sizeof *tc);
    if (!tc || !(tc->ssl = SSL_new(ctx->ctx))) {
        free(tc);
        return NULL;
    }
    tc->in = BIO_new(BIO_s_mem());
    tc->out = BIO_new(BIO_s_mem());
    SSL_set_bio(tc->ssl, tc->in, tc->out);
    SSL_set_connect_state(tc->ssl);
    /* SNI and name checks: an IP address is checked as one, a name as a name */
    X509_VERIFY_PARAM *vp = SSL_get0_param(tc->ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
        SSL_set_tlsext_host_name(tc->ssl, host);
        SSL_set1_host(tc->ssl, host);
    }
    handshake(tc);   /* the ClientHello */
    return tc;
}

void tls_client_free(struct tls_client *tc)
{
    if (!tc)
        return;
    SSL_free(tc->ssl);   /* frees the BIOs too */
    free(tc);
}

int tls_input(struct tls_client *tc, const char *in, size_t n,
              void (*plain)(void *ud, const char *p, size_t n), void *ud)
{
    if (BIO_write(tc->in, in, (int)n) != (int)n) {
        snprintf(tc->error, sizeof tc->error, "TLS: out of memory");
        return -1;
    }
    if (handshake(tc) != 0)
        return -1;
    if (!tc->ready)
        return 0;
    char buf[65536];
    for (;;) {
        int r = SSL_read(tc->ssl, buf, sizeof buf);
        if (r > 0) {
            plain(ud, buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(tc->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e == SSL_ERROR_ZERO_RETURN)
            snprintf(tc->error, sizeof tc->error, "TLS: the peer closed the session");
        else
            set_error(tc, "TLS read failed");
        return -1;
    }
}

int tls_ready(const struct tls_client *tc)
{
    return tc->ready;
}

int tls_write(struct tls_client *tc, const void *p, size_t n)
{
    if (SSL_write(tc->ssl, p, (int)n) != (int)n) {
        set_error(tc, "TLS write failed");
        return -1;
    }
    return 0;
}

unsigned char *tls_take(struct tls_client *tc, size_t *n)
{
    size_t pending = BIO_ctrl_pending(tc->out);
    *n = 0;
    if (!pending)
        return NULL;
    unsigned char *p = malloc(pending);
    if (!p)
        return NULL;
    int r = BIO_read(tc->out, p, (int)pending);
    if (r <= 0) {
        free(p);
        return NULL;
    }
    *n = (size_t)r;
    return p;
}

const char *tls_error(const struct tls_client *tc)
{
    return tc->error[0] ? tc->error : "TLS error";
}
