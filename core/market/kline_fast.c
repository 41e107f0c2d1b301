/* The kline parser's fast path: Binance's own field order read with
 * literal compares (see the comment below); market/kline.c is the rest. */
#include "market/fast_lex.h"

/* ---- fast path ----
 * Binance serialises every kline event with the same fields in the same
 * order.  This path reads exactly that layout with literal compares and no
 * key dispatch; at the first byte that differs (other order, whitespace,
 * escapes, a malformed value) it gives up and the general walker parses the
 * frame from the start, so both paths accept and refuse the same frames. */

int kline_fast(const char *buf, size_t len, struct parse *ps)
{
    if (len < 2 || buf[len - 1] != '}')
        return 0;
    struct fp f = {buf, buf + len};
    struct candle *c = ps->c;
    const char *skip;
    size_t skip_n;
    int64_t i64;
    int dp;
    int combined = LIT(&f, "{\"stream\":\"");
    if (combined && !(fstr(&f, &ps->stream, &ps->stream_n) && LIT(&f, ",\"data\":")))
        return 0;
    if (!(LIT(&f, "{\"e\":\"kline\",\"E\":") && ftime(&f, &ps->event_time) &&
          LIT(&f, ",\"s\":\"") && fstr(&f, &ps->data_sym, &ps->data_sym_n)))
        return 0;
    /* The symbol recurs in the kline, and the interval ends the stream name
     * ("btcusdt@kline_1m"): checking they are there saves scanning for
     * their ends.  (Whether they agree is checked after, on both paths.) */
    const char *iv_want = "";
    size_t iv_want_n = 0;
    if (combined && ps->stream_n > ps->data_sym_n + 7) {
        iv_want = ps->stream + ps->data_sym_n + 7;
        iv_want_n = ps->stream_n - ps->data_sym_n - 7;
    }
    if (!(LIT(&f, ",\"k\":{\"t\":") && ftime(&f, &c->open_time) && LIT(&f, ",\"T\":") &&
          ftime(&f, &c->close_time) && LIT(&f, ",\"s\":\"") &&
          fsame(&f, ps->data_sym, ps->data_sym_n, &ps->sym, &ps->sym_n) &&
          LIT(&f, ",\"i\":\"") && fsame(&f, iv_want, iv_want_n, &ps->iv, &ps->iv_n) &&
          LIT(&f, ",\"f\":") &&
          fint(&f, &i64) && LIT(&f, ",\"L\":") && fint(&f, &i64) && LIT(&f, ",\"o\":") &&
          fdec(&f, &c->open, &ps->dp) && LIT(&f, ",\"c\":") && fdec(&f, &c->close, &dp) &&
          LIT(&f, ",\"h\":") && fdec(&f, &c->high, &dp) && LIT(&f, ",\"l\":") &&
          fdec(&f, &c->low, &dp) && LIT(&f, ",\"v\":") && fdec(&f, &c->volume, &dp) &&
          LIT(&f, ",\"n\":") && fint(&f, &i64) && i64 >= 0 && i64 <= INT32_MAX &&
          LIT(&f, ",\"x\":")))
        return 0;
    c->trades = (int32_t)i64;
    if (LIT(&f, "true"))
        c->closed = 1;
    else if (LIT(&f, "false"))
        c->closed = 0;
    else
        return 0;
    if (!(LIT(&f, ",\"q\":") && fdec(&f, &c->quote_volume, &dp) && LIT(&f, ",\"V\":\"") &&
          fstr(&f, &skip, &skip_n) && LIT(&f, ",\"Q\":\"") && fstr(&f, &skip, &skip_n) &&
          LIT(&f, ",\"B\":\"") && fstr(&f, &skip, &skip_n) && LIT(&f, "}}")))
        return 0;
    if (combined && !LIT(&f, "}"))
        return 0;
    if (f.p != f.end)
        return 0;
    static const char kline[] = "kline";
    ps->event = kline;
    ps->event_n = 5;
    ps->has_event_time = 1;
    ps->has_k = 1;
    ps->seen = F_ALL;
    return 1;
}
