/* fake_rates: a stand-in for /rate's three rate sources on loopback, for
 * end-to-end tests of the bot's /rate.  One port serves them all, in the
 * shapes and with the errors the real services give (as of December 2026;
 * sources below), plus faults, slowness and statistics.
 *
 * usage: fake_rates --port N [--key K] [--per-minute N]
 *   --port 0 picks a free port; prints "fake_rates listening on port N".
 *   --key: APILayer's one valid key (default "test-key").
 *   --per-minute: APILayer calls a key may make in a minute (default 60;
 *     then 429 until the minute is over).
 *   SIGINT/SIGTERM: clean exit, status 0.
 *
 * Rapira, GET /open/market/rates (public, no key): HTTP 200
 *   {"code":0,"message":"success","data":[{"symbol":"BTC/USDT",...},
 *    {"symbol":"USDT/RUB","open":..,"high":..,"low":..,"close":..,
 *     "askPrice":..,"bidPrice":..,"baseCurrency":"USDT","quoteCurrency":"RUB"}]}
 *   numbers in RUB per USDT.  (The shape as public clients read it: a list
 *   under "data", each pair by "symbol", with close, askPrice and bidPrice;
 *   e.g. github.com code reading api.rapira.net/open/market/rates for
 *   item["symbol"] == "USDT/RUB" and its "close" or "askPrice".)
 * APILayer exchangerates_data, GET /exchangerates_data/latest?base=B&symbols=A,B
 *   with the key in the "apikey" header (api.apilayer.com's gateway):
 *   no header -> 401 {"message":"No API key found in request"}; another key
 *   -> 401 {"message":"Invalid authentication credentials"}; over the
 *   per-minute limit -> 429 {"message":"API rate limit reached"}.  Then
 *   200 {"success":true,"timestamp":T,"base":"USD","date":"YYYY-MM-DD",
 *   "rates":{"RUB":..,...}}, or, HTTP 200 too, {"success":false,"error":
 *   {"code":"invalid_base_currency"|"invalid_currency_codes","message":..}}
 *   for a base other than USD or an unknown symbol.
 * open.er-api.com (ExchangeRate-API's open access, no key),
 *   GET /v6/latest/USD: {"result":"success","provider":..,
 *   "time_last_update_unix":T,"base_code":"USD","rates":{"USD":1,...}};
 *   another base: {"result":"error","error-type":"unsupported-code"}.
 *   (Its schema: schemas.apis.io/schemas/exchangerate-api/
 *   exchangerate-api-open-access; it lists RUB, EUR, THB, AED, ZAR and IDR,
 *   which the ECB's rates behind frankfurter.app do not all do: no RUB
 *   since March 2022, no AED.)
 *
 * How sure each fact is (no network here: read from public code and pages
 * with the search tools): Rapira's list under "data" with "symbol",
 * "close", "askPrice" and "bidPrice", seen in several clients of
 * /open/market/rates; APILayer's "apikey" header, "base"/"symbols" and the
 * success body, seen in its docs' examples and many clients; the gateway's
 * 401/429 texts and the success:false codes as APILayer's users report
 * them, not checked against the live service; open.er-api.com's fields
 * from its published schema.
 *
 * The rates are kept as text and written into the JSON as given (so a test
 * knows the exact number the bot reads).
 *
 * Test control, same port (JSON in, JSON out; 400 {"error":..} when wrong):
 *   POST /control/rates {"ask":"95.12","bid":"94.9","close":"95",
 *        "fiat":{"RUB":"90.5",...}}: numbers as strings of digits
 *   POST /control/fault {"source":"rapira"|"apilayer"|"erapi","kind":K,
 *        "count":N,"status":S,"delay_ms":D}: K "status" (HTTP S, default
 *        500), "hang" (never answered), "garbage" (200, not JSON), "delay"
 *        (D ms before the normal answer); the next N calls (default: until
 *        cleared); {"clear":true} clears every fault
 *   GET  /control/stats  per source: calls, ok, faults, refused (401/429/
 *        success:false), and "key_in_query" (a key seen in a URL: never)
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fakehttp.h"
#include "fakeutil.h"

#define MAX_REQ 65536
#define NFIAT 7

enum src { S_RAPIRA, S_APILAYER, S_ERAPI, NSRC };
static const char *const src_name[NSRC] = {"rapira", "apilayer", "erapi"};
enum fkind { F_NONE, F_STATUS, F_HANG, F_GARBAGE, F_DELAY };

struct fault {
    enum fkind kind;
    int status;
    long count, delay_ms;   /* count -1: until cleared */
};

struct stats {
    long calls, ok, faults, refused, key_in_query;
};

