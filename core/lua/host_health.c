/* host.health: a script's own component in /health, next to the core's.
 *
 *   host.health("rate", "degraded", "the fiat source refuses the key")
 *
 * The component is "script:<name>" (the prefix keeps scripts' names apart
 * from the core's, whatever components the core adds later).  It lives in
 * the app's health table, not in a generation: it is kept until set again,
 * across reloads, as the core's components are kept until their subsystem
 * says otherwise. */
#include <stdio.h>
#include <string.h>

#include "lua/internal.h"
#include "ops/health.h"

#define HH_PREFIX "script:"
#define HH_NAME_MAX 32
#define HH_SCRIPT_MAX 16      /* script components (HEALTH_MAX holds the core's too) */
#define HH_REASON_MAX 200     /* bytes of reason kept */
#define HH_REASON_READ 1024   /* bytes read before masking (a secret is < 256) */

static int hh_valid_name(const char *s, size_t n)
{
    if (n < 1 || n > HH_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

static int hh_script_components(const struct health *h)
{
    int n = 0;
    for (int i = 0; i < h->n; i++)
        n += !strncmp(h->e[i].name, HH_PREFIX, strlen(HH_PREFIX));
    return n;
}

/* reason as one line: control characters as spaces, the secrets masked
 * (before cutting, so that no part of one is left), cut to HH_REASON_MAX
 * bytes on a character. */
static void hh_reason(struct lh_host *host, const char *s, size_t n, char *out, size_t size)
{
    char buf[HH_REASON_READ + 1];
    size_t k = n < HH_REASON_READ ? n : HH_REASON_READ;
    for (size_t i = 0; i < k; i++)
        buf[i] = (unsigned char)s[i] < 32 || s[i] == 127 ? ' ' : s[i];
    buf[k] = 0;
    log_mask_all(&host->app->log, buf);
    size_t len = strlen(buf);
    if (len >= size) {
        len = size - 1;
        while (len > 0 && ((unsigned char)buf[len] & 0xC0) == 0x80)
            len--;   /* (buf[len] would start the next character) */
    }
    memcpy(out, buf, len);
    out[len] = 0;
}

/* host.health(name, status [, reason]) -> nil   handlers: the component
 * "script:<name>" of /health (name 1-32 of a-z 0-9 _ - ., starting with a
 * letter); status "ok" | "degraded" | "failing", counted in the overall
 * status as the core's are; reason a short text (secrets masked, cut to
 * 200 bytes).  Kept until set again. */
int lh_host_health(lua_State *L)
{
    const char *usage = "host.health(name, status [, reason])";
    struct lh_host *host = lh_host_of(L);
    lh_require_phase(L, usage, LH_PHASE_HANDLER);
    size_t n, rn = 0;
    const char *name = luaL_checklstring(L, 1, &n);
    const char *status = luaL_checkstring(L, 2);
    const char *reason = luaL_optlstring(L, 3, "", &rn);
    if (!hh_valid_name(name, n))
        return luaL_error(L, "%s: name must be 1-%d characters of a-z, 0-9, _, - and ., "
                             "starting with a letter", usage, HH_NAME_MAX);
    int st = health_status_parse(status);
    if (st < 0)
        return luaL_error(L, "%s: status must be \"ok\", \"degraded\" or \"failing\"", usage);
    char component[HEALTH_NAME_MAX];
    snprintf(component, sizeof component, HH_PREFIX "%s", name);
    struct health *h = &host->app->health;
    if (!health_get(h, component) && hh_script_components(h) >= HH_SCRIPT_MAX)
        return luaL_error(L, "%s: scripts can have at most %d components", usage, HH_SCRIPT_MAX);
    char why[HH_REASON_MAX + 1];
    hh_reason(host, reason, rn, why, sizeof why);
    health_set(h, component, (enum health_status)st, why[0] ? why : NULL);
    return 0;
}
