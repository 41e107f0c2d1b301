/* The indicators: exact against published reference tables
 * (tests/fixtures/indicators, see tests/fixtures/PROVENANCE.md), against a
 * naive recomputation from scratch at every candle of a real day of 1m
 * klines, the forming "what if" value against the value after the push, no
 * drift over a million updates, warm-up and convergence, bad input. */
#include <math.h>
#include <stdlib.h>

#include "indicator/indicator.h"
#include "tap.h"

/* ---- a small CSV table reader ---- */

#define MAXROW 1500
#define MAXCOL 16

struct table {
    int ncol, nrow;
    char head[MAXCOL][40];
    char cell[MAXROW][MAXCOL][32];
};

static struct table T;

static int load(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    memset(&T, 0, sizeof T);
    for (int row = -1; f && fgets(line, sizeof line, f) && row < MAXROW; row++) {
        line[strcspn(line, "\r\n")] = 0;
        char *p = line;
        for (int c = 0; c < MAXCOL; c++) {
            size_t len = strcspn(p, ",");
            char *dst = row < 0 ? T.head[c] : T.cell[row][c];
            snprintf(dst, 32, "%.*s", (int)len, p);
            if (row < 0)
                T.ncol = c + 1;
            if (!p[len])
                break;
            p += len + 1;
        }
        T.nrow = row + 1;
    }
    if (f)
        fclose(f);
    return f ? 0 : -1;
}

static int col(const char *name)
{
    for (int c = 0; c < T.ncol; c++)
        if (strcmp(T.head[c], name) == 0)
            return c;
    return -1;
}

static double num(int row, const char *name)
{
    int c = col(name);
    return c < 0 || !T.cell[row][c][0] ? NAN : strtod(T.cell[row][c], NULL);
}

/* 1e-6 relative, or half a unit of the last decimal the table printed when
 * the table is rounded coarser than that. */
static double tolerance(const char *cell, double ref)
{
    const char *dot = strchr(cell, '.');
    int dp = dot ? (int)strlen(dot + 1) : 0;
    double half_unit = 0.5 * pow(10, -dp) * (1 + 1e-9);
    double rel = 1e-6 * fabs(ref);
    return rel > half_unit ? rel : half_unit;
}

/* ---- reference tables ---- */

struct pick {
    const char *col;
    int out;   /* index into the values; -1: (upper - middle) / k, the sigma */
};

static int same_values(const double *a, const double *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Every row: peek with it as the forming candle, push it closed; the peek
 * must be the pushed value, and each picked value must be there exactly
 * when the table has one, and match it. */
static void check_table(const char *file, struct ind_spec spec, const struct pick *picks,
                        int npick, const char *what)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/indicators/%s", file);
    if (load(path) != 0) {
        ok(0, "%s: read %s", what, path);
        return;
    }
    struct ind *s = ind_new(&spec);
    int compared = 0, bad = 0, peek_bad = 0;
    for (int r = 0; r < T.nrow; r++) {
        double c = num(r, "close"), h = num(r, "high"), l = num(r, "low");
        struct ind_bar b = {isnan(h) ? c : h, isnan(l) ? c : l, c, 1};
        double pv[IND_MAXOUT], v[IND_MAXOUT];
        int np = ind_peek_forming(s, &b, pv);
        int n = ind_push_closed(s, &b);
        if (ind_value(s, v) != n || np != n || !same_values(pv, v, n))
            peek_bad++;
        for (int i = 0; i < npick; i++) {
            double ref = num(r, picks[i].col);
            if (isnan(ref) != (n == 0)) {
                bad++;
                printf("#   %s row %d %s: %s, the table %s\n", what, r, picks[i].col,
                       n ? "a value" : "no value", isnan(ref) ? "none" : "one");
                continue;
            }
            if (n == 0)
                continue;
            double got = picks[i].out >= 0 ? v[picks[i].out] : (v[1] - v[0]) / spec.k;
            compared++;
            if (fabs(got - ref) > tolerance(T.cell[r][col(picks[i].col)], ref)) {
                bad++;
                printf("#   %s row %d %s: got %.12g, want %s\n", what, r, picks[i].col, got,
                       T.cell[r][col(picks[i].col)]);
            }
        }
    }
    ind_free(s);
    ok(bad == 0 && compared > 0, "%s: %d values match the table, no value where it has none", what,
       compared);
    ok(peek_bad == 0, "%s: peeking each row as the forming candle gives the value after its push",
       what);
}

