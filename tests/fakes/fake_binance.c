/* fake_binance: a stand-in for Binance USDⓈ-M futures on loopback, for
 * tests and load.  It speaks the real protocol and enforces the real
 * limits:
 *
 *   WS   /market/stream[?streams=a@kline_1m/...]   combined streams
 *        /market/ws[/a@kline_1m/...]               raw streams
 *        SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS with their replies;
 *        more than 1024 streams or 10 incoming messages a second on a
 *        connection: disconnected, as Binance does; server pings.
 *        /stream and /ws (no /market): connect, then stay silent — kline
 *        streams moved to /market.
 *   REST /fapi/v1/exchangeInfo, /fapi/v1/ticker/24hr, /fapi/v1/klines,
 *        with X-MBX-USED-WEIGHT-1M; over the weight limit: 429 with
 *        Retry-After, and 418 for clients that keep going.
 *   GET  /control/...  misbehave on command (see `control` below);
 *        /control/move?value=PCT moves every synthetic price PCT % at once
 *        (a market-wide move, for the scale bench);
 *        /control/trend?value=BP makes every synthetic price drift BP
 *        basis points a minute of market time from now on (negative: down;
 *        0: stop), a steady trend for indicators such as RSI.
 *
 * --spot: Binance spot instead, with spot's own paths, weights and limits:
 *   WS   /stream[?streams=...] and /ws[/...] (no /market), 5 incoming
 *        messages a second (pongs count too), 1024 streams, server pings
 *        every 20 s; prices and volumes with 8 decimals, as spot prints them
 *   REST /api/v3/exchangeInfo (weight 20; no contractType),
 *        /api/v3/ticker/24hr (80), /api/v3/klines (2; limit at most 1000,
 *        more is refused with -1130); weight limit 6000 a minute.  The
 *        futures paths answer 404, as spot's hosts do.
 *   /control/shutdown?value=MS sends each open connection spot's
 *        serverShutdown event and closes it MS later (default 3000).
 *
 * The market is deterministic (market.c): every candle can be recomputed,
 * so tests compare what the bot emits with the truth from /fapi/v1/klines.
 *
 * usage: fake_binance [--port N] [--symbols N] [--tick-ms N] [--ping-s N]
 *                     [--weight-limit N] [--load-rate N] [--cert F --key F]
 *                     [--replay SYMBOL=FILE.csv ...] [--speed X] [--close-each]
 *                     [--volatility X] [--spot]
 * --close-each: REST closes the connection after each answer, without
 * saying so (no "Connection: close"), as some proxies do.
 * --replay: recorded 1m klines drive SYMBOL (higher intervals aggregate
 * them); the market clock starts at the recording's first minute.
 * --speed X: the market clock runs X times real time (default 1).
 * Each /fapi/v1/klines answered is logged on stdout ("klines SYMBOL IV
 * limit=N weight=W rows=R first=OPEN last=OPEN"): tests recompute what the
 * bot was given.
 * --load-rate N: instead of an update per stream every tick, N frames a
 * second over all connections (benchmarks; /control/rate changes it).
 * --volatility X: the synthetic prices' waves scaled by X (default 1: a 1h
 * candle moves up to ~4 %; 0.1: never 0.5 %, a calm market).
 * Prints "fake_binance listening on port N" once ready.
 */
#include <cJSON.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "market.h"

#define MAX_CONNS 64
#define MAX_STREAMS 1024
#define MAX_INCOMING_PER_S 10
#define QUEUE 4096

static const struct {
    const char *name;
    int64_t ms;
} ivs[] = {{"1m", 60000},      {"3m", 180000},     {"5m", 300000},   {"15m", 900000},
           {"30m", 1800000},   {"1h", 3600000},    {"2h", 7200000},  {"4h", 14400000},
           {"6h", 21600000},   {"8h", 28800000},   {"12h", 43200000}, {"1d", 86400000}};
#define NIV ((int)(sizeof ivs / sizeof ivs[0]))

struct stream {
    int sym, iv;
    int64_t open;          /* open time of the forming candle last sent */
};

struct conn {
    struct lws *wsi;
    int used, silent, raw;
    struct stream streams[MAX_STREAMS];
    int nstreams;
    char *queue[QUEUE];    /* frames waiting to be written */
    int qhead, qlen;
    int64_t rate_second;
    int rate_count;
    int drop, cut;         /* close abruptly / with a close frame */
    int64_t cut_at;        /* serverShutdown sent: cut at this real time (0: none) */
    int ping_due;
    char *msg;             /* a client message arriving in pieces */
    size_t msg_len;
    /* load mode: pre-framed bytes not yet accepted by the socket */
    char *pending;
    size_t pending_len, pending_off, pending_cap;
    char **templates;      /* per stream: the frame, with E at e_at[i] */
    size_t *e_at, *tlen;
    int ntemplates;
    size_t next_stream;
};

struct pss {               /* per connection (HTTP or WS) */
    struct conn *c;
    char *body;
    size_t len;
    int status;
    char extra[256];       /* extra response headers */
    int rest;              /* answering a REST request (not /control) */
};

