/* A WebSocket client protocol engine (RFC 6455), with no I/O of its own:
 * bytes in (ws_feed), callbacks out, frames to send built by ws_frame.
 * It runs over an lws raw connection (lws still owns the socket, TLS and
 * the loop) because lws 4.1's own client parser handles payloads one byte
 * per call, which was most of the feed's CPU.  Here a complete frame in
 * the read buffer is handed on in place, without a copy.
 *
 *   struct ws_client w; ws_init(&w, max_message, &callbacks, ud);
 *   n = ws_request(&w, host, path, key_bytes, buf, cap);   // send buf first
 *   ws_feed(&w, data, len) on every read; -1: close the connection
 */
#ifndef CW_WS_H
#define CW_WS_H

#include <stddef.h>
#include <stdint.h>

struct ws_callbacks {
    void (*open)(void *ud);                                  /* handshake done */
    void (*message)(void *ud, const char *p, size_t n);      /* text or binary */
    void (*oversize)(void *ud, size_t n);                    /* message dropped */
    void (*ping)(void *ud, const char *p, size_t n);         /* answer with a pong */
    void (*close)(void *ud, int code);                       /* the server closes */
};

enum ws_state { WS_HANDSHAKE, WS_OPEN, WS_CLOSED };

struct ws_client {
    enum ws_state state;
    const struct ws_callbacks *cb;
    void *ud;
    char accept[32];       /* the Sec-WebSocket-Accept we expect */
    size_t max;            /* largest message kept */
    char *buf;             /* a frame (or the handshake) split across reads */
    size_t len, cap;
    uint64_t skip;         /* payload bytes still to skip (oversize) */
    char *frag;            /* a fragmented message being assembled */
    size_t frag_len;
    int frag_over, in_frag;
    const char *error;     /* why ws_feed returned -1 */
};

void ws_init(struct ws_client *w, size_t max_message, const struct ws_callbacks *cb, void *ud);
void ws_free(struct ws_client *w);
/* The upgrade request, with the 16 random bytes of key.  Its length, or -1. */
int ws_request(struct ws_client *w, const char *host, const char *path,
               const unsigned char key[16], char *out, size_t cap);
/* Consumes received bytes.  0, or -1 on a protocol error (w->error). */
int ws_feed(struct ws_client *w, const char *data, size_t len);
/* A masked client frame into out (needs n + 14 bytes); its length. */
size_t ws_frame(int opcode, const char *payload, size_t n, const unsigned char mask[4],
                unsigned char *out);

#define WS_TEXT 1
#define WS_CLOSE 8
#define WS_PING 9
#define WS_PONG 10

#endif
