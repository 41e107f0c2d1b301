#include "market.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static double unit(uint64_t x)   /* [-1, 1) */
{
    return (double)(mix(x) >> 11) / 4503599627370496.0 - 1.0;
}

static double round_to(double v, int dp)
{
    double f = pow(10, dp);
    return round(v * f) / f;
}

/* The price at a given second: slow waves plus noise, per symbol, scaled
 * by the market's volatility. */
static double price_at(const struct fake_market *m, const struct fake_symbol *s, int sym,
                       int64_t sec)
{
    double t = (double)sec;
    double k = m->volatility;   /* (1: the same sums, bit for bit, as before it existed) */
    double v = s->base * (1 + k * 0.03 * sin(t / 1800.0 + sym) +
                          k * 0.008 * sin(t / 97.0 + 2 * sym) +
                          k * 0.0015 * unit((uint64_t)sec * 2654435761u + (uint64_t)sym));
    return round_to(v, s->dp);
}

void market_init(struct fake_market *m, int nsym)
{
    memset(m, 0, sizeof *m);
    m->volatility = 1;
    for (int i = 0; i < nsym && i < FAKE_MAX_SYMBOLS; i++) {
        char name[24];
        if (i == 0)
            snprintf(name, sizeof name, "BTCUSDT");
        else if (i == 1)
            snprintf(name, sizeof name, "ETHUSDT");
        else
            snprintf(name, sizeof name, "S%03dUSDT", i);
        market_add(m, name);
    }
}

int market_add(struct fake_market *m, const char *name)
{
    int i = market_find(m, name);
    if (i >= 0) {
        m->sym[i].trading = 1;
        return i;
    }
    if (m->nsym == FAKE_MAX_SYMBOLS || strlen(name) >= sizeof m->sym[0].name)
        return -1;
    i = m->nsym++;
    struct fake_symbol *s = &m->sym[i];
    snprintf(s->name, sizeof s->name, "%s", name);
    for (size_t k = 0; k <= strlen(name); k++)
        s->lower[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
    s->base = i == 0 ? 30000 : i == 1 ? 2000 : pow(10, (double)(mix((uint64_t)i) % 500) / 100.0 - 1);
    s->dp = s->base >= 1000 ? 2 : s->base >= 10 ? 3 : s->base >= 1 ? 4 : 6;
    s->quote_volume = 1e9 / (i + 1);   /* a stable ranking: earlier is bigger */
    s->trading = 1;
    return i;
}

void market_move(struct fake_market *m, double pct, int64_t now_ms)
{
    /* (one factor from the newest move's second on: a second move before
     * it compounds the first, which then starts later; tests move once) */
    double f = m->move_factor > 0 ? m->move_factor : 1;
    m->move_factor = f * (1 + pct / 100);
    m->move_sec = now_ms / 1000 + 1;
}

/* The drift's factor at a second: 1 before the first trend. */
static double trend_factor(const struct fake_market *m, int64_t sec)
{
    for (int i = m->ntrend - 1; i >= 0; i--)
        if (sec >= m->trend[i].sec)
            return m->trend[i].f0 * pow(1 + m->trend[i].bp / 10000, (double)(sec - m->trend[i].sec) / 60);
    return 1;
}

int market_trend(struct fake_market *m, double bp, int64_t now_ms)
{
    int64_t sec = now_ms / 1000 + 1;
    double f0 = trend_factor(m, sec);
    /* (after a jump back in time: the changes after this one are undone) */
    while (m->ntrend && m->trend[m->ntrend - 1].sec >= sec)
        m->ntrend--;
    if (m->ntrend == FAKE_TRENDS)
        return -1;
    m->trend[m->ntrend++] = (struct fake_trend){sec, bp, f0};
    /* minutes cached ahead of the clock (it jumped back) are computed again */
    for (int i = 0; i < m->nsym; i++)
        for (int k = 0; m->cache[i] && k < FAKE_CACHE; k++)
            if (m->cache[i][k].minute >= 0 && m->cache[i][k].minute * 60 + 59 >= sec)
                m->cache[i][k].minute = -1;
    return 0;
}

int market_find(const struct fake_market *m, const char *name)
{
    for (int i = 0; i < m->nsym; i++)
        if (strcasecmp(m->sym[i].name, name) == 0)
            return i;
    return -1;
}

int64_t market_replay(struct fake_market *m, const char *name, const char *csv_path)
{
    FILE *f = fopen(csv_path, "r");
    int sym = market_add(m, name);
    if (!f || sym < 0) {
        if (f)
            fclose(f);
        return -1;
    }
    struct fake_replay *r = &m->replay[sym];
    char line[512];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] < '0' || line[0] > '9')
            continue;   /* the header */
        struct fake_candle c;
        long long t, ct;
        if (sscanf(line, "%lld,%lf,%lf,%lf,%lf,%lf,%lld,%lf,%d", &t, &c.open, &c.high, &c.low,
                   &c.close, &c.volume, &ct, &c.quote_volume, &c.trades) != 9)
            continue;
        if (t > 100000000000000LL)   /* microseconds (spot files from 2025 on) */
            t /= 1000;
        if (r->n == cap) {
            cap = cap ? cap * 2 : 2048;
            r->rows = realloc(r->rows, sizeof *r->rows * (size_t)cap);
        }
        if (r->n == 0)
            r->first_minute = t / 60000;
        r->rows[r->n++] = c;
    }
    fclose(f);
    if (!r->n)
        return -1;
    /* the recorded prices set the symbol's precision */
    char o[64];
    snprintf(o, sizeof o, "%g", r->rows[0].open);
    const char *dot = strchr(o, '.');
    m->sym[sym].dp = dot ? (int)strlen(dot + 1) : 0;
    if (m->sym[sym].dp < 2)
        m->sym[sym].dp = 2;
    m->sym[sym].base = r->rows[0].open;
    return r->first_minute * 60000;
}

