/* Inside the indicator module: the state's layout and the building blocks
 * (rolling window, EMA, Wilder average, monotonic max) the kinds share.
 *
 * Every step function computes the next scalar state into nx from the
 * current one, reading the tail (the state's rings) through rd; it writes
 * the tail only when wr is not NULL.  A peek passes wr = NULL, a push the
 * tail itself: the same arithmetic, so the peeked value is the pushed one. */
#ifndef CW_IND_INT_H
#define CW_IND_INT_H

#include "indicator/indicator.h"

union ind_slot {
    double d;
    int64_t i;
};

/* n slots of the tail from off: len held, head the next to write (the
 * oldest once full). */
struct ind_ring {
    int32_t off, n, len, head;
};

/* A rolling window: s1, s2 are the sums of (x-k) and (x-k)^2 over it.  A
 * second pair t1, t2 around k2 sums the values of the current pass from
 * scratch; after n values it holds exactly the window and replaces s1, s2,
 * so rounding never accumulates beyond one pass. */
struct ind_win {
    struct ind_ring r;
    int32_t tn;
    double k, s1, s2, k2, t1, t2;
};

struct ind_ema {
    int32_t n, len;   /* len counts inputs until n: then v is seeded */
    double alpha, sum, v;
};

struct ind_wilder {
    int32_t n, len;
    double sum, v;
};

/* The maximum of the last n values: the values in a ring indexed by
 * sequence number mod n, a deque of sequence numbers with decreasing values
 * (off, head, len in the tail). */
struct ind_mono {
    int32_t vals, off, n, head, len;
};

union ind_u {
    struct ind_win win;                   /* sma, bb, vol_avg, vol_ratio */
    struct ind_ring ring;                 /* roc */
    struct ind_ema ema;
    struct {
        struct ind_ema fast, slow, signal;
    } macd;
    struct {
        double prev;
        struct ind_wilder gain, loss;
    } rsi;
    struct {
        double prev;
        struct ind_wilder tr;
    } atr;
    struct {
        struct ind_mono hi, lo;           /* lo holds -low */
        struct ind_win k, d;
    } stoch;
};

struct ind {
    struct ind_spec spec;
    int64_t count;
    int nval;
    double val[IND_MAXOUT];
    union ind_u u;
    union ind_slot tail[];
};

/* kinds.c */
size_t ind_tail_slots(const struct ind_spec *spec);
void ind_setup(struct ind *s);
int ind_step(const struct ind *s, const struct ind_bar *b, union ind_u *nx, union ind_slot *wr,
             double out[IND_MAXOUT]);

#endif
