#include "indicator/book.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/interval.h"

/* Before each state in a series' block: its values before the last push
 * (what "one closed candle earlier" reads). */
struct book_slot {
    int nprev;
    double prev[IND_MAXOUT];
};

struct book_series {
    unsigned char *mem;    /* the states, NULL until the first candle */
    int64_t last_open;     /* the last closed candle taken, or -1 */
    int asked;             /* its history was asked for and has not come */
};

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

void ind_book_init(struct ind_book *b)
{
    memset(b, 0, sizeof *b);
}

void ind_book_free(struct ind_book *b)
{
    for (size_t i = 0; b->series && i < (size_t)b->nsym * IV_COUNT; i++)
        free(b->series[i].mem);
    free(b->series);
    memset(b, 0, sizeof *b);
}

static int spec_eq(const struct ind_spec *a, const struct ind_spec *b)
{
    return a->kind == b->kind && a->p1 == b->p1 && a->p2 == b->p2 && a->p3 == b->p3 &&
           a->k == b->k;
}

int ind_book_find(const struct ind_book *b, const struct ind_spec *spec)
{
    for (int i = 0; i < b->nspecs; i++)
        if (spec_eq(&b->specs[i], spec))
            return i;
    return -1;
}

int ind_book_want(const struct ind_book *b)
{
    int want = 0;
    for (int i = 0; i < b->nspecs; i++)
        if (b->warm[i] > want)
            want = b->warm[i];
    return want;
}

static struct book_slot *slot_at(const struct ind_book *b, unsigned char *mem, int i)
{
    return (struct book_slot *)(void *)(mem + b->off[i]);
}

static struct ind *state_at(const struct ind_book *b, unsigned char *mem, int i)
{
    return (struct ind *)(void *)(mem + b->off[i] + ALIGN8(sizeof(struct book_slot)));
}

/* Its history is wanted (once until it comes). */
static void ask_history(struct ind_book *b, struct book_series *s, uint32_t symbol, int iv)
{
    if (!s->asked && b->need_history) {
        s->asked = 1;
        b->asked++;
        b->need_history(b->need_history_ud, symbol, iv);
    }
}

/* A block with every state cold. */
static unsigned char *block_new(const struct ind_book *b)
{
    unsigned char *mem = b->block ? calloc(1, b->block) : NULL;
    for (int i = 0; mem && i < b->nspecs; i++)
        ind_init(state_at(b, mem, i), ind_size(&b->specs[i]), &b->specs[i]);
    return mem;
}

/* The new layout's blocks, the kept states copied over; 0, or -1 (nothing
 * changed). */
static int rebuild(struct ind_book *b, const struct ind_book *old)
{
    size_t n = (size_t)b->nsym * IV_COUNT;
    unsigned char **made = calloc(n ? n : 1, sizeof *made);
    if (!made)
        return -1;
    for (size_t s = 0; s < n; s++) {
        unsigned char *was = b->series[s].mem;
        if (!was || !b->nspecs)
            continue;
        if (!(made[s] = block_new(b))) {
            while (s--)
                free(made[s]);
            free(made);
            return -1;
        }
        for (int i = 0; i < b->nspecs; i++) {
            int k = ind_book_find(old, &b->specs[i]);
            if (k >= 0)
                memcpy(made[s] + b->off[i], was + old->off[k],
                       ALIGN8(sizeof(struct book_slot)) + ind_size(&b->specs[i]));
        }
    }
    for (size_t s = 0; s < n; s++) {
        free(b->series[s].mem);
        b->series[s].mem = made[s];
    }
    free(made);
    return 0;
}

int ind_book_set_specs(struct ind_book *b, const struct ind_spec *specs, int n)
{
    struct ind_book old = *b;
    struct ind_book nb = *b;
    nb.nspecs = 0;
    nb.block = 0;
    int added = 0;
    for (int i = 0; i < n; i++) {
        struct ind_spec s = specs[i];
        char err[128];
        if (ind_spec_normalize(&s, err, sizeof err) != 0 || ind_book_find(&nb, &s) >= 0)
            continue;
        if (nb.nspecs == BOOK_SPECS_MAX)
            return -1;
        int w = ind_warmup(&s);
        nb.warm[nb.nspecs] = w < BOOK_FETCH_MAX ? w : BOOK_FETCH_MAX;
        nb.off[nb.nspecs] = nb.block;
        nb.block += ALIGN8(sizeof(struct book_slot)) + ALIGN8(ind_size(&s));
        nb.specs[nb.nspecs++] = s;
        added |= ind_book_find(&old, &s) < 0;
    }
    if (!added && nb.nspecs == old.nspecs)
        return 0;   /* the same specs (a reload): the book stays as it is */
    if (rebuild(&nb, &old) != 0)
        return -1;
    *b = nb;
    for (size_t k = 0; added && k < (size_t)b->nsym * IV_COUNT; k++)
        if (b->series[k].mem) {   /* its new indicators start cold: the history again */
            b->series[k].asked = 0;
            ask_history(b, &b->series[k], (uint32_t)(k / IV_COUNT), (int)(k % IV_COUNT));
        }
    return added;
}

