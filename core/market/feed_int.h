/* The feed's insides, shared by its files (not for other modules):
 *   feed.c           life cycle: start, stop, free
 *   feed_conn.c      connections: outgoing bytes, reconnect, rotation
 *   feed_backfill.c  what the streams missed, or their history, by REST
 *   feed_universe.c  the symbols (exchangeInfo) and their ranking (24 h tickers)
 *   feed_health.c    /health's exchange entry and /metrics
 */
#ifndef CW_FEED_INT_H
#define CW_FEED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "market/feed.h"
#include "market/rest.h"
#include "market/venue.h"
#include "net/ws.h"

#define FEED_BACKOFF_MIN_MS 1000
#define FEED_BACKOFF_MAX_MS 60000
#define FEED_HEALTHY_AFTER_MS 60000   /* a connection this old resets its backoff */

struct lws;
struct lws_vhost;
struct tls_ctx;
struct tls_client;

enum conn_state { CS_WAIT, CS_CONNECTING, CS_OPEN, CS_DEAD };

/* Outgoing bytes: the upgrade request and pongs go first; SUBSCRIBE-style
 * messages are paced under the exchange's incoming-message limit. */
struct outmsg {
    unsigned char *p;
    size_t n;
    int paced;
    int plain;    /* WebSocket bytes: encrypted at send time when TLS is on */
};

struct conn {
    struct feed *f;
    int id;
    int closing;                  /* a close frame is queued: close once it is sent */
    struct lws *wsi;
    enum conn_state state;
    uint32_t *syms;               /* symbols whose streams it carries */
    uint8_t *need_backfill;       /* parallel to syms */
    int nsyms;
    size_t cap;                   /* of syms and need_backfill both */
    struct outmsg *out;           /* bytes waiting to be sent */
    int nout;
    size_t capout;
    struct ws_client ws;          /* WebSocket over the raw connection */
    struct tls_client *tc;        /* with wss: TLS between the two */
    int failed;                   /* the engine refused what it read */
    int unacked;                  /* SUBSCRIBEs without a reply yet */
    int64_t last_send, last_frame, opened, last_ping;
    int attempts;
    int got_kline;
    struct conn *replaces;        /* rotation: the connection to close when this one is live */
    int retiring;                 /* being replaced: close for good, no reconnect */
    struct timer *timer;          /* reconnect, or the 1 s check while open */
    uint32_t history;             /* the candle store's size its streams were fetched to */
};

struct feed {
    const struct rt *rt;
    const struct config *cfg;     /* tls.ca_file */
    const struct venue_ops *vo;   /* what is the venue's own */
    const struct config_venue *vc;/* its section: exchange.*, spot.*, ... */
    struct net_lws *lws;          /* its context (cleared by lws once destroyed) */
    struct health *health;        /* the venue's entry ("exchange", "spot", ...) */
    struct market *m;
    struct rest rest;
    struct lws_vhost *vh;
    char host[256], path[512];
    int port, tls;
    struct tls_ctx *tls_ctx;
    struct conn **conns;
    int nconns, next_id, next_msg_id;
    size_t capconns;
    int intervals, niv;
    int universe_ok;
    struct {                      /* a universe of several pages, read so far */
        char **names;
        signed char *price_dp;    /* per name (-1: unknown) */
        size_t n, cap, dpcap, listed;
        int pages;
        int64_t server_time;
    } pg;
    int stopping;                 /* feed_stop: no reconnects, no new requests */
    struct timer *universe_timer, *ranking_timer;
    long warm_total, warm_done;
    uint64_t reconnects, rotations;
    uint64_t received, slow;      /* frames of its connections; those off the fast path */
    uint64_t dropped[KD_COUNT];   /* its frames and REST rows dropped, by reason */
};

/* Wall-clock ms: the clock frames and rows are stamped with. */
int64_t feed_now_ms(const struct feed *f);

/* feed_conn.c */
struct lws_protocols;
/* The client protocol its vhost serves (the callbacks of every connection). */
const struct lws_protocols *feed_conn_protocols(void);
struct conn *feed_conn_new(struct feed *f);
int feed_conn_add_sym(struct conn *c, uint32_t sym);
void feed_conn_free(struct conn *c);
/* The connection's one timer: (re)connect when waiting, else the check. */
void feed_conn_timer(struct conn *c, int64_t delay_ms);
/* A masked WebSocket frame of text, queued (urgent unless paced). */
void feed_queue_frame(struct conn *c, int opcode, const char *text, size_t n, int paced);
/* Subscribes (on) or unsubscribes every interval of syms[0..n). */
void feed_queue_streams(struct conn *c, int on, const uint32_t *syms, int n);
/* The delay before reconnect attempt `attempts` (0 first): doubling from
 * 1 s up to 60 s, then +/- 25 % by rnd (any random number). */
int64_t feed_backoff_ms(int attempts, unsigned rnd);

/* feed_backfill.c */
/* Queues what each stream of sym missed (or its whole history). */
void feed_backfill(struct feed *f, uint32_t sym);
/* Backfills the connection's symbols marked as needing it. */
void feed_backfill_pending(struct conn *c);
/* The store grew (a reload's rules read more): fetches the older candles
 * of the connection's streams (called by the open connection's check). */
void feed_backfill_deeper(struct conn *c);
/* The market's fetch_history: a series' history for the indicator book. */
void feed_need_history(void *ud, uint32_t sym, int iv);

/* feed_universe.c */
/* Asks for the symbol list now; the ranking follows, then both repeat. */
void feed_refresh_universe(void *feed);
/* Forgets the pages of a universe read so far. */
void feed_pages_free(struct feed *f);

/* feed_health.c */
/* Open, streaming, and not stale. */
int feed_conn_live(const struct feed *f, const struct conn *c);

#endif
