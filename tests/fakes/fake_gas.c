/* fake_gas: a stand-in for Ethereum gas data on loopback, for end-to-end
 * tests of the bot's gas alerts.  One port serves both sources the bot
 * reads: Etherscan's API v2 gas oracle and an Ethereum JSON-RPC node.  It
 * answers with the real shapes and error texts and enforces Etherscan's
 * free-tier limits, so a bot that misbehaves fails its tests.
 *
 * usage: fake_gas --port N [--key K ...] [--chain 1] [--block-ms 12000]
 *                 [--daily-limit 100000]
 *   --port 0 picks a free port; prints "fake_gas listening on port N".
 *   --key: a valid Etherscan key (repeatable, at most 16); without any,
 *     every non-empty key is valid.
 *   --chain: the one chainid served (others: Etherscan's chainid error).
 *   --block-ms: a block is mined every so often with the current series
 *     (0: only when the series changes).
 *   --daily-limit: Etherscan calls per key per UTC day.
 *   SIGINT/SIGTERM: clean exit, status 0.
 *
 * Etherscan: GET /v2/api?chainid=1&module=gastracker&action=gasoracle&apikey=K
 *   {"status":"1","message":"OK","result":{"LastBlock":"..","SafeGasPrice":"..",
 *   "ProposeGasPrice":"..","FastGasPrice":"..","suggestBaseFee":"..",
 *   "gasUsedRatio":"r1,..,r5"}}, every value a string, prices in gwei.
 *   Errors come with HTTP 200 as {"status":"0","message":"NOTOK","result":TEXT}:
 *   the V1 path /api -> "You are using a deprecated V1 endpoint, ...";
 *   chainid missing or not --chain -> "Missing or unsupported chainid ...";
 *   module/action other than gastracker/gasoracle -> "Error! Missing Or
 *   invalid Module name" / "... Action name"; more than 5 invalid keys in
 *   30 s -> "Too many invalid api key attempts, please try again later"
 *   for 30 s; no key -> "Missing/Invalid API Key"; a key not in --key ->
 *   "Invalid API Key"; a 4th call of one key within a second -> "Max rate
 *   limit reached"; past --daily-limit calls of a key in a UTC day ->
 *   "Max daily rate limit reached. ...".  Refused calls do not count
 *   against the limits.
 *
 * JSON-RPC 2.0: POST / or /rpc, Content-Type application/json, one call or
 *   a batch (at most 1000; notifications get no answer), answered as geth
 *   answers: eth_feeHistory [blockCount, newest, [percentiles]] (at most
 *   1024 blocks, percentiles strictly increasing; newest "latest", "pending", "safe", "finalized",
 *   "earliest" or a hex number), eth_gasPrice, eth_blockNumber,
 *   eth_chainId.  -32700 parse error, -32600 invalid request / empty batch,
 *   -32601 method not found, -32602 invalid params, -32000 for percentiles
 *   out of order or range and blocks beyond the head.  Other content types:
 *   HTTP 415; other methods: 405.
 *
 * The series: the lanes now (safe, propose, fast, and the base fee:
 *   Etherscan's suggestBaseFee, the next block's base fee).  Each mined
 *   block keeps its base fee and its tips (lane - base): eth_feeHistory's
 *   rewards at the 20th/50th/80th percentiles are the safe/propose/fast
 *   tips (straight lines between, and to 0 -> tip/2, 100 -> 2 fast - propose),
 *   so the next base fee plus the median tip over blocks gives the lanes
 *   back once the window holds only blocks of the current series.  A
 *   block's gasUsedRatio is the one EIP-1559 implies from its base fee and
 *   the next (clamped to 0..1).  eth_gasPrice is the propose lane.
 *
 * Test control, same port (JSON in, JSON out; 400 {"error":..} when wrong):
 *   POST /control/series {"safe":1.2,"propose":1.5,"fast":2,"base":1,"blocks":N}
 *        lanes in gwei (missing ones unchanged); mines N blocks (default 1,
 *        at most 1024: 20 fills an eth_feeHistory window of 20) and ends a script
 *   POST /control/script {"steps":[{"fast":9},{"fast":7.5},...],
 *        "advance":"call"|"second","every":S,"blocks":N}
 *        the first step now; then one step per answered gas call (an
 *        Etherscan OK, an RPC call with eth_feeHistory or eth_gasPrice) or
 *        every S seconds (default 1); the last step stays.  A step's
 *        missing lanes are the previous step's.
 *   POST /control/fault {"source":"etherscan"|"rpc","kind":K,"count":N,...}
 *        K: "status" (HTTP "status", default 500), "hang" (never answered),
 *        "garbage" (200 and a body that is not JSON), "error" (Etherscan:
 *        NOTOK with "text"; RPC: a -32000 error with "text"), "delay"
 *        ("delay_ms" before the normal answer).  The next N calls of that
 *        source (default: until cleared); {"clear":true[,"source":..]}.
 *   GET  /control/stats   calls, answers, errors by kind, faults, rate-limit
 *        hits, the most calls in any one second, per source; the block and lanes
 *   POST /control/reset   zeroes the stats
 */
#include <cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uv.h>

#include "fakehttp.h"
#include "fakeutil.h"

#define MAX_HEAD 16384
#define MAX_BODY (5 << 20)
#define RING 1024           /* blocks kept: geth's eth_feeHistory maximum */
#define MAX_KEYS 16
#define MAX_STEPS 256
#define MAX_BATCH 1000
#define WINDOW 256          /* call times kept to find the busiest second */
#define GWEI ((int64_t)1000000000)

