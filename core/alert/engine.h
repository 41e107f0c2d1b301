/* The alert engine: presets, the subscription index built from them, and
 * the path from a candle event to alerts queued for Telegram.
 *
 *   market event -> queued (no Lua inside network callbacks) -> drained
 *   on the loop: for each rule that wants the event, its value (the Lua
 *   rule, once per (symbol, interval) event, never per user) -> the
 *   rule's index: the subscriptions the value newly reaches or crosses
 *   (index.h: only what is new is visited) -> per chat and rule, at most
 *   once per candle (marks kept in SQLite) -> the
 *   chat's alert text (a Lua formatter) -> the delivery scheduler, with
 *   the size of the move as its priority.
 *
 * Presets live in SQLite and wholly in memory.  "Top N" presets are held
 * once, by rank: a ranking change moves no index entry.
 * Domain C: the Lua side comes in through struct alert_hooks; the engine
 * knows neither the application nor Telegram.
 */
#ifndef CW_ALERT_ENGINE_H
#define CW_ALERT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "market/candle.h"
#include "market/symbols.h"

struct alert_engine;
struct config;
struct jsonw;
struct market;
struct rt;
struct store;

enum preset_pairs { PAIRS_TOP, PAIRS_MANUAL };
enum preset_dir { DIR_BOTH, DIR_UP, DIR_DOWN };
/* Their names, by enum preset_dir, then NULL. */
extern const char *const preset_dir_names[4];

#define PRESET_NAME_MAX 64      /* characters */
#define RULE_NAME_MAX 32
#define RULE_LABEL_MAX 48       /* bytes */
#define RULE_UNIT_MAX 12
#define RULE_PROMPT_MAX 300
#define RULE_HISTORY_MAX 1000   /* closed candles a rule may read */
#define ALERT_MAX_RULES 16      /* rules the live scripts may define */
#define RULE_PARAMS_MAX 3       /* settings a preset chooses for its rule */
#define RULE_PARAM_NAME_MAX 16
/* The engine's rule slots: one per rule, and one per other settings of a
 * rule with parameters that presets use ("ema_cross:50,200"). */
#define ALERT_MAX_SLOTS 64
#define RULE_KEY_MAX (RULE_NAME_MAX + 1 + RULE_PARAMS_MAX * 16)

/* How a rule's value meets a preset's threshold:
 *   RULE_MOVE   up: value >= t, down: value <= -t (t > 0), once per candle;
 *   RULE_LEVEL  up: value >= t, down: value <= t, once per candle;
 *   RULE_CROSS  up: the value went from below t to at or above it between
 *               two evaluations, down: from above to at or below; again
 *               only after crossing back. */
enum rule_mode { RULE_MOVE, RULE_LEVEL, RULE_CROSS };

/* A setting a preset chooses for its rule (ema_cross's fast period): a
 * number in [min, max], rounded to decimals. */
struct rule_param {
    const char *name, *label, *prompt;
    double min, max, dflt;
    int decimals;
};

/* A rule as its script declares it (alerts.rule{...}); the strings are
 * copied by alert_set_rules. */
struct alert_rule_def {
    const char *name;
    const char *label;          /* what /preset shows: "Candle move" */
    const char *unit;           /* "%", "", "×", "gwei" */
    const char *prompt;         /* how /preset asks for the threshold */
    int mode;                   /* enum rule_mode */
    int dirs;                   /* the enum preset_dir values it allows, as 1 << dir */
    double min, max, dflt;      /* the threshold's range and default */
    int decimals;               /* a threshold is rounded to these */
    int on_forming, on_close;   /* the events it is evaluated on */
    int history;                /* closed candles its value() reads */
    struct rule_param params[RULE_PARAMS_MAX];
    int nparams;
};

struct preset {
    int64_t id, user_id, chat_id;
    char rule[RULE_NAME_MAX + 1];
    int pairs;                  /* enum preset_pairs */
    int top_n;                  /* PAIRS_TOP */
    int venue;                  /* PAIRS_TOP: whose ranking (enum venue) */
    char (*symbols)[SYM_NAME_MAX + 1];   /* PAIRS_MANUAL, as given: the names */
    int nsymbols;
    uint32_t *sym_ids;          /* PAIRS_MANUAL, as held: symbol ids (the names
                                 * are dropped: 24 bytes a pair for 100,000 users);
                                 * the engine's presets hold them in their block */
    int nsym_ids;
    int intervals;              /* bit mask of enum interval */
    double threshold;           /* percent */
    int dir;                    /* enum preset_dir */
    int on_close;               /* fire only when a candle closes beyond */
    double min_volume;          /* 24 h quote volume; 0: none */
    int chart;                  /* a chart follows each alert */
    double params[RULE_PARAMS_MAX];   /* the rule's settings, in its order */
    int nparams;                /* 0: the rule's defaults (its own slot) */
    int active;
    int64_t created_ms;
    /* the engine's */
    uint32_t sub;               /* its id in the index */
    uint32_t nindexed;          /* pairs it covers now (a top N: as ranked now) */
    int in_index;               /* its entries are in its rule's index */
    int rule_slot;
    /* Last: a preset the engine holds is allocated only as long as its name
     * (then its symbol ids), so never copy one whole. */
    char name[PRESET_NAME_MAX * 4 + 1];
};

