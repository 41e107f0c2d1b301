/* fake_bybit: a stand-in for Bybit v5 linear (USDT perpetuals) on
 * loopback, for tests.  It speaks the v5 public protocol and enforces its
 * limits and quirks (facts: bybit-exchange/docs, 2026-07):
 *
 *   WS   /v5/public/linear (any other path: 404)
 *        {"req_id":"..","op":"subscribe"|"unsubscribe","args":[...]}: each
 *        answered {"success":..,"ret_msg":..,"conn_id":..,"req_id":..,"op":..};
 *        more than 10 args in one request refused ("args size >10": the
 *        limit the docs give spot; the bot keeps to it on linear too); a
 *        topic that is not kline.{1|3|5|15|30|60|120|240|360|720|D}.{SYMBOL}
 *        of a listed symbol refused ("Params Error") and none of that
 *        request's topics taken; a connection's topics past 21,000
 *        characters as a JSON array (the docs' limit) refused too.
 *        {"req_id":"..","op":"ping"} answered with linear's pong
 *        {"success":true,"ret_msg":"pong",...,"op":"ping"}.  A connection
 *        that sends no ping for --ping-window-s (default 600, the docs'
 *        10 minutes) is closed; stricter than Bybit, which also counts its
 *        own pushes, so that a client that never pings is caught.  No
 *        WebSocket-level pings from this side.
 *        Pushes {"topic":"kline.1.BTCUSDT","data":[{start,end,interval,open,
 *        close,high,low,volume,turnover,confirm,timestamp}],"ts":..,
 *        "type":"snapshot"} every --tick-ms; a candle that ended is pushed
 *        once with confirm true.  --batch: the closed candle and the new one
 *        in one push's data[] (two entries).
 *   REST /v5/market/instruments-info?category=linear[&limit=N][&cursor=C]
 *        pages of `limit` (default 500, at most 1000) with nextPageCursor;
 *        /v5/market/tickers?category=linear (turnover24h);
 *        /v5/market/kline?category=linear&symbol&interval[&start][&end][&limit]
 *        (limit default 200, at most 1000): the newest `limit` candles
 *        starting in [start, end], newest first, all strings.
 *        Every answer {"retCode":..,"retMsg":..,"result":..,"retExtInfo":{},
 *        "time":ms}; a bad parameter: retCode 10001.  More than --ip-limit
 *        requests (default 600) in 5 s: HTTP 403 "access too frequent", and
 *        every request 403 for --ban-s (default 600, the docs' 10 minutes).
 *   GET  /control/...  misbehave on command: drop, cut (close frame),
 *        stall?value=S, jump?value=MS, malformed?value=N, list?value=SYM,
 *        delist?value=SYM, rest_fail?value=N[&code=10006] (N answers with
 *        that retCode), stats.
 *
 * The market is tests/fakes/market.c's deterministic one (shared with
 * fake_binance): every candle can be recomputed.  Each kline answer is
 * logged on stdout ("klines SYMBOL IV limit=N rows=R first=OPEN
 * last=OPEN", oldest and newest open times).
 *
 * usage: fake_bybit [--port N] [--symbols N] [--tick-ms N] [--ping-window-s N]
 *                   [--ip-limit N] [--ban-s N] [--speed N] [--page-size N] [--batch]
 * --speed N: the market clock runs N times real time.
 * --page-size N: instruments-info pages of at most N, whatever the limit.
 * Prints "fake_bybit listening on port N" once ready.
 */
#include <cJSON.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>

#include "market.h"

#define MAX_CONNS 64
#define MAX_TOPICS 2048
#define MAX_ARGS 10
#define MAX_ARGS_CHARS 21000   /* the docs: one public connection's "args" array */
#define QUEUE 8192

static const struct {
    const char *name;   /* Bybit's */
    int64_t ms;
} ivs[] = {{"1", 60000},       {"3", 180000},      {"5", 300000},     {"15", 900000},
           {"30", 1800000},    {"60", 3600000},    {"120", 7200000},  {"240", 14400000},
           {"360", 21600000},  {"720", 43200000},  {"D", 86400000}};
#define NIV ((int)(sizeof ivs / sizeof ivs[0]))

struct topic {
    int sym, iv;
    int64_t open;          /* open time of the forming candle last pushed */
};