enum src { SRC_ES, SRC_RPC, NSRC };
static const char *const src_name[NSRC] = {"etherscan", "rpc"};

enum fault_kind { F_NONE, F_STATUS, F_HANG, F_GARBAGE, F_ERROR, F_DELAY };

struct lanes {
    int64_t safe, propose, fast, base;   /* wei */
};

struct block {
    int64_t number;
    struct lanes v;
};

struct fault {
    enum fault_kind kind;
    int status;
    long count;           /* calls left; -1: until cleared */
    long delay_ms;
    char text[256];
};

struct key {
    char name[128];
    int64_t last[3];      /* the last 3 accepted calls, ms */
    int64_t day;          /* UTC day of day_calls */
    long day_calls;
};

struct src_stats {
    long calls, ok, errors, faults, invalid_key, throttled, rate_limited, daily_limited,
        bad_chain, v1, bad_module, forced, requests, max_per_s;
    long by_method[5];    /* eth_feeHistory eth_gasPrice eth_blockNumber eth_chainId other */
    int64_t times[WINDOW];
    size_t ntimes;
};

static struct {
    struct key keys[MAX_KEYS];
    int nkeys, open_keys;   /* open_keys: no --key, every key valid */
    long chain, block_ms, daily_limit;
    /* the chain */
    struct block ring[RING];
    int64_t latest;       /* number of the newest block; ring[latest % RING] */
    int64_t next_block_at;
    struct lanes now;
    /* a script */
    struct lanes steps[MAX_STEPS];
    int nsteps, step, by_second, fresh, script_blocks;
    int64_t script_start, every_ms;
    /* Etherscan's invalid-key throttle (all callers are one IP here) */
    int64_t invalid_at[6];
    int64_t throttled_until;
    struct fault fault[NSRC];
    struct src_stats st[NSRC];
} S;

static int64_t now_ms(void) { return (int64_t)(uv_hrtime() / 1000000); }

/* ---- the chain and the series ---- */

static int64_t tip(int64_t lane, int64_t base) { return lane > base ? lane - base : 0; }

/* The reward at percentile p of a block: the lanes' tips at 20/50/80. */
static int64_t block_reward(const struct lanes *v, double p)
{
    double s = (double)tip(v->safe, v->base), m = (double)tip(v->propose, v->base),
           f = (double)tip(v->fast, v->base);
    static const double at[5] = {0, 20, 50, 80, 100};
    double y[5] = {s / 2, s, m, f, 2 * f - m < f ? f : 2 * f - m};
    for (int i = 1; i < 5; i++)
        if (p <= at[i])
            return (int64_t)llround(y[i - 1] + (y[i] - y[i - 1]) * (p - at[i - 1]) / (at[i] - at[i - 1]));
    return (int64_t)llround(y[4]);
}

static const struct block *block_at(int64_t n) { return &S.ring[n % RING]; }

static void chain_mine(int blocks)
{
    for (int i = 0; i < blocks; i++) {
        S.latest++;
        S.ring[S.latest % RING] = (struct block){S.latest, S.now};
    }
    if (S.block_ms > 0)
        S.next_block_at = now_ms() + S.block_ms;
}

/* gasUsedRatio of block n: what EIP-1559 implies from its base fee and
 * the next one's (next = base * (1 + (2 ratio - 1) / 8)). */
static double block_used(int64_t n)
{
    int64_t base = block_at(n)->v.base;
    int64_t next = n < S.latest ? block_at(n + 1)->v.base : S.now.base;
    if (base <= 0)
        return 0.5;
    double r = 0.5 + 4.0 * ((double)next / (double)base - 1.0);
    return r < 0 ? 0 : r > 1 ? 1 : r;
}

/* The script's step for the time now (per-second scripts); the chain mined
 * up to now.  Called before every answer. */
static void chain_catch_up(void)
{
    int64_t t = now_ms();
    if (S.nsteps && S.by_second) {
        int64_t k = (t - S.script_start) / S.every_ms;
        int want = k >= S.nsteps ? S.nsteps - 1 : (int)k;
        if (want != S.step) {
            S.step = want;
            S.now = S.steps[want];
            chain_mine(S.script_blocks);
        }
    }
    if (S.block_ms > 0 && t >= S.next_block_at) {
        /* the blocks due since the last call (past a ring's worth, only counted) */
        int64_t due = (t - S.next_block_at) / S.block_ms + 1, next = S.next_block_at + due * S.block_ms;
        S.latest += due > RING ? due - RING : 0;
        chain_mine(due > RING ? RING : (int)due);
        S.next_block_at = next;
    }
}

/* A gas call was answered: a per-call script moves on (the first call
 * after the script was set gets its first step). */
static void series_called(void)
{
    if (!S.nsteps || S.by_second)
        return;
    if (S.fresh) {
        S.fresh = 0;
        return;
    }
    if (S.step + 1 < S.nsteps) {
        S.now = S.steps[++S.step];
        chain_mine(S.script_blocks);
    }
}

static void chain_init(void)
{
    S.now = (struct lanes){.safe = 1200000000, .propose = 1500000000, .fast = 2000000000, .base = 1000000000};
    S.latest = 23467872 - RING;
    chain_mine(RING);
}

