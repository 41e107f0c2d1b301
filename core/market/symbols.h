/* The symbol table: exchange symbols ("BTCUSDT") on each venue to small
 * stable ids, unique across venues.  A symbol's name is qualified by its
 * venue: "BTCUSDT" (Binance USDⓈ-M, the default), "spot:BTCUSDT" (Binance
 * spot), "bybit:BTCUSDT" (Bybit linear); the prefix is read without regard
 * to case and written as here.  Lookups are ASCII case-insensitive, because
 * stream names are lower case and payloads upper case.  Symbols are never
 * removed (a delisted symbol is marked inactive), so an id stays valid for
 * the life of the process.
 *
 *   struct symtab st; symtab_init(&st);
 *   int id = symtab_add(&st, "spot:BTCUSDT", 12);
 *   symtab_find_in(&st, VENUE_SPOT, "btcusdt", 7) == id   (what parsers use)
 *   symtab_find(&st, "Spot:btcusdt", 12) == id
 */
#ifndef CW_SYMBOLS_H
#define CW_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

/* The venues, in the order of their ids (a symbol's venue). */
enum venue { VENUE_USDM, VENUE_SPOT, VENUE_BYBIT, VENUE_COUNT };

#define SYM_MAX_LEN 23          /* a venue-local name */
#define SYM_NAME_MAX 31         /* a qualified one: prefix + local name */

struct sym {
    char name[SYM_NAME_MAX + 1];  /* qualified, canonical: "spot:BTCUSDT" */
    uint8_t len;                  /* of name */
    uint8_t local;                /* where the venue-local name starts in name */
    uint8_t venue;                /* enum venue */
    uint8_t active;               /* in the universe now */
    int8_t price_dp;              /* the venue's price decimals (Bybit's
                                   * priceScale), -1 when it gives none */
};

/* The venue-local name ("BTCUSDT"): what the exchange calls it. */
static inline const char *sym_local(const struct sym *y)
{
    return y->name + y->local;
}

struct symtab {
    struct sym *v;
    uint32_t n;
    size_t cap;
    uint32_t *slots;              /* open addressing: id + 1, 0 = empty */
    uint32_t nslots;              /* power of two */
};

/* A venue's prefix as written ("", "spot:", "bybit:"); "" for a bad venue. */
const char *venue_prefix(int venue);
/* The venue a qualified name names and where its local part starts (*at);
 * -1 when the prefix is no venue's ("kraken:BTC"). */
int venue_of_name(const char *name, size_t len, size_t *at);
/* The venue a word names ("spot", "Bybit", "usdm", "futures"); -1 if none. */
int venue_parse(const char *word, size_t len);
/* A short name for people and labels: "binance", "spot", "bybit". */
const char *venue_name(int venue);

void symtab_init(struct symtab *st);
void symtab_free(struct symtab *st);
/* Adds (or finds) a symbol by its qualified name; its id, or -1 if the
 * name is empty, too long, not [A-Za-z0-9_] or of no venue. */
int symtab_add(struct symtab *st, const char *name, size_t len);
/* The same by venue and venue-local name. */
int symtab_add_in(struct symtab *st, int venue, const char *local, size_t len);
/* The id of a symbol by its qualified name, or -1. */
int symtab_find(const struct symtab *st, const char *name, size_t len);
/* The id by venue and venue-local name, or -1: no allocation, no copy
 * (the parsers' lookup). */
int symtab_find_in(const struct symtab *st, int venue, const char *local, size_t len);

#endif
