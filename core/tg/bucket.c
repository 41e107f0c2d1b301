#include "tg/bucket.h"

void bucket_init(struct bucket *b, double rate, double burst, uint64_t now_ms)
{
    b->rate = rate;
    b->burst = burst < 1 ? 1 : burst;
    b->tokens = b->burst;
    b->last_ms = now_ms;
}

static void refill(struct bucket *b, uint64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_ms = now_ms;
    }
}

int bucket_take(struct bucket *b, uint64_t now_ms)
{
    refill(b, now_ms);
    if (b->tokens < 1.0)
        return 0;
    b->tokens -= 1.0;
    return 1;
}

uint64_t bucket_wait_ms(struct bucket *b, uint64_t now_ms)
{
    refill(b, now_ms);
    if (b->tokens >= 1.0)
        return 0;
    /* round up: waking a millisecond early would find no token */
    return (uint64_t)((1.0 - b->tokens) * 1000.0 / b->rate) + 1;
}
