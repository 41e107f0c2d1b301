/* Indicator states: specs, warm-up, the state's life, push, peek. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indicator/ind_int.h"

/* The weight left to a seed below which a value counts as converged. */
#define IND_SEED_WEIGHT 1e-6

static const struct kind_info {
    const char *name;
    int nout, nparams;   /* periods used: p1, p1+p2 or p1+p2+p3 */
    int p1, p2, p3;
    double k;
} KINDS[IND_KIND_COUNT] = {
    [IND_SMA] = {"sma", 1, 1, 20, 0, 0, 0},
    [IND_EMA] = {"ema", 1, 1, 20, 0, 0, 0},
    [IND_RSI] = {"rsi", 1, 1, 14, 0, 0, 0},
    [IND_MACD] = {"macd", 3, 3, 12, 26, 9, 0},
    [IND_BB] = {"bb", 3, 1, 20, 0, 0, 2},
    [IND_ATR] = {"atr", 1, 1, 14, 0, 0, 0},
    [IND_STOCH] = {"stoch", 2, 3, 14, 3, 3, 0},
    [IND_VOL_AVG] = {"vol_avg", 1, 1, 20, 0, 0, 0},
    [IND_VOL_RATIO] = {"vol_ratio", 2, 1, 20, 0, 0, 0},
    [IND_ROC] = {"roc", 1, 1, 12, 0, 0, 0},
};

static int kind_ok(int kind)
{
    return kind >= 0 && kind < IND_KIND_COUNT;
}

const char *ind_kind_name(enum ind_kind kind)
{
    return kind_ok((int)kind) ? KINDS[kind].name : "?";
}

int ind_kind_parse(const char *name)
{
    for (int i = 0; name && i < IND_KIND_COUNT; i++)
        if (strcmp(name, KINDS[i].name) == 0)
            return i;
    return -1;
}

int ind_outputs(enum ind_kind kind)
{
    return kind_ok((int)kind) ? KINDS[kind].nout : 0;
}

static int period_fix(int *p, int used, int def, const char *kind, const char *what, char *err,
                      size_t errlen)
{
    if (!used) {
        *p = 0;
        return 0;
    }
    if (*p == 0)
        *p = def;
    if (*p >= 1 && *p <= IND_MAX_PERIOD)
        return 0;
    snprintf(err, errlen, "%s %s %d is out of range: use 1 to %d", kind, what, *p, IND_MAX_PERIOD);
    return -1;
}

int ind_spec_normalize(struct ind_spec *s, char *err, size_t errlen)
{
    if (!kind_ok((int)s->kind)) {
        snprintf(err, errlen, "unknown indicator kind %d", (int)s->kind);
        return -1;
    }
    const struct kind_info *ki = &KINDS[s->kind];
    static const char *const names[IND_KIND_COUNT][3] = {
        [IND_MACD] = {"fast period", "slow period", "signal period"},
        [IND_STOCH] = {"%K period", "%K smoothing", "%D period"},
    };
    const char *const *nm = names[s->kind];
    if (period_fix(&s->p1, 1, ki->p1, ki->name, nm[0] ? nm[0] : "period", err, errlen) ||
        period_fix(&s->p2, ki->nparams > 1, ki->p2, ki->name, nm[1], err, errlen) ||
        period_fix(&s->p3, ki->nparams > 2, ki->p3, ki->name, nm[2], err, errlen))
        return -1;
    if (s->kind == IND_MACD && s->p1 >= s->p2) {
        snprintf(err, errlen, "macd fast period %d must be below the slow period %d", s->p1, s->p2);
        return -1;
    }
    if (s->kind != IND_BB)
        s->k = 0;
    else if (s->k == 0)
        s->k = ki->k;
    else if (!(s->k > 0 && s->k <= 100)) {
        snprintf(err, errlen, "bb k %g is out of range: use a number above 0, up to 100", s->k);
        return -1;
    }
    return 0;
}

static int spec_copy(const struct ind_spec *in, struct ind_spec *out)
{
    char err[128];
    *out = *in;
    return ind_spec_normalize(out, err, sizeof err);
}