struct conn {
    struct lws *wsi;
    int used, id;
    struct topic topics[MAX_TOPICS];
    int ntopics;
    long args_chars;       /* its topics as one JSON array of strings */
    char *queue[QUEUE];
    int qhead, qlen;
    int drop, cut;
    int64_t last_ping;     /* real ms of the last op ping (or the connect) */
    char *msg;
    size_t msg_len;
};

struct pss {
    struct conn *c;
    char *body;
    size_t len;
    int status;
    const char *type;
};

static struct {
    uv_loop_t loop;
    struct lws_context *ctx;
    struct fake_market market;
    struct conn conns[MAX_CONNS];
    int64_t started_ms, offset_ms, stall_until_ms;
    int tick_ms, ping_window_s, batch;
    long page_size;
    double speed;
    long ip_limit, ban_s;
    int64_t window_start, banned_until;
    long window_count;
    int rest_fail_count;
    long rest_fail_code;
    long frames_sent, requests, pings, kicked_ping, refused_args, refused_topics, rest_403,
        rest_refused, connections_total;
    uv_timer_t tick;
    uv_signal_t sigterm, sigint;
} S;

static int64_t real_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The market's clock: `speed` times real time from the start, plus jumps. */
static int64_t market_ms(void)
{
    return S.started_ms + (int64_t)((double)(real_ms() - S.started_ms) * S.speed) + S.offset_ms;
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

static void sendf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sendf(struct conn *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    enqueue(c, strdup(buf));
}

/* ---- pushes ---- */

/* A price as Bybit prints it: on its tick, ten times the last place of
 * priceScale (BTCUSDT: priceScale 2, tickSize 0.10), then trailing zeros
 * (and a bare dot) left out: "16677" for 16677.00, never more than dp - 1
 * decimals shown (pushes and kline rows). */
struct price_text {
    char s[4][40];
};

static void prices(struct price_text *t, int dp, const struct fake_candle *k)
{
    const double v[4] = {k->open, k->close, k->high, k->low};
    for (int i = 0; i < 4; i++) {
        char *e = t->s[i] + snprintf(t->s[i], sizeof t->s[i], "%.*f", dp - 1, v[i]);
        if (dp > 1) {
            while (e[-1] == '0')
                *--e = '\0';
            if (e[-1] == '.')
                e[-1] = '\0';
        }
    }
}

/* ten times priceScale's last place (10^(1 - dp)) */
static double tick(int dp)
{
    double t = 10;
    for (int i = 0; i < dp; i++)
        t /= 10;
    return t;
}

/* One data[] entry, as Bybit prints it (no trailing zeros kept). */
static int entry(char *out, size_t cap, int sym, int iv, const struct fake_candle *k, int closed,
                 int64_t stamp)
{
    struct price_text t;
    prices(&t, S.market.sym[sym].dp, k);
    return snprintf(out, cap,
                    "{\"start\":%lld,\"end\":%lld,\"interval\":\"%s\",\"open\":\"%s\","
                    "\"close\":\"%s\",\"high\":\"%s\",\"low\":\"%s\",\"volume\":\"%.3f\","
                    "\"turnover\":\"%.4f\",\"confirm\":%s,\"timestamp\":%lld}",
                    (long long)k->open_time, (long long)k->close_time, ivs[iv].name, t.s[0],
                    t.s[1], t.s[2], t.s[3], k->volume, k->quote_volume,
                    closed ? "true" : "false", (long long)stamp);
}

static void push(struct conn *c, const struct topic *t, const char *entries, int64_t ts)
{
    size_t n = strlen(entries) + 128;
    char *f = malloc(n);
    snprintf(f, n, "{\"topic\":\"kline.%s.%s\",\"data\":[%s],\"ts\":%lld,\"type\":\"snapshot\"}",
             ivs[t->iv].name, S.market.sym[t->sym].name, entries, (long long)ts);
    enqueue(c, f);
}

/* Every candle that ended since the last push, closed; then the forming one. */
static void tick_topic(struct conn *c, struct topic *t, int64_t now)
{
    int64_t ms = ivs[t->iv].ms, open = now / ms * ms;
    struct fake_candle k;
    char closed[512] = "", forming[512];
    if (t->open && t->open < open) {
        for (int64_t o = t->open; o < open; o += ms) {
            market_candle(&S.market, t->sym, ms, o, now, &k);
            entry(closed, sizeof closed, t->sym, t->iv, &k, 1, o + ms - 1);
            if (!S.batch || o + ms < open)
                push(c, t, closed, o + ms);
        }
    }
    t->open = open;
    market_candle(&S.market, t->sym, ms, open, now, &k);
    entry(forming, sizeof forming, t->sym, t->iv, &k, 0, now);
    if (S.batch && closed[0]) {
        char both[1100];
        snprintf(both, sizeof both, "%s,%s", closed, forming);
        push(c, t, both, now);
    } else {
        push(c, t, forming, now);
    }
}

static void on_tick(uv_timer_t *timer)
{
    (void)timer;
    int64_t now = market_ms(), real = real_ms();
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &S.conns[i];
        if (!c->used)
            continue;
        if (real - c->last_ping > (int64_t)S.ping_window_s * 1000 && !c->drop) {
            S.kicked_ping++;   /* no heartbeat from the client: cut off */
            c->drop = 1;
            lws_callback_on_writable(c->wsi);
            continue;
        }
        if (real < S.stall_until_ms)
            continue;
        for (int k = 0; k < c->ntopics; k++)
            if (S.market.sym[c->topics[k].sym].trading)
                tick_topic(c, &c->topics[k], now);
    }
}