/* "12.5" for 12500000000 wei: gwei with up to 9 decimals, as Etherscan prints. */
static void gwei_str(char *out, size_t size, int64_t wei)
{
    int n = snprintf(out, size, "%" PRId64 ".%09" PRId64, wei / GWEI, wei % GWEI);
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
}

/* ---- stats ---- */

static void stats_call(enum src s)
{
    struct src_stats *st = &S.st[s];
    int64_t t = now_ms();
    st->calls++;
    st->times[st->ntimes++ % WINDOW] = t;
    long in_second = 0;
    size_t kept = st->ntimes < WINDOW ? st->ntimes : WINDOW;
    for (size_t i = 0; i < kept; i++)
        if (st->times[i] > t - 1000)
            in_second++;
    if (in_second > st->max_per_s)
        st->max_per_s = in_second;
}

/* ---- HTTP ---- */

static void respond_json(struct fakehttp_conn *c, int status, const char *body)
{
    fakehttp_respond(c, status, "application/json", body);
}

/* ---- faults ---- */

/* The source's armed fault for this call (kind F_NONE when none), counted
 * down and counted. */
static struct fault fault_take(enum src s)
{
    struct fault *f = &S.fault[s], hit = *f;
    if (f->kind == F_NONE)
        return hit;
    if (f->count > 0 && --f->count == 0)
        f->kind = F_NONE;
    S.st[s].faults++;
    return hit;
}

/* Answers the call for the faults that replace the whole answer (an HTTP
 * error, a hang, garbage): 1 when it did. */
static int fault_answer(struct fakehttp_conn *c, const struct fault *f)
{
    char page[256];
    switch (f->kind) {
    case F_STATUS:
        snprintf(page, sizeof page, "<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>\n",
                 f->status, fakehttp_reason(f->status), f->status, fakehttp_reason(f->status));
        fakehttp_respond(c, f->status, "text/html", page);
        return 1;
    case F_HANG:
        fakehttp_hang(c);   /* the request stays unanswered until the client gives up */
        return 1;
    case F_GARBAGE:
        fakehttp_respond(c, 200, "application/json", "{\"status\":\"1\",\"message\":\"OK\",\"result\":{\"LastBlock\":\"2346\x01\xfe<html>");
        return 1;
    default:
        return 0;
    }
}

/* s as a JSON string (quotes and escapes) appended to b. */
static void buf_json_str(struct buf *b, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = cJSON_PrintUnformatted(j);
    buf_str(b, t);
    free(t);
    cJSON_Delete(j);
}

/* ---- Etherscan ---- */

#define ES_CHAIN "Missing or unsupported chainid parameter (required for v2 api), please see " \
                 "https://api.etherscan.io/v2/chainlist for the list of supported chainids"
#define ES_V1 "You are using a deprecated V1 endpoint, switch to Etherscan API V2."
#define ES_THROTTLED "Too many invalid api key attempts, please try again later"

static void es_notok(struct fakehttp_conn *c, const char *text, long delay_ms)
{
    struct buf b = {0};
    buf_str(&b, "{\"status\":\"0\",\"message\":\"NOTOK\",\"result\":");
    buf_json_str(&b, text);
    buf_str(&b, "}");
    S.st[SRC_ES].errors++;
    fakehttp_respond_after(c, 200, "application/json", b.p, delay_ms);
    buf_free(&b);
}

static struct key *key_find(const char *name)
{
    for (int i = 0; i < S.nkeys; i++)
        if (!strcmp(S.keys[i].name, name))
            return &S.keys[i];
    return NULL;
}

static struct key *key_add(const char *name)
{
    struct key *k = &S.keys[S.nkeys < MAX_KEYS ? S.nkeys++ : MAX_KEYS - 1];
    snprintf(k->name, sizeof k->name, "%s", name);
    k->last[0] = k->last[1] = k->last[2] = INT64_MIN / 2;
    k->day = -1;
    k->day_calls = 0;
    return k;
}

/* An invalid key: counted; the 6th within 30 s throttles every key for 30 s. */
static void es_invalid(int64_t t)
{
    S.st[SRC_ES].invalid_key++;
    memmove(S.invalid_at, S.invalid_at + 1, sizeof S.invalid_at - sizeof S.invalid_at[0]);
    S.invalid_at[5] = t;
    if (S.invalid_at[0] > t - 30000)
        S.throttled_until = t + 30000;
}

/* A refusal: counted under its kind, then its text. */
static const char *es_refuse(long *counter, const char *text)
{
    (*counter)++;
    return text;
}

/* The key's checks, in Etherscan's order; NULL when the call may go on
 * (then counted against the key's second and day). */
static const char *es_key_check(const char *query, int open_keys)
{
    static char daily[160];
    char name[sizeof S.keys[0].name];
    int64_t t = now_ms();
    if (t < S.throttled_until)
        return es_refuse(&S.st[SRC_ES].throttled, ES_THROTTLED);
    int given = fakehttp_query(query, "apikey", name, sizeof name) && name[0];
    struct key *k = given ? key_find(name) : NULL;
    if (!k && given && open_keys)
        k = key_add(name);
    if (!k) {
        es_invalid(t);
        return given ? "Invalid API Key" : "Missing/Invalid API Key";
    }
    if (k->last[0] > t - 1000)
        return es_refuse(&S.st[SRC_ES].rate_limited, "Max rate limit reached");
    int64_t day = (int64_t)time(NULL) / 86400;
    if (k->day != day) {
        k->day = day;
        k->day_calls = 0;
    }
    if (k->day_calls >= S.daily_limit) {
        snprintf(daily, sizeof daily, "Max daily rate limit reached. %ld (100%%) of %ld day limit",
                 k->day_calls, S.daily_limit);
        return es_refuse(&S.st[SRC_ES].daily_limited, daily);
    }
    k->last[0] = k->last[1];
    k->last[1] = k->last[2];
    k->last[2] = t;
    k->day_calls++;
    return NULL;
}