static struct {
    char ask[32], bid[32], close[32];
    const char *fiat_code[NFIAT];
    char fiat[NFIAT][32];
    char key[128];
    long per_minute, minute, minute_calls;
    long delay_ms;   /* of the answer being made */
    struct fault fault[NSRC];
    struct stats st[NSRC];
} g = {
    .ask = "95.20", .bid = "94.90", .close = "95.05",
    .fiat_code = {"USD", "RUB", "EUR", "THB", "AED", "ZAR", "IDR"},
    .fiat = {"1", "90.5", "0.86", "32.1", "3.6725", "17.9", "16480"},
    .key = "test-key", .per_minute = 60,
};

/* ---- answers ---- */

/* Every answer is delayed by g.delay_ms (a "delay" fault of this call). */
static void reply(struct fakehttp_conn *c, int status, const char *type, const char *body)
{
    fakehttp_respond_after(c, status, type, body, g.delay_ms);
}

static void reply_json(struct fakehttp_conn *c, int status, cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    reply(c, status, "application/json", s ? s : "{}");
    free(s);
    cJSON_Delete(j);
}

/* A number written as the text kept (the test's exact digits). */
static void add_raw(cJSON *o, const char *k, const char *text)
{
    cJSON_AddItemToObject(o, k, cJSON_CreateRaw(text));
}

static void rapira(struct fakehttp_conn *c)
{
    cJSON *j = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(j, "data");
    cJSON_AddNumberToObject(j, "code", 0);
    cJSON_AddStringToObject(j, "message", "success");
    cJSON *btc = cJSON_CreateObject();
    cJSON_AddStringToObject(btc, "symbol", "BTC/USDT");
    add_raw(btc, "close", "91850.1");
    add_raw(btc, "askPrice", "91860.0");
    add_raw(btc, "bidPrice", "91840.2");
    cJSON_AddItemToArray(data, btc);
    cJSON *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "symbol", "USDT/RUB");
    add_raw(u, "open", g.close);
    add_raw(u, "high", g.ask);
    add_raw(u, "low", g.bid);
    add_raw(u, "close", g.close);
    add_raw(u, "askPrice", g.ask);
    add_raw(u, "bidPrice", g.bid);
    cJSON_AddStringToObject(u, "baseCurrency", "USDT");
    cJSON_AddStringToObject(u, "quoteCurrency", "RUB");
    cJSON_AddItemToArray(data, u);
    reply_json(c, 200, j);
}

static int fiat_index(const char *code, size_t n)
{
    for (int i = 0; i < NFIAT; i++)
        if (strlen(g.fiat_code[i]) == n && strncmp(g.fiat_code[i], code, n) == 0)
            return i;
    return -1;
}

static cJSON *fiat_error(const char *code, const char *msg)
{
    cJSON *j = cJSON_CreateObject(), *e = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "success", 0);
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddItemToObject(j, "error", e);
    return j;
}

/* 1 when the key may call now (APILayer's gateway), else the answer is made. */
static int apilayer_gate(struct fakehttp_conn *c, const struct fakehttp_req *r)
{
    char key[256], in_url[256], in_url2[256];
    if (!fakehttp_query(r->query, "apikey", in_url, sizeof in_url))
        in_url[0] = 0;
    if (!fakehttp_query(r->query, "access_key", in_url2, sizeof in_url2))
        in_url2[0] = 0;
    if (in_url[0] || in_url2[0])
        g.st[S_APILAYER].key_in_query++;
    if (!fakehttp_header(r, "apikey", key, sizeof key)) {
        reply(c, 401, "application/json", "{\"message\":\"No API key found in request\"}");
        return 0;
    }
    if (strcmp(key, g.key) != 0) {
        reply(c, 401, "application/json", "{\"message\":\"Invalid authentication credentials\"}");
        return 0;
    }
    long minute = (long)(time(NULL) / 60);
    if (minute != g.minute)
        g.minute = minute, g.minute_calls = 0;
    if (++g.minute_calls > g.per_minute) {
        reply(c, 429, "application/json", "{\"message\":\"API rate limit reached\"}");
        return 0;
    }
    return 1;
}