static void reference_tables(void)
{
    check_table("stockcharts_cs-movavg_sma10_ema10.csv", (struct ind_spec){IND_SMA, 10, 0, 0, 0},
                (struct pick[]){{"sma10", 0}}, 1, "sma(10), StockCharts");
    check_table("stockcharts_cs-movavg_sma10_ema10.csv", (struct ind_spec){IND_EMA, 10, 0, 0, 0},
                (struct pick[]){{"ema10", 0}}, 1, "ema(10), StockCharts (SMA seed)");
    check_table("stockcharts_cs-rsi_rsi14.csv", (struct ind_spec){IND_RSI, 14, 0, 0, 0},
                (struct pick[]){{"rsi14", 0}}, 1, "rsi(14), StockCharts (Wilder)");
    check_table("stockcharts_cs-bbands_bb20_2.csv", (struct ind_spec){IND_BB, 20, 0, 0, 2},
                (struct pick[]){{"middle_sma20", 0}, {"upper", 1}, {"lower", 2},
                                {"stdev20_population", -1}},
                4, "bb(20,2), StockCharts (population sigma)");
    check_table("stockcharts_cs-atr_atr14.csv", (struct ind_spec){IND_ATR, 14, 0, 0, 0},
                (struct pick[]){{"atr14", 0}}, 1, "atr(14), StockCharts (Wilder)");
    check_table("tulip_atoz_sma_5.csv", (struct ind_spec){IND_SMA, 5, 0, 0, 0},
                (struct pick[]){{"sma5", 0}}, 1, "sma(5), Achelis/Tulip (3 decimals)");
    check_table("tulip_atoz_stddev_5.csv", (struct ind_spec){IND_BB, 5, 0, 0, 1},
                (struct pick[]){{"stddev5_population", -1}}, 1,
                "population sigma(5), Achelis/Tulip (4 decimals)");
    check_table("tulip_atoz_bbands_5_2.csv", (struct ind_spec){IND_BB, 5, 0, 0, 2},
                (struct pick[]){{"bb_middle", 0}, {"bb_upper", 1}, {"bb_lower", 2}}, 3,
                "bb(5,2), Achelis/Tulip (4 decimals)");
    check_table("tulip_atoz_rsi_5.csv", (struct ind_spec){IND_RSI, 5, 0, 0, 0},
                (struct pick[]){{"rsi5", 0}}, 1, "rsi(5), Achelis/Tulip (4 decimals)");
    check_table("tulip_atoz_atr_4.csv", (struct ind_spec){IND_ATR, 4, 0, 0, 0},
                (struct pick[]){{"atr4", 0}}, 1, "atr(4), Achelis/Tulip (4 decimals)");
}


/* ---- naive recomputation from scratch, straight from the definitions ---- */

static struct ind_bar K[MAXROW];
static int NK;

static double close_at(int i) { return K[i].close; }
static double volume_at(int i) { return K[i].volume; }

/* Mean of f over [from, to). */
static double mean_of(double (*f)(int), int from, int to)
{
    double sum = 0;
    for (int i = from; i < to; i++)
        sum += f(i);
    return sum / (to - from);
}

/* EMA(n) of the closes [0, end): SMA seed, then the recursion. */
static double naive_ema(int end, int n)
{
    double v = mean_of(close_at, 0, n);
    for (int i = n; i < end; i++)
        v = (K[i].close - v) * (2.0 / (n + 1)) + v;
    return v;
}

static int naive_rsi(int end, int n, double *out)
{
    if (end < n + 1)
        return 0;
    double g = 0, l = 0;
    for (int i = 1; i < end; i++) {
        double ch = K[i].close - K[i - 1].close, up = ch > 0 ? ch : 0, down = ch < 0 ? -ch : 0;
        if (i <= n) {
            g += up / n;   /* the seed: the mean of the first n changes */
            l += down / n;
        } else {
            g = (g * (n - 1) + up) / n;
            l = (l * (n - 1) + down) / n;
        }
    }
    out[0] = g + l > 0 ? 100 - 100 / (1 + g / l) : 50;
    if (l == 0 && g > 0)
        out[0] = 100;
    return 1;
}

