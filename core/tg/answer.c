#include "tg/answer.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

static int contains(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

/* Error texts are not documented and change: match on substrings. */
static enum tg_outcome classify(long status, const char *desc)
{
    if (status == 429)
        return TG_RETRY_AFTER;
    if (status >= 500 || status == 0)
        return TG_TRANSIENT;
    if (status == 401 || status == 404)
        return TG_UNAUTHORIZED;
    if (status == 409)
        return TG_CONFLICT;
    if (status == 403)
        return TG_GONE;
    if (status == 400) {
        if (contains(desc, "message is not modified"))
            return TG_NOT_MODIFIED;
        if (contains(desc, "can't parse entities") || contains(desc, "can't find end"))
            return TG_PARSE_ERROR;
        if (contains(desc, "chat not found") || contains(desc, "user is deactivated") ||
            contains(desc, "bot was kicked"))
            return TG_GONE;
        return TG_BAD_REQUEST;
    }
    return TG_TRANSIENT;
}

/* A JSON number as a long, within [lo, hi] (a cast of 1e300 is undefined). */
static long clamped(const cJSON *n, long lo, long hi, long dflt)
{
    if (!cJSON_IsNumber(n) || n->valuedouble != n->valuedouble)
        return dflt;
    return n->valuedouble < (double)lo ? lo : n->valuedouble > (double)hi ? hi
                                                                           : (long)n->valuedouble;
}

cJSON *tg_answer_parse(long status, const char *body, size_t len, struct tg_result *r)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    cJSON *json = cJSON_ParseWithLength(body, len);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(json, "ok");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(json, "description");
    if (cJSON_IsString(desc))
        snprintf(r->description, sizeof r->description, "%s", desc->valuestring);
    if (!cJSON_IsBool(ok)) {
        /* a proxy's error page, a truncated body: not Telegram's answer */
        r->outcome = TG_TRANSIENT;
        snprintf(r->description, sizeof r->description, "HTTP %ld without a Bot API answer",
                 status);
    } else if (cJSON_IsTrue(ok) && status == 200) {
        r->outcome = TG_OK;
        r->result = cJSON_GetObjectItemCaseSensitive(json, "result");
    } else {
        long code = clamped(cJSON_GetObjectItemCaseSensitive(json, "error_code"), 0, 999, status);
        r->outcome = classify(code, r->description);
        r->retry_after = clamped(cJSON_GetObjectItemCaseSensitive(
                                     cJSON_GetObjectItemCaseSensitive(json, "parameters"),
                                     "retry_after"),
                                 0, 86400 * 365, 0);
        if (r->outcome == TG_RETRY_AFTER && r->retry_after <= 0)
            r->retry_after = 1;   /* a 429 without the field: wait a little */
    }
    return json;
}
