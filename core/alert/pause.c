/* Pauses (/stop, /snooze) and daily quiet hours: a chat's alerts held,
 * kept in the store, and sent as one digest through the sink when the
 * pause or the quiet hours end. */
#include "alert/engine_int.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/rt.h"
#include "util/interval.h"
#include "store/store.h"

static void pause_save(struct alert_engine *e, struct pause *pz)
{
    if (!e->store)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "until", (double)pz->until);
    cJSON_AddNumberToObject(o, "count", (double)pz->count);
    cJSON *a = cJSON_AddArrayToObject(o, "lines");
    for (int i = 0; i < pz->nlines; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(pz->lines[i]));
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)pz->chat);
    if (json)
        store_kv_set(e->store, PAUSE_SCOPE, key, json);
    free(json);
}

struct pause *alert_pause_holding(struct alert_engine *e, int64_t chat)
{
    struct pause *pz = i64map_get(&e->pauses, chat);
    int64_t quiet_end = alert_quiet_until(e, chat);
    if (quiet_end && (!pz || pz->until < quiet_end) && alert_pause(e, chat, quiet_end) == 0)
        pz = i64map_get(&e->pauses, chat);   /* held until the quiet hours end */
    return pz && rt_wall_ms(e->rt) < pz->until ? pz : NULL;
}

/* The digest's next line to write, or NULL when it shows no more. */
static char *next_line(struct pause *pz)
{
    return pz->nlines < DIGEST_LINES ? pz->lines[pz->nlines++] : NULL;
}

/* One more alert held (its line written): the pause saved. */
static void held(struct alert_engine *e, struct pause *pz)
{
    pz->count++;
    e->st.held++;
    pause_save(e, pz);
}

void alert_pause_hold(struct alert_engine *e, struct pause *pz, int rule,
                      const struct candle *c, const char *sym, double move)
{
    /* a move in percent, as before; another rule's value as it is, with its unit */
    const char *unit = rule >= 0 && rule < e->nrules && e->rules[rule].live
                           ? e->rules[rule].unit : "%";
    char *line = next_line(pz);
    if (line && !strcmp(unit, "%"))
        snprintf(line, sizeof pz->lines[0], "%s %s %+.2f%%", sym, interval_name(c->interval),
                 move);
    else if (line)
        snprintf(line, sizeof pz->lines[0], "%s %s %.6g%s%s", sym, interval_name(c->interval),
                 move, unit[0] ? " " : "", unit);
    held(e, pz);
}

int alert_hold_line(struct alert_engine *e, int64_t chat, const char *text)
{
    struct pause *pz = alert_pause_holding(e, chat);
    if (!pz)
        return 0;
    char *line = next_line(pz);
    if (line)
        snprintf(line, sizeof pz->lines[0], "%s", text);
    held(e, pz);
    /* (a handler's: taken back with its other writes if it fails) */
    alert_touch(e, chat, TOUCH_PAUSE);
    return 1;
}

static void resume_due(void *ud)
{
    struct pause *pz = ud;
    pz->timer = NULL;
    alert_resume(pz->e, pz->chat);
}

static void arm_pause(struct alert_engine *e, struct pause *pz)
{
    if (pz->timer)
        timers_cancel(e->rt->timers, pz->timer);
    pz->timer = NULL;
    if (pz->until == INT64_MAX)
        return;
    int64_t left = pz->until - rt_wall_ms(e->rt);
    pz->timer = timers_add(e->rt->timers, rt_now_ms(e->rt) + (left > 0 ? (uint64_t)left : 0),
                           resume_due, pz);
}

/* The chat's pause in memory, made when it has none; NULL: no memory. */
static struct pause *pause_of(struct alert_engine *e, int64_t chat)
{
    struct pause *pz = i64map_get(&e->pauses, chat);
    if (!pz) {
        if (!(pz = calloc(1, sizeof *pz)) || i64map_put(&e->pauses, chat, pz) != 0) {
            free(pz);
            return NULL;
        }
        pz->chat = chat;
        pz->e = e;
    }
    return pz;
}

int alert_pause(struct alert_engine *e, int64_t chat, int64_t until_ms)
{
    struct pause *pz = pause_of(e, chat);
    if (!pz)
        return -1;
    pz->until = until_ms;
    arm_pause(e, pz);
    pause_save(e, pz);
    alert_touch(e, chat, TOUCH_PAUSE);
    return 0;
}

int64_t alert_paused_until(struct alert_engine *e, int64_t chat)
{
    struct pause *pz = i64map_get(&e->pauses, chat);
    return pz ? pz->until : 0;
}

long alert_resume(struct alert_engine *e, int64_t chat)
{
    struct pause *pz = i64map_del(&e->pauses, chat);
    if (!pz)
        return -1;
    if (pz->timer)
        timers_cancel(e->rt->timers, pz->timer);
    long held = pz->count;
    if (held) {   /* one digest instead of the alerts one by one */
        char text[DIGEST_LINES * ALERT_LINE_MAX + 160];
        size_t k = (size_t)snprintf(text, sizeof text, "<b>While your alerts were paused, %ld "
                                    "fired:</b>", held);
        for (int i = 0; i < pz->nlines && k < sizeof text; i++)
            k += (size_t)snprintf(text + k, sizeof text - k, "\n%s", pz->lines[i]);
        if (held > pz->nlines && k < sizeof text)
            snprintf(text + k, sizeof text - k, "\n… and %ld more", held - pz->nlines);
        struct alert_msg msg = {.kind = ALERT_DIGEST, .text = text, .held = held};
        if (e->sink.alert)
            e->sink.alert(e->sink.ud, chat, &msg);
    }
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)chat);
    if (e->store)
        store_kv_set(e->store, PAUSE_SCOPE, key, NULL);
    alert_touch(e, chat, TOUCH_PAUSE);
    free(pz);
    return held;
}