static struct {
    uv_loop_t loop;
    struct lws_context *ctx;
    struct fake_market market;
    struct conn conns[MAX_CONNS];
    int64_t offset_ms;             /* market time = real time + offset */
    int64_t replay_origin, started_ms;
    double speed;
    int64_t stall_until_ms;
    int close_each;        /* --close-each */
    int spot;              /* --spot: Binance spot's paths and limits */
    const char *ws_prefix; /* "/market" (USDⓈ-M) or "" (spot) */
    int max_incoming;      /* messages a second a connection may send */
    int rest_drop_count;   /* REST requests to close unanswered */
    int tick_ms, ping_s;
    long weight_limit, weight_used, weight_minute;
    int rest_fail_status, rest_fail_count, rest_retry_after;
    int banned_hits;
    long frames_sent, subscribe_msgs, kicked_streams, kicked_rate, rest_429, rest_418;
    long connections_total;
    long load_rate;                /* frames/s over all connections; 0: normal ticks */
    int64_t load_e;                /* event time counter for load frames */
    double load_debt;
    int64_t load_last_ms;
    long load_backpressure;        /* slices skipped because a client did not keep up */
    uv_timer_t tick, ping, load;
    uv_signal_t sigterm, sigint;
} S;

static int64_t real_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The market's clock: from now (or, replaying, from the recording's
 * first minute) running `speed` times real time; plus jumps. */
static int64_t market_ms(void)
{
    int64_t origin = S.replay_origin ? S.replay_origin : S.started_ms;
    return origin + (int64_t)((double)(real_ms() - S.started_ms) * S.speed) + S.offset_ms;
}

static int iv_find(const char *name, size_t n)
{
    for (int i = 0; i < NIV; i++)
        if (strlen(ivs[i].name) == n && memcmp(ivs[i].name, name, n) == 0)
            return i;
    return -1;
}

static void enqueue(struct conn *c, char *frame)
{
    if (c->qlen == QUEUE) {   /* a client that does not read: drop it */
        free(frame);
        c->drop = 1;
    } else {
        c->queue[(c->qhead + c->qlen++) % QUEUE] = frame;
    }
    lws_callback_on_writable(c->wsi);
}

static char *kline_frame(const struct conn *c, int sym, int iv, const struct fake_candle *k,
                         int closed, int64_t event)
{
    const struct fake_symbol *s = &S.market.sym[sym];
    char *f = NULL;
    int dp = S.spot ? 8 : s->dp, vdp = S.spot ? 8 : 3, qdp = S.spot ? 8 : 5;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"e\":\"kline\",\"E\":%lld,\"s\":\"%s\",\"k\":{\"t\":%lld,\"T\":%lld,\"s\":\"%s\","
             "\"i\":\"%s\",\"f\":%lld,\"L\":%lld,\"o\":\"%.*f\",\"c\":\"%.*f\",\"h\":\"%.*f\","
             "\"l\":\"%.*f\",\"v\":\"%.*f\",\"n\":%d,\"x\":%s,\"q\":\"%.*f\",\"V\":\"%.*f\","
             "\"Q\":\"%.*f\",\"B\":\"0\"}}",
             (long long)event, s->name, (long long)k->open_time, (long long)k->close_time,
             s->name, ivs[iv].name, (long long)k->open_time / 1000,
             (long long)k->open_time / 1000 + k->trades, dp, k->open, dp, k->close, dp, k->high,
             dp, k->low, vdp, k->volume, k->trades, closed ? "true" : "false", qdp,
             k->quote_volume, vdp, k->volume / 2, qdp, k->quote_volume / 2);
    if (c->raw) {
        f = strdup(body);
    } else {
        size_t n = strlen(body) + 128;
        f = malloc(n);
        snprintf(f, n, "{\"stream\":\"%s@kline_%s\",\"data\":%s}", s->lower, ivs[iv].name, body);
    }
    return f;
}

/* One update per subscribed stream; first the close of a candle that ended. */
static void tick_conn(struct conn *c, int64_t now)
{
    for (int i = 0; i < c->nstreams; i++) {
        struct stream *st = &c->streams[i];
        if (!S.market.sym[st->sym].trading)
            continue;
        int64_t ms = ivs[st->iv].ms, open = now / ms * ms;
        struct fake_candle k;
        if (st->open && st->open < open) {
            /* every candle that ended since the last update, closed */
            for (int64_t o = st->open; o < open; o += ms) {
                market_candle(&S.market, st->sym, ms, o, now, &k);
                enqueue(c, kline_frame(c, st->sym, st->iv, &k, 1, o + ms));
            }
        }
        st->open = open;
        market_candle(&S.market, st->sym, ms, open, now, &k);
        enqueue(c, kline_frame(c, st->sym, st->iv, &k, 0, now));
    }
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    int64_t now = market_ms();
    if (S.load_rate)
        return;   /* load mode sends its own frames */
    if (real_ms() < S.stall_until_ms)
        return;
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &S.conns[i];
        if (c->used && c->cut_at && real_ms() >= c->cut_at) {   /* the server goes away */
            c->cut = 1;
            lws_callback_on_writable(c->wsi);
        }
        if (c->used && !c->silent)
            tick_conn(c, now);
    }
}

static void on_ping(uv_timer_t *t)
{
    (void)t;
    if (real_ms() < S.stall_until_ms)
        return;
    for (int i = 0; i < MAX_CONNS; i++)
        if (S.conns[i].used) {
            S.conns[i].ping_due = 1;
            lws_callback_on_writable(S.conns[i].wsi);
        }
}