/* An alert as the formatter sees it. */
struct alert_view {
    const struct candle *candle;
    const char *symbol;
    double move;                /* the rule's value (a move: percent, signed) */
    double level;               /* the threshold it reached or crossed, signed
                                 * (a move down: -t) */
    int up;                     /* 1: it went up to the level, 0: down */
    const char *const *presets; /* the names of the chat's presets that fired */
    int npresets;
    const struct alert_rule_def *rule;   /* the rule that fired */
    int chart;                  /* a preset that fired wants a chart */
    double chart_level;         /* the level of the first such preset (signed) */
};

/* The identity of the chart drawn for an alert (its pair, timeframe,
 * candle, rule, direction and level), for chats to share one picture:
 * snprintf's count (n or more: cut, not to be used). */
int alert_view_chart_key(const struct alert_view *v, char *out, size_t n);

/* The Lua side (core/lua/mod_alerts.c). */
struct alert_hooks {
    /* The rule's value for a candle event: *ok 0 when it has none. */
    double (*value)(void *ud, int rule, const struct candle *c, const char *symbol, int *ok);
    /* The alert's text (HTML), malloc'd; NULL: a plain default is used.
     * *heading: the heading of its timeframe's group in a merged message
     * (malloc'd, or left NULL). */
    char *(*format)(void *ud, int rule, const struct alert_view *a, char **heading);
    /* A slot was made for other settings of a rule (NULL: not told). */
    void (*slots)(void *ud);
    void *ud;
};

struct alert_stats {
    uint64_t events, evaluated, matched, fired, duplicates, late, dropped_events, held;
    uint64_t visited;           /* index entries the values newly reached */
    uint64_t presets, subscriptions;
    uint64_t log_pruned;        /* alert_log rows older than a week, removed */
};

enum alert_kind { ALERT_LIVE, ALERT_DIGEST };

/* A message for a chat, as the sink receives it. */
struct alert_msg {
    enum alert_kind kind;
    const char *text;           /* HTML */
    const char *heading;        /* ALERT_LIVE: its timeframe's heading in a
                                 * merged message, or NULL */
    double priority;            /* the size of the move (bigger first); 0: a digest */
    int group;                  /* 1 + the interval (grouped by timeframe); 0: a digest */
    const struct alert_view *view;   /* ALERT_LIVE: the alert; NULL for a digest */
    long held;                  /* ALERT_DIGEST: the alerts it sums up */
};

/* Where every message goes (the application's choice). */
struct alert_sink {
    void (*alert)(void *ud, int64_t chat, const struct alert_msg *m);
    void *ud;
};

/* What the engine works with.  The engine registers itself as the
 * market's event and ranking consumer; store NULL: nothing is kept. */
struct alert_deps {
    const struct rt *rt;
    const struct config *cfg;   /* limits.*, exchange.intervals, late_alert_max */
    struct store *store;
    struct market *market;
    /* How the chat measures a preset's name (Telegram's rules, tg/text.h):
     * its length, and its first invisible character or 0. */
    size_t (*text_chars)(const char *s);
    unsigned long (*text_invisible)(const char *s);
};

struct alert_engine *alert_engine_new(const struct alert_deps *d);
void alert_set_sink(struct alert_engine *e, const struct alert_sink *s);
void alert_engine_free(struct alert_engine *e);
void alert_set_hooks(struct alert_engine *e, const struct alert_hooks *h);
/* The rules the live scripts define.  Indexes of rules that are gone are
 * kept (a reload may bring them back). */
void alert_set_rules(struct alert_engine *e, const struct alert_rule_def *defs, int n);

/* The name of the rule in the engine's slot (the hooks' rule argument),
 * with its settings when they are not the defaults: "ema_cross:50,200". */
const char *alert_rule_name(struct alert_engine *e, int rule);
/* The settings of the slot's rule, in its order (defaults filled in): their
 * number, 0 when it has none or the slot is not live. */
