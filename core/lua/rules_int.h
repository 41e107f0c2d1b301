/* Inside the rules' Lua side, shared by mod_rules.c (the declarations,
 * alerts.rules, /why's reads) and rule_live.c (a generation going live,
 * the hooks the engine calls). */
#ifndef CW_LUA_RULES_INT_H
#define CW_LUA_RULES_INT_H

#include "alert/engine.h"
#include "lua/internal.h"
#include "lua/rule_ind.h"

#define RULE_ERROR_LOG_MS 10000

extern const char *const rule_mode_names[];
extern const char *const rule_event_names[];

struct rule_decl;

/* The live rules, by declaration (n of them, set when a generation goes
 * live), and what each engine slot calls: a rule with its settings (made
 * again when a slot appears: `dirty`). */
struct rules_cache {
    int ref[ALERT_MAX_RULES];               /* registry refs of the rule tables, LUA_NOREF */
    int script[ALERT_MAX_RULES];
    char name[ALERT_MAX_RULES][RULE_NAME_MAX + 1];
    const struct rule_decl *decl[ALERT_MAX_RULES];   /* (in the rule tables) */
    int n;
    uint64_t last_error_log[ALERT_MAX_RULES];   /* per rule: one cannot hide another */
    long errors;
    struct rule_views *views;  /* what value() is handed (userdata memory does not move) */
    int value_ref[ALERT_MAX_RULES];         /* each rule's value function */
    int nargs[ALERT_MAX_RULES];             /* value()'s parameters: 1 to 5 */
    int history[ALERT_MAX_RULES];           /* closed candles it reads */
    struct lh_host *h;
    int dirty;                              /* slots to map again before a value */
    struct timer *map_timer;                /* and the timer that does it */
    int by_engine[ALERT_MAX_SLOTS];         /* the engine's rule slot -> index here, or -1 */
    int state_ref[ALERT_MAX_SLOTS];         /* its table of states (per settings) */
    int params_ref[ALERT_MAX_SLOTS];        /* its settings, a table by name */
    uint32_t needs[ALERT_MAX_SLOTS];        /* the book's specs it reads, as bits */
};

#define CACHE_KEY "cw.alerts.cache"

/* The cache (lh_rules_open made it). */
struct rules_cache *rules_cache_of(lua_State *L);
/* How a rule speaks, into the table on top: its label, unit and mode. */
void rules_set_words(lua_State *L, const struct alert_rule_def *r);


/* A rule's declaration as parsed at its top level: the engine gets it when
 * the generation goes live (kept as userdata in the rule's table). */
struct rule_decl {
    struct alert_rule_def def;
    char label[RULE_LABEL_MAX + 1], unit[RULE_UNIT_MAX + 1], prompt[RULE_PROMPT_MAX + 1];
    struct ind_spec needs[RULE_NEEDS_MAX];  /* the indicators value() reads */
    int nneeds;                             /* (-1: needs is a function of the settings) */
    struct {
        char name[RULE_PARAM_NAME_MAX + 1], label[RULE_LABEL_MAX + 1], prompt[RULE_PROMPT_MAX + 1];
    } ptext[RULE_PARAMS_MAX];
};

/* rule_live.c: the engine made a slot (the hooks' slots). */
void rules_slots_changed(void *ud);
/* Maps every engine slot to its rule and settings now (see dirty). */
void rules_map(struct rules_cache *c);


#endif
