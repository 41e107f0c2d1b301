/* A sliding-window limit on a millisecond clock: at most `limit` events in
 * any span of `span_ms`.  It keeps the times of the last `limit` events,
 * so the bound holds for every window, however the events bunch up (a
 * token bucket only bounds the average).
 *
 *   struct swin w; swin_init(&w, 3, 3000);
 *   if (!swin_wait_ms(&w, now)) { swin_note(&w, now); send(); }
 */
#ifndef CW_TG_WINDOW_H
#define CW_TG_WINDOW_H

#include <stdint.h>

struct swin {
    uint64_t *t;              /* the last `limit` events, a ring; 0: none yet */
    int limit, next;
    uint64_t span_ms;
};

/* 0, or -1 out of memory. */
int swin_init(struct swin *w, int limit, uint64_t span_ms);
void swin_free(struct swin *w);
/* Milliseconds until one more event keeps every window within the limit
 * (0: now). */
uint64_t swin_wait_ms(const struct swin *w, uint64_t now_ms);
/* Records an event at now_ms (the caller checked swin_wait_ms). */
void swin_note(struct swin *w, uint64_t now_ms);

#endif
