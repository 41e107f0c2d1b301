/* TLS for a raw connection, with OpenSSL memory BIOs: ciphertext in and
 * out as bytes, plaintext through a callback.  The feed uses it because
 * lws 4.1 cannot start TLS on a raw client connection; certificate and
 * host-name verification are on (system CAs plus tls.ca_file).
 *
 *   tc = tls_client_new(ctx, host);         // ClientHello now in tls_take()
 *   tls_input(tc, bytes, n, plain_cb, ud);  // on every read
 *   tls_write(tc, plaintext, n);            // then send tls_take()'s bytes
 */
#ifndef CW_TLS_H
#define CW_TLS_H

#include <stddef.h>

struct tls_ctx;
struct tls_client;

struct tls_ctx *tls_ctx_new(const char *ca_file, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *ctx);

struct tls_client *tls_client_new(struct tls_ctx *ctx, const char *host);
void tls_client_free(struct tls_client *tc);
/* Ciphertext received.  Plaintext goes to plain(); 0, or -1 (tls_error). */
int tls_input(struct tls_client *tc, const char *in, size_t n,
              void (*plain)(void *ud, const char *p, size_t n), void *ud);
int tls_ready(const struct tls_client *tc);
int tls_write(struct tls_client *tc, const void *p, size_t n);
/* Ciphertext waiting to be sent, malloc'd (caller frees); 0 bytes: NULL. */
unsigned char *tls_take(struct tls_client *tc, size_t *n);
const char *tls_error(const struct tls_client *tc);

#endif