static const char *es_check(const char *query, int open_keys)
{
    char v[64], *e = NULL;
    if (!fakehttp_query(query, "chainid", v, sizeof v) || !v[0] || strtol(v, &e, 10) != S.chain || *e)
        return es_refuse(&S.st[SRC_ES].bad_chain, ES_CHAIN);
    if (!fakehttp_query(query, "module", v, sizeof v) || strcmp(v, "gastracker"))
        return es_refuse(&S.st[SRC_ES].bad_module, "Error! Missing Or invalid Module name");
    if (!fakehttp_query(query, "action", v, sizeof v) || strcmp(v, "gasoracle"))
        return es_refuse(&S.st[SRC_ES].bad_module, "Error! Missing Or invalid Action name");
    return es_key_check(query, open_keys);
}

static void es_ok(struct fakehttp_conn *c, long delay_ms)
{
    series_called();
    char safe[32], propose[32], fast[32], base[32], body[640], used[160] = "";
    gwei_str(safe, sizeof safe, S.now.safe);
    gwei_str(propose, sizeof propose, S.now.propose);
    gwei_str(fast, sizeof fast, S.now.fast);
    gwei_str(base, sizeof base, S.now.base);
    for (int64_t n = S.latest - 4; n <= S.latest; n++)
        snprintf(used + strlen(used), sizeof used - strlen(used), "%s%.15g", n > S.latest - 4 ? "," : "",
                 block_used(n));
    snprintf(body, sizeof body,
             "{\"status\":\"1\",\"message\":\"OK\",\"result\":{\"LastBlock\":\"%" PRId64 "\",\"SafeGasPrice\":\"%s\","
             "\"ProposeGasPrice\":\"%s\",\"FastGasPrice\":\"%s\",\"suggestBaseFee\":\"%s\",\"gasUsedRatio\":\"%s\"}}",
             S.latest, safe, propose, fast, base, used);
    S.st[SRC_ES].ok++;
    fakehttp_respond_after(c, 200, "application/json", body, delay_ms);
}

static void es_answer(struct fakehttp_conn *c, const struct fakehttp_req *q, int v1)
{
    stats_call(SRC_ES);
    struct fault f = fault_take(SRC_ES);
    if (fault_answer(c, &f))
        return;
    long delay = f.kind == F_DELAY ? f.delay_ms : 0;
    if (f.kind == F_ERROR) {
        S.st[SRC_ES].forced++;
        es_notok(c, f.text, 0);
        return;
    }
    if (v1) {
        S.st[SRC_ES].v1++;
        es_notok(c, ES_V1, delay);
        return;
    }
    const char *err = es_check(q->query, S.open_keys);
    if (err)
        es_notok(c, err, delay);
    else
        es_ok(c, delay);
}

/* ---- JSON-RPC ---- */

enum { M_FEE_HISTORY, M_GAS_PRICE, M_BLOCK_NUMBER, M_CHAIN_ID, M_OTHER };
static const char *const methods[] = {"eth_feeHistory", "eth_gasPrice", "eth_blockNumber", "eth_chainId"};

static int method_index(const char *m)
{
    for (int i = 0; i < M_OTHER; i++)
        if (!strcmp(m, methods[i]))
            return i;
    return M_OTHER;
}

static cJSON *rpc_envelope(const cJSON *id)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "jsonrpc", "2.0");
    cJSON_AddItemToObject(r, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    return r;
}

static cJSON *rpc_error(const cJSON *id, int code, const char *msg)
{
    cJSON *r = rpc_envelope(id), *e = cJSON_AddObjectToObject(r, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    S.st[SRC_RPC].errors++;
    return r;
}

static cJSON *rpc_result(const cJSON *id, cJSON *result)
{
    cJSON *r = rpc_envelope(id);
    cJSON_AddItemToObject(r, "result", result);
    return r;
}

static cJSON *hex(int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "0x%" PRIx64, (uint64_t)v);
    return cJSON_CreateString(s);
}

/* A quantity as geth's HexOrDecimal64 reads it: "0x14", "20" or 20. */
static int parse_count(const cJSON *j, int64_t *out)
{
    if (cJSON_IsNumber(j)) {
        *out = (int64_t)j->valuedouble;
        return j->valuedouble >= 0 && j->valuedouble < 1e15 && j->valuedouble == floor(j->valuedouble);
    }
    if (!cJSON_IsString(j) || !j->valuestring[0])
        return 0;
    const char *s = j->valuestring;
    int is_hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    char *e = NULL;
    long long v = strtoll(is_hex ? s + 2 : s, &e, is_hex ? 16 : 10);
    if (*e || e == (is_hex ? s + 2 : s) || v < 0)
        return 0;
    *out = v;
    return 1;
}

