/* The live feed from the exchange: the universe of symbols and its
 * ranking from REST, kline streams over as many WebSocket connections as
 * the stream limit needs, and gap repair / warm start through REST.
 *
 * Each connection: SUBSCRIBEs paced under the exchange's message limit,
 * pings answered (by lws), silence treated as failure, reconnects with
 * capped exponential backoff and jitter, and a make-before-break
 * replacement before the exchange's 24-hour cut.  After every (re)connect
 * the closed candles it missed are fetched and fed through the same path,
 * marked as backfilled.
 */
#ifndef CW_FEED_H
#define CW_FEED_H

#include <stddef.h>

struct config;
struct venue_ops;
struct feed;
struct health;
struct httpc;
struct jsonw;
struct market;
struct net_lws;
struct prom;
struct rt;

/* Starts streaming venue vo into m: cfg's section of the venue and
 * tls.ca_file (kept, read later), REST through httpc, connections on lws's
 * context, its state in health's entry for the venue (vo->health).  NULL
 * with err set when it cannot start. */
struct feed *feed_start(const struct rt *rt, const struct config *cfg,
                        const struct venue_ops *vo, struct market *m, struct httpc *httpc,
                        struct net_lws *lws, struct health *health, char *err, size_t errlen);
/* The application is stopping: no reconnect and no new request from now
 * on, and the connections close (from inside the loop is fine). */
void feed_stop(struct feed *f);
/* Once the loop has run the closes (f may be NULL). */
void feed_free(struct feed *f);
/* Updates the venue's entry of /health and writes its details (w may be NULL). */
void feed_health(struct feed *f, struct jsonw *w);
/* The connections and REST counters, labelled with the venue (f may be
 * NULL: zeros, for vo). */
void feed_metrics(const struct feed *f, const struct venue_ops *vo, struct prom *p);

#endif