static int naive_atr(int end, int n, double *out)
{
    if (end < n)
        return 0;
    double atr = 0;
    for (int i = 0; i < end; i++) {
        double tr = K[i].high - K[i].low;
        if (i > 0) {
            tr = fmax(tr, fabs(K[i].high - K[i - 1].close));
            tr = fmax(tr, fabs(K[i].low - K[i - 1].close));
        }
        atr = i < n ? atr + tr / n : (atr * (n - 1) + tr) / n;
    }
    out[0] = atr;
    return 1;
}

/* An EMA(n) kept from the start: seeded with the mean of its first n. */
struct naive_ema { int n, seen; double v; };

static int naive_ema_add(struct naive_ema *e, double x)
{
    e->seen++;
    if (e->seen <= e->n)
        e->v += x / e->n;   /* the seed, summed as it comes */
    else
        e->v = (x - e->v) * (2.0 / (e->n + 1)) + e->v;
    return e->seen >= e->n;
}

static int naive_macd(int end, int f, int s, int g, double *out)
{
    struct naive_ema fast = {f, 0, 0}, slow = {s, 0, 0}, sig = {g, 0, 0};
    int have = 0;
    double line = 0;
    for (int t = 0; t < end; t++) {
        naive_ema_add(&fast, K[t].close);
        if (!naive_ema_add(&slow, K[t].close))
            continue;
        line = fast.v - slow.v;
        have = naive_ema_add(&sig, line);
    }
    if (!have)
        return 0;
    out[0] = line;
    out[1] = sig.v;
    out[2] = line - sig.v;
    return 3;
}

static int naive_bb(int end, int n, double k, double *out)
{
    if (end < n)
        return 0;
    double m = mean_of(close_at, end - n, end), var = 0;
    for (int i = end - n; i < end; i++)
        var += (K[i].close - m) * (K[i].close - m) / n;
    out[0] = m;
    out[1] = m + k * sqrt(var);
    out[2] = m - k * sqrt(var);
    return 3;
}

/* Raw %K of the candle at i over the p candles up to it. */
static double naive_raw_k(int i, int p)
{
    double hh = K[i].high, ll = K[i].low;
    for (int j = i - p + 1; j <= i; j++) {
        hh = fmax(hh, K[j].high);
        ll = fmin(ll, K[j].low);
    }
    return hh > ll ? 100 * (K[i].close - ll) / (hh - ll) : 50;
}

static double naive_full_k(int i, int p1, int p2)
{
    double sum = 0;
    for (int j = i - p2 + 1; j <= i; j++)
        sum += naive_raw_k(j, p1);
    return sum / p2;
}

static int naive_stoch(int end, int p1, int p2, int p3, double *out)
{
    if (end < p1 + p2 + p3 - 2)
        return 0;
    double d = 0;
    for (int j = end - p3; j < end; j++)
        d += naive_full_k(j, p1, p2) / p3;
    out[0] = naive_full_k(end - 1, p1, p2);
    out[1] = d;
    return 2;
}

static int naive_value(const struct ind_spec *s, int end, double *out)
{
    int n = s->p1;
    switch (s->kind) {
    case IND_SMA: case IND_VOL_AVG:
        if (end < n)
            return 0;
        out[0] = mean_of(s->kind == IND_SMA ? close_at : volume_at, end - n, end);
        return 1;
    case IND_EMA:
        if (end < n)
            return 0;
        out[0] = naive_ema(end, n);
        return 1;
    case IND_RSI: return naive_rsi(end, n, out);
    case IND_ATR: return naive_atr(end, n, out);
    case IND_MACD: return naive_macd(end, s->p1, s->p2, s->p3, out);
    case IND_BB: return naive_bb(end, n, s->k, out);
    case IND_STOCH: return naive_stoch(end, s->p1, s->p2, s->p3, out);
    case IND_VOL_RATIO:
        if (end < n + 1 || mean_of(volume_at, end - 1 - n, end - 1) <= 0)
            return 0;
        out[1] = mean_of(volume_at, end - 1 - n, end - 1);
        out[0] = K[end - 1].volume / out[1];
        return 2;
    case IND_ROC:
        if (end < n + 1)
            return 0;
        out[0] = 100 * (K[end - 1].close - K[end - 1 - n].close) / K[end - 1 - n].close;
        return 1;
    default: return 0;
    }
}