/* The newest block asked for, as geth's BlockNumber reads it. */
static int parse_newest(const cJSON *j, int64_t *out)
{
    if (!cJSON_IsString(j))
        return 0;
    const char *s = j->valuestring;
    if (!strcmp(s, "latest")) *out = S.latest;
    else if (!strcmp(s, "pending")) *out = S.latest + 1;
    else if (!strcmp(s, "safe")) *out = S.latest - 32;
    else if (!strcmp(s, "finalized")) *out = S.latest - 64;
    else if (!strcmp(s, "earliest")) *out = 0;
    else {
        char *e = NULL;
        if (strncmp(s, "0x", 2) || !s[2])
            return 0;
        *out = (int64_t)strtoll(s + 2, &e, 16);
        return !*e;
    }
    return 1;
}

/* Block n's lanes (the pending block's are the series' now). */
static struct lanes block_lanes(int64_t n) { return n > S.latest ? S.now : block_at(n)->v; }

static double block_used_any(int64_t n) { return n > S.latest ? 0.5 : block_used(n); }

/* The percentiles as geth takes them (absent, or strictly increasing
 * numbers 0..100, at most 100); 0 with *code and msg set otherwise. */
static int check_percentiles(const cJSON *ps, double *p, int *np, int *code, char *msg, size_t size)
{
    const cJSON *it;
    *np = 0;
    *code = -32602;
    if (!ps || cJSON_IsNull(ps))
        return 1;
    if (!cJSON_IsArray(ps)) {
        snprintf(msg, size, "invalid argument 2: json: cannot unmarshal %s into Go value of type []float64",
                 cJSON_IsString(ps) ? "string" : cJSON_IsNumber(ps) ? "number" : "object");
        return 0;
    }
    cJSON_ArrayForEach(it, ps) {
        if (!cJSON_IsNumber(it)) {
            snprintf(msg, size, "invalid argument 2: json: cannot unmarshal %s into Go value of type float64",
                     cJSON_IsString(it) ? "string" : "object");
            return 0;
        }
        *code = -32000;
        double v = it->valuedouble;
        if (*np >= 100)
            snprintf(msg, size, "invalid reward percentile: over the query limit 100");
        else if (v < 0 || v > 100)
            snprintf(msg, size, "invalid reward percentile: %f", v);
        else if (*np > 0 && v <= p[*np - 1])
            snprintf(msg, size, "invalid reward percentile: #%d:%f >= #%d:%f", *np - 1, p[*np - 1], *np, v);
        else {
            p[(*np)++] = v;
            continue;
        }
        return 0;
    }
    return 1;
}

/* The result for blocks [oldest, newest] (newest may be the pending one). */
static cJSON *fee_history(int64_t oldest, int64_t newest, const double *p, int np)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "oldestBlock", hex(oldest));
    cJSON *bases = cJSON_AddArrayToObject(r, "baseFeePerGas"), *blob = cJSON_AddArrayToObject(r, "baseFeePerBlobGas");
    cJSON *used = cJSON_AddArrayToObject(r, "gasUsedRatio"), *blob_used = cJSON_AddArrayToObject(r, "blobGasUsedRatio");
    cJSON *reward = np ? cJSON_AddArrayToObject(r, "reward") : NULL;
    for (int64_t n = oldest; n <= newest; n++) {
        struct lanes v = block_lanes(n);
        cJSON_AddItemToArray(bases, hex(v.base));
        cJSON_AddItemToArray(blob, hex(1));
        cJSON_AddItemToArray(used, cJSON_CreateNumber(block_used_any(n)));
        cJSON_AddItemToArray(blob_used, cJSON_CreateNumber(0));
        if (reward) {
            cJSON *row = cJSON_CreateArray();
            for (int i = 0; i < np; i++)
                cJSON_AddItemToArray(row, hex(block_reward(&v, p[i])));
            cJSON_AddItemToArray(reward, row);
        }
    }
    cJSON_AddItemToArray(bases, hex(newest < S.latest ? block_at(newest + 1)->v.base : S.now.base));
    cJSON_AddItemToArray(blob, hex(1));
    return r;
}

static cJSON *rpc_fee_history(const cJSON *id, const cJSON *params, int n)
{
    char msg[200];
    int code = -32602, np;
    int64_t count, newest;
    double p[100];
    if (n < 2)
        return snprintf(msg, sizeof msg, "missing value for required argument %d", n), rpc_error(id, -32602, msg);
    if (n > 3)
        return rpc_error(id, -32602, "too many arguments, want at most 3");
    const cJSON *a0 = cJSON_GetArrayItem(params, 0), *a1 = cJSON_GetArrayItem(params, 1);
    if (!parse_count(a0, &count)) {
        char *t = cJSON_PrintUnformatted(a0);
        snprintf(msg, sizeof msg, "invalid argument 0: invalid hex or decimal integer %.80s", t);
        free(t);
        return rpc_error(id, -32602, msg);
    }
    if (!parse_newest(a1, &newest))
        return rpc_error(id, -32602, "invalid argument 1: hex string without 0x prefix");
    if (!check_percentiles(n > 2 ? cJSON_GetArrayItem(params, 2) : NULL, p, &np, &code, msg, sizeof msg))
        return rpc_error(id, code, msg);
    if (count == 0)
        return rpc_result(id, cJSON_Parse("{\"oldestBlock\":\"0x0\"}"));
    if (newest > S.latest + 1 || (newest > S.latest && strcmp(a1->valuestring, "pending"))) {
        snprintf(msg, sizeof msg, "request beyond head block: requested %" PRId64 ", head %" PRId64, newest, S.latest);
        return rpc_error(id, -32000, msg);
    }
    int64_t first = S.latest - RING + 1;
    if (newest < first)
        return rpc_error(id, -32000, "pruned history unavailable");
    if (count > RING)
        count = RING;
    int64_t oldest = newest - count + 1 < first ? first : newest - count + 1;
    return rpc_result(id, fee_history(oldest, newest, p, np));
}

