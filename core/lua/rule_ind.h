/* Indicators for Lua: the `ind` argument of a rule's value(), the rules'
 * `needs`, and what /why reads (alerts.indicators).
 *
 *   alerts.rule{ ..., needs = { rsi = 14, "macd(12,26,9)" },
 *                value = function(candle, history, state, ind)
 *                    return ind.rsi(14)            -- nil until warm
 *                end }
 *
 * ind.KIND(numbers... [, back]) gives the values of a declared indicator
 * for the candle evaluated: on a forming candle, if it closed now; on a
 * close, after it; back 1: one closed candle earlier.  Numbers left out
 * take the kind's defaults.  The values come from the core's indicator
 * book (indicator/book.h); an indicator not in the rule's needs raises. */
#ifndef CW_LUA_RULE_IND_H
#define CW_LUA_RULE_IND_H

#include <lua.h>
#include <stdint.h>

#include "indicator/book.h"

#define RULE_NEEDS_MAX 8

/* What the `ind` table reads: set around each value() call. */
struct rule_ind {
    struct ind_book *book;
    const struct candle *c;     /* the candle evaluated; NULL outside a call */
    uint32_t mask;              /* the book's specs the rule declared */
    int ref;                    /* the `ind` table, in the registry */
};

/* Makes the `ind` table (once per lua_State); x must not move. */
void rule_ind_open(lua_State *L, struct rule_ind *x, struct ind_book *book);

/* Reads t.needs (nil: none) into out; raises a sentence naming the bad
 * entry, prefixed by usage.  Returns the count. */
int rule_needs_parse(lua_State *L, int t, const char *usage, struct ind_spec *out);
/* The same, from the needs table at idx itself. */
int rule_needs_table(lua_State *L, int idx, const char *usage, struct ind_spec *out);

/* (pushes) the book's indicators for (sym, iv): a list of {name, kind,
 * values = {...} after the last closed candle, forming = {...} if the
 * forming candle closed now}; values missing while not warm (a series
 * asked about is kept from then on, and warms). */
void rule_ind_push_list(lua_State *L, struct ind_book *b, uint32_t sym, int iv,
                        const struct candle *forming);

#endif