/* "btcusdt@kline_1m" -> stream; 0 or -1. */
static int parse_stream(const char *name, size_t n, struct stream *out)
{
    const char *at = memchr(name, '@', n);
    if (!at || (size_t)(n - (size_t)(at - name)) < 8 || memcmp(at, "@kline_", 7) != 0)
        return -1;
    char sym[32];
    size_t sn = (size_t)(at - name);
    if (sn == 0 || sn >= sizeof sym)
        return -1;
    memcpy(sym, name, sn);
    sym[sn] = '\0';
    out->sym = market_find(&S.market, sym);
    out->iv = iv_find(at + 7, n - sn - 7);
    out->open = 0;
    return out->sym >= 0 && out->iv >= 0 ? 0 : -1;
}

static int find_stream(const struct conn *c, const struct stream *s)
{
    for (int i = 0; i < c->nstreams; i++)
        if (c->streams[i].sym == s->sym && c->streams[i].iv == s->iv)
            return i;
    return -1;
}

/* Adds a stream; -1 when the connection is over the limit (kick it). */
static int add_stream(struct conn *c, const struct stream *s)
{
    if (find_stream(c, s) >= 0)
        return 0;
    if (c->nstreams == MAX_STREAMS)
        return -1;
    c->streams[c->nstreams++] = *s;
    return 0;
}

static void reply(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct conn *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    enqueue(c, strdup(buf));
}

static void handle_message(struct conn *c, const char *msg, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(msg, len);
    cJSON *method = cJSON_GetObjectItem(j, "method"), *id = cJSON_GetObjectItem(j, "id");
    long long idv = cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
    if (!j || !cJSON_IsString(method)) {
        reply(c, "{\"error\":{\"code\":3,\"msg\":\"Invalid JSON: expected value\"},\"id\":null}");
        cJSON_Delete(j);
        return;
    }
    S.subscribe_msgs++;
    cJSON *params = cJSON_GetObjectItem(j, "params");
    if (!strcmp(method->valuestring, "SUBSCRIBE") || !strcmp(method->valuestring, "UNSUBSCRIBE")) {
        int sub = method->valuestring[0] == 'S';
        cJSON *p;
        cJSON_ArrayForEach(p, params)
        {
            struct stream s;
            if (!cJSON_IsString(p) || parse_stream(p->valuestring, strlen(p->valuestring), &s)) {
                reply(c, "{\"error\":{\"code\":2,\"msg\":\"Invalid request: unknown stream\"},\"id\":%lld}", idv);
                cJSON_Delete(j);
                return;
            }
            if (sub && add_stream(c, &s) != 0) {
                S.kicked_streams++;
                c->drop = 1;   /* over 1024 streams: Binance disconnects */
                lws_callback_on_writable(c->wsi);
                cJSON_Delete(j);
                return;
            }
            int at = find_stream(c, &s);
            if (!sub && at >= 0)
                c->streams[at] = c->streams[--c->nstreams];
        }
        reply(c, "{\"result\":null,\"id\":%lld}", idv);
    } else if (!strcmp(method->valuestring, "LIST_SUBSCRIPTIONS")) {
        size_t cap = 64 + (size_t)c->nstreams * 40, n = 0;
        char *out = malloc(cap);
        n += (size_t)snprintf(out, cap, "{\"result\":[");
        for (int i = 0; i < c->nstreams; i++)
            n += (size_t)snprintf(out + n, cap - n, "%s\"%s@kline_%s\"", i ? "," : "",
                                  S.market.sym[c->streams[i].sym].lower, ivs[c->streams[i].iv].name);
        snprintf(out + n, cap - n, "],\"id\":%lld}", idv);
        enqueue(c, out);
    } else {
        reply(c, "{\"error\":{\"code\":2,\"msg\":\"Invalid request: unknown variant %s\"},\"id\":%lld}",
              method->valuestring, idv);
    }
    cJSON_Delete(j);
}

/* ---- REST ---- */

static int weight_take(struct pss *p, long w)
{
    long minute = (long)(real_ms() / 60000);
    if (minute != S.weight_minute) {
        S.weight_minute = minute;
        S.weight_used = 0;
        S.banned_hits = 0;
    }
    if (S.rest_fail_count > 0) {
        S.rest_fail_count--;
        p->status = S.rest_fail_status;
        snprintf(p->extra, sizeof p->extra, "Retry-After: %d\r\n", S.rest_retry_after);
        S.rest_429 += p->status == 429;
        S.rest_418 += p->status == 418;
        return -1;
    }
    if (S.weight_used + w > S.weight_limit) {
        int retry = (int)(60 - (real_ms() / 1000) % 60);
        p->status = ++S.banned_hits > 3 ? 418 : 429;
        S.rest_429 += p->status == 429;
        S.rest_418 += p->status == 418;
        snprintf(p->extra, sizeof p->extra, "Retry-After: %d\r\nX-MBX-USED-WEIGHT-1M: %ld\r\n",
                 p->status == 418 ? 120 : retry, S.weight_used);
        return -1;
    }
    S.weight_used += w;
    snprintf(p->extra, sizeof p->extra, "X-MBX-USED-WEIGHT-1M: %ld\r\n", S.weight_used);
    return 0;
}

static char *json_error(int code, const char *msg)
{
    char *b = malloc(256);
    snprintf(b, 256, "{\"code\":%d,\"msg\":\"%s\"}", code, msg);
    return b;
}

static const char *arg(struct lws *wsi, const char *name, char *buf, size_t len)
{
    return lws_get_urlarg_by_name(wsi, name, buf, (int)len);
}

