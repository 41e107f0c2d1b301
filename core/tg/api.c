#include "tg/api.h"

#include "metrics/prom.h"
#include "tg/answer.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tg_call {
    struct tg_api *api;
    int method;                /* index in TG_METHODS */
    tg_api_cb cb;
    void *ud;
    uint64_t id;               /* httpc's */
    struct tg_call *prev, *next;
};

static void unlink_call(struct tg_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->api->calls_list = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

int tg_api_init(struct tg_api *a, struct httpc *h, struct logger *log, const char *api_url,
                const char *token)
{
    memset(a, 0, sizeof *a);
    a->httpc = h;
    a->log = log;
    size_t n = strlen(api_url) + strlen(token) + 8;
    a->base = malloc(n);
    if (!a->base)
        return -1;
    const char *slash = api_url[0] && api_url[strlen(api_url) - 1] == '/' ? "" : "/";
    snprintf(a->base, n, "%s%sbot%s/", api_url, slash, token);
    return 0;
}

void tg_api_free(struct tg_api *a)
{
    while (a->calls_list)
        tg_api_cancel(a, a->calls_list->id);
    free(a->base);
    a->base = NULL;
}

static void done(void *ud, const struct httpc_resp *resp)
{
    struct tg_call *c = ud;
    struct tg_result r;
    cJSON *json = NULL;
    if (resp->err) {
        memset(&r, 0, sizeof r);
        r.outcome = TG_TRANSIENT;
        snprintf(r.description, sizeof r.description, "no answer: %s", resp->err);
    } else {
        json = tg_answer_parse(resp->status, resp->body, resp->body_len, &r);
    }
    if (r.outcome != TG_OK && r.outcome != TG_NOT_MODIFIED)
        c->api->failures++;
    c->api->by_method[c->method][r.outcome]++;
    unlink_call(c);
    c->cb(c->ud, &r);
    cJSON_Delete(json);
    free(c);
}

static const char *const method_names[TG_METHOD_COUNT] = TG_METHODS;

static int method_index(const char *method)
{
    for (int i = 0; i < TG_METHOD_COUNT - 1; i++)
        if (!strcmp(method_names[i], method))
            return i;
    return TG_METHOD_COUNT - 1;
}

const char *tg_method_name(int method)
{
    return method >= 0 && method < TG_METHOD_COUNT ? method_names[method] : "other";
}

void tg_api_metrics(const struct tg_api *a, struct prom *p)
{
    for (int m = 0; m < TG_METHOD_COUNT; m++)
        for (int o = 0; o < TG_OUTCOME_COUNT; o++) {
            if (!a->by_method[m][o])
                continue;
            char lb[128] = "";
            prom_label(lb, sizeof lb, "method", method_names[m]);
            prom_label(lb, sizeof lb, "result", tg_outcome_name((enum tg_outcome)o));
            prom_counter(p, "candlewatch_telegram_requests_total",
                         "Bot API requests answered (or failed), by method and result.", lb,
                         (double)a->by_method[m][o]);
        }
}

/* The call as a JSON body (json_body) or a multipart one (parts). */
static uint64_t api_request(struct tg_api *a, const char *method, const char *json_body,
                            const struct httpc_part *parts, int nparts, long timeout_ms,
                            tg_api_cb cb, void *ud)
{
    struct tg_call *c = calloc(1, sizeof *c);
    char url[1024];
    int n = snprintf(url, sizeof url, "%s%s", a->base, method);
    if (!c || n < 0 || (size_t)n >= sizeof url) {
        free(c);
        struct tg_result r = {.outcome = TG_TRANSIENT};
        snprintf(r.description, sizeof r.description, "cannot build the %s call", method);
        cb(ud, &r);
        return 0;
    }
    c->api = a;
    c->cb = cb;
    c->ud = ud;
    c->method = method_index(method);
    c->next = a->calls_list;
    if (c->next)
        c->next->prev = c;
    a->calls_list = c;
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    struct httpc_req rq = {.method = "POST", .url = url, .body = parts ? NULL : json_body,
                           .body_len = !parts && json_body ? strlen(json_body) : 0,
                           .parts = parts, .nparts = parts ? nparts : 0,
                           .headers = parts ? NULL : headers, .timeout_ms = timeout_ms};
    a->calls++;
    uint64_t id = httpc_request(a->httpc, &rq, done, c);
    if (!id) {   /* shutting down, or out of memory */
        unlink_call(c);
        free(c);
        struct tg_result r = {.outcome = TG_TRANSIENT};
        snprintf(r.description, sizeof r.description, "the HTTP client refused the %s call",
                 method);
        cb(ud, &r);
        return 0;
    }
    c->id = id;   /* answers always come later, from the loop */
    return id;
}

uint64_t tg_api_call(struct tg_api *a, const char *method, const char *json_body,
                     long timeout_ms, tg_api_cb cb, void *ud)
{
    return api_request(a, method, json_body, NULL, 0, timeout_ms, cb, ud);
}

uint64_t tg_api_form(struct tg_api *a, const char *method, const struct httpc_part *parts,
                     int nparts, long timeout_ms, tg_api_cb cb, void *ud)
{
    return api_request(a, method, NULL, parts, nparts, timeout_ms, cb, ud);
}

void tg_api_cancel(struct tg_api *a, uint64_t id)
{
    for (struct tg_call *c = a->calls_list; c; c = c->next)
        if (c->id == id) {
            httpc_cancel(a->httpc, id);
            unlink_call(c);
            free(c);
            return;
        }
}

const char *tg_outcome_name(enum tg_outcome o)
{
    static const char *const names[] = {"ok", "not_modified", "retry_after", "transient",
                                        "gone", "parse_error", "bad_request", "unauthorized",
                                        "conflict"};
    _Static_assert(sizeof names / sizeof names[0] == TG_OUTCOME_COUNT, "a name per outcome");
    return o < TG_OUTCOME_COUNT ? names[o] : "?";
}
