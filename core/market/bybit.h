/* Bybit v5 public linear (USDT perpetuals): the venue's WebSocket text.
 * Pure code (no app, no loop, no I/O), shared by the feed and the fuzz
 * target.  Facts from Bybit's v5 docs (bybit-exchange/docs, 2026-07):
 *
 *   push   {"topic":"kline.5.BTCUSDT","data":[{"start":...,"end":...,
 *           "interval":"5","open":"16649.5","close":"16677","high":"16677",
 *           "low":"16608","volume":"2.081","turnover":"34666.4005",
 *           "confirm":false,"timestamp":...}],"ts":...,"type":"snapshot"}
 *          data[] is a list: every entry is a candle of the topic's symbol;
 *          confirm=true closes it; volume is in the base coin, turnover in
 *          the quote coin; prices are strings, times ms numbers.
 *   reply  {"success":true,"ret_msg":"","conn_id":"...","req_id":"7","op":"subscribe"}
 *          (success false: ret_msg says why, e.g. "Params Error")
 *   pong   {"success":true,"ret_msg":"pong","conn_id":"...","req_id":"","op":"ping"}
 *
 * Requests: {"req_id":"7","op":"subscribe","args":["kline.1.BTCUSDT",...]}
 * and {"req_id":"8","op":"ping"}, the client's ping recommended every 20 s.
 */
#ifndef CW_BYBIT_H
#define CW_BYBIT_H

#include <stddef.h>
#include <stdint.h>

#include "market/candle.h"
#include "market/kline.h"

#define BYBIT_ARGS_PER_REQUEST 10   /* topics per subscribe (spot's documented
                                     * limit; linear has none "for now") */
#define BYBIT_PING_MS 20000         /* the docs' recommended heartbeat */

enum bybit_kind { BYBIT_KLINE, BYBIT_REPLY, BYBIT_PONG, BYBIT_OTHER, BYBIT_DROP };

struct bybit_info {
    enum kline_drop drop;     /* BYBIT_DROP: why; BYBIT_KLINE: the first entry dropped */
    int candles;              /* data[] entries handed on */
    int dropped;              /* data[] entries dropped */
    int success;              /* BYBIT_REPLY, BYBIT_PONG: "success" */
    int64_t req_id;           /* BYBIT_REPLY, BYBIT_PONG: req_id as a number; -1 if none */
    const char *ret_msg;      /* BYBIT_REPLY: into the frame (not NUL-terminated) */
    size_t ret_msg_n;
    int slow;                 /* the fast path left it to the general walker (bench) */
};

/* The symbol id of a venue-local name ("BTCUSDT"), or -1 (unknown or not
 * wanted). */
typedef int (*bybit_find_fn)(const void *ud, const char *name, size_t n);
/* One candle of a push (c is only valid during the call). */
typedef void (*bybit_candle_fn)(void *ud, const struct candle *c);

/* Reads a frame; for a kline push, fn gets each valid entry of data[] in
 * order and the frame is BYBIT_KLINE if any was valid (the others are
 * counted in info->dropped), else BYBIT_DROP.  No allocation.  Pushes
 * in Bybit's own layouts take a fast path; anything else the general
 * walker. */
enum bybit_kind bybit_parse(const char *buf, size_t len, bybit_find_fn find, const void *find_ud,
                            bybit_candle_fn fn, void *fn_ud, struct bybit_info *info);
/* The same with the general walker alone (the reference the fast path
 * must agree with; tests and the fuzz target). */
enum bybit_kind bybit_parse_general(const char *buf, size_t len, bybit_find_fn find,
                                    const void *find_ud, bybit_candle_fn fn, void *fn_ud,
                                    struct bybit_info *info);

/* Bybit's interval names: "1" ... "720", "D".  enum interval or -1 (W, M
 * and anything else). */
int bybit_interval_parse(const char *name, size_t len);
/* NULL for an interval Bybit does not have (8h). */
const char *bybit_interval_name(int iv);

/* "kline.{interval}.{SYMBOL}" into out; its length, or -1 when it does not
 * fit or the interval has no Bybit name. */
int bybit_topic(char *out, size_t cap, int iv, const char *sym);
/* {"req_id":"ID","op":"OP","args":[...]} (no args: no "args") into out;
 * its length, or -1 when it does not fit.  Topics are written as given. */
int bybit_request(char *out, size_t cap, const char *op, const char *const *args, int nargs,
                  int64_t req_id);

#endif
