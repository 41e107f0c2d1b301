/* The status page's route, and the /health details it shows that no
 * subsystem reported yet (the database's size and last commit, the
 * scripts' generation and errors). */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "alert/engine.h"
#include "http/server.h"
#include "lua/host.h"
#include "store/store.h"
#include "util/jsonw.h"

static void store_detail(void *ud, struct jsonw *w)
{
    struct app *a = ud;
    if (!a->store)
        return;
    jsonw_kv_int(w, "db_bytes", store_disk_bytes(a->store));
    jsonw_kv_int(w, "last_commit_ms", (long long)store_last_commit_ms(a->store));
}

static void scripts_detail(void *ud, struct jsonw *w)
{
    struct app *a = ud;
    if (!a->lua)
        return;
    jsonw_kv_int(w, "generation", lh_generation(a->lua));
    jsonw_kv_int(w, "scripts", lh_script_count(a->lua));
    jsonw_kv_int(w, "errors", lh_errors_total(a->lua));
}

static void answer(struct http_response *out, int status, const char *type, char *body)
{
    out->status = status;
    out->content_type = type;
    out->body = body;
    out->len = body ? strlen(body) : 0;
}

/* GET /: what /health says, as a page (secrets masked as in /metrics: a
 * script's reason could quote one). */
static void route_status(void *ud, const struct http_request *rq, struct http_response *out)
{
    struct app *a = ud;
    if (strcmp(rq->method, "GET") != 0) {
        answer(out, 405, "text/plain; charset=utf-8", strdup("use GET\n"));
        return;
    }
    app_health_refresh(a);
    char *json = health_json(&a->health);
    uint32_t per_min[ALERT_MINUTES];
    struct status_facts f = {.now_ms = app_wall_ms(a)};
    if (a->alerts) {
        alert_fired_per_minute(a->alerts, f.now_ms, per_min);
        f.per_min = per_min;
        f.nmin = ALERT_MINUTES;
    }
    char *page = json ? status_page_html(&a->status, json, &f) : NULL;
    free(json);
    if (!page) {
        answer(out, 500, "text/plain; charset=utf-8", strdup("out of memory\n"));
        return;
    }
    log_mask_all(&a->log, page);
    answer(out, 200, "text/html; charset=utf-8", page);
}

void app_status_start(struct app *a)
{
    status_page_init(&a->status);
    if (a->store)
        health_set_detail(&a->health, "store", store_detail, a);
    if (a->lua && health_get(&a->health, "scripts"))
        health_set_detail(&a->health, "scripts", scripts_detail, a);
    http_server_route(a->http, "/", route_status, a);
}