/* ---- requests ---- */

static void answer(struct conn *c, int ok, const char *msg, const char *req_id, const char *op)
{
    char m[256];
    size_t k = 0;
    for (const char *p = msg; *p && k < sizeof m - 2; p++)
        if (*p != '"' && *p != '\\')
            m[k++] = *p;
    m[k] = '\0';
    sendf(c, "{\"success\":%s,\"ret_msg\":\"%s\",\"conn_id\":\"fake-%d\",\"req_id\":\"%s\",\"op\":\"%s\"}",
          ok ? "true" : "false", m, c->id, req_id, op);
}

/* "kline.5.BTCUSDT" -> topic; 0 or -1. */
static int parse_topic(const char *s, struct topic *t)
{
    const char *dot;
    if (strncmp(s, "kline.", 6) != 0 || !(dot = strchr(s + 6, '.')))
        return -1;
    t->iv = iv_find(s + 6, (size_t)(dot - s - 6));
    t->sym = market_find(&S.market, dot + 1);
    t->open = 0;
    return t->iv >= 0 && t->sym >= 0 && S.market.sym[t->sym].trading &&
                   !strcmp(S.market.sym[t->sym].name, dot + 1)
               ? 0
               : -1;
}

static int find_topic(const struct conn *c, const struct topic *t)
{
    for (int i = 0; i < c->ntopics; i++)
        if (c->topics[i].sym == t->sym && c->topics[i].iv == t->iv)
            return i;
    return -1;
}

/* subscribe / unsubscribe: all of a request's topics, or none. */
static void topics_op(struct conn *c, const cJSON *args, const char *req_id, const char *op)
{
    int sub = op[0] == 's', n = cJSON_GetArraySize(args);
    struct topic t[MAX_ARGS];
    if (!cJSON_IsArray(args) || n == 0) {
        answer(c, 0, "Params Error", req_id, op);
        return;
    }
    if (n > MAX_ARGS) {
        S.refused_args++;
        answer(c, 0, "args size >10", req_id, op);
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *s = cJSON_GetStringValue(cJSON_GetArrayItem(args, i));
        if (!s || parse_topic(s, &t[i]) != 0) {
            S.refused_topics++;
            answer(c, 0, "Params Error", req_id, op);
            return;
        }
    }
    long chars = c->args_chars ? c->args_chars : 2;   /* [] */
    for (int i = 0; i < n; i++)
        if (sub && find_topic(c, &t[i]) < 0)
            chars += (long)strlen(cJSON_GetStringValue(cJSON_GetArrayItem(args, i))) + 3;
    if (chars > MAX_ARGS_CHARS) {   /* (Bybit's answer to this is not documented) */
        S.refused_args++;
        answer(c, 0, "args length over 21000", req_id, op);
        return;
    }
    for (int i = 0; i < n; i++) {
        int at = find_topic(c, &t[i]);
        long k = (long)strlen(cJSON_GetStringValue(cJSON_GetArrayItem(args, i))) + 3;
        if (sub && at < 0 && c->ntopics < MAX_TOPICS) {
            c->topics[c->ntopics++] = t[i];
            c->args_chars = (c->args_chars ? c->args_chars : 2) + k;
        } else if (!sub && at >= 0) {
            c->topics[at] = c->topics[--c->ntopics];
            c->args_chars -= k;
        }
    }
    answer(c, 1, "", req_id, op);
}

