/* The kline frame parser: exchange text in, struct candle out, with no
 * allocation and no copy of the frame.
 *
 * It reads Binance's combined-stream frames
 *   {"stream":"btcusdt@kline_1m","data":{"e":"kline","E":...,"s":"BTCUSDT","k":{...}}}
 * raw-stream events ({"e":"kline",...}) and the replies to SUBSCRIBE and
 * friends ({"result":null,"id":1}, {"error":{...},"id":1}).  Anything else
 * is dropped with a reason; a dropped frame never yields a candle.
 */
#ifndef CW_KLINE_H
#define CW_KLINE_H

#include <stddef.h>
#include <stdint.h>

#include "market/candle.h"
#include "market/symbols.h"

enum frame_kind { FRAME_KLINE, FRAME_REPLY, FRAME_OTHER, FRAME_DROP };

enum kline_drop {
    KD_NONE,
    KD_JSON,              /* invalid or truncated JSON */
    KD_OVERSIZE,          /* larger than the configured limit (checked by the feed) */
    KD_MISSING_FIELD,
    KD_BAD_NUMBER,        /* a number or decimal string that is not one */
    KD_BAD_PRICES,        /* negative or zero, or high/low not around open/close */
    KD_BAD_TIME,          /* close time not open time + interval - 1 */
    KD_UNKNOWN_SYMBOL,
    KD_UNKNOWN_INTERVAL,
    KD_STREAM_MISMATCH,   /* payload disagrees with its stream name */
    KD_COUNT
};

struct frame_info {
    enum kline_drop drop;
    int64_t reply_id;     /* FRAME_REPLY: the id; -1 if none */
    int reply_error;      /* FRAME_REPLY: an error reply */
    int slow;             /* the fast path gave up on it (bench, metrics) */
    int ncandles;         /* FRAME_KLINE: candles written to out (a venue's
                           * frame may carry several; Binance's carry one) */
    int shutdown;         /* FRAME_OTHER: the server says it is going away
                           * (Binance spot's serverShutdown): replace the
                           * connection now */
};

const char *kline_drop_name(enum kline_drop d);

enum frame_kind kline_parse(const char *buf, size_t len, const struct symtab *syms,
                            struct candle *out, struct frame_info *info);
/* The same for a venue's symbols (Binance spot frames have the layout of
 * USDⓈ-M's; kline_parse is VENUE_USDM). */
enum frame_kind kline_parse_in(const char *buf, size_t len, const struct symtab *syms, int venue,
                               struct candle *out, struct frame_info *info);
/* The same with the general JSON walker alone, skipping the fast path for
 * Binance's exact layout; for tests that check both paths agree. */
enum frame_kind kline_parse_general(const char *buf, size_t len, const struct symtab *syms,
                                    struct candle *out, struct frame_info *info);
enum frame_kind kline_parse_general_in(const char *buf, size_t len, const struct symtab *syms,
                                       int venue, struct candle *out, struct frame_info *info);

/* A decimal string ("29038.46000000") to double, with its decimals count.
 * 0 on success; -1 for anything that is not a plain non-negative decimal. */
int kline_decimal(const char *s, size_t n, double *out, int *decimals);

#endif
