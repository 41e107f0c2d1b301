/* What a rule's value(candle, history, state, ind, params) receives, built for a call
 * per candle event without a table per candle:
 *   candle   a view of the core's candle (fields read on access);
 *   history  a view of the closed candles before it, newest first
 *            (#history, history[i] -> a candle view), at most the rule's n;
 *   state    the rule's own table for that (symbol, interval), kept by the
 *            host across reloads (in the registry, by rule name);
 *   ind      the indicators it declared in needs (lua/rule_ind.h);
 *   params   the settings of the preset's rule, by name ({fast = 9, slow = 21}).
 * The views are valid only during the call: kept and read later, they
 * raise.  After warm-up a call allocates nothing (the views of history[i]
 * are a pool, one per i, re-pointed on access).
 */
#ifndef CW_LUA_RULE_VIEW_H
#define CW_LUA_RULE_VIEW_H

#include <lua.h>
#include <stdint.h>

#include "alert/engine.h"

struct candle;
struct candles;
struct market;
struct rule_views;

/* Creates the views (once per lua_State: they outlive generations). */
struct rule_views *rule_views_open(lua_State *L, struct market *m);

/* With a rule's value() on top of the stack, readies its call for
 * candle c with nargs (1 to 5) arguments: history holds at most hist
 * candles older than c; state_ref is the registry ref of the rule's table
 * of states (one per symbol and interval, made on first use, inside the
 * protected call; LUA_NOREF: a new state for this call only); a called
 * function may come in front of value(); ind reads
 * the book's specs in the bit mask needs.  Returns the argument count for
 * the pcall, whose one result is value()'s; rule_views_end after it.
 * params_ref: the rule's settings (LUA_NOREF: an empty table). */
int rule_views_push(lua_State *L, struct rule_views *v, const struct candle *c, int nargs,
                    int hist, int state_ref, uint32_t needs, int params_ref);
/* The call is over: every view handed out raises from now on. */
void rule_views_end(struct rule_views *v);

/* At go-live: the registry ref of the state table of rule `name` (made
 * when new). */
int rule_states_ref(lua_State *L, const char *name);
/* At go-live: drops the states of the rules not among names[0..n) (a
 * settings' states, "rule:settings", go with their rule). */
void rule_states_keep(lua_State *L, const char (*names)[RULE_NAME_MAX + 1], int n);

#endif
