/* "Already fired for this candle" marks: per (chat, symbol, interval), the
 * open time of the candle an alert last went out for.  An open-addressing
 * table; entries are overwritten, never removed. */
#ifndef CW_ALERT_FIRED_H
#define CW_ALERT_FIRED_H

#include <stddef.h>
#include <stdint.h>

struct fired_slot {
    int64_t chat;
    int64_t open_time;        /* 0: a free slot */
    uint32_t symbol;
    uint8_t interval;
};

struct fired {
    struct fired_slot *v;
    size_t n, cap;
};

/* The open time last fired for, or 0. */
int64_t fired_get(const struct fired *f, int64_t chat, uint32_t symbol, int iv);
int fired_set(struct fired *f, int64_t chat, uint32_t symbol, int iv, int64_t open_time);
void fired_free(struct fired *f);

#endif
