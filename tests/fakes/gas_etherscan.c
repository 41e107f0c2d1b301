/* fake_gas's Etherscan API v2 gas oracle (see fake_gas.c for what it answers). */
#include "gas_fake.h"

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

struct key *key_add(const char *name)
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

void es_answer(struct fakehttp_conn *c, const struct fakehttp_req *q, int v1)
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