static void apilayer(struct fakehttp_conn *c, const struct fakehttp_req *r)
{
    if (!apilayer_gate(c, r)) {
        g.st[S_APILAYER].refused++;
        return;
    }
    char base[16], symbols[256];
    if (!fakehttp_query(r->query, "base", base, sizeof base))
        base[0] = 0;
    if (!fakehttp_query(r->query, "symbols", symbols, sizeof symbols))
        symbols[0] = 0;
    if (base[0] && strcmp(base, "USD") != 0) {
        g.st[S_APILAYER].refused++;
        return reply_json(c, 200, fiat_error("invalid_base_currency", "An unexpected error ocurred. [Technical Support: support@apilayer.com]"));
    }
    cJSON *j = cJSON_CreateObject(), *rates = cJSON_CreateObject();
    for (const char *p = symbols; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
        int i = fiat_index(p, strcspn(p, ","));
        if (i < 0) {
            cJSON_Delete(j);
            cJSON_Delete(rates);
            g.st[S_APILAYER].refused++;
            return reply_json(c, 200, fiat_error("invalid_currency_codes", "You have provided one or more invalid Currency Codes. [Required format: currencies=EUR,USD,GBP,...]"));
        }
        add_raw(rates, g.fiat_code[i], g.fiat[i]);
    }
    time_t now = time(NULL);
    char date[16];
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    cJSON_AddBoolToObject(j, "success", 1);
    cJSON_AddNumberToObject(j, "timestamp", (double)now);
    cJSON_AddStringToObject(j, "base", "USD");
    cJSON_AddStringToObject(j, "date", date);
    cJSON_AddItemToObject(j, "rates", rates);
    g.st[S_APILAYER].ok++;
    reply_json(c, 200, j);
}

static void erapi(struct fakehttp_conn *c, const char *path)
{
    if (strcmp(path, "/v6/latest/USD") != 0) {
        g.st[S_ERAPI].refused++;
        return reply(c, 200, "application/json", "{\"result\":\"error\",\"error-type\":\"unsupported-code\"}");
    }
    cJSON *j = cJSON_CreateObject(), *rates = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "result", "success");
    cJSON_AddStringToObject(j, "provider", "https://www.exchangerate-api.com");
    cJSON_AddNumberToObject(j, "time_last_update_unix", (double)(time(NULL) / 86400 * 86400));
    cJSON_AddStringToObject(j, "base_code", "USD");
    for (int i = 0; i < NFIAT; i++)
        add_raw(rates, g.fiat_code[i], g.fiat[i]);
    cJSON_AddItemToObject(j, "rates", rates);
    g.st[S_ERAPI].ok++;
    reply_json(c, 200, j);
}

/* ---- control ---- */

/* A rate given as a string of digits with at most one point. */
static int set_rate(char *dst, const cJSON *v)
{
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= 32 ||
        strspn(v->valuestring, "0123456789.") != strlen(v->valuestring))
        return 0;
    strcpy(dst, v->valuestring);
    return 1;
}

static const char *control_rates(const cJSON *j)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItem(j, "ask")) && !set_rate(g.ask, v))
        return "ask must be a string of digits";
    if ((v = cJSON_GetObjectItem(j, "bid")) && !set_rate(g.bid, v))
        return "bid must be a string of digits";
    if ((v = cJSON_GetObjectItem(j, "close")) && !set_rate(g.close, v))
        return "close must be a string of digits";
    const cJSON *f = cJSON_GetObjectItem(j, "fiat"), *it;
    cJSON_ArrayForEach(it, f) {
        int i = fiat_index(it->string, strlen(it->string));
        if (i < 0 || !set_rate(g.fiat[i], it))
            return "fiat: a known code and a string of digits each";
    }
    return NULL;
}

static const char *control_fault(const cJSON *j)
{
    if (cJSON_IsTrue(cJSON_GetObjectItem(j, "clear"))) {
        memset(g.fault, 0, sizeof g.fault);
        return NULL;
    }
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(j, "source"));
    const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(j, "kind"));
    int i = NSRC;
    for (int n = 0; s && n < NSRC; n++)
        if (strcmp(s, src_name[n]) == 0)
            i = n;
    if (i == NSRC)
        return "source must be rapira, apilayer or erapi";
    static const char *const kinds[] = {"", "status", "hang", "garbage", "delay"};
    struct fault f = {.kind = F_NONE, .status = 500, .count = -1};
    for (int n = 1; k && n < 5; n++)
        if (strcmp(k, kinds[n]) == 0)
            f.kind = (enum fkind)n;
    if (f.kind == F_NONE)
        return "kind must be status, hang, garbage or delay";
    const cJSON *v;
    if ((v = cJSON_GetObjectItem(j, "count")) && (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e6))
        return "count must be 1 to 1000000";
    if (v)
        f.count = (long)v->valuedouble;
    if ((v = cJSON_GetObjectItem(j, "status")))
        f.status = cJSON_IsNumber(v) && v->valueint >= 400 && v->valueint <= 599 ? v->valueint : 0;
    if (!f.status)
        return "status must be 400 to 599";
    if ((v = cJSON_GetObjectItem(j, "delay_ms")))
        f.delay_ms = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 600000 ? (long)v->valuedouble : -1;
    if (f.delay_ms < 0)
        return "delay_ms must be 0 to 600000";
    g.fault[i] = f;
    return NULL;
}

