#include "tg/bucket.h"

/* Room above the burst for what accrues while a wake-up is late (timers
 * fire on whole milliseconds, after a busy loop turn): without it every
 * late wake-up loses that time, which cost a 1,000/s rate a fifth.  10 ms
 * worth adds 1 % of a second's sends to any window, which the callers'
 * margin under the real limit covers (sched_int.h). */
#define SLACK_MS 10.0

void bucket_init(struct bucket *b, double rate, double burst, uint64_t now_ms)
{
    if (burst < 1)
        burst = 1;
    b->rate = rate;
    b->cap = burst + rate * SLACK_MS / 1000.0;
    b->tokens = burst;
    b->last_ms = now_ms;
}

static void refill(struct bucket *b, uint64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->cap)
            b->tokens = b->cap;
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
