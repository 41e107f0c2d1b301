/* The indicators' arithmetic: the building blocks, then one step function
 * per kind (see ind_int.h for the peek/push contract). */
#include <math.h>
#include <string.h>

#include "indicator/ind_int.h"

static void ring_step(const struct ind_ring *r, struct ind_ring *nx, union ind_slot *wr, double x)
{
    if (wr)
        wr[r->off + r->head].d = x;
    nx->head = r->head + 1 == r->n ? 0 : r->head + 1;
    nx->len = r->len < r->n ? r->len + 1 : r->n;
}

/* The oldest value held (the one the next value replaces once full). */
static double ring_oldest(const struct ind_ring *r, const union ind_slot *rd)
{
    return rd[r->off + r->head].d;
}

static void win_step(const struct ind_win *w, struct ind_win *nx, const union ind_slot *rd,
                     union ind_slot *wr, double x)
{
    *nx = *w;
    if (w->r.len == 0)   /* the first value is the first pivot */
        nx->k = nx->k2 = x;
    double d = x - nx->k;
    if (w->r.len == w->r.n) {
        double o = ring_oldest(&w->r, rd) - nx->k;
        nx->s1 = w->s1 + (d - o);
        nx->s2 = w->s2 + (d * d - o * o);
    } else {
        nx->s1 = w->s1 + d;
        nx->s2 = w->s2 + d * d;
    }
    ring_step(&w->r, &nx->r, wr, x);
    double e = x - nx->k2;
    nx->t1 = w->t1 + e;
    nx->t2 = w->t2 + e * e;
    if (++nx->tn == w->r.n) {   /* this pass's fresh sums are the window's */
        nx->k = nx->k2;
        nx->s1 = nx->t1;
        nx->s2 = nx->t2;
        nx->k2 = nx->k + nx->s1 / w->r.n;   /* next pivot: the mean */
        nx->t1 = nx->t2 = 0;
        nx->tn = 0;
    }
}

static int win_full(const struct ind_win *w)
{
    return w->r.len == w->r.n;
}

static double win_mean(const struct ind_win *w)
{
    return w->k + w->s1 / w->r.n;
}

/* Population standard deviation. */
static double win_sd(const struct ind_win *w)
{
    double m = w->s1 / w->r.n, var = w->s2 / w->r.n - m * m;
    return var > 0 ? sqrt(var) : 0;
}

/* 1 when nx->v holds a value. */
static int ema_step(const struct ind_ema *e, struct ind_ema *nx, double x)
{
    *nx = *e;
    if (e->len < e->n) {   /* seeding: the SMA of the first n */
        nx->sum = e->sum + x;
        if (++nx->len < e->n)
            return 0;
        nx->v = nx->sum / e->n;
        return 1;
    }
    nx->v = (x - e->v) * e->alpha + e->v;
    return 1;
}

static int wilder_step(const struct ind_wilder *w, struct ind_wilder *nx, double x)
{
    *nx = *w;
    if (w->len < w->n) {
        nx->sum = w->sum + x;
        if (++nx->len < w->n)
            return 0;
        nx->v = nx->sum / w->n;
        return 1;
    }
    nx->v = (w->v * (w->n - 1) + x) / w->n;
    return 1;
}

static int64_t mono_seq(const struct ind_mono *m, const union ind_slot *t, int32_t i)
{
    int32_t at = m->head + i;
    return t[m->off + (at >= m->n ? at - m->n : at)].i;
}

static double mono_val(const struct ind_mono *m, const union ind_slot *t, int64_t seq)
{
    return t[m->vals + seq % m->n].d;
}

/* The maximum of the last n values once x, number q, is one of them. */
static double mono_peek(const struct ind_mono *m, const union ind_slot *rd, int64_t q, double x)
{
    for (int32_t i = 0; i < m->len; i++) {
        int64_t seq = mono_seq(m, rd, i);
        if (seq <= q - m->n)   /* leaves as x enters: the next one is the max of the rest */
            continue;
        double v = mono_val(m, rd, seq);
        return v > x ? v : x;
    }
    return x;
}

