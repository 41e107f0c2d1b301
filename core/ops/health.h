/* Component health for GET /health: each subsystem keeps its own entry up
 * to date; the overall status is the worst of them.  Scripts add their own
 * components too (host.health: "script:<name>"), so names are copied.
 */
#ifndef CW_HEALTH_H
#define CW_HEALTH_H

enum health_status { HEALTH_OK, HEALTH_DEGRADED, HEALTH_FAILING };

#define HEALTH_MAX 32          /* the core's few, and the scripts' (at most 16) */
#define HEALTH_NAME_MAX 48

struct jsonw;
typedef void (*health_detail_fn)(void *ud, struct jsonw *w);

struct health_entry {
    char name[HEALTH_NAME_MAX];
    enum health_status status;
    char reason[256];
    health_detail_fn detail;   /* optional: more fields for /health */
    void *detail_ud;
};

struct health {
    struct health_entry e[HEALTH_MAX];
    int n;
};

/* Creates or updates a component; reason may be NULL when ok.  A name of
 * HEALTH_NAME_MAX bytes or more, or a component beyond HEALTH_MAX, is not
 * kept. */
void health_set(struct health *h, const char *name, enum health_status st,
                const char *reason);
/* Adds fields to a component's entry in /health (counters, progress). */
void health_set_detail(struct health *h, const char *name, health_detail_fn fn, void *ud);
enum health_status health_overall(const struct health *h);
/* A component's entry, or NULL. */
const struct health_entry *health_get(const struct health *h, const char *name);
const char *health_name(enum health_status st);
/* "ok", "degraded", "failing" -> the status, or -1. */
int health_status_parse(const char *name);
/* Writes {"status":..., "components":{...}} into a malloc'd string. */
char *health_json(const struct health *h);

#endif
