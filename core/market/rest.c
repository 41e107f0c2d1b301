#include "market/rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/rt.h"
#include "net/httpc.h"
#include "market/restparse.h"

#define REST_MAX_ATTEMPTS 6
#define REST_MAX_PAUSE_S (3 * 86400)   /* Binance's longest IP ban (418) */

struct rest_job {
    struct rest_job *next;
    struct rest *r;
    char *path;
    int weight, attempts;
    int64_t not_before;
    rest_done_fn done;
    void *ud;
};

static void pump(struct rest *r);
static struct rest_job *pop(struct rest *r);

int rest_klines_weight(int limit)
{
    return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

void rest_init(struct rest *r, const struct rt *rt, struct httpc *httpc, const char *base,
               long weight_limit)
{
    memset(r, 0, sizeof *r);
    r->rt = rt;
    r->httpc = httpc;
    r->base = base;
    r->limit = weight_limit;
    r->max_inflight = 4;
}

static void job_free(struct rest_job *j)
{
    free(j->path);
    free(j);
}

void rest_free(struct rest *r)
{
    r->stopped = 1;
    if (r->timer)
        timers_cancel(r->rt->timers, r->timer);
    r->timer = NULL;
    while (r->head) {   /* callbacks free what they own */
        struct rest_job *j = pop(r);
        j->done(j->ud, 0, NULL, 0, "stopping");
        job_free(j);
    }
}

static void push(struct rest *r, struct rest_job *j, int front)
{
    j->next = NULL;
    if (front) {
        j->next = r->head;
        r->head = j;
        if (!r->tail)
            r->tail = j;
    } else {
        if (r->tail)
            r->tail->next = j;
        else
            r->head = j;
        r->tail = j;
    }
    r->queued++;
}

static struct rest_job *pop(struct rest *r)
{
    struct rest_job *j = r->head;
    if (j) {
        r->head = j->next;
        if (!r->head)
            r->tail = NULL;
        r->queued--;
    }
    return j;
}

int rest_get(struct rest *r, const char *path, int weight, int front, rest_done_fn done,
             void *ud)
{
    struct rest_job *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return -1;
    }
    j->r = r;
    j->weight = weight;
    j->done = done;
    j->ud = ud;
    push(r, j, front);
    pump(r);
    return 0;
}

static void wake(void *ud)
{
    struct rest *r = ud;
    r->timer = NULL;
    pump(r);
}

static void wake_at(struct rest *r, int64_t wall_ms)
{
    const struct rt *rt = r->rt;
    int64_t delay = wall_ms - rt_wall_ms(rt);
    if (r->timer)
        timers_cancel(rt->timers, r->timer);
    r->timer = timers_add(rt->timers, rt_now_ms(rt) + (uint64_t)(delay > 0 ? delay : 0), wake, r);
}

/* The exchange said "too many": nothing is sent for `after` seconds, then
 * the same request goes first. */
static void pause_and_retry(struct rest *r, struct rest_job *j, int64_t now, long after,
                            long status)
{
    r->paused_until = now + after * 1000;
    log_warn(r->rt->log, "market", "REST %ld (rate limit): pausing requests for %ld s", status,
             after);
    push(r, j, 1);
}

static void on_done(void *ud, const struct httpc_resp *resp)
{
    struct rest_job *j = ud;
    struct rest *r = j->r;
    int64_t now = rt_wall_ms(r->rt);
    r->inflight--;
    long status = resp->err ? 0 : resp->status;
    if (!resp->err) {
        long used = restparse_header(resp->headers, "x-mbx-used-weight-1m");
        if (used >= 0 && now / 60000 == r->minute && used > r->used)
            r->used = used;
    }
    if (status == 429 || status == 418) {
        long after = restparse_header(resp->headers, "retry-after");
        if (after <= 0)
            after = 60;
        else if (after > REST_MAX_PAUSE_S)
            after = REST_MAX_PAUSE_S;
        r->r429 += status == 429;
        r->r418 += status == 418;
        pause_and_retry(r, j, now, after, status);
    } else if (r->ban_s > 0 && status == r->ban_status) {
        r->rbanned++;
        pause_and_retry(r, j, now, r->ban_s, status);
    } else if (r->limited && status >= 200 && status < 300 &&
               r->limited(resp->body, resp->body_len)) {
        r->rlimited++;
        pause_and_retry(r, j, now, 1, status);
    } else if (status == 0 || status >= 500) {
        if (++j->attempts >= REST_MAX_ATTEMPTS) {
            log_error(r->rt->log, "market", "REST %s failed %d times (%s): giving up",
                      j->path, j->attempts, resp->err ? resp->err : "server error");
            j->done(j->ud, status, NULL, 0, resp->err ? resp->err : "server error");
            job_free(j);
        } else {
            r->retries++;
            /* exponential backoff with jitter: 0.5, 1, 2, 4, 8 s (+/- 25 %) */
            int64_t base = 500LL << (j->attempts - 1);
            j->not_before = now + base * 3 / 4 + rand() % (base / 2 + 1);
            log_warn(r->rt->log, "market", "REST %s failed (%s): retry %d in %.1f s",
                     j->path, resp->err ? resp->err : "server error", j->attempts,
                     (double)(j->not_before - now) / 1000);
            push(r, j, 0);
        }
    } else {
        j->done(j->ud, status, resp->body, resp->body_len, NULL);
        job_free(j);
    }
    pump(r);
}

static void pump(struct rest *r)
{
    if (r->stopped)
        return;
    int64_t now = rt_wall_ms(r->rt);
    if (now / 60000 != r->minute) {
        r->minute = now / 60000;
        r->used = 0;
    }
    if (now < r->paused_until) {
        wake_at(r, r->paused_until);
        return;
    }
    int64_t soonest = 0;
    for (int scanned = r->queued; r->inflight < r->max_inflight && scanned > 0 && r->head;
         scanned--) {
        struct rest_job *j = pop(r);
        if (j->not_before > now) {   /* backing off: look at the others */
            push(r, j, 0);
            soonest = soonest && soonest < j->not_before ? soonest : j->not_before;
            continue;
        }
        if (r->used + j->weight > r->limit * 9 / 10) {
            push(r, j, 1);   /* this minute's budget is spent */
            wake_at(r, (r->minute + 1) * 60000);
            return;
        }
        char url[2048];
        snprintf(url, sizeof url, "%s%s", r->base, j->path);
        struct httpc_req rq = {.method = "GET", .url = url, .timeout_ms = 15000};
        r->used += j->weight;
        r->inflight++;
        r->requests++;
        if (!httpc_request(r->httpc, &rq, on_done, j)) {
            r->inflight--;
            j->done(j->ud, 0, NULL, 0, "cannot start the request");
            job_free(j);
        }
    }
    if (soonest)
        wake_at(r, soonest);
}