static void handle_message(struct conn *c, const char *msg, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(msg, len);
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "op"));
    const char *req = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "req_id"));
    char req_id[64];
    snprintf(req_id, sizeof req_id, "%s", req ? req : "");
    for (char *p = req_id; *p; p++)
        if (*p == '"' || *p == '\\')
            *p = '_';
    S.requests++;
    if (!op) {
        answer(c, 0, "Params Error", req_id, "");
    } else if (!strcmp(op, "ping")) {
        S.pings++;
        c->last_ping = real_ms();
        answer(c, 1, "pong", req_id, "ping");
    } else if (!strcmp(op, "subscribe") || !strcmp(op, "unsubscribe")) {
        topics_op(c, cJSON_GetObjectItemCaseSensitive(j, "args"), req_id, op);
    } else {
        answer(c, 0, "Params Error", req_id, op);
    }
    cJSON_Delete(j);
}

/* ---- REST ---- */

static const char *arg(struct lws *wsi, const char *name, char *buf, size_t len)
{
    return lws_get_urlarg_by_name(wsi, name, buf, (int)len);
}

static char *ret(long code, const char *msg)
{
    char *b = malloc(256);
    snprintf(b, 256, "{\"retCode\":%ld,\"retMsg\":\"%s\",\"result\":{},\"retExtInfo\":{},\"time\":%lld}",
             code, msg, (long long)market_ms());
    return b;
}

/* Wraps a result object in the envelope (takes result). */
static char *ok_answer(char *result)
{
    size_t n = strlen(result) + 128;
    char *b = malloc(n);
    snprintf(b, n, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":%s,\"retExtInfo\":{},\"time\":%lld}",
             result, (long long)market_ms());
    free(result);
    return b;
}

static char *rest_instruments(struct lws *wsi)
{
    char a[32], b[64];
    const char *lim = arg(wsi, "limit=", a, sizeof a), *cur = arg(wsi, "cursor=", b, sizeof b);
    long limit = lim ? atol(lim) : 500, from = 0;
    if (limit < 1 || limit > 1000)
        return ret(10001, "params error: limit");
    if (S.page_size && limit > S.page_size)
        limit = S.page_size;   /* --page-size: more pages than the limit asks */
    if (cur && *cur && sscanf(strstr(cur, "next=") ? strstr(cur, "next=") + 5
                              : strstr(cur, "next%3D") ? strstr(cur, "next%3D") + 7 : "x",
                              "%ld", &from) != 1)
        return ret(10001, "params error: cursor");
    size_t cap = 256 + (size_t)limit * 300, n = 0;
    char *o = malloc(cap);
    n += (size_t)snprintf(o, cap, "{\"category\":\"linear\",\"list\":[");
    long i, listed = 0;
    /* only Trading symbols: the default answer (status=...: others) */
    for (i = from; i < S.market.nsym && listed < limit; i++) {
        const struct fake_symbol *s = &S.market.sym[i];
        if (!s->trading)
            continue;
        n += (size_t)snprintf(o + n, cap - n,
                              "%s{\"symbol\":\"%s\",\"contractType\":\"LinearPerpetual\","
                              "\"status\":\"Trading\",\"baseCoin\":\"%.*s\",\"quoteCoin\":\"USDT\","
                              "\"launchTime\":\"1585526400000\",\"deliveryTime\":\"0\","
                              "\"priceScale\":\"%d\",\"priceFilter\":{\"tickSize\":\"%.*f\"},"
                              "\"settleCoin\":\"USDT\"}",
                              listed++ ? "," : "", s->name, (int)strlen(s->name) - 4, s->name, s->dp,
                              s->dp, tick(s->dp));
    }
    /* the real cursor is opaque and URL-encoded ("first%3DX%26last%3DY") */
    if (i < S.market.nsym)
        snprintf(o + n, cap - n, "],\"nextPageCursor\":\"next%%3D%ld\"}", i);
    else
        snprintf(o + n, cap - n, "],\"nextPageCursor\":\"\"}");
    return ok_answer(o);
}

