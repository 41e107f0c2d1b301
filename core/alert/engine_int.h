/* The alert engine's inside, shared by its files (no one else includes
 * this):
 *
 *   preset.c   presets, their validation and the subscription index
 *   rules.c    the rules' slots and declarations
 *   fanout.c   events: the rule, the index, once per candle, the sink
 *   pause.c    pauses, quiet hours and their digests
 *   engine.c   set-up, start-up from the store, statistics
 */
#ifndef CW_ALERT_ENGINE_INT_H
#define CW_ALERT_ENGINE_INT_H

#include "alert/engine.h"

#include <stddef.h>
#include <stdint.h>

#include "alert/fired.h"
#include "alert/index.h"
#include "market/candles.h"
#include "metrics/hist.h"
#include "util/i64map.h"

struct store_preset;

#define QUEUE_CAP 65536          /* candle events between two loop turns */
#define DAY_MS 86400000LL
#define PRUNE_FIRST_MS 60000    /* after start-up */
#define PRUNE_EVERY_MS 3600000

struct rule {
    char name[RULE_KEY_MAX + 1];  /* the rule's, or "rule:settings" */
    char base[RULE_NAME_MAX + 1]; /* the rule's */
    char label[RULE_LABEL_MAX + 1], unit[RULE_UNIT_MAX + 1], prompt[RULE_PROMPT_MAX + 1];
    struct {
        char name[RULE_PARAM_NAME_MAX + 1], label[RULE_LABEL_MAX + 1], prompt[RULE_PROMPT_MAX + 1];
    } ptext[RULE_PARAMS_MAX];
    struct alert_rule_def def;   /* its strings point into the above */
    double pv[RULE_PARAMS_MAX];  /* a settings slot's values */
    int npv;
    int live;
    struct index ix;
};

#define PAUSE_SCOPE "alerts.pause"
#define QUIET_SCOPE "alerts.quiet"

struct quiet {                /* daily quiet hours, in the chat's time zone */
    int from, to;             /* minutes of the local day; from == to: none */
    int tz;                   /* minutes east of UTC */
};
#define DIGEST_LINES 20

struct pause {                /* a chat's alerts held back (/stop, /snooze) */
    int64_t chat;
    int64_t until;            /* wall ms; INT64_MAX: until resumed */
    long count;               /* alerts held */
    char lines[DIGEST_LINES][ALERT_LINE_MAX];   /* HTML */
    int nlines;
    struct timer *timer;
    struct alert_engine *e;
};

struct match {
    int64_t chat, preset;
    const struct preset *p;
    double level;              /* the level it reached or crossed (signed) */
    int up;                   /* 1: upward */
};

/* A crossing that reaches many chats is sent a slice per loop turn, so one
 * market-wide move does not hold the loop (the feed, the bot) for seconds. */
#define FANOUT_SLICE 1000
#define TURN_MAX_S 0.01          /* a turn's alerting, at most */

struct fanout {
    struct fanout *next;
    struct candle c;
    double arrived;
    int rule;
    double move;
    struct match *m;          /* by chat; presets re-read by id at their turn */
    size_t n, done;
};

/* A preset, pause or quiet hours written in the open store batch, and the
 * handler's savepoint it was written in (0: none). */
enum touch_what { TOUCH_PRESET, TOUCH_PAUSE, TOUCH_QUIET };
struct touched {
    int64_t id;                  /* preset id, or chat id */
    uint64_t sp;
    enum touch_what what;
};

