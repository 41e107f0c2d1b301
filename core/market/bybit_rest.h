/* Bybit v5 market REST answers, read: pure code (no app, no loop, no
 * I/O), shared by the feed and the fuzz target.  Every answer is
 *   {"retCode":0,"retMsg":"OK","result":{...},"retExtInfo":{},"time":ms}
 * and retCode != 0 is a refusal (10001 parameters, 10006 too many visits,
 * 10016 server error ...).  Over the IP limit (600 requests / 5 s) Bybit
 * answers HTTP 403 "access too frequent": wait 10 minutes.
 *
 *   GET /v5/market/instruments-info?category=linear&limit=1000[&cursor=]
 *        bybit_rest_instruments: the wanted symbols, and the next page's cursor
 *   GET /v5/market/tickers?category=linear
 *        bybit_rest_tickers: the ranking by 24 h turnover (quote coin)
 *   GET /v5/market/kline?category=linear&symbol=&interval=&start=&end=&limit=
 *        bybit_rest_klines: rows newest first, all strings
 *        [start, open, high, low, close, volume, turnover]
 */
#ifndef CW_BYBIT_REST_H
#define CW_BYBIT_REST_H

#include <stddef.h>
#include <stdint.h>

#include "market/bybit.h"
#include "market/restparse.h"

#define BYBIT_KLINE_LIMIT 1000        /* rows per kline request (docs: 1..1000) */
#define BYBIT_INSTRUMENTS_LIMIT 1000  /* per page (docs: 1..1000, default 500) */
#define BYBIT_IP_WINDOW_MS 5000       /* the IP limit: 600 requests per 5 s */
#define BYBIT_IP_REQUESTS 600
#define BYBIT_BAN_MS 600000           /* after a 403: "wait for at least 10 minutes" */
#define BYBIT_TOO_MANY_VISITS 10006

#define BYBIT_REST_NOT_ANSWER (-1)   /* not JSON, or not the answer expected */
#define BYBIT_REST_NO_MEMORY (-2)
#define BYBIT_REST_REFUSED (-3)      /* retCode != 0: bybit_rest_code says which */

/* The answer's retCode (0: OK) into *code, retMsg copied into msg (may be
 * NULL); -1 when the body is not JSON or has no numeric retCode. */
int bybit_rest_code(const char *body, size_t len, long *code, char *msg, size_t msgcap);

/* Is the answer Bybit's rate-limit refusal (retCode 10006)?  For the REST
 * queue's `limited` hook. */
int bybit_rest_limited(const char *body, size_t len);

/* Reads a kline answer for symbol sym, interval iv; fn gets the closed rows
 * oldest first (Bybit sends them newest first).  Rows still forming (end
 * at or after exch_now) and rows of fewer than 7 items are skipped.
 * 0, BYBIT_REST_NOT_ANSWER or BYBIT_REST_REFUSED (fn not called). */
int bybit_rest_klines(const char *body, size_t len, uint32_t sym, int iv, int64_t exch_now,
                       restparse_row_fn fn, void *ud);

/* Reads one page of instruments-info: the symbols with status Trading,
 * this contractType ("LinearPerpetual") and quote coin, into u (free with
 * restparse_universe_free), each with its price decimals in u->price_dp
 * (priceScale, else the decimals of priceFilter.tickSize; -1 if neither:
 * Bybit's pushes trim trailing zeros, so a candle alone cannot tell); the next page's cursor into cursor ("" on the
 * last page; a cursor that does not fit is the last page too).
 * 0, or BYBIT_REST_NOT_ANSWER / _NO_MEMORY / _REFUSED (u zeroed). */
int bybit_rest_instruments(const char *body, size_t len, const char *contract_type,
                           const char *quote, struct restparse_universe *u, char *cursor,
                           size_t cursor_cap);

/* The instruments-info path for a page: the first (cursor NULL or ""), or
 * the one nextPageCursor names (sent as given: it comes URL-encoded; any
 * other byte that may not stand in a query is escaped).  Its length, or
 * -1 when it does not fit. */
int bybit_rest_instruments_path(char *out, size_t cap, const char *cursor);

/* Reads a tickers answer: the symbols find knows (ids below nsyms), by
 * turnover24h, biggest first, each once.  0, or BYBIT_REST_NOT_ANSWER /
 * _NO_MEMORY / _REFUSED (r zeroed: the ranking should stay as it was).
 * Free with restparse_ranking_free. */
int bybit_rest_tickers(const char *body, size_t len, bybit_find_fn find, const void *find_ud,
                        uint32_t nsyms, struct restparse_ranking *r);

#endif