int alert_rule_params(struct alert_engine *e, int rule, double out[RULE_PARAMS_MAX]);
/* The slot a preset's rule and settings go to, by name (see above). */
void alert_preset_key(const struct preset *p, char *out, size_t len);
/* The declaration of the live rule in the engine's slot, or NULL. */
const struct alert_rule_def *alert_rule_get(struct alert_engine *e, int rule);
/* The slot of the live rule of that name, or -1. */
int alert_rule_find(struct alert_engine *e, const char *name);

/* Validates and stores a preset (p->id 0: a new one), then indexes it.
 * 0, or -1 with a message for the user in err. */
int alert_preset_save(struct alert_engine *e, struct preset *p, char *err, size_t errlen);
/* 0, -1 no such preset, -2 the database failed (nothing changed). */
int alert_preset_delete(struct alert_engine *e, int64_t id);
/* Store batch `batch` was lost: the presets it wrote go back to what the
 * database holds. */
void alert_engine_batch_lost(struct alert_engine *e, uint64_t batch);
/* A failed handler's savepoint `sp` of batch `batch` was rolled back: the
 * presets, pauses and quiet hours it changed go back to the database's. */
void alert_engine_undo(struct alert_engine *e, uint64_t batch, uint64_t sp);
const struct preset *alert_preset_get(struct alert_engine *e, int64_t id);
/* A user's presets, oldest first: fills out (up to max), returns the count. */
int alert_presets_of(struct alert_engine *e, int64_t user, const struct preset **out, int max);
/* Pair x timeframe subscriptions a user's active presets add up to. */
long alert_subscriptions_of(struct alert_engine *e, int64_t user);

/* Holds a chat's alerts until until_ms (wall clock; INT64_MAX: until
 * alert_resume), to send them as one digest then.  Kept in SQLite. */
int alert_pause(struct alert_engine *e, int64_t chat, int64_t until_ms);
/* Ends a pause: the digest goes out.  Alerts held, or -1 when not paused. */
long alert_resume(struct alert_engine *e, int64_t chat);
/* When the chat's pause ends (INT64_MAX: when resumed), or 0. */
int64_t alert_paused_until(struct alert_engine *e, int64_t chat);

/* A line of a digest, with its NUL. */
#define ALERT_LINE_MAX 64
/* While the chat's alerts are held (a pause, or its quiet hours: what
 * holds a candle's alert), line (one line of HTML, shorter than
 * ALERT_LINE_MAX) joins its digest instead of an alert going out: 1 held,
 * 0 not held (send it).  Kept in SQLite, as the candles' are. */
int alert_hold_line(struct alert_engine *e, int64_t chat, const char *line);

/* Daily quiet hours (minutes of the local day, tz minutes east of UTC;
 * from == to clears them): alerts then are held, and one digest comes
 * when the hours end.  0, or -1 for values out of range. */
int alert_set_quiet(struct alert_engine *e, int64_t chat, int from, int to, int tz);
/* 1 and the chat's quiet hours, or 0 when it has none. */
int alert_quiet_of(struct alert_engine *e, int64_t chat, int *from, int *to, int *tz);

/* Sorts the index after many presets were added at once (start-up does). */
void alert_prepare(struct alert_engine *e);

/* The events come from the market (registered by alert_engine_new). */
void alert_stats(struct alert_engine *e, struct alert_stats *out);
void alert_stats_json(struct alert_engine *e, struct jsonw *w);
/* Alerts fired in each of the last ALERT_MINUTES wall-clock minutes up to
 * now_ms's, oldest first (the status page's chart). */
#define ALERT_MINUTES 60
void alert_fired_per_minute(const struct alert_engine *e, int64_t now_ms,
                            uint32_t out[ALERT_MINUTES]);
struct prom;
void alert_metrics(struct alert_engine *e, struct prom *p);
/* Users with at least one preset. */
size_t alert_users(struct alert_engine *e);
/* The chats with presets (*out malloc'd, each once). */
size_t alert_chats(struct alert_engine *e, int64_t **out);
/* Processes the queued events and every alert they fire, now (replays;
 * the loop does it by itself). */
void alert_drain(struct alert_engine *e);
/* One loop turn's share: the queued events (one at least) matched and
 * alerted, at most 1,000 chats in all and for at most 10 ms (what is
 * beyond, events or alerts, waits in order for the next turns); 1 while
 * events or alerts wait.  The loop runs it from a timer; benches measure it. */
int alert_drain_turn(struct alert_engine *e);
/* 1 while events or alerts wait for the next turns. */
int alert_busy(const struct alert_engine *e);

#endif