/* A recorded minute; while forming, the path runs open -> high -> low ->
 * close through the minute, so a closed candle equals the recorded row. */
static void replay_candle(const struct fake_replay *r, int64_t open_ms, int64_t now_ms,
                          struct fake_candle *out)
{
    int64_t k = (open_ms / 60000 - r->first_minute) % r->n;
    if (k < 0)
        k += r->n;
    *out = r->rows[k];
    out->open_time = open_ms;
    out->close_time = open_ms + 59999;
    double f = (double)(now_ms - open_ms) / 60000.0;
    if (f >= 59999.0 / 60000.0)
        return;
    const struct fake_candle *c = &r->rows[k];
    double p, hi = c->open, lo = c->open;
    if (f < 1.0 / 3) {
        p = c->open + (c->high - c->open) * f * 3;
        hi = p;
    } else if (f < 2.0 / 3) {
        p = c->high + (c->low - c->high) * (f * 3 - 1);
        hi = c->high;
        lo = p < c->open ? p : c->open;
    } else {
        p = c->low + (c->close - c->low) * (f * 3 - 2);
        hi = c->high;
        lo = c->low;
    }
    out->close = p;
    out->high = hi > p ? hi : p;
    out->low = lo < p ? lo : p;
    out->volume = c->volume * f;
    out->quote_volume = c->quote_volume * f;
    out->trades = (int)(c->trades * f);
}