static char *rest_exchange_info(void)
{
    size_t cap = 256 + (size_t)S.market.nsym * 256, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b, cap, "{\"timezone\":\"UTC\",\"serverTime\":%lld,\"rateLimits\":"
                                  "[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\","
                                  "\"intervalNum\":1,\"limit\":%ld}],\"symbols\":[",
                          (long long)market_ms(), S.weight_limit);
    for (int i = 0; i < S.market.nsym; i++) {
        const struct fake_symbol *s = &S.market.sym[i];
        n += (size_t)snprintf(b + n, cap - n,
                              "%s{\"symbol\":\"%s\",\"pair\":\"%s\",\"contractType\":\"PERPETUAL\","
                              "\"status\":\"%s\",\"baseAsset\":\"%.*s\",\"quoteAsset\":\"USDT\","
                              "\"marginAsset\":\"USDT\",\"pricePrecision\":%d,\"onboardDate\":1569398400000}",
                              i ? "," : "", s->name, s->name, s->trading ? "TRADING" : "SETTLING",
                              (int)strlen(s->name) - 4, s->name, s->dp);
    }
    snprintf(b + n, cap - n, "]}");
    return b;
}

/* Spot's: no contract type; a halted symbol is "BREAK". */
static char *rest_exchange_info_spot(void)
{
    size_t cap = 256 + (size_t)S.market.nsym * 256, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b, cap, "{\"timezone\":\"UTC\",\"serverTime\":%lld,\"rateLimits\":"
                                  "[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\","
                                  "\"intervalNum\":1,\"limit\":%ld}],\"exchangeFilters\":[],"
                                  "\"symbols\":[", (long long)market_ms(), S.weight_limit);
    for (int i = 0; i < S.market.nsym; i++) {
        const struct fake_symbol *s = &S.market.sym[i];
        n += (size_t)snprintf(b + n, cap - n,
                              "%s{\"symbol\":\"%s\",\"status\":\"%s\",\"baseAsset\":\"%.*s\","
                              "\"baseAssetPrecision\":8,\"quoteAsset\":\"USDT\","
                              "\"quotePrecision\":8,\"isSpotTradingAllowed\":true}",
                              i ? "," : "", s->name, s->trading ? "TRADING" : "BREAK",
                              (int)strlen(s->name) - 4, s->name);
    }
    snprintf(b + n, cap - n, "]}");
    return b;
}

static char *rest_ticker(void)
{
    size_t cap = 64 + (size_t)S.market.nsym * 200, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b, cap, "[");
    for (int i = 0; i < S.market.nsym; i++) {
        const struct fake_symbol *s = &S.market.sym[i];
        n += (size_t)snprintf(b + n, cap - n, "%s{\"symbol\":\"%s\",\"lastPrice\":\"%.*f\","
                              "\"quoteVolume\":\"%.2f\",\"volume\":\"%.2f\",\"count\":1000}",
                              i ? "," : "", s->name, s->dp, s->base, s->quote_volume,
                              s->quote_volume / s->base);
    }
    snprintf(b + n, cap - n, "]");
    return b;
}