static int load_klines(void)
{
    if (load("tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv") != 0)
        return -1;
    for (NK = 0; NK < T.nrow; NK++)
        K[NK] = (struct ind_bar){num(NK, "high"), num(NK, "low"), num(NK, "close"),
                                 num(NK, "volume")};
    return 0;
}

static const struct ind_spec SPECS[] = {
    {IND_SMA, 20, 0, 0, 0},     {IND_SMA, 7, 0, 0, 0},    {IND_SMA, 1, 0, 0, 0},
    {IND_EMA, 9, 0, 0, 0},      {IND_EMA, 21, 0, 0, 0},   {IND_EMA, 200, 0, 0, 0},
    {IND_EMA, 1, 0, 0, 0},      {IND_RSI, 14, 0, 0, 0},   {IND_RSI, 6, 0, 0, 0},
    {IND_RSI, 1, 0, 0, 0},      {IND_MACD, 12, 26, 9, 0}, {IND_MACD, 5, 35, 5, 0},
    {IND_MACD, 1, 2, 1, 0},     {IND_BB, 20, 0, 0, 2},    {IND_BB, 10, 0, 0, 1.5},
    {IND_BB, 1, 0, 0, 2},       {IND_ATR, 14, 0, 0, 0},   {IND_ATR, 5, 0, 0, 0},
    {IND_STOCH, 14, 3, 3, 0},   {IND_STOCH, 5, 1, 1, 0},  {IND_STOCH, 9, 3, 5, 0},
    {IND_STOCH, 1, 1, 1, 0},    {IND_VOL_AVG, 20, 0, 0, 0}, {IND_VOL_RATIO, 20, 0, 0, 0},
    {IND_VOL_RATIO, 1, 0, 0, 0}, {IND_ROC, 12, 0, 0, 0},  {IND_ROC, 1, 0, 0, 0},
};
#define NSPECS ((int)(sizeof SPECS / sizeof SPECS[0]))

