#include "tg/window.h"

#include <stdlib.h>

int swin_init(struct swin *w, int limit, uint64_t span_ms)
{
    w->limit = limit > 0 ? limit : 1;
    w->next = 0;
    w->span_ms = span_ms;
    w->t = calloc((size_t)w->limit, sizeof *w->t);
    return w->t ? 0 : -1;
}

void swin_free(struct swin *w)
{
    free(w->t);
    w->t = NULL;
}

uint64_t swin_wait_ms(const struct swin *w, uint64_t now_ms)
{
    /* the oldest of the last `limit` events: one more now is fine once it
     * has left the window ending now */
    uint64_t oldest = w->t[w->next];
    if (!oldest || now_ms >= oldest + w->span_ms)
        return 0;
    return oldest + w->span_ms - now_ms;
}

void swin_note(struct swin *w, uint64_t now_ms)
{
    w->t[w->next] = now_ms ? now_ms : 1;   /* (0 means empty) */
    w->next = (w->next + 1) % w->limit;
}