static void control_stats(struct fakehttp_conn *c)
{
    cJSON *j = cJSON_CreateObject();
    for (int i = 0; i < NSRC; i++) {
        cJSON *s = cJSON_AddObjectToObject(j, src_name[i]);
        cJSON_AddNumberToObject(s, "calls", g.st[i].calls);
        cJSON_AddNumberToObject(s, "ok", g.st[i].ok);
        cJSON_AddNumberToObject(s, "faults", g.st[i].faults);
        cJSON_AddNumberToObject(s, "refused", g.st[i].refused);
        cJSON_AddNumberToObject(s, "key_in_query", g.st[i].key_in_query);
    }
    reply_json(c, 200, j);
}

static void control(struct fakehttp_conn *c, const struct fakehttp_req *r)
{
    if (strcmp(r->path, "/control/stats") == 0)
        return control_stats(c);
    cJSON *j = cJSON_Parse(r->body);
    const char *err = !cJSON_IsObject(j) ? "the body must be a JSON object"
                    : strcmp(r->path, "/control/rates") == 0 ? control_rates(j)
                    : strcmp(r->path, "/control/fault") == 0 ? control_fault(j)
                    : "no such control";
    cJSON_Delete(j);
    cJSON *a = cJSON_CreateObject();
    if (err)
        cJSON_AddStringToObject(a, "error", err);
    else
        cJSON_AddBoolToObject(a, "ok", 1);
    reply_json(c, err ? 400 : 200, a);
}

/* ---- serving ---- */

/* The source a path is, or NSRC. */
static enum src source_of(const char *path)
{
    if (strcmp(path, "/open/market/rates") == 0)
        return S_RAPIRA;
    if (strcmp(path, "/exchangerates_data/latest") == 0)
        return S_APILAYER;
    if (strncmp(path, "/v6/latest/", 11) == 0)
        return S_ERAPI;
    return NSRC;
}

/* The fault due on this call of source s, counted; F_NONE when none. */
static struct fault take_fault(enum src s)
{
    struct fault f = g.fault[s];
    if (f.kind == F_NONE)
        return f;
    g.st[s].faults++;
    if (f.count > 0 && --g.fault[s].count == 0)
        g.fault[s].kind = F_NONE;
    return f;
}

/* The handler of every request. */
static void serve(struct fakehttp_conn *c, const struct fakehttp_req *r)
{
    g.delay_ms = 0;
    if (strncmp(r->path, "/control/", 9) == 0)
        return control(c, r);
    enum src s = source_of(r->path);
    if (s == NSRC || strcmp(r->method, "GET") != 0)
        return reply(c, 404, "application/json", "{\"message\":\"no such route\"}");
    g.st[s].calls++;
    struct fault f = take_fault(s);
    if (f.kind == F_HANG)
        return fakehttp_hang(c);   /* the bot's timeout ends it */
    if (f.kind == F_DELAY)
        g.delay_ms = f.delay_ms;
    if (f.kind == F_STATUS)
        reply(c, f.status, "text/html", "<html><body>upstream error</body></html>");
    else if (f.kind == F_GARBAGE)
        reply(c, 200, "application/json", "{\"data\":[{\"symbol\":\"USDT/RUB\",\"askPr");
    else if (s == S_RAPIRA)
        g.st[s].ok++, rapira(c);
    else if (s == S_APILAYER)
        apilayer(c, r);
    else
        erapi(c, r->path);
}

int main(int argc, char **argv)
{
    long port = -1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--port") == 0)
            port = opt_long("--port", v), i++;
        else if (strcmp(argv[i], "--per-minute") == 0)
            g.per_minute = opt_long("--per-minute", v), i++;
        else if (strcmp(argv[i], "--key") == 0 && v[0] && strlen(v) < sizeof g.key)
            strcpy(g.key, v), i++;
        else {
            fprintf(stderr, "fake_rates: unknown or bad option %s\n"
                    "usage: fake_rates --port N [--key K] [--per-minute N]\n", argv[i]);
            return 2;
        }
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "fake_rates: --port N is required (0 picks a free one)\n");
        return 2;
    }
    struct fakehttp_cfg cfg = {.name = "fake_rates", .port = port, .max_head = MAX_REQ, .max_body = MAX_REQ,
                               .always_close = 1, .handler = serve};
    return fakehttp_run(&cfg);
}