int ind_first(const struct ind_spec *spec)
{
    struct ind_spec s;
    if (spec_copy(spec, &s) != 0)
        return -1;
    switch (s.kind) {
    case IND_RSI: case IND_VOL_RATIO: case IND_ROC: return s.p1 + 1;
    case IND_MACD: return s.p2 + s.p3 - 1;
    case IND_STOCH: return s.p1 + s.p2 + s.p3 - 2;
    default: return s.p1;
    }
}

/* Steps after which a seed smoothed by factor alpha weighs < IND_SEED_WEIGHT. */
static int seed_steps(double alpha)
{
    if (alpha >= 1)
        return 0;
    return (int)floor(log(IND_SEED_WEIGHT) / log1p(-alpha)) + 1;
}

/* MACD: bound the weight the seeds of the fast, slow and signal EMAs still
 * have in the line and the signal, candle by candle. */
static int macd_warmup(const struct ind_spec *s)
{
    double rf = 1 - 2.0 / (s->p1 + 1), rs = 1 - 2.0 / (s->p2 + 1), a = 2.0 / (s->p3 + 1);
    double wf = pow(rf, s->p2 - s->p1), ws = 1, seed = 0, carried = 0, own = 1;
    int t = s->p2, first = s->p2 + s->p3 - 1;
    for (;; t++, wf *= rf, ws *= rs) {
        double line = wf + ws;
        if (t < first) {
            seed += line / s->p3;   /* the signal's seed averages the line */
            continue;
        }
        if (t == first)
            carried = seed + line / s->p3;
        else {
            carried = (1 - a) * carried + a * line;
            own *= 1 - a;
        }
        if (line < IND_SEED_WEIGHT && own + carried < IND_SEED_WEIGHT)
            return t;
    }
}

int ind_warmup(const struct ind_spec *spec)
{
    struct ind_spec s;
    if (spec_copy(spec, &s) != 0)
        return -1;
    int first = ind_first(&s);
    switch (s.kind) {
    case IND_EMA: return first + seed_steps(2.0 / (s.p1 + 1));
    case IND_RSI: case IND_ATR: return first + seed_steps(1.0 / s.p1);
    case IND_MACD: return macd_warmup(&s);
    default: return first;   /* windows are exact once full */
    }
}

size_t ind_size(const struct ind_spec *spec)
{
    struct ind_spec s;
    if (spec_copy(spec, &s) != 0)
        return 0;
    return sizeof(struct ind) + ind_tail_slots(&s) * sizeof(union ind_slot);
}

struct ind *ind_init(void *mem, size_t size, const struct ind_spec *spec)
{
    size_t need = ind_size(spec);
    if (!mem || need == 0 || size < need)
        return NULL;
    struct ind *s = mem;
    spec_copy(spec, &s->spec);
    ind_setup(s);
    return s;
}

void ind_reset(struct ind *s)
{
    ind_setup(s);
}

struct ind *ind_new(const struct ind_spec *spec)
{
    size_t need = ind_size(spec);
    void *mem = need ? malloc(need) : NULL;
    struct ind *s = ind_init(mem, need, spec);
    if (!s)
        free(mem);
    return s;
}

void ind_free(struct ind *s)
{
    free(s);
}

const struct ind_spec *ind_spec_of(const struct ind *s)
{
    return &s->spec;
}

int64_t ind_count(const struct ind *s)
{
    return s->count;
}

static int bar_ok(const struct ind_bar *b)
{
    return isfinite(b->high) && isfinite(b->low) && isfinite(b->close) && isfinite(b->volume);
}

int ind_push_closed(struct ind *s, const struct ind_bar *bar)
{
    if (!bar_ok(bar))
        return -1;
    union ind_u nx = s->u;
    double out[IND_MAXOUT];
    int n = ind_step(s, bar, &nx, s->tail, out);
    s->u = nx;
    s->count++;
    s->nval = n;
    memcpy(s->val, out, (size_t)n * sizeof *out);
    return n;
}

int ind_value(const struct ind *s, double out[IND_MAXOUT])
{
    memcpy(out, s->val, (size_t)s->nval * sizeof *out);
    return s->nval;
}

int ind_peek_forming(const struct ind *s, const struct ind_bar *bar, double out[IND_MAXOUT])
{
    if (!bar_ok(bar))
        return 0;
    union ind_u nx = s->u;
    return ind_step(s, bar, &nx, NULL, out);
}
