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
#include "gas_fake.h"

const char *const src_name[NSRC] = {"etherscan", "rpc"};
struct gas_state S;

int64_t now_ms(void) { return (int64_t)(uv_hrtime() / 1000000); }

/* ---- the chain and the series ---- */

const struct block *block_at(int64_t n) { return &S.ring[n % RING]; }

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
double block_used(int64_t n)
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
void series_called(void)
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
void gwei_str(char *out, size_t size, int64_t wei)
{
    int n = snprintf(out, size, "%" PRId64 ".%09" PRId64, wei / GWEI, wei % GWEI);
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
}

/* ---- stats ---- */

void stats_call(enum src s)
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

void respond_json(struct fakehttp_conn *c, int status, const char *body)
{
    fakehttp_respond(c, status, "application/json", body);
}

/* ---- faults ---- */

/* The source's armed fault for this call (kind F_NONE when none), counted
 * down and counted. */
struct fault fault_take(enum src s)
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
int fault_answer(struct fakehttp_conn *c, const struct fault *f)
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
void buf_json_str(struct buf *b, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = cJSON_PrintUnformatted(j);
    buf_str(b, t);
    free(t);
    cJSON_Delete(j);
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