static void mono_step(const struct ind_mono *m, struct ind_mono *nx, union ind_slot *wr, int64_t q,
                      double x)
{
    *nx = *m;
    if (!wr)
        return;
    if (nx->len && mono_seq(nx, wr, 0) <= q - m->n) {
        nx->head = nx->head + 1 == m->n ? 0 : nx->head + 1;
        nx->len--;
    }
    wr[m->vals + q % m->n].d = x;
    while (nx->len && mono_val(m, wr, mono_seq(nx, wr, nx->len - 1)) <= x)
        nx->len--;   /* dominated: older and not larger */
    int32_t at = nx->head + nx->len;
    wr[m->off + (at >= m->n ? at - m->n : at)].i = q;
    nx->len++;
}

static int rsi_step(const struct ind *s, const struct ind_bar *b, union ind_u *nx, double *out)
{
    nx->rsi.prev = b->close;
    if (s->count == 0)
        return 0;
    double ch = b->close - s->u.rsi.prev;
    int g = wilder_step(&s->u.rsi.gain, &nx->rsi.gain, ch > 0 ? ch : 0);
    wilder_step(&s->u.rsi.loss, &nx->rsi.loss, ch < 0 ? -ch : 0);
    if (!g)
        return 0;
    double up = nx->rsi.gain.v, down = nx->rsi.loss.v;
    out[0] = up + down > 0 ? 100 * up / (up + down) : 50;
    return 1;
}

static double fmax3(double a, double b, double c)
{
    double m = a > b ? a : b;
    return m > c ? m : c;
}

static int atr_step(const struct ind *s, const struct ind_bar *b, union ind_u *nx, double *out)
{
    double tr = b->high - b->low, p = s->u.atr.prev;
    if (s->count > 0)
        tr = fmax3(tr, fabs(b->high - p), fabs(b->low - p));
    nx->atr.prev = b->close;
    if (!wilder_step(&s->u.atr.tr, &nx->atr.tr, tr))
        return 0;
    out[0] = nx->atr.tr.v;
    return 1;
}

static int macd_step(const struct ind *s, const struct ind_bar *b, union ind_u *nx, double *out)
{
    ema_step(&s->u.macd.fast, &nx->macd.fast, b->close);
    if (!ema_step(&s->u.macd.slow, &nx->macd.slow, b->close))
        return 0;   /* p1 < p2: the fast one is ready too */
    double line = nx->macd.fast.v - nx->macd.slow.v;
    if (!ema_step(&s->u.macd.signal, &nx->macd.signal, line))
        return 0;
    out[0] = line;
    out[1] = nx->macd.signal.v;
    out[2] = line - nx->macd.signal.v;
    return 3;
}

static int stoch_step(const struct ind *s, const struct ind_bar *b, union ind_u *nx,
                      union ind_slot *wr, double *out)
{
    const union ind_slot *rd = s->tail;
    int64_t q = s->count;
    double hh = mono_peek(&s->u.stoch.hi, rd, q, b->high);
    double ll = -mono_peek(&s->u.stoch.lo, rd, q, -b->low);
    mono_step(&s->u.stoch.hi, &nx->stoch.hi, wr, q, b->high);
    mono_step(&s->u.stoch.lo, &nx->stoch.lo, wr, q, -b->low);
    if (q + 1 < s->spec.p1)
        return 0;
    double raw = hh > ll ? 100 * (b->close - ll) / (hh - ll) : 50;
    win_step(&s->u.stoch.k, &nx->stoch.k, rd, wr, raw);
    if (!win_full(&nx->stoch.k))
        return 0;
    double k = win_mean(&nx->stoch.k);
    win_step(&s->u.stoch.d, &nx->stoch.d, rd, wr, k);
    if (!win_full(&nx->stoch.d))
        return 0;
    out[0] = k;
    out[1] = win_mean(&nx->stoch.d);
    return 2;
}