static int kline_weight(long limit)
{
    return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

static char *rest_klines(struct lws *wsi, int *status)
{
    char a[64], b[64], c[64], d[64], e[64];
    const char *sym = arg(wsi, "symbol=", a, sizeof a), *ivn = arg(wsi, "interval=", b, sizeof b);
    const char *start = arg(wsi, "startTime=", c, sizeof c), *end = arg(wsi, "endTime=", d, sizeof d);
    const char *lim = arg(wsi, "limit=", e, sizeof e);
    int s = sym ? market_find(&S.market, sym) : -1, iv = ivn ? iv_find(ivn, strlen(ivn)) : -1;
    long limit = lim ? atol(lim) : 500;
    if (s < 0) {
        *status = 400;
        return json_error(-1121, "Invalid symbol.");
    }
    if (iv < 0) {
        *status = 400;
        return json_error(-1120, "Invalid interval.");
    }
    if (S.spot && (limit < 1 || limit > 1000)) {   /* spot refuses, not clamps */
        *status = 400;
        return json_error(-1130, "Data sent for parameter 'limit' is not valid.");
    }
    if (limit < 1 || limit > 1500)
        limit = limit < 1 ? 500 : 1500;
    int64_t ms = ivs[iv].ms, now = market_ms(), cur = now / ms * ms;
    int64_t from, to = end ? atoll(end) : now;
    if (to > now)
        to = now;
    if (start)
        from = (atoll(start) + ms - 1) / ms * ms;
    else
        from = cur - (limit - 1) * ms;
    size_t cap = 64 + (size_t)limit * 200, n = 0;
    char *out = malloc(cap);
    n += (size_t)snprintf(out, cap, "[");
    int rows = 0, dp = S.spot ? 8 : S.market.sym[s].dp;
    for (int64_t o = from; o <= to && rows < limit; o += ms, rows++) {
        struct fake_candle k;
        market_candle(&S.market, s, ms, o, now, &k);
        n += (size_t)snprintf(out + n, cap - n,
                              "%s[%lld,\"%.*f\",\"%.*f\",\"%.*f\",\"%.*f\",\"%.3f\",%lld,\"%.5f\",%d,"
                              "\"%.3f\",\"%.5f\",\"0\"]",
                              rows ? "," : "", (long long)k.open_time, dp, k.open, dp, k.high, dp,
                              k.low, dp, k.close, k.volume, (long long)k.close_time, k.quote_volume,
                              k.trades, k.volume / 2, k.quote_volume / 2);
    }
    snprintf(out + n, cap - n, "]");
    printf("klines %s %s limit=%ld weight=%d rows=%d first=%lld last=%lld\n", S.market.sym[s].name,
           ivs[iv].name, limit, S.spot ? 2 : kline_weight(limit), rows, (long long)from,
           (long long)(from + (rows - 1) * ms));
    fflush(stdout);
    return out;
}

/* ---- load mode ----
 * For the throughput benchmark.  Frames are rendered once per stream, their
 * event time patched in place per send, framed as WebSocket messages into
 * one buffer and written straight to the socket: lws is not involved once
 * the connection is subscribed (pings are off in this mode). */

static void load_prepare(struct conn *c)
{
    int64_t now = market_ms();
    c->templates = calloc((size_t)c->nstreams, sizeof *c->templates);
    c->e_at = calloc((size_t)c->nstreams, sizeof *c->e_at);
    c->tlen = calloc((size_t)c->nstreams, sizeof *c->tlen);
    for (int i = 0; i < c->nstreams; i++) {
        struct stream *st = &c->streams[i];
        int64_t ms = ivs[st->iv].ms;
        struct fake_candle k;
        market_candle(&S.market, st->sym, ms, now / ms * ms, now, &k);
        /* E: 13 digits, patched per send */
        char *f = kline_frame(c, st->sym, st->iv, &k, 0, 1000000000000LL);
        c->templates[i] = f;
        c->tlen[i] = strlen(f);
        c->e_at[i] = (size_t)(strstr(f, "\"E\":") + 4 - f);
    }
    c->ntemplates = c->nstreams;
}

static int load_send(struct conn *c, long frames)
{
    int fd = lws_get_socket_fd(c->wsi);
    if (fd < 0)
        return -1;
    if (c->pending_off < c->pending_len) {   /* the client is behind: flush first */
        ssize_t w = write(fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
        if (w > 0)
            c->pending_off += (size_t)w;
        if (c->pending_off < c->pending_len) {
            S.load_backpressure++;
            return 0;
        }
    }
    if (!c->ntemplates)
        load_prepare(c);
    size_t cap = (size_t)frames * 420 + 64, len = 0;
    if (cap > c->pending_cap) {
        char *p = realloc(c->pending, cap);
        if (!p)
            return -1;
        c->pending = p;
        c->pending_cap = cap;
    }
    for (long i = 0; i < frames; i++) {
        size_t k = c->next_stream++ % (size_t)c->ntemplates, n = c->tlen[k];
        char e[16];
        snprintf(e, sizeof e, "%013lld", (long long)(1 + S.load_e++ % 9999999999999LL));
        memcpy(c->templates[k] + c->e_at[k], e, 13);
        unsigned char *h = (unsigned char *)c->pending + len;
        h[0] = 0x81;   /* FIN, text */
        if (n < 126) {
            h[1] = (unsigned char)n;
            len += 2;
        } else {
            h[1] = 126;
            h[2] = (unsigned char)(n >> 8);
            h[3] = (unsigned char)n;
            len += 4;
        }
        memcpy(c->pending + len, c->templates[k], n);
        len += n;
    }
    c->pending_len = len;
    c->pending_off = 0;
    ssize_t w = write(fd, c->pending, len);
    if (w > 0)
        c->pending_off = (size_t)w;
    S.frames_sent += frames;
    return 0;
}

static void on_load(uv_timer_t *t)
{
    (void)t;
    int64_t now = real_ms();
    if (!S.load_last_ms)
        S.load_last_ms = now;
    S.load_debt += (double)S.load_rate * (double)(now - S.load_last_ms) / 1000.0;
    S.load_last_ms = now;
    int ready = 0;
    for (int i = 0; i < MAX_CONNS; i++)
        ready += S.conns[i].used && !S.conns[i].silent && S.conns[i].nstreams &&
                 !S.conns[i].qlen;
    if (!ready || S.load_debt < 1) {
        if (!ready)
            S.load_debt = 0;
        return;
    }
    long each = (long)(S.load_debt / ready);
    if (each > 200000)
        each = 200000;
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &S.conns[i];
        if (c->used && !c->silent && c->nstreams && !c->qlen && each > 0)
            load_send(c, each);
    }
    S.load_debt -= (double)each * ready;
    if (S.load_debt > S.load_rate)   /* do not bank more than a second */
        S.load_debt = (double)S.load_rate;
}

/* ---- control ---- */

static void each_conn(void (*fn)(struct conn *c, long v), long v)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (S.conns[i].used)
            fn(&S.conns[i], v);
}

static void do_drop(struct conn *c, long v) { (void)v; c->drop = 1; lws_callback_on_writable(c->wsi); }
static void do_cut(struct conn *c, long v) { (void)v; c->cut = 1; lws_callback_on_writable(c->wsi); }

/* Spot's serverShutdown event (real form: tests/fixtures/binance/
 * binance_spot_ws_servershutdown_combined.json), then the cut ms later.
 * Connections opened after it are not going away. */
static void do_shutdown(struct conn *c, long ms)
{
    char f[160];
    int64_t now = real_ms();
    if (c->raw)
        snprintf(f, sizeof f, "{\"e\":\"serverShutdown\",\"E\":%lld}", (long long)market_ms());
    else
        snprintf(f, sizeof f, "{\"stream\":\"!serverShutdown\",\"data\":{\"e\":\"serverShutdown\",\"E\":%lld}}",
                 (long long)market_ms());
    enqueue(c, strdup(f));
    c->cut_at = now + (ms > 0 ? ms : 3000);
}

