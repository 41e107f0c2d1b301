/* libFuzzer target for the WebSocket client engine (make fuzz): after a
 * valid handshake, any bytes, in any pieces, must never crash, read out of
 * bounds, or hand on a message larger than the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/ws.h"

#define MAX 1024

static void on_message(void *ud, const char *p, size_t n)
{
    (void)ud;
    if (n > MAX)
        abort();
    volatile char sink = 0;
    for (size_t i = 0; i < n; i++)   /* touch every byte: ASan checks the range */
        sink ^= p[i];
    (void)sink;
}

static const struct ws_callbacks cbs = {NULL, on_message, NULL, NULL, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[16] = "the sample nonce";
    static const char answer[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    struct ws_client w;
    char req[512];
    ws_init(&w, MAX, &cbs, NULL);
    ws_request(&w, "h", "/", key, req, sizeof req);
    ws_feed(&w, answer, sizeof answer - 1);
    /* the first byte chooses where to split the rest into two reads */
    size_t cut = size ? data[0] % (size) : 0;
    if (size > 1) {
        char *a = malloc(cut + 1), *b = malloc(size - cut);
        memcpy(a, data + 1, cut);
        memcpy(b, data + 1 + cut, size - 1 - cut);
        if (ws_feed(&w, a, cut) == 0)
            ws_feed(&w, b, size - 1 - cut);
        free(a);
        free(b);
    }
    ws_free(&w);
    return 0;
}
