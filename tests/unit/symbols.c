/* The symbol table across venues: qualified names ("spot:BTCUSDT"), ids
 * unique across venues, lookups by (venue, local name) as the parsers do,
 * and the venue ops' subscribe messages and REST paths. */
#include <stdlib.h>
#include <string.h>

#include "market/symbols.h"
#include "market/venue.h"
#include "tap.h"
#include "util/interval.h"

static int add(struct symtab *st, const char *name)
{
    return symtab_add(st, name, strlen(name));
}

static int find(const struct symtab *st, const char *name)
{
    return symtab_find(st, name, strlen(name));
}

int main(void)
{
    struct symtab st;
    symtab_init(&st);
    int usdm = add(&st, "BTCUSDT"), spot = add(&st, "spot:BTCUSDT"), bybit = add(&st, "bybit:btcusdt");
    ok(usdm >= 0 && spot >= 0 && bybit >= 0, "one name on three venues: three symbols");
    ok(usdm != spot && spot != bybit && usdm != bybit, "with ids unique across venues");
    is_str(st.v[usdm].name, "BTCUSDT", "USDⓈ-M's name is the plain one (existing presets keep it)");
    is_str(st.v[spot].name, "spot:BTCUSDT", "spot's is qualified");
    is_str(st.v[bybit].name, "bybit:BTCUSDT", "input in any case, output canonical");
    is_str(sym_local(&st.v[bybit]), "BTCUSDT", "the venue-local name is what the exchange calls it");
    is_int(st.v[spot].venue, VENUE_SPOT, "and the symbol knows its venue");
    is_int(find(&st, "Spot:btcusdt"), spot, "lookups read the prefix without regard to case");
    is_int(find(&st, "BYBIT:BTCUSDT"), bybit, "(BYBIT: too)");
    is_int(symtab_find_in(&st, VENUE_SPOT, "btcusdt", 7), spot, "the parsers' lookup: venue and local name");
    is_int(symtab_find_in(&st, VENUE_USDM, "BTCUSDT", 7), usdm, "USDⓈ-M's by its plain name");
    is_int(symtab_find_in(&st, VENUE_BYBIT, "ETHUSDT", 7), -1, "an unknown one is none");
    is_int(find(&st, "kraken:BTCUSDT"), -1, "a prefix of no venue finds nothing");
    is_int(add(&st, "kraken:BTCUSDT"), -1, "and adds nothing");
    is_int(add(&st, "spot:"), -1, "nor does a prefix alone");
    is_int(add(&st, "bybit:ABCDEFGHIJKLMNOPQRSTUVW"), (int)st.n - 1, "a local name of 23 fits with the longest prefix");
    is_int(add(&st, "bybit:ABCDEFGHIJKLMNOPQRSTUVWX"), -1, "24 does not");
    is_int(add(&st, "spot:BTCUSDT"), spot, "adding again finds the same id");
    /* many symbols on two venues: every one found after the table grew */
    char name[32];
    int bad = 0;
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "%sS%dUSDT", i % 2 ? "spot:" : "", i / 2);
        if (add(&st, name) < 0)
            bad++;
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "%sS%dUSDT", i % 2 ? "spot:" : "", i / 2);
        int id = find(&st, name);
        if (id < 0 || strcmp(st.v[id].name, name) != 0)
            bad++;
    }
    is_int(bad, 0, "3000 symbols over two venues: each added and found by its own name");

    is_int(venue_parse("Spot", 4), VENUE_SPOT, "venue words: Spot");
    is_int(venue_parse("binance", 7), VENUE_USDM, "binance (USDⓈ-M)");
    is_int(venue_parse("futures", 7), VENUE_USDM, "futures");
    is_int(venue_parse("bybit", 5), VENUE_BYBIT, "bybit");
    is_int(venue_parse("okx", 3), -1, "and no other");

    /* the venue ops: the same SUBSCRIBE, spot's own REST */
    uint32_t ids[2] = {(uint32_t)usdm, (uint32_t)spot};
    char *m = venue_usdm.subscribe_msg(&st, 1, ids, 1, 1 << IV_1M | 1 << IV_1H, 7);
    is_str(m, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@kline_1m\",\"btcusdt@kline_1h\"],\"id\":7}",
           "USDⓈ-M's SUBSCRIBE names lower-case streams, with its id");
    free(m);
    m = venue_spot.subscribe_msg(&st, 0, ids + 1, 1, 1 << IV_5M, 8);
    is_str(m, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@kline_5m\"],\"id\":8}",
           "spot's streams are the venue-local name's");
    free(m);
    char path[256];
    venue_spot.klines_path(path, sizeof path, sym_local(&st.v[spot]), IV_1M, 1700000000000LL, 1000);
    is_str(path, "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000&startTime=1700000000000",
           "spot's klines path");
    is_int(venue_spot.klines_max, 1000, "spot: at most 1000 rows a request");
    is_int(venue_spot.klines_weight(1000), 2, "at weight 2 whatever the limit");
    is_int(venue_usdm.klines_weight(1000), 5, "(USDⓈ-M's weight grows with the limit)");
    is_int(venue_spot.send_gap_ms * 5 >= 1000 * 2, 1, "spot's control messages stay under half its 5 a second");
    symtab_free(&st);
    return done();
}
