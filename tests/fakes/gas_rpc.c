/* fake_gas's Ethereum JSON-RPC node (see fake_gas.c for what it answers). */
#include "gas_fake.h"

/* ---- JSON-RPC ---- */

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

void rpc_answer(struct fakehttp_conn *c, const struct fakehttp_req *q)
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