static char *rest_tickers(void)
{
    size_t cap = 128 + (size_t)S.market.nsym * 200, n = 0;
    int listed = 0;
    char *o = malloc(cap);
    n += (size_t)snprintf(o, cap, "{\"category\":\"linear\",\"list\":[");
    for (int i = 0; i < S.market.nsym; i++) {
        const struct fake_symbol *s = &S.market.sym[i];
        if (!s->trading)
            continue;
        n += (size_t)snprintf(o + n, cap - n,
                              "%s{\"symbol\":\"%s\",\"lastPrice\":\"%.*f\",\"turnover24h\":\"%.4f\","
                              "\"volume24h\":\"%.3f\"}",
                              listed++ ? "," : "", s->name, s->dp, s->base, s->quote_volume,
                              s->quote_volume / s->base);
    }
    snprintf(o + n, cap - n, "]}");
    return ok_answer(o);
}

static char *rest_kline(struct lws *wsi)
{
    char a[64], b[16], c[32], d[32], e[32];
    const char *sym = arg(wsi, "symbol=", a, sizeof a), *ivn = arg(wsi, "interval=", b, sizeof b);
    const char *start = arg(wsi, "start=", c, sizeof c), *end = arg(wsi, "end=", d, sizeof d);
    const char *lim = arg(wsi, "limit=", e, sizeof e);
    int s = sym ? market_find(&S.market, sym) : -1, iv = ivn ? iv_find(ivn, strlen(ivn)) : -1;
    long limit = lim ? atol(lim) : 200;
    if (s < 0 || strcmp(S.market.sym[s].name, sym))
        return ret(10001, "Not supported symbols");
    if (iv < 0)
        return ret(10001, "Invalid period!");
    if (limit < 1 || limit > 1000)
        return ret(10001, "params error: limit");
    int64_t ms = ivs[iv].ms, now = market_ms();
    int64_t to = end ? atoll(end) : now, from = start ? atoll(start) : 0;
    if (to > now)
        to = now;
    int64_t newest = to / ms * ms;
    size_t cap = 128 + (size_t)limit * 160, n = 0;
    char *o = malloc(cap);
    n += (size_t)snprintf(o, cap, "{\"category\":\"linear\",\"symbol\":\"%s\",\"list\":[",
                          S.market.sym[s].name);
    int rows = 0, dp = S.market.sym[s].dp;
    int64_t oldest = newest;
    for (int64_t op = newest; op >= from && op >= 0 && rows < limit; op -= ms, rows++) {
        struct fake_candle k;
        market_candle(&S.market, s, ms, op, now, &k);
        struct price_text t;
        prices(&t, dp, &k);
        n += (size_t)snprintf(o + n, cap - n,
                              "%s[\"%lld\",\"%s\",\"%s\",\"%s\",\"%s\",\"%.3f\",\"%.4f\"]",
                              rows ? "," : "", (long long)op, t.s[0], t.s[2], t.s[3], t.s[1],
                              k.volume, k.quote_volume);
        oldest = op;
    }
    snprintf(o + n, cap - n, "]}");
    printf("klines %s %s limit=%ld rows=%d first=%lld last=%lld\n", S.market.sym[s].name,
           ivs[iv].name, limit, rows, (long long)oldest, (long long)newest);
    fflush(stdout);
    return ok_answer(o);
}

