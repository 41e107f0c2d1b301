#include "net/ws.h"
#include "util/grow.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ws_init(struct ws_client *w, size_t max_message, const struct ws_callbacks *cb, void *ud)
{
    memset(w, 0, sizeof *w);
    w->cb = cb;
    w->ud = ud;
    w->max = max_message;
}

void ws_free(struct ws_client *w)
{
    free(w->buf);
    free(w->frag);
    w->buf = w->frag = NULL;
    w->len = w->cap = w->frag_len = 0;
}

int ws_request(struct ws_client *w, const char *host, const char *path,
               const unsigned char key[16], char *out, size_t cap)
{
    char k64[32], cat[128];
    unsigned char sha[20];
    lws_b64_encode_string((const char *)key, 16, k64, sizeof k64);
    snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", k64);
    lws_SHA1((const unsigned char *)cat, strlen(cat), sha);
    lws_b64_encode_string((const char *)sha, 20, w->accept, sizeof w->accept);
    w->state = WS_HANDSHAKE;
    w->len = w->skip = 0;
    w->frag_len = 0;
    w->frag_over = w->in_frag = 0;
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nUser-Agent: candlewatch\r\n\r\n",
                     path, host, k64);
    return n > 0 && (size_t)n < cap ? n : -1;
}

size_t ws_frame(int opcode, const char *payload, size_t n, const unsigned char mask[4],
                unsigned char *out)
{
    size_t h = 0;
    out[h++] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        out[h++] = (unsigned char)(0x80 | n);
    } else if (n < 65536) {
        out[h++] = 0x80 | 126;
        out[h++] = (unsigned char)(n >> 8);
        out[h++] = (unsigned char)n;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        out[h + i] = (unsigned char)(payload[i] ^ mask[i & 3]);
    return h + n;
}

static int fail(struct ws_client *w, const char *why)
{
    w->error = why;
    w->state = WS_CLOSED;
    return -1;
}

static int keep(struct ws_client *w, const char *p, size_t n)
{
    char *b = grow_from(w->buf, &w->cap, w->len + n, 1, 4096);
    if (!b)
        return -1;
    w->buf = b;
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

/* The 101 answer: status and accept key.  Returns bytes used, 0 if more
 * are needed, -1 on a refusal. */
static long handshake(struct ws_client *w, const char *data, size_t len)
{
    size_t old = w->len;
    if (keep(w, data, len) != 0)
        return fail(w, "out of memory");
    char *end = memmem(w->buf, w->len, "\r\n\r\n", 4);
    if (!end) {
        if (w->len > 16384)
            return fail(w, "handshake answer too long");
        return (long)len;
    }
    size_t head = (size_t)(end - w->buf) + 4;
    if (w->len < 12 || memcmp(w->buf, "HTTP/1.1 101", 12) != 0)
        return fail(w, "the server refused the WebSocket upgrade");
    int accepted = 0;
    for (char *line = memchr(w->buf, '\n', head); line && line < end; line = memchr(line, '\n', (size_t)(end - line))) {
        line++;
        if (strncasecmp(line, "sec-websocket-accept:", 21) == 0) {
            const char *v = line + 21;
            while (*v == ' ')
                v++;
            size_t n = strlen(w->accept);
            accepted = strncmp(v, w->accept, n) == 0 && (v[n] == '\r' || v[n] == ' ');
        }
    }
    if (!accepted)
        return fail(w, "the server's Sec-WebSocket-Accept is wrong");
    w->state = WS_OPEN;
    w->len = 0;
    if (w->cb->open)
        w->cb->open(w->ud);
    return (long)(head - old);   /* bytes of `data` that were handshake */
}

/* The size of the frame at p, once its header is complete: 0 if more
 * header bytes are needed.  *hlen: header length, *plen: payload length. */
static size_t frame_size(const unsigned char *p, size_t n, size_t *hlen, uint64_t *plen)
{
    if (n < 2)
        return 0;
    size_t h = 2;
    uint64_t len = p[1] & 0x7f;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        h = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        h = 10;
    }
    if (p[1] & 0x80)
        h += 4;   /* a masked frame: refused later */
    if (n < h)
        return 0;
    *hlen = h;
    *plen = len;
    return (size_t)(h + len);
}

/* Header bytes still missing from the n bytes at p (0 once complete). */
static size_t header_need(const unsigned char *p, size_t n)
{
    if (n < 2)
        return 2 - n;
    size_t h = 2 + ((p[1] & 0x7f) == 126 ? 2 : (p[1] & 0x7f) == 127 ? 8 : 0) +
               (p[1] & 0x80 ? 4 : 0);
    return h > n ? h - n : 0;
}