static void do_malformed(struct conn *c, long count)
{
    static const char *const bad[] = {
        "{\"stream\":\"btcusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1,",   /* truncated */
        "not json at all",
        "{\"stream\":\"btcusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1,\"s\":\"BTCUSDT\",\"k\":{\"t\":60000,\"T\":119999,\"s\":\"BTCUSDT\",\"i\":\"1m\",\"o\":\"abc\",\"c\":\"1\",\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"n\":1,\"x\":false,\"q\":\"1\"}}}",
        "{\"stream\":\"btcusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1,\"s\":\"BTCUSDT\",\"k\":{\"t\":60000,\"T\":119999,\"s\":\"BTCUSDT\",\"i\":\"1m\",\"o\":\"-5\",\"c\":\"1\",\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"n\":1,\"x\":false,\"q\":\"1\"}}}",
        "{\"stream\":\"nosuchusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1,\"s\":\"NOSUCHUSDT\",\"k\":{\"t\":60000,\"T\":119999,\"s\":\"NOSUCHUSDT\",\"i\":\"1m\",\"o\":\"1\",\"c\":\"1\",\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"n\":1,\"x\":false,\"q\":\"1\"}}}",
        "{\"stream\":\"ethusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1,\"s\":\"BTCUSDT\",\"k\":{\"t\":60000,\"T\":119999,\"s\":\"BTCUSDT\",\"i\":\"1m\",\"o\":\"1\",\"c\":\"1\",\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"n\":1,\"x\":false,\"q\":\"1\"}}}",
    };
    for (long i = 0; i < count; i++)
        enqueue(c, strdup(bad[i % (long)(sizeof bad / sizeof *bad)]));
    if (count > 0) {   /* and one frame over 64 KiB */
        char *big = malloc(70000);
        memset(big, ' ', 69999);
        memcpy(big, "{\"stream\":\"btcusdt@kline_1m\",\"data\":\"", 37);
        memcpy(big + 69996, "\"}", 3);
        enqueue(c, big);
    }
}

static char *control(struct lws *wsi, const char *path, int *status)
{
    char v[64], out[2048];
    const char *val = arg(wsi, "value=", v, sizeof v);
    long n = val ? atol(val) : 0;
    if (!strcmp(path, "/control/drop")) {
        each_conn(do_drop, 0);
    } else if (!strcmp(path, "/control/cut")) {
        each_conn(do_cut, 0);
    } else if (!strcmp(path, "/control/shutdown")) {
        each_conn(do_shutdown, n);
    } else if (!strcmp(path, "/control/stall")) {
        S.stall_until_ms = real_ms() + n * 1000;
    } else if (!strcmp(path, "/control/jump")) {
        S.offset_ms += n;
    } else if (!strcmp(path, "/control/malformed")) {
        each_conn(do_malformed, n);
    } else if (!strcmp(path, "/control/list") && val) {
        market_add(&S.market, val);
    } else if (!strcmp(path, "/control/delist") && val) {
        int s = market_find(&S.market, val);
        if (s >= 0)
            S.market.sym[s].trading = 0;
    } else if (!strcmp(path, "/control/rest_fail")) {
        char st[16], ra[16];
        const char *sv = arg(wsi, "status=", st, sizeof st), *rv = arg(wsi, "retry_after=", ra, sizeof ra);
        S.rest_fail_status = sv ? atoi(sv) : 429;
        S.rest_retry_after = rv ? atoi(rv) : 1;
        S.rest_fail_count = (int)n;
    } else if (!strcmp(path, "/control/rest_drop")) {
        S.rest_drop_count = (int)n;
    } else if (!strcmp(path, "/control/move") && val) {
        market_move(&S.market, (double)n, market_ms());
    } else if (!strcmp(path, "/control/trend") && val) {
        if (market_trend(&S.market, atof(val), market_ms()) != 0) {
            *status = 400;
            return json_error(-1, "too many trend changes");
        }
    } else if (!strcmp(path, "/control/rate")) {
        S.load_rate = n;
        S.load_debt = 0;
        S.load_last_ms = 0;
    } else if (!strcmp(path, "/control/stats")) {
        size_t k = 0;
        int conns = 0;
        k += (size_t)snprintf(out + k, sizeof out - k, "{\"streams_per_connection\":[");
        for (int i = 0; i < MAX_CONNS; i++)
            if (S.conns[i].used && !S.conns[i].silent)
                k += (size_t)snprintf(out + k, sizeof out - k, "%s%d", conns++ ? "," : "",
                                      S.conns[i].nstreams);
        snprintf(out + k, sizeof out - k,
                 "],\"connections\":%d,\"connections_total\":%ld,\"frames_sent\":%ld,"
                 "\"control_messages\":%ld,\"kicked_streams\":%ld,\"kicked_rate\":%ld,"
                 "\"rest_429\":%ld,\"rest_418\":%ld,\"weight_used\":%ld,\"market_ms\":%lld,"
                 "\"load_backpressure\":%ld}",
                 conns, S.connections_total, S.frames_sent, S.subscribe_msgs, S.kicked_streams,
                 S.kicked_rate, S.rest_429, S.rest_418, S.weight_used, (long long)market_ms(),
                 S.load_backpressure);
        return strdup(out);
    } else {
        *status = 404;
        return json_error(-1, "unknown control");
    }
    return strdup("{\"ok\":true}");
}