/* When the chat's quiet hours in progress end (wall ms), or 0. */
int64_t alert_quiet_until(struct alert_engine *e, int64_t chat)
{
    struct quiet *q = i64map_get(&e->quiets, chat);
    if (!q || q->from == q->to)
        return 0;
    int64_t now = rt_wall_ms(e->rt);
    int64_t local = now + (int64_t)q->tz * 60000;
    int minute = (int)((local / 60000) % 1440);
    int in = q->from < q->to ? minute >= q->from && minute < q->to
                             : minute >= q->from || minute < q->to;
    if (!in)
        return 0;
    int left = (q->to - minute + 1440) % 1440;
    return (now / 60000 + left) * 60000;
}

static int quiet_save(struct alert_engine *e, int64_t chat, int from, int to, int tz);

int alert_set_quiet(struct alert_engine *e, int64_t chat, int from, int to, int tz)
{
    int rc = quiet_save(e, chat, from, to, tz);
    alert_touch(e, chat, TOUCH_QUIET);
    return rc;
}

static int quiet_save(struct alert_engine *e, int64_t chat, int from, int to, int tz)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)chat);
    if (from == to) {   /* none */
        free(i64map_del(&e->quiets, chat));
        return e->store ? store_kv_set(e->store, QUIET_SCOPE, key, NULL) : 0;
    }
    if (from < 0 || from >= 1440 || to < 0 || to >= 1440 || tz < -720 || tz > 840)
        return -1;
    struct quiet *q = i64map_get(&e->quiets, chat);
    if (!q && (!(q = malloc(sizeof *q)) || i64map_put(&e->quiets, chat, q) != 0)) {
        free(q);
        return -1;
    }
    *q = (struct quiet){from, to, tz};
    char json[96];
    snprintf(json, sizeof json, "{\"from\":%d,\"to\":%d,\"tz\":%d}", from, to, tz);
    return e->store ? store_kv_set(e->store, QUIET_SCOPE, key, json) : 0;
}

int alert_quiet_of(struct alert_engine *e, int64_t chat, int *from, int *to, int *tz)
{
    struct quiet *q = i64map_get(&e->quiets, chat);
    if (!q)
        return 0;
    *from = q->from;
    *to = q->to;
    *tz = q->tz;
    return 1;
}

static double jnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int alert_load_quiet(void *ud, const char *key, const char *value)
{
    struct alert_engine *e = ud;
    cJSON *o = cJSON_Parse(value);
    if (o)
        alert_set_quiet(e, strtoll(key, NULL, 10), (int)jnum(o, "from", 0), (int)jnum(o, "to", 0),
                        (int)jnum(o, "tz", 0));
    cJSON_Delete(o);
    return 0;
}

int alert_load_pause(void *ud, const char *key, const char *value)
{
    struct alert_engine *e = ud;
    cJSON *o = cJSON_Parse(value);
    int64_t chat = strtoll(key, NULL, 10);
    struct pause *pz = o && chat ? pause_of(e, chat) : NULL;
    /* (memory only: saving it here, before its count and lines, wrote
     * them away at each start-up and each handler undone) */
    if (pz) {
        /* until resumed (INT64_MAX) is saved as a double, 2^63: out of
         * int64_t's range (the cast made it INT64_MIN, a pause long over) */
        double until = jnum(o, "until", 0);
        pz->until = until >= (double)INT64_MAX ? INT64_MAX : until > 0 ? (int64_t)until : 0;
        arm_pause(e, pz);
        pz->count = (long)jnum(o, "count", 0);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "lines"))
            if (cJSON_IsString(it) && pz->nlines < DIGEST_LINES)
                snprintf(pz->lines[pz->nlines++], sizeof pz->lines[0], "%s", it->valuestring);
    }
    cJSON_Delete(o);
    return 0;
}

/* A pause, or quiet hours, back to what the database holds. */
void alert_pause_resync(struct alert_engine *e, int64_t chat)
{
    struct pause *pz = i64map_del(&e->pauses, chat);
    if (pz && pz->timer)
        timers_cancel(e->rt->timers, pz->timer);
    free(pz);
    char key[32], *v = NULL;
    snprintf(key, sizeof key, "%lld", (long long)chat);
    if (store_kv_get(e->store, PAUSE_SCOPE, key, &v) == 1)
        alert_load_pause(e, key, v);
    free(v);
}

void alert_quiet_resync(struct alert_engine *e, int64_t chat)
{
    free(i64map_del(&e->quiets, chat));
    char key[32], *v = NULL;
    snprintf(key, sizeof key, "%lld", (long long)chat);
    if (store_kv_get(e->store, QUIET_SCOPE, key, &v) == 1)
        alert_load_quiet(e, key, v);
    free(v);
}

/* One chat's alert for this candle: once per candle, every matching
 * preset named. */

void alert_pauses_free(struct alert_engine *e)
{
    for (size_t i = 0; i < e->pauses.cap; i++) {
        struct pause *pz = e->pauses.vals[i];
        if (pz && pz->timer)
            timers_cancel(e->rt->timers, pz->timer);
        free(pz);
    }
    i64map_free(&e->pauses);
    for (size_t i = 0; i < e->quiets.cap; i++)
        free(e->quiets.vals[i]);
    i64map_free(&e->quiets);
}