static void frag_add(struct ws_client *w, const char *p, size_t n)
{
    if (w->frag_over || w->frag_len + n > w->max) {
        w->frag_over = 1;
        return;
    }
    if (!w->frag && !(w->frag = malloc(w->max))) {
        w->frag_over = 1;
        return;
    }
    memcpy(w->frag + w->frag_len, p, n);
    w->frag_len += n;
}

/* One whole frame (header + payload in memory). */
static int frame(struct ws_client *w, const unsigned char *f, size_t hlen, size_t plen)
{
    int fin = f[0] & 0x80, op = f[0] & 0x0f;
    const char *p = (const char *)f + hlen;
    if (f[1] & 0x80)
        return fail(w, "the server masked a frame");
    if (f[0] & 0x70)
        return fail(w, "a frame uses reserved bits");
    switch (op) {
    case 1:
    case 2:
        if (w->in_frag)
            return fail(w, "a new message inside a fragmented one");
        if (fin) {
            w->cb->message(w->ud, p, plen);
        } else {
            w->in_frag = 1;
            frag_add(w, p, plen);
        }
        return 0;
    case 0:
        if (!w->in_frag)
            return fail(w, "a continuation frame outside a message");
        frag_add(w, p, plen);
        if (fin) {
            if (w->frag_over) {
                if (w->cb->oversize)
                    w->cb->oversize(w->ud, w->frag_len);
            } else {
                w->cb->message(w->ud, w->frag, w->frag_len);
            }
            w->frag_len = 0;
            w->frag_over = 0;
            w->in_frag = 0;
        }
        return 0;
    case 8: {
        int code = plen >= 2 ? (unsigned char)p[0] << 8 | (unsigned char)p[1] : 1005;
        w->state = WS_CLOSED;
        if (w->cb->close)
            w->cb->close(w->ud, code);
        return -1;
    }
    case 9:
        if (plen > 125)
            return fail(w, "a ping longer than 125 bytes");
        if (w->cb->ping)
            w->cb->ping(w->ud, p, plen);
        return 0;
    case 10:
        return 0;
    default:
        return fail(w, "an unknown frame opcode");
    }
}

int ws_feed(struct ws_client *w, const char *data, size_t len)
{
    if (w->state == WS_CLOSED)
        return -1;
    if (w->state == WS_HANDSHAKE) {
        long used = handshake(w, data, len);
        if (used < 0)
            return -1;
        data += used;
        len -= (size_t)used;
        if (w->state == WS_HANDSHAKE)
            return 0;
    }
    while (len) {
        size_t hlen;
        uint64_t plen;
        if (w->skip) {   /* the rest of an oversize frame */
            size_t n = w->skip < len ? (size_t)w->skip : len;
            w->skip -= n;
            data += n;
            len -= n;
            continue;
        }
        if (w->len) {   /* complete the frame begun in the last read */
            size_t need = header_need((unsigned char *)w->buf, w->len);
            if (need) {   /* byte-exact: never past this frame */
                size_t take = need < len ? need : len;
                if (keep(w, data, take) != 0)
                    return fail(w, "out of memory");
                data += take;
                len -= take;
                continue;
            }
            size_t total = frame_size((unsigned char *)w->buf, w->len, &hlen, &plen);
            int op = w->buf[0] & 0x0f;
            if (op >= 8 && plen > 125)
                return fail(w, "a control frame longer than 125 bytes");
            if (plen > w->max) {   /* never buffer what is too big to keep */
                if (w->cb->oversize)
                    w->cb->oversize(w->ud, (size_t)plen);
                w->skip = total - w->len;
                w->len = 0;
                continue;
            }
            size_t take = total - w->len < len ? total - w->len : len;
            if (keep(w, data, take) != 0)
                return fail(w, "out of memory");
            data += take;
            len -= take;
            if (w->len == total) {
                w->len = 0;
                if (frame(w, (unsigned char *)w->buf, hlen, (size_t)plen) != 0)
                    return -1;
            }
            continue;
        }
        size_t total = frame_size((const unsigned char *)data, len, &hlen, &plen);
        if (total && ((unsigned char)data[0] & 0x0f) >= 8 && plen > 125)
            return fail(w, "a control frame longer than 125 bytes");
        if (total && plen > w->max) {
            /* too big to keep: skip it, whole or in parts */
            if (w->cb->oversize)
                w->cb->oversize(w->ud, (size_t)plen);
            size_t n = total <= len ? total : len;
            w->skip = total - n;
            data += n;
            len -= n;
            continue;
        }
        if (total && total <= len) {   /* the common case: in place, no copy */
            if (frame(w, (const unsigned char *)data, hlen, (size_t)plen) != 0)
                return -1;
            data += total;
            len -= total;
            continue;
        }
        if (keep(w, data, len) != 0)
            return fail(w, "out of memory");
        len = 0;
    }
    return 0;
}