struct alert_engine {
    const struct rt *rt;
    const struct config *cfg;
    struct store *store;
    struct market *market;
    size_t (*text_chars)(const char *s);
    unsigned long (*text_invisible)(const char *s);
    struct alert_hooks hooks;
    struct alert_sink sink;
    struct rule rules[ALERT_MAX_SLOTS];
    int nrules;
    struct preset **subs;        /* by subscription id; NULL: free */
    uint32_t nsubs;
    size_t capsubs;
    struct timer *prune_timer;
    int prune_marks;             /* pruning the marks (1), or the log (0) */
    int64_t prune_from;          /* the marks' rowid pruned up to */
    int loading;                 /* start-up: presets counted now, indexed after */
    struct i64map by_id;         /* preset id -> preset */
    struct i64map per_user;      /* user id -> number of presets (as a pointer-sized int) */
    struct i64map pauses;        /* chat id -> struct pause */
    struct i64map quiets;        /* chat id -> struct quiet */
    struct fired fired;
    uint32_t *rank;              /* by symbol id: 1 + its place in the ranking; 0: unranked */
    uint32_t nrank;
    struct candle *queue;        /* ring of events waiting for the loop */
    double *arrived;             /* and when each arrived (hist_clock) */
    double now_arrived;          /* the arrival of the event being handled */
    struct hist frame_alert;     /* an event's arrival to its alerts queued */
    uint32_t qhead, qlen;
    struct timer *drain_timer;
    struct match *scratch;
    size_t nscratch, capscratch;
    struct match *sorted;        /* scratch's radix sort by chat goes through it */
    size_t capsorted;
    struct fanout *fanouts, *fanouts_tail;
    size_t turn_left;            /* chats this loop turn may still alert */
    double turn_until;           /* and until when (hist_clock) */
    int turn_stop;               /* this turn's time is up */
    struct {                     /* what was written in the open store batch */
        uint64_t batch;
        struct touched *v;
        size_t n, cap;
        int resyncing;           /* (memory catching up writes nothing new down) */
    } touched;
    struct alert_stats st;
    struct {                     /* alerts fired per wall-clock minute, for GET / */
        int64_t minute[ALERT_MINUTES];
        uint32_t n[ALERT_MINUTES];
    } per_min;
};


/* preset.c */
void alert_preset_free(struct preset *p);
/* The preset's entries, again (its rule slot, settings or ranking changed). */
void alert_reindex(struct alert_engine *e, struct preset *p);
/* The second pass of a start-up load: every list reserved, then filled. */
void alert_index_loaded(struct alert_engine *e);
/* store_presets_each's callback at start-up. */
int alert_load_preset(void *ud, const struct store_preset *row);
/* The market's ranking changed: "top N" presets follow it. */
void alert_on_ranking(void *ud);
/* The symbols' ranks from the market's ranking (before a load). */
void alert_ranks_update(struct alert_engine *e);
/* rules.c */
/* The rule's slot by name (made when create and there is room), or -1. */
int alert_rule_slot(struct alert_engine *e, const char *name, int create);
/* The preset's rule is live, its threshold in range (rounded to the
 * rule's decimals), its direction and trigger ones the rule has; 0, or -1
 * with a sentence for the user in err. */
int alert_validate_rule(struct alert_engine *e, struct preset *p, char *err, size_t errlen);
/* Index entries the values newly reached, over every rule. */
uint64_t alert_visited(const struct alert_engine *e);
/* A preset (id), pause or quiet hours (chat id) was written in the open
 * store batch. */
void alert_touch(struct alert_engine *e, int64_t id, enum touch_what what);

/* pause.c */
/* The chat's pause when its alerts are held now: paused, or in its quiet
 * hours (a pause until they end is made then); NULL: they go out. */
struct pause *alert_pause_holding(struct alert_engine *e, int64_t chat);
/* Holds a candle's alert for the chat's digest. */
void alert_pause_hold(struct alert_engine *e, struct pause *pz, int rule,
                      const struct candle *c, const char *sym, double move);
/* When the chat's quiet hours in progress end (wall ms), or 0. */
int64_t alert_quiet_until(struct alert_engine *e, int64_t chat);
/* store_kv_each's callbacks at start-up. */
int alert_load_pause(void *ud, const char *key, const char *value);
int alert_load_quiet(void *ud, const char *key, const char *value);
/* A pause, or quiet hours, back to what the database holds. */
void alert_pause_resync(struct alert_engine *e, int64_t chat);
void alert_quiet_resync(struct alert_engine *e, int64_t chat);
void alert_pauses_free(struct alert_engine *e);

/* fanout.c */
/* The market's event callback. */
void alert_on_event(void *ud, const struct candle *c, enum candle_event ev);
void alert_fanouts_free(struct alert_engine *e);

#endif