/* The IP limit: 0, or -1 (403) while over it and for the ban after. */
static int ip_take(void)
{
    int64_t now = real_ms();
    if (now < S.banned_until)
        return -1;
    if (now - S.window_start >= 5000) {
        S.window_start = now;
        S.window_count = 0;
    }
    if (++S.window_count > S.ip_limit) {
        S.banned_until = now + S.ban_s * 1000;
        S.window_start = S.banned_until;   /* a fresh window once the ban ends */
        S.window_count = 0;
        return -1;
    }
    return 0;
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

static void do_malformed(struct conn *c, long count)
{
    static const char *const bad[] = {
        "{\"topic\":\"kline.1.BTCUSDT\",\"data\":[{\"start\":60000,",   /* truncated */
        "not json at all",
        "{\"topic\":\"kline.1.BTCUSDT\",\"data\":[{\"start\":60000,\"end\":119999,\"interval\":\"1\",\"open\":\"abc\",\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"1\",\"confirm\":false,\"timestamp\":1}],\"ts\":1,\"type\":\"snapshot\"}",
        "{\"topic\":\"kline.1.NOSUCHUSDT\",\"data\":[{\"start\":60000,\"end\":119999,\"interval\":\"1\",\"open\":\"1\",\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"1\",\"confirm\":false,\"timestamp\":1}],\"ts\":1,\"type\":\"snapshot\"}",
        "{\"topic\":\"kline.5.BTCUSDT\",\"data\":[{\"start\":60000,\"end\":119999,\"interval\":\"1\",\"open\":\"1\",\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"1\",\"confirm\":false,\"timestamp\":1}],\"ts\":1,\"type\":\"snapshot\"}",
        /* a good entry (an old closed candle: history only) beside one
         * whose end is off */
        "{\"topic\":\"kline.1.BTCUSDT\",\"data\":[{\"start\":60000,\"end\":119999,\"interval\":\"1\",\"open\":\"1\",\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"1\",\"confirm\":true,\"timestamp\":1},{\"start\":120000,\"end\":180000,\"interval\":\"1\",\"open\":\"1\",\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\",\"turnover\":\"1\",\"confirm\":true,\"timestamp\":1}],\"ts\":1,\"type\":\"snapshot\"}",
    };
    for (long i = 0; i < count; i++)
        enqueue(c, strdup(bad[i % (long)(sizeof bad / sizeof *bad)]));
}

static char *control(struct lws *wsi, const char *path, int *status)
{
    char v[64], cd[16], out[1024];
    const char *val = arg(wsi, "value=", v, sizeof v);
    long n = val ? atol(val) : 0;
    if (!strcmp(path, "/control/drop")) {
        each_conn(do_drop, 0);
    } else if (!strcmp(path, "/control/cut")) {
        each_conn(do_cut, 0);
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
        const char *code = arg(wsi, "code=", cd, sizeof cd);
        S.rest_fail_code = code ? atol(code) : 10006;
        S.rest_fail_count = (int)n;
    } else if (!strcmp(path, "/control/stats")) {
        size_t k = 0;
        int conns = 0;
        k += (size_t)snprintf(out, sizeof out, "{\"topics_per_connection\":[");
        for (int i = 0; i < MAX_CONNS; i++)
            if (S.conns[i].used)
                k += (size_t)snprintf(out + k, sizeof out - k, "%s%d", conns++ ? "," : "",
                                      S.conns[i].ntopics);
        snprintf(out + k, sizeof out - k,
                 "],\"connections\":%d,\"connections_total\":%ld,\"frames_sent\":%ld,"
                 "\"requests\":%ld,\"pings\":%ld,\"kicked_ping\":%ld,\"refused_args\":%ld,"
                 "\"refused_topics\":%ld,\"rest_403\":%ld,\"rest_refused\":%ld,\"market_ms\":%lld}",
                 conns, S.connections_total, S.frames_sent, S.requests, S.pings, S.kicked_ping,
                 S.refused_args, S.refused_topics, S.rest_403, S.rest_refused,
                 (long long)market_ms());
        return strdup(out);
    } else {
        *status = 404;
        return strdup("{\"error\":\"unknown control\"}");
    }
    return strdup("{\"ok\":true}");
}

static char *route(struct lws *wsi, const char *path, struct pss *p)
{
    char cat[32];
    const char *category = arg(wsi, "category=", cat, sizeof cat);
    if (!strncmp(path, "/control/", 9))
        return control(wsi, path, &p->status);
    if (ip_take() != 0) {
        S.rest_403++;
        p->status = 403;
        p->type = "text/plain";
        return strdup("403, access too frequent");
    }
    if (strncmp(path, "/v5/market/", 11) != 0) {
        p->status = 404;
        return ret(10017, "Route not found");
    }
    if (S.rest_fail_count > 0) {
        S.rest_fail_count--;
        S.rest_refused++;
        return ret(S.rest_fail_code, S.rest_fail_code == 10006 ? "Too many visits!" : "Server error");
    }
    if (!category || strcmp(category, "linear"))
        return ret(10001, "params error: category");
    if (!strcmp(path, "/v5/market/instruments-info"))
        return rest_instruments(wsi);
    if (!strcmp(path, "/v5/market/tickers"))
        return rest_tickers();
    if (!strcmp(path, "/v5/market/kline"))
        return rest_kline(wsi);
    p->status = 404;
    return ret(10017, "Route not found");
}

static int http_request(struct lws *wsi, struct pss *p, const char *path)
{
    p->status = 200;
    p->type = "application/json";
    p->body = route(wsi, path, p);
    p->len = strlen(p->body);
    uint8_t hb[LWS_PRE + 512], *start = hb + LWS_PRE, *q = start, *end = hb + sizeof hb - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)p->status, p->type, (lws_filepos_t)p->len, &q, end) ||
        lws_finalize_write_http_header(wsi, start, &q, end))
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
            c->id = (int)++S.connections_total;
            c->last_ping = real_ms();
            return c;
        }
    return NULL;
}

