/* A token bucket on a millisecond clock: `rate` tokens a second, at most
 * `burst` saved up.  Sends are allowed while a whole token is there.
 *
 *   struct bucket b; bucket_init(&b, 30, 1, now);
 *   if (bucket_take(&b, now)) send(); else retry at now + bucket_wait_ms(&b, now);
 */
#ifndef CW_TG_BUCKET_H
#define CW_TG_BUCKET_H

#include <stdint.h>

struct bucket {
    double tokens, rate;
    double cap;               /* burst, plus a little slack (bucket.c) */
    uint64_t last_ms;
};

void bucket_init(struct bucket *b, double rate, double burst, uint64_t now_ms);
/* Takes a token when there is one: 1, else 0. */
int bucket_take(struct bucket *b, uint64_t now_ms);
/* Milliseconds until a token is there (0: now). */
uint64_t bucket_wait_ms(struct bucket *b, uint64_t now_ms);

#endif
