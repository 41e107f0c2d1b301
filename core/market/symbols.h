/* The symbol table: exchange symbols ("BTCUSDT") to small stable ids.
 * Lookups are ASCII case-insensitive, because stream names are lower case
 * and payloads upper case.  Symbols are never removed (a delisted symbol is
 * marked inactive), so an id stays valid for the life of the process.
 *
 *   struct symtab st; symtab_init(&st);
 *   int id = symtab_add(&st, "BTCUSDT", 7);
 *   symtab_find(&st, "btcusdt", 7) == id
 */
#ifndef CW_SYMBOLS_H
#define CW_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#define SYM_MAX_LEN 23

struct sym {
    char name[SYM_MAX_LEN + 1];   /* upper case */
    uint8_t len;
    uint8_t active;               /* in the universe now */
};

struct symtab {
    struct sym *v;
    uint32_t n;
    size_t cap;
    uint32_t *slots;              /* open addressing: id + 1, 0 = empty */
    uint32_t nslots;              /* power of two */
};

void symtab_init(struct symtab *st);
void symtab_free(struct symtab *st);
/* Adds (or finds) a symbol; its id, or -1 if the name is empty, too long
 * or not [A-Za-z0-9_]. */
int symtab_add(struct symtab *st, const char *name, size_t len);
/* The id of a symbol, or -1. */
int symtab_find(const struct symtab *st, const char *name, size_t len);

#endif