/* One call's answer; NULL for a notification (no id: no answer). */
static cJSON *rpc_call(const cJSON *call, const char *forced)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(call, "id");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(call, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(call, "params");
    if (!cJSON_IsObject(call) || !cJSON_IsString(m) ||
        (id && !cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id)))
        return rpc_error(NULL, -32600, "invalid request");   /* answered even without an id */
    int which = method_index(m->valuestring), n = cJSON_IsArray(params) ? cJSON_GetArraySize(params) : 0;
    S.st[SRC_RPC].requests++;
    S.st[SRC_RPC].by_method[which]++;
    cJSON *r;
    char msg[200];
    snprintf(msg, sizeof msg, "the method %.100s does not exist/is not available", m->valuestring);
    if (forced)
        r = rpc_error(id, -32000, forced);
    else if (which == M_OTHER)
        r = rpc_error(id, -32601, msg);
    else if (params && !cJSON_IsNull(params) && !cJSON_IsArray(params))
        r = rpc_error(id, -32602, "non-array args");
    else if (which == M_FEE_HISTORY)
        r = rpc_fee_history(id, params, n);
    else if (n > 0)
        r = rpc_error(id, -32602, "too many arguments, want at most 0");
    else
        r = rpc_result(id, which == M_GAS_PRICE ? hex(S.now.propose) : which == M_BLOCK_NUMBER ? hex(S.latest) : hex(S.chain));
    if (id)
        return r;
    cJSON_Delete(r);   /* a notification: done, but not answered */
    return NULL;
}

/* Whether the call (or a batch) asks for gas: a per-call script moves on. */
static int rpc_reads_gas(const cJSON *j)
{
    const cJSON *it;
    if (cJSON_IsArray(j)) {
        cJSON_ArrayForEach(it, j) if (rpc_reads_gas(it)) return 1;
        return 0;
    }
    const cJSON *m = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "method") : NULL;
    return cJSON_IsString(m) && (!strcmp(m->valuestring, "eth_feeHistory") || !strcmp(m->valuestring, "eth_gasPrice"));
}

/* The answer to a body: a call, a batch, or an error object; NULL: none. */
static cJSON *rpc_body(const char *body, size_t len, const char *forced)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j)
        return rpc_error(NULL, -32700, "parse error");
    if (!forced && rpc_reads_gas(j))
        series_called();
    cJSON *out;
    if (!cJSON_IsArray(j)) {
        out = rpc_call(j, forced);
    } else if (cJSON_GetArraySize(j) == 0 || cJSON_GetArraySize(j) > MAX_BATCH) {
        out = rpc_error(NULL, -32600, cJSON_GetArraySize(j) ? "batch too large" : "empty batch");
    } else {
        out = cJSON_CreateArray();
        const cJSON *it;
        cJSON_ArrayForEach(it, j) {
            cJSON *r = rpc_call(it, forced);
            if (r)
                cJSON_AddItemToArray(out, r);
        }
        if (cJSON_GetArraySize(out) == 0) {   /* only notifications: no answer */
            cJSON_Delete(out);
            out = NULL;
        }
    }
    cJSON_Delete(j);
    return out;
}

static void rpc_answer(struct fakehttp_conn *c, const struct fakehttp_req *q)
{
    stats_call(SRC_RPC);
    if (strcmp(q->method, "POST")) {
        fakehttp_respond(c, 405, "text/plain", "method not allowed\n");
        return;
    }
    struct fault f = fault_take(SRC_RPC);
    if (fault_answer(c, &f))
        return;
    if (strncasecmp(q->ctype, "application/json", 16)) {
        fakehttp_respond(c, 415, "text/plain", "invalid content type, only application/json is supported\n");
        return;
    }
    if (f.kind == F_ERROR)
        S.st[SRC_RPC].forced++;
    cJSON *out = rpc_body(q->body, q->body_len, f.kind == F_ERROR ? f.text : NULL);
    char *text = out ? cJSON_PrintUnformatted(out) : NULL;
    if (out && !cJSON_GetObjectItemCaseSensitive(out, "error"))
        S.st[SRC_RPC].ok++;
    fakehttp_respond_after(c, 200, "application/json", text ? text : "", f.kind == F_DELAY ? f.delay_ms : 0);
    free(text);
    cJSON_Delete(out);
}

/* ---- control ---- */

/* The lanes named in o (gwei) over v; NULL or what is wrong. */
static const char *lanes_from(const cJSON *o, struct lanes *v)
{
    static const char *const names[4] = {"safe", "propose", "fast", "base"};
    int64_t *dst[4] = {&v->safe, &v->propose, &v->fast, &v->base};
    if (!cJSON_IsObject(o))
        return "a series is an object of lanes in gwei";
    for (int i = 0; i < 4; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, names[i]);
        if (!x)
            continue;
        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 1e6)
            return "safe, propose, fast and base are numbers of gwei from 0 to 1000000";
        *dst[i] = (int64_t)llround(x->valuedouble * 1e9);
    }
    return NULL;
}

