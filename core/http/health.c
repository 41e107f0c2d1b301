#include "http/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonw.h"

static const char *const names[] = {"ok", "degraded", "failing"};

void health_set(struct health *h, const char *name, enum health_status st,
                const char *reason)
{
    struct health_entry *e = NULL;
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->e[i].name, name) == 0)
            e = &h->e[i];
    if (!e) {
        if (h->n == HEALTH_MAX)
            return;
        e = &h->e[h->n++];
        e->name = name;
    }
    e->status = st;
    snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
}

enum health_status health_overall(const struct health *h)
{
    enum health_status worst = HEALTH_OK;
    for (int i = 0; i < h->n; i++)
        if (h->e[i].status > worst)
            worst = h->e[i].status;
    return worst;
}

const char *health_name(enum health_status st)
{
    return names[st];
}

char *health_json(const struct health *h)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_obj_open(&w);
    jsonw_kv_str(&w, "status", names[health_overall(h)]);
    jsonw_key(&w, "components");
    jsonw_obj_open(&w);
    for (int i = 0; i < h->n; i++) {
        jsonw_key(&w, h->e[i].name);
        jsonw_obj_open(&w);
        jsonw_kv_str(&w, "status", names[h->e[i].status]);
        if (h->e[i].reason[0])
            jsonw_kv_str(&w, "reason", h->e[i].reason);
        jsonw_obj_close(&w);
    }
    jsonw_obj_close(&w);
    jsonw_obj_close(&w);
    char *out = strdup(jsonw_str(&w));
    jsonw_free(&w);
    return out;
}