static int window_step(const struct ind *s, const struct ind_bar *b, union ind_u *nx,
                       union ind_slot *wr, double *out)
{
    const struct ind_win *w = &s->u.win;
    if (s->spec.kind == IND_VOL_RATIO) {   /* against the candles before it */
        int n = 0;
        double avg = win_full(w) ? win_mean(w) : 0;
        if (avg > 0) {
            out[0] = b->volume / avg;
            out[1] = avg;
            n = 2;
        }
        win_step(w, &nx->win, s->tail, wr, b->volume);
        return n;
    }
    win_step(w, &nx->win, s->tail, wr, s->spec.kind == IND_VOL_AVG ? b->volume : b->close);
    if (!win_full(&nx->win))
        return 0;
    out[0] = win_mean(&nx->win);
    if (s->spec.kind != IND_BB)
        return 1;
    double band = s->spec.k * win_sd(&nx->win);
    out[1] = out[0] + band;
    out[2] = out[0] - band;
    return 3;
}

static int roc_step(const struct ind *s, const struct ind_bar *b, union ind_u *nx,
                    union ind_slot *wr, double *out)
{
    const struct ind_ring *r = &s->u.ring;
    int n = 0;
    if (r->len == r->n) {
        double then = ring_oldest(r, s->tail);
        if (then != 0) {
            out[0] = 100 * (b->close - then) / then;
            n = 1;
        }
    }
    ring_step(r, &nx->ring, wr, b->close);
    return n;
}

int ind_step(const struct ind *s, const struct ind_bar *b, union ind_u *nx, union ind_slot *wr,
             double out[IND_MAXOUT])
{
    switch (s->spec.kind) {
    case IND_SMA: case IND_BB: case IND_VOL_AVG: case IND_VOL_RATIO:
        return window_step(s, b, nx, wr, out);
    case IND_EMA:
        if (!ema_step(&s->u.ema, &nx->ema, b->close))
            return 0;
        out[0] = nx->ema.v;
        return 1;
    case IND_RSI: return rsi_step(s, b, nx, out);
    case IND_MACD: return macd_step(s, b, nx, out);
    case IND_ATR: return atr_step(s, b, nx, out);
    case IND_STOCH: return stoch_step(s, b, nx, wr, out);
    case IND_ROC: return roc_step(s, b, nx, wr, out);
    case IND_KIND_COUNT: break;
    }
    return 0;
}

size_t ind_tail_slots(const struct ind_spec *spec)
{
    switch (spec->kind) {
    case IND_SMA: case IND_BB: case IND_VOL_AVG: case IND_VOL_RATIO: case IND_ROC:
        return (size_t)spec->p1;
    case IND_STOCH:
        return 4 * (size_t)spec->p1 + (size_t)spec->p2 + (size_t)spec->p3;
    default:
        return 0;
    }
}

static struct ind_ema ema_of(int n)
{
    return (struct ind_ema){.n = n, .alpha = 2.0 / (n + 1)};
}

static struct ind_win win_of(int off, int n)
{
    return (struct ind_win){.r = {.off = off, .n = n}};
}

void ind_setup(struct ind *s)
{
    const struct ind_spec *p = &s->spec;
    union ind_u *u = &s->u;
    memset(u, 0, sizeof *u);
    s->count = 0;
    s->nval = 0;
    switch (p->kind) {
    case IND_SMA: case IND_BB: case IND_VOL_AVG: case IND_VOL_RATIO: u->win = win_of(0, p->p1); break;
    case IND_ROC: u->ring = (struct ind_ring){.n = p->p1}; break;
    case IND_EMA: u->ema = ema_of(p->p1); break;
    case IND_MACD:
        u->macd.fast = ema_of(p->p1);
        u->macd.slow = ema_of(p->p2);
        u->macd.signal = ema_of(p->p3);
        break;
    case IND_RSI: u->rsi.gain.n = u->rsi.loss.n = p->p1; break;
    case IND_ATR: u->atr.tr.n = p->p1; break;
    case IND_STOCH:
        u->stoch.hi = (struct ind_mono){.vals = 0, .off = p->p1, .n = p->p1};
        u->stoch.lo = (struct ind_mono){.vals = 2 * p->p1, .off = 3 * p->p1, .n = p->p1};
        u->stoch.k = win_of(4 * p->p1, p->p2);
        u->stoch.d = win_of(4 * p->p1 + p->p2, p->p3);
        break;
    case IND_KIND_COUNT: break;
    }
}
