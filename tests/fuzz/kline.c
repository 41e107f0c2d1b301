/* libFuzzer target for the kline frame parser (make fuzz).  Whatever the
 * bytes, the parser must not crash, read out of bounds, or yield a candle
 * that breaks its invariants; a candle it yields must also go through the
 * candle store.  The fast path for Binance's layout and the general walker
 * must give the same answer for every input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/candles.h"
#include "util/interval.h"
#include "market/kline.h"

static struct symtab syms;
static struct candles store;

static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    symtab_init(&syms);
    const char *names[] = {"BTCUSDT", "ETHUSDT", "BTCUSD_220624", "ETHBTC", "X"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        symtab_add(&syms, names[i], strlen(names[i]));
        symtab_add_in(&syms, VENUE_SPOT, names[i], strlen(names[i]));   /* spot: the same parser */
    }
    candles_init(&store, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    /* an exact-size copy: ASan then catches any read past the frame */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct candle c;
    struct frame_info fi;
    enum frame_kind k = kline_parse(buf, size, &syms, &c, &fi);
    struct candle g;
    struct frame_info gi;
    if (kline_parse_general(buf, size, &syms, &g, &gi) != k || gi.drop != fi.drop ||
        gi.reply_id != fi.reply_id || gi.reply_error != fi.reply_error)
        abort();
    if (k == FRAME_KLINE &&
        (g.symbol != c.symbol || g.interval != c.interval || g.open_time != c.open_time ||
         g.close_time != c.close_time || g.event_time != c.event_time || g.open != c.open ||
         g.high != c.high || g.low != c.low || g.close != c.close || g.volume != c.volume ||
         g.quote_volume != c.quote_volume || g.trades != c.trades || g.closed != c.closed ||
         g.price_dp != c.price_dp))
        abort();
    /* as Binance spot's feed reads it: the same answer, for spot's symbol */
    struct candle sc;
    struct frame_info si;
    if (kline_parse_in(buf, size, &syms, VENUE_SPOT, &sc, &si) != k || si.drop != fi.drop ||
        (k == FRAME_KLINE &&
         (sc.symbol != (uint32_t)symtab_find_in(&syms, VENUE_SPOT, sym_local(&syms.v[c.symbol]),
                                                (size_t)(syms.v[c.symbol].len - syms.v[c.symbol].local)) ||
          sc.volume != c.volume || sc.quote_volume != c.quote_volume || sc.open != c.open)))
        abort();
    if (k == FRAME_KLINE) {
        int64_t ms = interval_ms(c.interval);
        if (!(c.open > 0 && c.low > 0 && c.high >= c.low && c.high >= c.open &&
              c.high >= c.close && c.low <= c.open && c.low <= c.close &&
              c.symbol < syms.n && c.interval < IV_COUNT && c.open_time % ms == 0 &&
              c.close_time == c.open_time + ms - 1 && c.trades >= 0 && c.volume >= 0 &&
              c.quote_volume >= 0))
            abort();
        candles_apply(&store, &c);
    } else if (k == FRAME_DROP && (fi.drop <= KD_NONE || fi.drop >= KD_COUNT)) {
        abort();
    }
    free(buf);
    return 0;
}