static int http_request(struct lws *wsi, struct pss *p, const char *path)
{
    p->status = 200;
    p->extra[0] = '\0';
    p->rest = strncmp(path, "/control/", 9) != 0;
    if (p->rest && S.rest_drop_count > 0) {   /* closed with no answer at all */
        S.rest_drop_count--;
        return -1;
    }
    if (!strncmp(path, "/control/", 9)) {
        p->body = control(wsi, path, &p->status);
    } else if (S.spot && !strcmp(path, "/api/v3/exchangeInfo")) {
        p->body = weight_take(p, 20) ? json_error(-1003, "Too many requests")
                                     : rest_exchange_info_spot();
    } else if (S.spot && !strcmp(path, "/api/v3/ticker/24hr")) {
        p->body = weight_take(p, 80) ? json_error(-1003, "Too many requests") : rest_ticker();
    } else if (S.spot && !strcmp(path, "/api/v3/klines")) {
        p->body = weight_take(p, 2) ? json_error(-1003, "Too many requests")
                                    : rest_klines(wsi, &p->status);
    } else if (S.spot) {
        p->status = 404;
        p->body = json_error(-1, "not found");
    } else if (!strcmp(path, "/fapi/v1/exchangeInfo")) {
        p->body = weight_take(p, 1) ? json_error(-1003, "Too many requests") : rest_exchange_info();
    } else if (!strcmp(path, "/fapi/v1/ticker/24hr")) {
        p->body = weight_take(p, 40) ? json_error(-1003, "Too many requests") : rest_ticker();
    } else if (!strcmp(path, "/fapi/v1/klines")) {
        char e[32];
        const char *lim = arg(wsi, "limit=", e, sizeof e);
        p->body = weight_take(p, kline_weight(lim ? atol(lim) : 500))
                      ? json_error(-1003, "Too many requests")
                      : rest_klines(wsi, &p->status);
    } else {
        p->status = 404;
        p->body = json_error(-1, "not found");
    }
    p->len = strlen(p->body);
    uint8_t hb[LWS_PRE + 1024], *start = hb + LWS_PRE, *q = start, *end = hb + sizeof hb - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)p->status, "application/json",
                                    (lws_filepos_t)p->len, &q, end))
        return 1;
    for (char *h = p->extra, *nl; *h && (nl = strstr(h, "\r\n")); h = nl + 2) {
        char *colon = strchr(h, ':');
        if (!colon || colon > nl)
            break;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(colon + 1 - h), h);
        const char *val = colon + 2;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)val, (int)(nl - val), &q, end))
            return 1;
    }
    if (lws_finalize_write_http_header(wsi, start, &q, end))
        return 1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* ---- WebSocket ---- */

static struct conn *conn_new(struct lws *wsi)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (!S.conns[i].used) {
            struct conn *c = &S.conns[i];
            memset(c, 0, sizeof *c);
            c->used = 1;
            c->wsi = wsi;
            S.connections_total++;
            return c;
        }
    return NULL;
}

static void conn_free(struct conn *c)
{
    free(c->msg);
    for (int i = 0; i < c->ntemplates; i++)
        free(c->templates[i]);
    free(c->templates);
    free(c->e_at);
    free(c->tlen);
    free(c->pending);
    while (c->qlen) {
        free(c->queue[c->qhead]);
        c->qhead = (c->qhead + 1) % QUEUE;
        c->qlen--;
    }
    c->used = 0;
}

/* The streams named in the URL: ?streams=a/b (combined) or /ws/a/b (raw). */
static int streams_from_uri(struct conn *c, struct lws *wsi, const char *uri)
{
    char buf[16384];
    const char *list = NULL;
    char ws[32];
    size_t wn = (size_t)snprintf(ws, sizeof ws, "%s/ws/", S.ws_prefix);
    if (!strncmp(uri, ws, wn))
        list = uri + wn;
    else if (lws_get_urlarg_by_name(wsi, "streams=", buf, sizeof buf))
        list = buf;
    for (const char *p = list; p && *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        struct stream s;
        if (n && parse_stream(p, n, &s) == 0 && add_stream(c, &s) != 0)
            return -1;
        p = slash ? slash + 1 : p + n;
    }
    return 0;
}