/* A 1m candle straight from the price path. */
static void minute_candle(const struct fake_market *m, int sym, int64_t open_ms, int64_t now_ms,
                          struct fake_candle *out)
{
    if (m->replay[sym].n) {
        replay_candle(&m->replay[sym], open_ms, now_ms, out);
        return;
    }
    int64_t interval_ms = 60000;
    const struct fake_symbol *s = &m->sym[sym];
    int64_t end = open_ms + interval_ms;          /* exclusive */
    int64_t last = (now_ms < end ? now_ms : end - 1) / 1000;
    memset(out, 0, sizeof *out);
    out->open_time = open_ms;
    out->close_time = end - 1;
    int first = 1;
    for (int64_t sec = open_ms / 1000; sec <= last; sec++) {
        double p = price_at(m, s, sym, sec);
        if (m->move_factor > 0 && sec >= m->move_sec)
            p = round_to(p * m->move_factor, s->dp);
        if (m->ntrend)
            p = round_to(p * trend_factor(m, sec), s->dp);
        if (first) {
            out->open = out->high = out->low = p;
            first = 0;
        }
        if (p > out->high)
            out->high = p;
        if (p < out->low)
            out->low = p;
        out->close = p;
        double vol = 1 + (double)(mix((uint64_t)sec ^ ((uint64_t)sym << 40)) % 1000) / 100.0;
        out->volume += vol;
        out->quote_volume += vol * p;
        out->trades += 1 + (int)(mix((uint64_t)sec + 7) % 5);
    }
    out->volume = round_to(out->volume, 3);
    out->quote_volume = round_to(out->quote_volume, 5);
}

static struct fake_cached *cache_slot(struct fake_cached **cache, int size, int64_t key)
{
    if (!*cache) {
        *cache = malloc(sizeof **cache * (size_t)size);
        for (int i = 0; i < size; i++)
            (*cache)[i].minute = -1;
    }
    return &(*cache)[key % size];
}

static const struct fake_candle *closed_minute(struct fake_market *m, int sym, int64_t minute)
{
    struct fake_cached *e = cache_slot(&m->cache[sym], FAKE_CACHE, minute);
    if (e->minute != minute) {
        minute_candle(m, sym, minute * 60000, minute * 60000 + 60000, &e->c);
        e->minute = minute;
    }
    return &e->c;
}

/* c added to the candle out being built (first: out is empty). */
static void add_part(struct fake_candle *out, const struct fake_candle *c, int first)
{
    if (first) {
        out->open = c->open;
        out->high = c->high;
        out->low = c->low;
    }
    if (c->high > out->high)
        out->high = c->high;
    if (c->low < out->low)
        out->low = c->low;
    out->close = c->close;
    out->volume += c->volume;
    out->quote_volume += c->quote_volume;
    out->trades += c->trades;
}

/* The closed hour starting at minute first, its 60 minutes summed once. */
static const struct fake_candle *closed_hour(struct fake_market *m, int sym, int64_t first)
{
    struct fake_cached *e = cache_slot(&m->hours[sym], FAKE_HOUR_CACHE, first / 60);
    if (e->minute != first) {
        memset(&e->c, 0, sizeof e->c);
        for (int64_t k = 0; k < 60; k++)
            add_part(&e->c, closed_minute(m, sym, first + k), k == 0);
        e->minute = first;
    }
    return &e->c;
}

void market_candle(struct fake_market *m, int sym, int64_t interval_ms, int64_t open_ms,
                   int64_t now_ms, struct fake_candle *out)
{
    if (interval_ms == 60000 && now_ms < open_ms + 60000) {
        minute_candle(m, sym, open_ms, now_ms, out);
        return;
    }
    memset(out, 0, sizeof *out);
    out->open_time = open_ms;
    out->close_time = open_ms + interval_ms - 1;
    int64_t last = (now_ms < open_ms + interval_ms ? now_ms : open_ms + interval_ms - 1);
    int first = 1;
    for (int64_t t = open_ms; t <= last; first = 0) {
        struct fake_candle part;
        if (t % 3600000 == 0 && t + 3600000 <= open_ms + interval_ms &&
            t + 3600000 <= now_ms + 1) {   /* a whole hour of it, closed */
            add_part(out, closed_hour(m, sym, t / 60000), first);
            t += 3600000;
            continue;
        }
        if (t + 60000 <= now_ms + 1) {
            add_part(out, closed_minute(m, sym, t / 60000), first);
        } else {
            minute_candle(m, sym, t, now_ms, &part);
            add_part(out, &part, first);
        }
        t += 60000;
    }
    out->volume = round_to(out->volume, 3);
    out->quote_volume = round_to(out->quote_volume, 5);
}
