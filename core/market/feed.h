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

struct app;
struct jsonw;

int feed_start(struct app *a, char *err, size_t errlen);
/* Closes the connections (from inside the loop is fine). */
void feed_stop(struct app *a);
void feed_free(struct app *a);
/* Updates the exchange entry of /health and writes its details. */
void feed_health(struct app *a, struct jsonw *w);
struct prom;
void feed_metrics(struct app *a, struct prom *p);

#endif