/* Integer field NAME of o into *out when it is there (else dflt): 0 when
 * it is there but not an integer in [lo, hi]. */
static int int_field(const cJSON *o, const char *name, long lo, long hi, long dflt, long *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = dflt;
    if (!x)
        return 1;
    if (!cJSON_IsNumber(x) || x->valuedouble < lo || x->valuedouble > hi || x->valuedouble != floor(x->valuedouble))
        return 0;
    *out = (long)x->valuedouble;
    return 1;
}

static const char *control_series(const cJSON *o)
{
    struct lanes v = S.now;
    const char *err = lanes_from(o, &v);
    long blocks;
    if (!int_field(o, "blocks", 1, RING, 1, &blocks))
        return "blocks is a number from 1 to 1024";
    if (err)
        return err;
    S.nsteps = 0;
    S.now = v;
    chain_mine((int)blocks);
    return NULL;
}

static const char *control_script(const cJSON *o)
{
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(o, "steps"), *it;
    const cJSON *adv = cJSON_GetObjectItemCaseSensitive(o, "advance"), *every = cJSON_GetObjectItemCaseSensitive(o, "every");
    long blocks;
    int n = cJSON_IsArray(steps) ? cJSON_GetArraySize(steps) : 0;
    if (n < 1 || n > MAX_STEPS)
        return "steps is a list of 1 to 256 series";
    if (adv && (!cJSON_IsString(adv) || (strcmp(adv->valuestring, "call") && strcmp(adv->valuestring, "second"))))
        return "advance is \"call\" or \"second\"";
    if (every && (!cJSON_IsNumber(every) || every->valuedouble < 0.01 || every->valuedouble > 86400))
        return "every is a number of seconds from 0.01 to 86400";
    if (!int_field(o, "blocks", 1, RING, 1, &blocks))
        return "blocks is a number from 1 to 1024";
    struct lanes v = S.now;
    int i = 0;
    cJSON_ArrayForEach(it, steps) {
        const char *err = lanes_from(it, &v);
        if (err)
            return err;
        S.steps[i++] = v;
    }
    S.nsteps = n;
    S.step = 0;
    S.fresh = 1;
    S.by_second = adv && !strcmp(adv->valuestring, "second");
    S.every_ms = every ? (int64_t)llround(every->valuedouble * 1000) : 1000;
    S.script_blocks = (int)blocks;
    S.script_start = now_ms();
    S.now = S.steps[0];
    chain_mine(S.script_blocks);
    return NULL;
}

static const char *fault_kind_from(const char *k, enum fault_kind *out)
{
    static const char *const names[] = {"", "status", "hang", "garbage", "error", "delay"};
    for (int i = F_STATUS; i <= F_DELAY; i++) {
        if (!strcmp(k, names[i])) {
            *out = (enum fault_kind)i;
            return NULL;
        }
    }
    return "kind is one of status, hang, garbage, error, delay";
}

static const char *control_fault(const cJSON *o)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source"), *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
    int s = !cJSON_IsString(src) ? -1 : !strcmp(src->valuestring, "etherscan") ? SRC_ES : !strcmp(src->valuestring, "rpc") ? SRC_RPC : -2;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "clear")) && s != -2) {
        for (int i = 0; i < NSRC; i++)
            if (s < 0 || s == i)
                S.fault[i] = (struct fault){0};
        return NULL;
    }
    if (s < 0)
        return "source is \"etherscan\" or \"rpc\"";
    struct fault f = {0};
    long status;
    if (!cJSON_IsString(kind))
        return "kind is one of status, hang, garbage, error, delay";
    const char *err = fault_kind_from(kind->valuestring, &f.kind);
    if (err)
        return err;
    if (!int_field(o, "status", 100, 599, 500, &status) || !int_field(o, "count", 1, 1000000, -1, &f.count) ||
        !int_field(o, "delay_ms", 0, 600000, 1000, &f.delay_ms) || (text && !cJSON_IsString(text)))
        return "status 100..599, count 1..1000000, delay_ms 0..600000, text a string";
    f.status = (int)status;
    snprintf(f.text, sizeof f.text, "%s", text ? text->valuestring : "Error! Something went wrong");
    S.fault[s] = f;
    return NULL;
}

/* A source's counts: what both have, then its own (Etherscan's refusals
 * by kind; the node's calls inside batches, by method). */
static void stats_source(struct buf *b, enum src s)
{
    const struct src_stats *st = &S.st[s];
    char t[512];
    snprintf(t, sizeof t, "\"%s\":{\"calls\":%ld,\"ok\":%ld,\"errors\":%ld,\"faults\":%ld,\"forced\":%ld,\"max_per_s\":%ld,",
             src_name[s], st->calls, st->ok, st->errors, st->faults, st->forced, st->max_per_s);
    buf_str(b, t);
    if (s == SRC_ES)
        snprintf(t, sizeof t,
                 "\"invalid_key\":%ld,\"throttled\":%ld,\"rate_limited\":%ld,\"daily_limited\":%ld,\"bad_chain\":%ld,"
                 "\"v1\":%ld,\"bad_module\":%ld}",
                 st->invalid_key, st->throttled, st->rate_limited, st->daily_limited, st->bad_chain, st->v1,
                 st->bad_module);
    else
        snprintf(t, sizeof t,
                 "\"requests\":%ld,\"methods\":{\"eth_feeHistory\":%ld,\"eth_gasPrice\":%ld,\"eth_blockNumber\":%ld,"
                 "\"eth_chainId\":%ld,\"other\":%ld}}",
                 st->requests, st->by_method[0], st->by_method[1], st->by_method[2], st->by_method[3], st->by_method[4]);
    buf_str(b, t);
}

