/* A backtest of the database's presets: which rule each preset names, so
 * that an alert line can name the rule (the engine's message carries the
 * chat and the names of its presets that fired, all of one rule). */
#ifndef CW_REPLAY_PRESET_RULES_H
#define CW_REPLAY_PRESET_RULES_H

#include <stdint.h>

struct store;
struct preset_rules;

/* Reads every preset's (chat, name, rule); NULL when out of memory or the
 * database fails (then lines print as the move rule's). */
struct preset_rules *preset_rules_load(struct store *s);
/* The rule of the chat's preset of that name, or NULL. */
const char *preset_rules_find(const struct preset_rules *pr, int64_t chat, const char *name);
void preset_rules_free(struct preset_rules *pr);

#endif