/* The series of (symbol, iv), made (cold) if need be; NULL out of memory. */
static struct book_series *series_get(struct ind_book *b, uint32_t symbol, int iv)
{
    if (!b->nspecs || iv < 0 || iv >= IV_COUNT)
        return NULL;
    if (symbol >= b->nsym) {
        uint32_t n = b->nsym ? b->nsym : 64;
        while (n <= symbol)
            n *= 2;
        struct book_series *v = realloc(b->series, sizeof *v * n * IV_COUNT);
        if (!v) {
            b->oom++;
            return NULL;
        }
        for (size_t i = (size_t)b->nsym * IV_COUNT; i < (size_t)n * IV_COUNT; i++)
            v[i] = (struct book_series){NULL, -1, 0};
        b->series = v;
        b->nsym = n;
    }
    struct book_series *s = &b->series[(size_t)symbol * IV_COUNT + iv];
    if (!s->mem && !(s->mem = block_new(b))) {
        b->oom++;
        return NULL;
    }
    return s;
}

static const struct book_series *series_find(const struct ind_book *b, uint32_t symbol, int iv)
{
    if (symbol >= b->nsym || iv < 0 || iv >= IV_COUNT)
        return NULL;
    const struct book_series *s = &b->series[(size_t)symbol * IV_COUNT + iv];
    return s->mem ? s : NULL;
}

int64_t ind_book_at(const struct ind_book *b, uint32_t symbol, int iv)
{
    const struct book_series *s = series_find(b, symbol, iv);
    return s ? s->last_open : -1;
}

static void series_reset(struct ind_book *b, struct book_series *s)
{
    for (int i = 0; i < b->nspecs; i++) {
        ind_reset(state_at(b, s->mem, i));
        slot_at(b, s->mem, i)->nprev = 0;
    }
    s->last_open = -1;
}

static void series_push(struct ind_book *b, struct book_series *s, const struct candle *c)
{
    struct ind_bar bar = {c->high, c->low, c->close, c->volume};
    for (int i = 0; i < b->nspecs; i++) {
        struct ind *st = state_at(b, s->mem, i);
        struct book_slot *sl = slot_at(b, s->mem, i);
        sl->nprev = ind_value(st, sl->prev);
        ind_push_closed(st, &bar);
    }
    s->last_open = c->open_time;
    b->pushed++;
}

/* The series of (symbol, iv) when it is kept (a rule read it), else NULL. */
static struct book_series *series_kept(struct ind_book *b, uint32_t symbol, int iv)
{
    return (struct book_series *)series_find(b, symbol, iv);
}

void ind_book_prefetch(const struct ind_book *b, uint32_t symbol, int iv)
{
    const struct book_series *s = series_find(b, symbol, iv);
    for (size_t o = 0; s && o < b->block; o += 64)
        __builtin_prefetch(s->mem + o);
}

void ind_book_closed(struct ind_book *b, const struct candle *c)
{
    struct book_series *s = c->closed ? series_kept(b, c->symbol, c->interval) : NULL;
    if (!s || (s->last_open >= 0 && c->open_time <= s->last_open))
        return;
    if (s->last_open >= 0 && c->open_time != s->last_open + interval_ms(c->interval)) {
        /* candles missing: start again from this one, and ask for the
         * history (it replaces what the series holds) */
        series_reset(b, s);
        b->restarted++;
        ask_history(b, s, c->symbol, c->interval);
    }
    series_push(b, s, c);
}

static int series_warm(const struct ind_book *b, const struct book_series *s)
{
    for (int i = 0; i < b->nspecs; i++)
        if (ind_count(state_at(b, s->mem, i)) < b->warm[i])
            return 0;
    return 1;
}

void ind_book_history(struct ind_book *b, uint32_t symbol, int iv, const struct candle *rows,
                      size_t n)
{
    struct book_series *s = n ? series_kept(b, symbol, iv) : NULL;
    if (!s)
        return;
    s->asked = 0;
    /* what is held continues into the rows: only the newer ones are
     * needed; otherwise the rows replace it */
    int64_t ms = interval_ms(iv);
    if (!(s->last_open >= 0 && series_warm(b, s) && rows[0].open_time <= s->last_open + ms))
        series_reset(b, s);
    for (size_t i = 0; i < n; i++)
        if (s->last_open < 0 || rows[i].open_time > s->last_open)
            series_push(b, s, &rows[i]);
}

struct book_series *ind_book_keep(struct ind_book *b, uint32_t symbol, int iv)
{
    struct book_series *s = series_kept(b, symbol, iv);
    if (s || !(s = series_get(b, symbol, iv)))
        return s;
    ask_history(b, s, symbol, iv);   /* a series read the first time: its warm-up */
    return s;
}