static void conn_free(struct conn *c)
{
    free(c->msg);
    while (c->qlen) {
        free(c->queue[c->qhead]);
        c->qhead = (c->qhead + 1) % QUEUE;
        c->qlen--;
    }
    c->used = 0;
}

static int on_receive(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
    /* lws hands over a message in pieces as it arrives: put it together */
    char *m = realloc(c->msg, c->msg_len + len + 1);
    if (!m)
        return -1;
    c->msg = m;
    memcpy(c->msg + c->msg_len, in, len);
    c->msg_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    handle_message(c, c->msg, c->msg_len);
    c->msg_len = 0;
    return 0;
}

static int on_writable(struct conn *c, struct lws *wsi)
{
    if (c->drop)
        return -1;
    if (c->cut) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"cut", 3);
        return -1;
    }
    if (c->qlen) {
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
    if (c->qlen)
        lws_callback_on_writable(wsi);
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
        if (n != (int)p->len)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:   /* may come before any request: no pss */
        if (p) {
            free(p->body);
            p->body = NULL;
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[256] = "";
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        return strcmp(uri, "/v5/public/linear") != 0;   /* only linear's stream: no upgrade */
    }
    case LWS_CALLBACK_ESTABLISHED:
        p->c = conn_new(wsi);
        return p->c ? 0 : -1;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(p->c, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writable(p->c, wsi);
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
    {"bybit", on_event, sizeof(struct pss), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    exit(0);   /* a test fixture: nothing to save */
}

static long opt(const char *name, const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end || n < 0) {
        fprintf(stderr, "fake_bybit: %s wants a non-negative number, not '%s'\n", name, v);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    int port = 0, nsym = 5;
    S.tick_ms = 250;
    S.ping_window_s = 600;
    S.ip_limit = 600;
    S.ban_s = 600;
    S.speed = 1;
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--batch")) {   /* (the one option without a value) */
            S.batch = 1;
            i--;
            continue;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "fake_bybit: %s needs a value\n", argv[i]);
            return 2;
        }
        long v = opt(argv[i], argv[i + 1]);
        if (!strcmp(argv[i], "--port")) port = (int)v;
        else if (!strcmp(argv[i], "--symbols")) nsym = (int)v;
        else if (!strcmp(argv[i], "--tick-ms")) S.tick_ms = (int)(v ? v : 1);
        else if (!strcmp(argv[i], "--ping-window-s")) S.ping_window_s = (int)v;
        else if (!strcmp(argv[i], "--ip-limit")) S.ip_limit = v;
        else if (!strcmp(argv[i], "--ban-s")) S.ban_s = v;
        else if (!strcmp(argv[i], "--page-size")) S.page_size = v;
        else if (!strcmp(argv[i], "--speed")) S.speed = (double)(v ? v : 1);
        else {
            fprintf(stderr, "fake_bybit: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    market_init(&S.market, nsym);
    S.started_ms = real_ms();
    uv_loop_init(&S.loop);
    lws_set_log_level(LLL_ERR, NULL);
    void *loops[1] = {&S.loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    S.ctx = lws_create_context(&info);
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    struct lws_vhost *vh = S.ctx ? lws_create_vhost(S.ctx, &info) : NULL;
    if (!vh) {
        fprintf(stderr, "fake_bybit: cannot listen on port %d\n", port);
        return 1;
    }
    printf("fake_bybit listening on port %d\n", lws_get_vhost_listen_port(vh));
    fflush(stdout);
    uv_timer_init(&S.loop, &S.tick);
    uv_timer_start(&S.tick, on_tick, (uint64_t)S.tick_ms, (uint64_t)S.tick_ms);
    uv_signal_init(&S.loop, &S.sigterm);
    uv_signal_start(&S.sigterm, on_signal, SIGTERM);
    uv_signal_init(&S.loop, &S.sigint);
    uv_signal_start(&S.sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    uv_run(&S.loop, UV_RUN_DEFAULT);
    return 0;
}
