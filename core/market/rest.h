/* Exchange REST calls, queued and paced within the weight limit.
 *
 * Each job names its path and weight.  The queue keeps a local count of the
 * weight used this minute (synced from X-MBX-USED-WEIGHT-1M), never goes
 * past 90 % of the limit, and on 429/418 pauses everything for Retry-After.
 * Server and network errors are retried with backoff; other answers go to
 * the job's callback.  Live streaming never waits for this queue.
 */
#ifndef CW_MARKET_REST_H
#define CW_MARKET_REST_H

#include <stddef.h>
#include <stdint.h>

struct httpc;
struct rest_job;
struct rt;
struct timer;

/* body is NULL when the job failed for good (err says why). */
typedef void (*rest_done_fn)(void *ud, long status, const char *body, size_t len,
                             const char *err);

struct rest {
    const struct rt *rt;
    struct httpc *httpc;
    const char *base;          /* exchange.rest_url */
    struct rest_job *head, *tail;
    int inflight, max_inflight, queued;
    long limit, used;
    int64_t minute;            /* the wall-clock minute `used` counts for */
    int64_t paused_until;      /* wall ms */
    struct timer *timer;
    uint64_t requests, retries, r429, r418;
    int stopped;               /* rest_free: nothing more is started */
    /* A venue's own ways of saying "too many" (set after rest_init; off
     * by default): an HTTP status that bans the IP for ban_s seconds with
     * no Retry-After (Bybit: 403, 10 minutes), and a 2xx body that is a
     * rate-limit refusal (Bybit: retCode 10006), which pauses 1 s. */
    long ban_status, ban_s;
    int (*limited)(const char *body, size_t len);
    uint64_t rbanned, rlimited;
};

void rest_init(struct rest *r, const struct rt *rt, struct httpc *httpc, const char *base,
               long weight_limit);
/* Hands every queued job back (err "stopping") and starts nothing more. */
void rest_free(struct rest *r);
/* Queues GET base+path (path starts with '/'); front: ahead of the queue. */
int rest_get(struct rest *r, const char *path, int weight, int front, rest_done_fn done,
             void *ud);
/* The weight of a klines request of `limit` rows (Binance's table). */
int rest_klines_weight(int limit);

#endif