int ind_book_value(struct ind_book *b, int i, const struct candle *c, int back,
                   double out[IND_MAXOUT])
{
    const struct book_series *s = ind_book_keep(b, c->symbol, c->interval);
    if (!s || i < 0 || i >= b->nspecs || s->last_open < 0)
        return 0;
    const struct ind *st = state_at(b, s->mem, i);
    const struct book_slot *sl = slot_at(b, s->mem, i);
    int64_t count = ind_count(st);
    if (c->closed) {   /* the series is at c: after it, or before it */
        if (s->last_open != c->open_time || count - back < b->warm[i])
            return 0;
        if (!back)
            return ind_value(st, out);
        memcpy(out, sl->prev, sizeof sl->prev);
        return sl->nprev;
    }
    /* forming: the series is at the candle before c */
    if (s->last_open != c->open_time - interval_ms(c->interval) || count + !back < b->warm[i])
        return 0;
    if (back)
        return ind_value(st, out);
    struct ind_bar bar = {c->high, c->low, c->close, c->volume};
    return ind_peek_forming(st, &bar, out);
}

int ind_book_last(const struct ind_book *b, int i, uint32_t symbol, int iv, int64_t *open,
                  double out[IND_MAXOUT])
{
    const struct book_series *s = series_find(b, symbol, iv);
    *open = s ? s->last_open : -1;
    if (!s || i < 0 || i >= b->nspecs || ind_count(state_at(b, s->mem, i)) < b->warm[i])
        return 0;
    return ind_value(state_at(b, s->mem, i), out);
}

int ind_spec_format(const struct ind_spec *s, char *out, size_t len)
{
    const char *name = ind_kind_name(s->kind);
    if (s->kind == IND_BB)
        return snprintf(out, len, "%s(%d,%g)", name, s->p1, s->k);
    if (s->p3)
        return snprintf(out, len, "%s(%d,%d,%d)", name, s->p1, s->p2, s->p3);
    if (s->p2)
        return snprintf(out, len, "%s(%d,%d)", name, s->p1, s->p2);
    return snprintf(out, len, "%s(%d)", name, s->p1);
}

int ind_spec_nums(enum ind_kind kind)
{
    return kind == IND_MACD || kind == IND_STOCH ? 3 : kind == IND_BB ? 2 : 1;
}

int ind_spec_make(const char *kind, const double *nums, int n, struct ind_spec *out, char *err,
                  size_t errlen)
{
    int k = ind_kind_parse(kind);
    if (k < 0) {
        snprintf(err, errlen, "unknown indicator \"%s\": use sma, ema, rsi, macd, bb, atr, "
                 "stoch, vol_avg, vol_ratio or roc", kind);
        return -1;
    }
    return ind_spec_from_kind((enum ind_kind)k, nums, n, out, err, errlen);
}

int ind_spec_from_kind(enum ind_kind k, const double *nums, int n, struct ind_spec *out,
                       char *err, size_t errlen)
{
    const char *kind = ind_kind_name(k);
    int most = ind_spec_nums(k);
    if (n > most) {
        snprintf(err, errlen, "%s takes at most %d number%s", kind, most, most > 1 ? "s" : "");
        return -1;
    }
    struct ind_spec s = {.kind = k};
    int *p[3] = {&s.p1, &s.p2, &s.p3};
    for (int i = 0; i < n; i++) {
        int whole = nums[i] == floor(nums[i]) && fabs(nums[i]) <= IND_MAX_PERIOD;
        if (k == IND_BB && i == 1)
            s.k = nums[i];
        else if (!whole || nums[i] < 1) {
            snprintf(err, errlen, "%s: a period must be a whole number from 1 to %d, not %g",
                     kind, IND_MAX_PERIOD, nums[i]);
            return -1;
        } else
            *p[i] = (int)nums[i];
    }
    if (ind_spec_normalize(&s, err, errlen) != 0)
        return -1;
    *out = s;
    return 0;
}

int ind_spec_parse(const char *str, struct ind_spec *out, char *err, size_t errlen)
{
    char kind[16];
    size_t len = strcspn(str, "(");
    if (len == 0 || len >= sizeof kind) {
        snprintf(err, errlen, "\"%.40s\" is not an indicator: write it like rsi(14) or "
                 "macd(12,26,9)", str);
        return -1;
    }
    memcpy(kind, str, len);
    kind[len] = '\0';
    double nums[3];
    int n = 0;
    const char *p = str + len;
    if (*p == '(') {
        for (p++; n < 3; n++) {
            char *end;
            nums[n] = strtod(p, &end);
            if (end == p)
                break;
            p = end;
            if (*p != ',') {
                n++;
                break;
            }
            p++;
        }
        if (*p++ != ')' || *p) {
            snprintf(err, errlen, "\"%.40s\" is not an indicator: write it like rsi(14) or "
                     "macd(12,26,9)", str);
            return -1;
        }
    }
    return ind_spec_make(kind, nums, n, out, err, errlen);
}