static int on_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct pss *p = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return http_request(wsi, p, in);
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        unsigned char *buf = malloc(LWS_PRE + p->len + 1);
        memcpy(buf + LWS_PRE, p->body, p->len);
        int n = lws_write(wsi, buf + LWS_PRE, p->len, LWS_WRITE_HTTP_FINAL);
        free(buf);
        free(p->body);
        p->body = NULL;
        if (n != (int)p->len || (S.close_each && p->rest))
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:   /* may come before any request: no pss */
        if (p) {
            free(p->body);
            p->body = NULL;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED: {
        char uri[16384] = "";
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        p->c = conn_new(wsi);
        if (!p->c)
            return -1;
        char ws[32];
        size_t wn = (size_t)snprintf(ws, sizeof ws, "%s/ws", S.ws_prefix);
        p->c->raw = !strncmp(uri, ws, wn);
        /* futures: without /market the connection works but kline streams
         * are silent */
        p->c->silent = !S.spot && strncmp(uri, "/market/", 8) != 0;
        if (streams_from_uri(p->c, wsi, uri) != 0) {
            S.kicked_streams++;
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
        struct conn *c = p->c;
        int64_t sec = real_ms() / 1000;
        if (sec != c->rate_second) {
            c->rate_second = sec;
            c->rate_count = 0;
        }
        /* lws hands over a message in pieces as it arrives: put it together */
        char *m = realloc(c->msg, c->msg_len + len + 1);
        if (!m)
            return -1;
        c->msg = m;
        memcpy(c->msg + c->msg_len, in, len);
        c->msg_len += len;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
            return 0;
        if (++c->rate_count > S.max_incoming) {
            S.kicked_rate++;   /* over 10 (spot: 5) incoming messages a second */
            return -1;
        }
        handle_message(c, c->msg, c->msg_len);
        c->msg_len = 0;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE_PONG: {   /* spot counts pongs against the limit too */
        struct conn *c = p->c;
        int64_t sec = real_ms() / 1000;
        if (!S.spot || !c)
            return 0;
        if (sec != c->rate_second) {
            c->rate_second = sec;
            c->rate_count = 0;
        }
        if (++c->rate_count > S.max_incoming) {
            S.kicked_rate++;
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        struct conn *c = p->c;
        if (c->drop)
            return -1;
        if (c->cut) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"24h", 3);
            return -1;
        }
        if (c->ping_due) {
            unsigned char pb[LWS_PRE + 8];
            c->ping_due = 0;
            lws_write(wsi, pb + LWS_PRE, 0, LWS_WRITE_PING);
        } else if (c->qlen) {
            char *f = c->queue[c->qhead];
            c->qhead = (c->qhead + 1) % QUEUE;
            c->qlen--;
            size_t n = strlen(f);
            unsigned char *buf = malloc(LWS_PRE + n);
            memcpy(buf + LWS_PRE, f, n);
            int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
            free(buf);
            free(f);
            S.frames_sent++;
            if (w < (int)n)
                return -1;
        }
        if (c->qlen || c->ping_due)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (p && p->c)
            conn_free(p->c);
        p->c = NULL;
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"binance", on_event, sizeof(struct pss), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    exit(0);   /* a test fixture: nothing to save */
}

int main(int argc, char **argv)
{
    int port = 0, nsym = 5, nreplay = 0;
    double volatility = 1;
    const char *replays[16];
    const char *cert = NULL, *key = NULL;
    S.tick_ms = 250;
    S.ping_s = 0;
    S.weight_limit = 0;
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--close-each") || !strcmp(argv[i], "--spot")) {   /* (no value) */
            if (argv[i][2] == 'c')
                S.close_each = 1;
            else
                S.spot = 1;
            i--;
            continue;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "fake_binance: %s needs a value\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--symbols")) nsym = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--tick-ms")) S.tick_ms = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ping-s")) S.ping_s = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--weight-limit")) S.weight_limit = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--load-rate")) S.load_rate = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--speed")) S.speed = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--volatility")) volatility = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--replay")) {
            if (nreplay < 16)
                replays[nreplay++] = argv[i + 1];
        }
        else if (!strcmp(argv[i], "--cert")) cert = argv[i + 1];
        else if (!strcmp(argv[i], "--key")) key = argv[i + 1];
        else {
            fprintf(stderr, "fake_binance: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    /* spot's limits, unless told otherwise */
    S.ping_s = S.ping_s ? S.ping_s : S.spot ? 20 : 180;
    S.weight_limit = S.weight_limit ? S.weight_limit : S.spot ? 6000 : 2400;
    S.max_incoming = S.spot ? 5 : MAX_INCOMING_PER_S;
    S.ws_prefix = S.spot ? "" : "/market";
    market_init(&S.market, nsym);
    S.market.volatility = volatility;
    S.speed = S.speed > 0 ? S.speed : 1;
    S.started_ms = real_ms();
    for (int i = 0; i < nreplay; i++) {
        char name[32];
        const char *eq = strchr(replays[i], '=');
        if (!eq || eq - replays[i] >= (long)sizeof name) {
            fprintf(stderr, "fake_binance: --replay SYMBOL=FILE.csv\n");
            return 2;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - replays[i]), replays[i]);
        int64_t origin = market_replay(&S.market, name, eq + 1);
        if (origin < 0) {
            fprintf(stderr, "fake_binance: cannot replay %s\n", eq + 1);
            return 2;
        }
        if (!S.replay_origin)
            S.replay_origin = origin;
    }
    uv_loop_init(&S.loop);
    lws_set_log_level(LLL_ERR, NULL);
    void *loops[1] = {&S.loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (cert)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    S.ctx = lws_create_context(&info);
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.ssl_cert_filepath = cert;
    info.ssl_private_key_filepath = key;
    struct lws_vhost *vh = S.ctx ? lws_create_vhost(S.ctx, &info) : NULL;
    if (!vh) {
        fprintf(stderr, "fake_binance: cannot listen on port %d\n", port);
        return 1;
    }
    printf("fake_binance listening on port %d\n", lws_get_vhost_listen_port(vh));
    fflush(stdout);
    uv_timer_init(&S.loop, &S.tick);
    uv_timer_start(&S.tick, on_tick, (uint64_t)S.tick_ms, (uint64_t)S.tick_ms);
    uv_timer_init(&S.loop, &S.load);
    uv_timer_start(&S.load, on_load, 5, 5);
    uv_timer_init(&S.loop, &S.ping);
    uv_timer_start(&S.ping, on_ping, (uint64_t)S.ping_s * 1000, (uint64_t)S.ping_s * 1000);
    uv_signal_init(&S.loop, &S.sigterm);
    uv_signal_start(&S.sigterm, on_signal, SIGTERM);
    uv_signal_init(&S.loop, &S.sigint);
    uv_signal_start(&S.sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    uv_run(&S.loop, UV_RUN_DEFAULT);
    return 0;
}
