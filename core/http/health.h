/* Component health for GET /health: each subsystem keeps its own entry up
 * to date; the overall status is the worst of them.
 */
#ifndef CW_HEALTH_H
#define CW_HEALTH_H

enum health_status { HEALTH_OK, HEALTH_DEGRADED, HEALTH_FAILING };

#define HEALTH_MAX 16

struct health_entry {
    const char *name;          /* static string */
    enum health_status status;
    char reason[256];
};

struct health {
    struct health_entry e[HEALTH_MAX];
    int n;
};

/* Creates or updates a component; reason may be NULL when ok. */
void health_set(struct health *h, const char *name, enum health_status st,
                const char *reason);
enum health_status health_overall(const struct health *h);
const char *health_name(enum health_status st);
/* Writes {"status":..., "components":{...}} into a malloc'd string. */
char *health_json(const struct health *h);

#endif
