#include "ops/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonw.h"

static const char *const names[] = {"ok", "degraded", "failing"};

static struct health_entry *entry(struct health *h, const char *name)
{
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->e[i].name, name) == 0)
            return &h->e[i];
    if (h->n == HEALTH_MAX || strlen(name) >= sizeof h->e[0].name)
        return NULL;
    struct health_entry *e = &h->e[h->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    return e;
}

void health_set_detail(struct health *h, const char *name, health_detail_fn fn, void *ud)
{
    struct health_entry *e = entry(h, name);
    if (e) {
        e->detail = fn;
        e->detail_ud = ud;
    }
}

void health_set(struct health *h, const char *name, enum health_status st,
                const char *reason)
{
    struct health_entry *e = entry(h, name);
    if (!e)
        return;
    e->status = st;
    snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
}

const struct health_entry *health_get(const struct health *h, const char *name)
{
    for (int i = 0; i < h->n; i++)
        if (!strcmp(h->e[i].name, name))
            return &h->e[i];
    return NULL;
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

int health_status_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
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
        if (h->e[i].detail)
            h->e[i].detail(h->e[i].detail_ud, &w);
        jsonw_obj_close(&w);
    }
    jsonw_obj_close(&w);
    jsonw_obj_close(&w);
    char *out = strdup(jsonw_str(&w));
    jsonw_free(&w);
    return out;
}
