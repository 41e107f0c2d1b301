/* The WebSocket client engine: handshake, frames at every split point,
 * fragments, pings, oversize skipping, and protocol errors. */
#include <stdlib.h>

#include "net/ws.h"
#include "tap.h"

static char got[8192];
static int opens, pings, closes, oversizes, close_code;

static void on_open(void *ud) { (void)ud; opens++; }
static void on_message(void *ud, const char *p, size_t n)
{
    (void)ud;
    size_t l = strlen(got);
    snprintf(got + l, sizeof got - l, "[%.*s]", (int)(n > 60 ? 60 : n), p);
}
static void on_oversize(void *ud, size_t n) { (void)ud; (void)n; oversizes++; }
static void on_ping(void *ud, const char *p, size_t n) { (void)ud; (void)p; (void)n; pings++; }
static void on_close(void *ud, int code) { (void)ud; closes++; close_code = code; }

static const struct ws_callbacks cbs = {on_open, on_message, on_oversize, on_ping, on_close};

/* An unmasked server frame. */
static size_t sframe(unsigned char *out, int fin, int op, const char *p, size_t n)
{
    size_t h = 0;
    out[h++] = (unsigned char)((fin ? 0x80 : 0) | op);
    if (n < 126) {
        out[h++] = (unsigned char)n;
    } else {
        out[h++] = 126;
        out[h++] = (unsigned char)(n >> 8);
        out[h++] = (unsigned char)n;
    }
    memcpy(out + h, p, n);
    return h + n;
}

static const unsigned char key[16] = "the sample nonce";   /* RFC 6455's example */
static const char answer[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

static void reset(struct ws_client *w, size_t max)
{
    char req[512];
    got[0] = '\0';
    opens = pings = closes = oversizes = 0;
    ws_free(w);
    ws_init(w, max, &cbs, NULL);
    ws_request(w, "127.0.0.1", "/market/stream", key, req, sizeof req);
}

int main(void)
{
    struct ws_client w;
    char req[512];
    memset(&w, 0, sizeof w);
    ws_init(&w, 1000, &cbs, NULL);
    int n = ws_request(&w, "example.com", "/market/stream", key, req, sizeof req);
    ok(n > 0 && strstr(req, "GET /market/stream HTTP/1.1\r\n") && strstr(req, "Host: example.com\r\n"),
       "the upgrade request names path and host");
    ok(strstr(req, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n") != NULL, "with the key in base 64");
    is_str(w.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "the expected accept is RFC 6455's");

    /* one stream: answer + frames */
    static unsigned char stream[20000];
    size_t len = 0;
    memcpy(stream, answer, sizeof answer - 1);
    len += sizeof answer - 1;
    char big[300];
    memset(big, 'b', sizeof big);
    len += sframe(stream + len, 1, 1, "hello", 5);
    len += sframe(stream + len, 1, 9, "pp", 2);
    len += sframe(stream + len, 1, 1, big, sizeof big);             /* 16-bit length */
    len += sframe(stream + len, 0, 1, "frag", 4);                   /* fragmented: */
    len += sframe(stream + len, 1, 9, "", 0);                       /*  a ping inside */
    len += sframe(stream + len, 1, 0, "mented", 6);                 /*  the end */
    char huge[2000];
    memset(huge, 'h', sizeof huge);
    len += sframe(stream + len, 1, 1, huge, sizeof huge);           /* over max: skipped */
    len += sframe(stream + len, 1, 1, "", 0);                       /* empty */
    len += sframe(stream + len, 1, 1, "after", 5);
    len += sframe(stream + len, 1, 8, "\x03\xe8" "bye", 5);         /* close 1000 */

    reset(&w, 1000);
    is_int(ws_feed(&w, (char *)stream, len), -1, "the whole stream ends with the close");
    char want[8192];
    snprintf(want, sizeof want, "%s", got);
    ok(opens == 1 && pings == 2 && oversizes == 1 && closes == 1 && close_code == 1000,
       "open, two pings, one oversize, close 1000 (%d %d %d %d %d)", opens, pings, oversizes,
       closes, close_code);
    ok(strstr(want, "[hello][bbbb") && strstr(want, "][fragmented][][after]"),
       "messages in order, the oversize one skipped: %.80s", want);

    int same = 1;
    for (size_t cut = 1; cut < len; cut++) {
        reset(&w, 1000);
        ws_feed(&w, (char *)stream, cut);
        ws_feed(&w, (char *)stream + cut, len - cut);
        if (strcmp(got, want) != 0 || oversizes != 1 || pings != 2 || closes != 1) {
            same = 0;
            printf("# split at %zu: %s\n", cut, got);
            break;
        }
    }
    ok(same, "the same messages at every one of the %zu split points", len - 1);
    reset(&w, 1000);
    for (size_t i = 0; i < len; i++)
        ws_feed(&w, (char *)stream + i, 1);
    is_str(got, want, "and fed one byte at a time");

    /* refusals */
    reset(&w, 1000);
    const char *bad = "HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: wrong=\r\n\r\n";
    is_int(ws_feed(&w, bad, strlen(bad)), -1, "a wrong accept key is refused");
    reset(&w, 1000);
    const char *no = "HTTP/1.1 404 Not Found\r\n\r\n";
    is_int(ws_feed(&w, no, strlen(no)), -1, "a refused upgrade is an error");
    reset(&w, 1000);
    ws_feed(&w, answer, sizeof answer - 1);
    unsigned char masked[] = {0x81, 0x82, 1, 2, 3, 4, 'a' ^ 1, 'b' ^ 2};
    is_int(ws_feed(&w, (char *)masked, sizeof masked), -1, "a masked server frame is refused");
    reset(&w, 1000);
    ws_feed(&w, answer, sizeof answer - 1);
    unsigned char cont[] = {0x80, 0x01, 'x'};
    is_int(ws_feed(&w, (char *)cont, sizeof cont), -1, "a stray continuation frame is refused");
    reset(&w, 100);
    ws_feed(&w, answer, sizeof answer - 1);
    unsigned char hugelen[] = {0x81, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'x'};
    is_int(ws_feed(&w, (char *)hugelen, 5), 0, "a frame claiming 2^63 bytes, split mid-header, ");
    is_int(ws_feed(&w, (char *)hugelen + 5, sizeof hugelen - 5), 0, "is skipped, never buffered");
    is_int(oversizes, 1, "and reported as oversize");

    /* client frames */
    unsigned char out[200];
    const unsigned char mask[4] = {9, 8, 7, 6};
    size_t fl = ws_frame(WS_TEXT, "hi", 2, mask, out);
    ok(fl == 8 && out[0] == 0x81 && out[1] == 0x82 && out[6] == ('h' ^ 9) && out[7] == ('i' ^ 8),
       "a client frame is masked");
    ws_free(&w);
    return done();
}