static void spec_label(const struct ind_spec *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s(%d", ind_kind_name(s->kind), s->p1);
    if (s->p2)
        snprintf(buf + strlen(buf), n - strlen(buf), ",%d,%d", s->p2, s->p3);
    if (s->k)
        snprintf(buf + strlen(buf), n - strlen(buf), ",%g", s->k);
    snprintf(buf + strlen(buf), n - strlen(buf), ")");
}

/* Forming updates of candle i: its open, then halfway, then the candle. */
static struct ind_bar forming(int i, int step)
{
    double open = i ? K[i - 1].close : K[i].close;
    struct ind_bar b = {open, open, open, 0};
    if (step == 1)
        b = (struct ind_bar){fmax(open, K[i].close), fmin(open, K[i].close),
                             (open + K[i].close) / 2, K[i].volume / 2};
    return step == 2 ? K[i] : b;
}

/* One spec over the day: at every candle the incremental value equals the
 * naive one; every forming peek equals a push into a copy of the state; and
 * the peeks leave the state as it was (a twin that never peeks agrees). */
static void check_klines(const struct ind_spec *spec)
{
    char label[64];
    spec_label(spec, label, sizeof label);
    size_t size = ind_size(spec);
    struct ind *s = ind_new(spec), *twin = ind_new(spec), *copy = malloc(size);
    int bad = 0, peek_bad = 0, twin_bad = 0, values = 0;
    for (int i = 0; i < NK; i++) {
        double pv[IND_MAXOUT], cv[IND_MAXOUT], v[IND_MAXOUT], w[IND_MAXOUT], want[IND_MAXOUT];
        for (int step = 0; step < 3; step++) {
            struct ind_bar b = forming(i, step);
            int np = ind_peek_forming(s, &b, pv);
            memcpy(copy, s, size);
            int nc = ind_push_closed(copy, &b);
            peek_bad += np != nc || !same_values(pv, cv, ind_value(copy, cv));
        }
        int n = ind_push_closed(s, &K[i]), nt = ind_push_closed(twin, &K[i]);
        ind_value(s, v);
        twin_bad += nt != n || ind_value(twin, w) != n || !same_values(v, w, n);
        int nn = naive_value(ind_spec_of(s), i + 1, want);
        if (nn != n) {
            if (bad++ < 3)
                printf("#   %s candle %d: %d values, naive %d\n", label, i, n, nn);
            continue;
        }
        for (int j = 0; j < n; j++, values++)
            if (fabs(v[j] - want[j]) > 1e-9 * fabs(want[j]) + 1e-12 * (K[i].close + 1) &&
                bad++ < 3)
                printf("#   %s candle %d value %d: %.15g, naive %.15g\n", label, i, j, v[j],
                       want[j]);
    }
    ok(bad == 0 && values > 0, "%s: the incremental values equal a recomputation from scratch at every one of %d candles",
       label, NK);
    ok(peek_bad == 0, "%s: each forming peek equals pushing that candle into a copy", label);
    ok(twin_bad == 0, "%s: peeking leaves the closed state untouched", label);
    ind_free(s);
    ind_free(twin);
    free(copy);
}

/* ---- no drift over a million updates ---- */

static uint64_t rng = 88172645463325252ULL;

static double uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* Mean and population sigma of the last n of x[], in long double, two passes. */
static void fresh(const double *x, int n, double *mean, double *sd)
{
    long double m = 0, var = 0;
    for (int i = 0; i < n; i++)
        m += x[i];
    m /= n;
    for (int i = 0; i < n; i++)
        var += (x[i] - m) * (x[i] - m);
    *mean = (double)m;
    *sd = (double)sqrtl(var / n);
}

/* A price walking from 100 to tens of thousands, volumes over six decades:
 * after 1,000,000 closed candles (and at every 100,000th) the windowed
 * values equal a fresh computation over the window. */
static void drift_test(void)
{
    enum { N = 1000000, W = 20, W2 = 200 };
    struct ind *sma = ind_new(&(struct ind_spec){IND_SMA, W, 0, 0, 0});
    struct ind *bb = ind_new(&(struct ind_spec){IND_BB, W, 0, 0, 2});
    struct ind *bb2 = ind_new(&(struct ind_spec){IND_BB, W2, 0, 0, 2});
    struct ind *vol = ind_new(&(struct ind_spec){IND_VOL_AVG, W, 0, 0, 0});
    static double px[W2], vx[W];
    double price = 100, worst_mean = 0, worst_sd = 0, worst_vol = 0;
    for (int i = 0; i < N; i++) {
        price *= exp(6.4e-6 + 0.003 * (uniform() - 0.5));
        double v = pow(10, 6 * uniform() - 3);
        struct ind_bar b = {price, price, price, v};
        ind_push_closed(sma, &b);
        ind_push_closed(bb, &b);
        ind_push_closed(bb2, &b);
        ind_push_closed(vol, &b);
        px[i % W2] = price;
        vx[i % W] = v;
        if ((i + 1) % 100000 != 0)
            continue;
        double m, sd, m2, sd2, vm, vsd, a[IND_MAXOUT], c[IND_MAXOUT], d[IND_MAXOUT], e[IND_MAXOUT];
        double last[W];
        for (int j = 0; j < W; j++)   /* the last W of the last W2 */
            last[j] = px[(i - j + W2) % W2];
        fresh(last, W, &m, &sd);
        fresh(px, W2, &m2, &sd2);
        fresh(vx, W, &vm, &vsd);
        ind_value(sma, e);
        ind_value(bb, a);
        ind_value(bb2, c);
        ind_value(vol, d);
        worst_mean = fmax(worst_mean, fmax(fabs(e[0] - m) / m, fabs(c[0] - m2) / m2));
        worst_sd = fmax(worst_sd, fmax(fabs((a[1] - a[0]) / 2 - sd) / sd,
                                       fabs((c[1] - c[0]) / 2 - sd2) / sd2));
        worst_vol = fmax(worst_vol, fabs(d[0] - vm) / vm);
    }
    printf("# after %d updates: mean %.2g, sigma %.2g, volume mean %.2g relative off\n", N,
           worst_mean, worst_sd, worst_vol);
    ok(worst_mean < 1e-13, "sma and bb middle: no drift after %d updates (%.2g relative)", N,
       worst_mean);
    ok(worst_sd < 1e-9, "bb sigma: no drift after %d updates (%.2g relative)", N, worst_sd);
    ok(worst_vol < 1e-13, "volume average: no drift after %d updates (%.2g relative)", N,
       worst_vol);
    ind_free(sma);
    ind_free(bb);
    ind_free(bb2);
    ind_free(vol);
}

/* ---- warm-up and convergence ---- */

/* The first value comes after exactly ind_first closed candles. */
static void first_value_test(void)
{
    int bad = 0;
    for (int i = 0; i < NSPECS; i++) {
        struct ind *s = ind_new(&SPECS[i]);
        int first = 0;
        while (first < NK && ind_push_closed(s, &K[first]) == 0)
            first++;
        if (first + 1 != ind_first(&SPECS[i])) {
            char label[64];
            spec_label(&SPECS[i], label, sizeof label);
            printf("#   %s: first value after %d candles, ind_first says %d\n", label, first + 1,
                   ind_first(&SPECS[i]));
            bad++;
        }
        ind_free(s);
    }
    ok(bad == 0, "every indicator gives its first value after ind_first candles");
}

/* Two series of the same candles, one started `late` candles later: once
 * the late one has had ind_warmup candles, its value no longer shows where
 * it started (the seed's weight is below 1e-6, so the two differ by less
 * than 1e-6 of the value, or of the price for MACD, which crosses zero). */
static void convergence_test(void)
{
    static const struct ind_spec conv[] = {
        {IND_EMA, 9, 0, 0, 0},  {IND_EMA, 21, 0, 0, 0}, {IND_EMA, 50, 0, 0, 0},
        {IND_RSI, 14, 0, 0, 0}, {IND_RSI, 6, 0, 0, 0},  {IND_ATR, 14, 0, 0, 0},
        {IND_MACD, 12, 26, 9, 0},
    };
    for (size_t c = 0; c < sizeof conv / sizeof conv[0]; c++) {
        char label[64];
        spec_label(&conv[c], label, sizeof label);
        int late = 300, warm = ind_warmup(&conv[c]);
        struct ind *early = ind_new(&conv[c]), *later = ind_new(&conv[c]);
        double worst = 0, before = 0, a[IND_MAXOUT], b[IND_MAXOUT];
        for (int i = 0; i < NK; i++) {
            int n = ind_push_closed(early, &K[i]);
            if (i < late || ind_push_closed(later, &K[i]) == 0)
                continue;
            ind_value(later, b);
            ind_value(early, a);
            double scale = conv[c].kind == IND_MACD ? K[i].close : fabs(a[0]);
            for (int j = 0; j < n; j++) {
                double off = fabs(a[j] - b[j]) / scale;
                if (i - late + 1 >= warm)
                    worst = fmax(worst, off);
                else
                    before = fmax(before, off);
            }
        }
        printf("# %s: warm-up %d candles; off by up to %.2g before, %.2g after\n", label, warm, before,
               worst);
        ok(warm > ind_first(&conv[c]) && worst < 1e-6,
           "%s: converged after ind_warmup = %d candles (%.2g relative)", label, warm, worst);
        ind_free(early);
        ind_free(later);
    }
}

/* ---- specs, small hand-worked cases, bad input ---- */

static void spec_tests(void)
{
    char err[128] = "";
    struct ind_spec s = {IND_MACD, 0, 0, 0, 0};
    ok(ind_spec_normalize(&s, err, sizeof err) == 0 && s.p1 == 12 && s.p2 == 26 && s.p3 == 9,
       "macd defaults to 12, 26, 9");
    s = (struct ind_spec){IND_BB, 20, 5, 5, 0};
    ok(ind_spec_normalize(&s, err, sizeof err) == 0 && s.k == 2 && s.p2 == 0 && s.p3 == 0,
       "bb defaults k to 2 and clears the unused parameters");
    s = (struct ind_spec){IND_STOCH, 0, 0, 0, 7};
    ok(ind_spec_normalize(&s, err, sizeof err) == 0 && s.p1 == 14 && s.p2 == 3 && s.p3 == 3 &&
       s.k == 0, "stoch defaults to 14, 3, 3");
    s = (struct ind_spec){IND_RSI, -1, 0, 0, 0};
    ok(ind_spec_normalize(&s, err, sizeof err) == -1 && strstr(err, "rsi period -1") &&
       strstr(err, "1 to 10000"), "a bad period is named with its range: %s", err);
    s = (struct ind_spec){IND_MACD, 26, 12, 9, 0};
    ok(ind_spec_normalize(&s, err, sizeof err) == -1 && strstr(err, "fast period 26"),
       "macd fast must be below slow: %s", err);
    s = (struct ind_spec){IND_STOCH, 14, IND_MAX_PERIOD + 1, 3, 0};
    ok(ind_spec_normalize(&s, err, sizeof err) == -1 && strstr(err, "stoch %K smoothing"),
       "stoch names the parameter: %s", err);
    s = (struct ind_spec){IND_BB, 20, 0, 0, -1};
    ok(ind_spec_normalize(&s, err, sizeof err) == -1 && strstr(err, "bb k -1"), "bb k: %s", err);
    s = (struct ind_spec){(enum ind_kind)99, 1, 0, 0, 0};
    ok(ind_spec_normalize(&s, err, sizeof err) == -1 && ind_size(&s) == 0 && !ind_new(&s) &&
       ind_first(&s) == -1 && ind_warmup(&s) == -1, "an unknown kind is refused everywhere");
    int names = 1;
    for (int k = 0; k < IND_KIND_COUNT; k++)
        names &= ind_kind_parse(ind_kind_name((enum ind_kind)k)) == k && ind_outputs(k) >= 1;
    ok(names && ind_kind_parse("rsi") == IND_RSI && ind_kind_parse("RSI") == -1 &&
       ind_kind_parse(NULL) == -1, "kinds by name");
    struct ind_spec sma = {IND_SMA, 50, 0, 0, 0};
    char small[64];
    ok(ind_init(small, sizeof small, &sma) == NULL && ind_size(&sma) > 50 * sizeof(double),
       "ind_init refuses too small a block; the ring is sized at creation");
}

static int push(struct ind *s, double h, double l, double c, double v, double *out)
{
    ind_push_closed(s, &(struct ind_bar){h, l, c, v});
    return ind_value(s, out);
}

static void hand_tests(void)
{
    double v[IND_MAXOUT];
    struct ind *roc = ind_new(&(struct ind_spec){IND_ROC, 2, 0, 0, 0});
    push(roc, 10, 10, 10, 0, v);
    ok(push(roc, 11, 11, 11, 0, v) == 0 && push(roc, 12, 12, 12, 0, v) == 1 && v[0] == 20,
       "roc(2) of 10, 11, 12 is 20%%");
    struct ind *st = ind_new(&(struct ind_spec){IND_STOCH, 3, 1, 1, 0});
    push(st, 10, 8, 9, 0, v);
    push(st, 12, 9, 11, 0, v);
    ok(push(st, 11, 7, 9, 0, v) == 2 && fabs(v[0] - 40) < 1e-12 && fabs(v[1] - 40) < 1e-12,
       "stoch(3,1,1): close 9 in a range 7..12 is 40");
    ok(push(st, 10, 9, 10, 0, v) == 2 && fabs(v[0] - 60) < 1e-12, "then 10 in 7..12 is 60");
    ok(push(st, 10, 9, 9.5, 0, v) == 2 && fabs(v[0] - 62.5) < 1e-12,
       "the high of 12 leaves the window: 9.5 in 7..11 is 62.5");
    ok(push(st, 10, 9, 9, 0, v) == 2 && fabs(v[0]) < 1e-12,
       "the low of 7 leaves the window: 9 in 9..10 is 0");
    struct ind *vr = ind_new(&(struct ind_spec){IND_VOL_RATIO, 2, 0, 0, 0});
    push(vr, 1, 1, 1, 1, v);
    ok(push(vr, 1, 1, 1, 3, v) == 0 && push(vr, 1, 1, 1, 6, v) == 2 && v[0] == 3 && v[1] == 2,
       "vol_ratio(2): volume 6 after 1 and 3 is 3 times their mean 2");
    struct ind *m = ind_new(&(struct ind_spec){IND_MACD, 1, 2, 2, 0});
    push(m, 1, 1, 1, 0, v);
    ok(push(m, 2, 2, 2, 0, v) == 0 && push(m, 4, 4, 4, 0, v) == 3 &&
       fabs(v[0] - 5.0 / 6) < 1e-12 && fabs(v[1] - 2.0 / 3) < 1e-12 &&
       fabs(v[2] - 1.0 / 6) < 1e-12, "macd(1,2,2) of 1, 2, 4: line 5/6, signal 2/3, histogram 1/6");
    ind_free(roc);
    ind_free(st);
    ind_free(vr);
    ind_free(m);
}

static void flat_tests(void)
{
    double v[IND_MAXOUT], sv[IND_MAXOUT], rv[IND_MAXOUT];
    struct ind *rsi = ind_new(&(struct ind_spec){IND_RSI, 3, 0, 0, 0});
    struct ind *st = ind_new(&(struct ind_spec){IND_STOCH, 3, 1, 1, 0});
    struct ind *vr = ind_new(&(struct ind_spec){IND_VOL_RATIO, 3, 0, 0, 0});
    int n = 0, s = 0, r = 0;
    for (int i = 0; i < 5; i++) {
        n = push(rsi, 5, 5, 5, 0, v);
        s = push(st, 5, 5, 5, 0, sv);
        r = push(vr, 5, 5, 5, 0, rv);
    }
    ok(n == 1 && v[0] == 50, "rsi of a price that never moved is 50");
    ok(s == 2 && sv[0] == 50 && sv[1] == 50, "stoch when the range has no height is 50");
    ok(r == 0, "no volume ratio against an average of zero");
    for (int i = 0; i < 5; i++)
        n = push(rsi, 6 + i, 6 + i, 6 + i, 0, v);
    ok(n == 1 && v[0] == 100, "rsi with no losses left in it is 100");
    ok(push(vr, 5, 5, 5, 2, v) == 0 && push(vr, 5, 5, 5, 4, v) == 2 && fabs(v[0] - 6) < 1e-12,
       "the volume ratio comes back once the average is not zero");
    ind_reset(rsi);
    ok(ind_count(rsi) == 0 && ind_value(rsi, v) == 0 && push(rsi, 1, 1, 1, 0, v) == 0,
       "ind_reset starts over");
    ind_free(rsi);
    ind_free(st);
    ind_free(vr);
}

static void bad_input_tests(void)
{
    struct ind *bb = ind_new(&(struct ind_spec){IND_BB, 3, 0, 0, 2});
    double v[IND_MAXOUT], w[IND_MAXOUT];
    for (int i = 0; i < 4; i++)
        push(bb, 1 + i, 1 + i, 1 + i, 1, v);
    struct ind_bar nan_close = {5, 5, NAN, 1}, inf_high = {INFINITY, 5, 5, 1};
    ok(ind_push_closed(bb, &nan_close) == -1 && ind_push_closed(bb, &inf_high) == -1,
       "a candle with a field not finite is refused");
    ok(ind_count(bb) == 4 && ind_value(bb, w) == 3 && same_values(v, w, 3),
       "and leaves the state as it was");
    ok(ind_peek_forming(bb, &nan_close, w) == 0, "a forming candle not finite gives no value");
    ind_free(bb);
}

int main(void)
{
    reference_tables();
    if (load_klines() != 0 || NK != 1440) {
        ok(0, "read the BTCUSDT 1m klines");
        return done();
    }
    for (int i = 0; i < NSPECS; i++)
        check_klines(&SPECS[i]);
    first_value_test();
    convergence_test();
    drift_test();
    spec_tests();
    hand_tests();
    flat_tests();
    bad_input_tests();
    return done();
}