static void control_stats(struct fakehttp_conn *c)
{
    struct buf b = {0};
    char t[256], l[4][32];
    gwei_str(l[0], sizeof l[0], S.now.safe);
    gwei_str(l[1], sizeof l[1], S.now.propose);
    gwei_str(l[2], sizeof l[2], S.now.fast);
    gwei_str(l[3], sizeof l[3], S.now.base);
    snprintf(t, sizeof t, "{\"block\":%" PRId64 ",\"step\":%d,\"lanes\":{\"safe\":%s,\"propose\":%s,\"fast\":%s,\"base\":%s},",
             S.latest, S.nsteps ? S.step : -1, l[0], l[1], l[2], l[3]);
    buf_str(&b, t);
    long today = 0;
    for (int i = 0; i < S.nkeys; i++)
        today += S.keys[i].day == (int64_t)time(NULL) / 86400 ? S.keys[i].day_calls : 0;
    snprintf(t, sizeof t, "\"etherscan_today\":%ld,", today);
    buf_str(&b, t);
    stats_source(&b, SRC_ES);
    buf_str(&b, ",");
    stats_source(&b, SRC_RPC);
    buf_str(&b, "}");
    respond_json(c, 200, b.p);
    buf_free(&b);
}

static void control(struct fakehttp_conn *c, const struct fakehttp_req *q)
{
    const char *what = q->path + strlen("/control/");
    if (!strcmp(what, "stats")) {
        control_stats(c);
        return;
    }
    if (strcmp(q->method, "POST")) {
        respond_json(c, strcmp(what, "series") && strcmp(what, "script") && strcmp(what, "fault") &&
                                strcmp(what, "reset") ? 404 : 405,
                     "{\"error\":\"POST /control/series|script|fault|reset, GET /control/stats\"}");
        return;
    }
    cJSON *o = cJSON_ParseWithLength(q->body, q->body_len);
    const char *err = NULL;
    if (!strcmp(what, "reset"))
        memset(S.st, 0, sizeof S.st);
    else if (!cJSON_IsObject(o))
        err = "the body is a JSON object";
    else if (!strcmp(what, "series")) err = control_series(o);
    else if (!strcmp(what, "script")) err = control_script(o);
    else if (!strcmp(what, "fault")) err = control_fault(o);
    else err = "POST /control/series|script|fault|reset, GET /control/stats";
    cJSON_Delete(o);
    struct buf b = {0};
    buf_str(&b, err ? "{\"error\":" : "{\"ok\":true}");
    if (err) {
        buf_json_str(&b, err);
        buf_str(&b, "}");
    }
    respond_json(c, err ? 400 : 200, b.p);
    buf_free(&b);
}

/* ---- serving ---- */

/* The handler of every request. */
static void dispatch(struct fakehttp_conn *c, const struct fakehttp_req *q)
{
    chain_catch_up();
    if (!strncmp(q->path, "/control/", 9))
        control(c, q);
    else if (!strcmp(q->path, "/v2/api") || !strcmp(q->path, "/api"))
        strcmp(q->method, "GET") && strcmp(q->method, "POST") ? fakehttp_respond(c, 405, "text/plain", "Method Not Allowed\n")
                                                              : es_answer(c, q, q->path[1] == 'a');
    else if (!strcmp(q->path, "/") || !strcmp(q->path, "/rpc"))
        rpc_answer(c, q);
    else
        fakehttp_respond(c, 404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>\n");
}

static int usage(void)
{
    fprintf(stderr, "usage: fake_gas --port N [--key K ...] [--chain 1] [--block-ms 12000] [--daily-limit 100000]\n");
    return -1;
}

static int parse_args(int argc, char **argv, long *port)
{
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (i + 1 >= argc) {
            fprintf(stderr, "fake_gas: %s needs a value\n", a);
            return -1;
        }
        if (!strcmp(a, "--port")) *port = opt_long(a, v);
        else if (!strcmp(a, "--chain")) S.chain = opt_long(a, v);
        else if (!strcmp(a, "--block-ms")) S.block_ms = opt_long(a, v);
        else if (!strcmp(a, "--daily-limit")) S.daily_limit = opt_long(a, v);
        else if (!strcmp(a, "--key") && S.nkeys < MAX_KEYS && *v && strlen(v) < sizeof S.keys[0].name) key_add(v);
        else return usage();
    }
    if (*port < 0 || *port > 65535) {
        fprintf(stderr, "fake_gas: --port N is required (0: any free port, at most 65535)\n");
        return -1;
    }
    S.open_keys = S.nkeys == 0;
    return 0;
}

int main(int argc, char **argv)
{
    struct fakehttp_cfg cfg = {.name = "fake_gas", .port = -1, .max_head = MAX_HEAD, .max_body = MAX_BODY,
                               .handler = dispatch};
    S.chain = 1;
    S.block_ms = 12000;
    S.daily_limit = 100000;
    if (parse_args(argc, argv, &cfg.port) != 0)
        return 2;
    for (int i = 0; i < 6; i++)
        S.invalid_at[i] = INT64_MIN / 2;   /* (no invalid key yet, even right after boot) */
    chain_init();
    return fakehttp_run(&cfg);
}
