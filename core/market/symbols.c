#include "market/symbols.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/grow.h"

static const char *const prefixes[VENUE_COUNT] = {"", "spot:", "bybit:"};
static const char *const names[VENUE_COUNT] = {"binance", "spot", "bybit"};

const char *venue_prefix(int venue)
{
    return venue >= 0 && venue < VENUE_COUNT ? prefixes[venue] : "";
}

const char *venue_name(int venue)
{
    return venue >= 0 && venue < VENUE_COUNT ? names[venue] : "?";
}

static int ieq_word(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((a[i] | 0x20) != b[i])
            return 0;
    return 1;
}

int venue_parse(const char *word, size_t len)
{
    if (ieq_word(word, len, "usdm") || ieq_word(word, len, "futures"))
        return VENUE_USDM;
    for (int v = 0; v < VENUE_COUNT; v++)
        if (ieq_word(word, len, names[v]))
            return v;
    return -1;
}

int venue_of_name(const char *name, size_t len, size_t *at)
{
    const char *colon = memchr(name, ':', len);
    *at = 0;
    if (!colon)
        return VENUE_USDM;
    size_t n = (size_t)(colon - name);
    for (int v = 1; v < VENUE_COUNT; v++)
        if (ieq_word(name, n, names[v])) {
            *at = n + 1;
            return v;
        }
    return -1;
}

static inline unsigned char up(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

/* A word at a time, with ASCII case folded (clearing bit 5 of every byte
 * maps a-z onto A-Z; it also maps some other bytes together, which the
 * compare sorts out).  Names are at most 23 bytes. */
static uint32_t hash(const char *s, size_t n)
{
    uint64_t h = n * 0x9E3779B97F4A7C15ull;
    while (n) {
        size_t k = n < 8 ? n : 8;
        uint64_t w = bytes_load(s, k);
        h = (h ^ (w & 0xDFDFDFDFDFDFDFDFull)) * 0xff51afd7ed558ccdull;
        s += k;
        n -= k;
    }
    return (uint32_t)(h ^ (h >> 29));
}

/* The slot a (venue, name) starts probing at: venue 0 hashes as the name
 * alone; the others are mixed in. */
static inline uint32_t hash_in(int venue, const char *s, size_t n)
{
    return hash(s, n) ^ (uint32_t)venue * 0x85EBCA6Bu;
}

static int same(const struct sym *y, int venue, const char *s, size_t n)
{
    if ((size_t)(y->len - y->local) != n || y->venue != venue)
        return 0;
    const char *local = sym_local(y);
    if (bytes_equal(local, s, n))   /* payloads are upper case already */
        return 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)local[i] != up((unsigned char)s[i]))
            return 0;
    return 1;
}

void symtab_init(struct symtab *st)
{
    memset(st, 0, sizeof *st);
}

void symtab_free(struct symtab *st)
{
    free(st->v);
    free(st->slots);
    memset(st, 0, sizeof *st);
}

int symtab_find_in(const struct symtab *st, int venue, const char *name, size_t len)
{
    if (!st->nslots)
        return -1;
    uint32_t mask = st->nslots - 1;
    for (uint32_t i = hash_in(venue, name, len) & mask;; i = (i + 1) & mask) {
        uint32_t s = st->slots[i];
        if (!s)
            return -1;
        if (same(&st->v[s - 1], venue, name, len))
            return (int)(s - 1);
    }
}

int symtab_find(const struct symtab *st, const char *name, size_t len)
{
    size_t at;
    int venue = venue_of_name(name, len, &at);
    return venue < 0 ? -1 : symtab_find_in(st, venue, name + at, len - at);
}

static int rehash(struct symtab *st, uint32_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t id = 0; id < st->n; id++) {
        const struct sym *y = &st->v[id];
        uint32_t i = hash_in(y->venue, sym_local(y), (size_t)(y->len - y->local)) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = id + 1;
    }
    free(st->slots);
    st->slots = slots;
    st->nslots = nslots;
    return 0;
}

int symtab_add(struct symtab *st, const char *name, size_t len)
{
    size_t at;
    int venue = venue_of_name(name, len, &at);
    return venue < 0 ? -1 : symtab_add_in(st, venue, name + at, len - at);
}

int symtab_add_in(struct symtab *st, int venue, const char *name, size_t len)
{
    if (len == 0 || len > SYM_MAX_LEN)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return -1;
    }
    if (venue < 0 || venue >= VENUE_COUNT)
        return -1;
    int found = symtab_find_in(st, venue, name, len);
    if (found >= 0)
        return found;
    struct sym *v = grow_from(st->v, &st->cap, (size_t)st->n + 1, sizeof *v, 64);
    if (!v)
        return -1;
    st->v = v;
    struct sym *y = &st->v[st->n];
    memset(y, 0, sizeof *y);
    size_t pn = strlen(prefixes[venue]);
    memcpy(y->name, prefixes[venue], pn);
    for (size_t i = 0; i < len; i++)
        y->name[pn + i] = (char)up((unsigned char)name[i]);
    y->len = (uint8_t)(pn + len);
    y->local = (uint8_t)pn;
    y->venue = (uint8_t)venue;
    y->active = 1;
    y->price_dp = -1;
    st->n++;
    /* keep the table at most half full */
    if (st->n * 2 > st->nslots && rehash(st, st->nslots ? st->nslots * 2 : 128) != 0) {
        st->n--;
        return -1;
    }
    uint32_t mask = st->nslots - 1, i = hash_in(venue, sym_local(y), len) & mask;
    while (st->slots[i] && st->slots[i] != st->n)
        i = (i + 1) & mask;
    st->slots[i] = st->n;
    return (int)(st->n - 1);
}
