/* The configuration: one struct with defaults, filled key by key from
 * config.lua through config_set().  The schema lives in config.c; this file
 * knows nothing of Lua (core/lua/lconfig.c evaluates the file).
 */
#ifndef CW_CONFIG_H
#define CW_CONFIG_H

#include <stddef.h>

#include "util/log.h"

struct config_venue {
    int enabled;            /* 1 on, 0 off; exchange: -1 (default) on when a bot token is set */
    char *ws_url;
    char *rest_url;
    int intervals;          /* bit mask of enum interval */
    char *quote_asset;      /* universe filter */
    char *contract_type;    /* universe filter (not spot's) */
    long streams_per_connection;
    double stale_after;     /* seconds without a frame before reconnecting */
    double rotate_after;    /* seconds before a connection replaces itself */
    double late_alert_max;  /* seconds: older closes update history, never alert */
    double universe_refresh;
    double ranking_refresh;
    long history;           /* closed candles kept per symbol and interval */
    long max_frame;         /* bytes */
    long rest_weight_limit; /* per minute */
};

struct config {
    struct {
        char *token;          /* secret: never logged, never printed */
        char *api_url;
        char *webhook_url;    /* set: webhook mode; unset: long polling */
        char *webhook_secret; /* secret; generated at start when unset */
        char *webhook_path;   /* where the host's HTTP server takes updates */
        double poll_timeout;  /* seconds a getUpdates waits */
        double rate;          /* messages a second, all chats */
        int paid_broadcast;   /* allow_paid_broadcast, up to 1,000/s */
        double retry_deadline;/* seconds a failing message keeps being retried */
        long user_limit;      /* updates a user may send per user_window */
        double user_window;
    } telegram;
    /* exchange: Binance USDⓈ-M (as it always was); spot: Binance spot;
     * bybit: Bybit linear.  The same keys for each (history and
     * late_alert_max are exchange's alone: the store's, for every venue). */
    struct config_venue exchange, spot, bybit;
    struct {
        char *ca_file;          /* extra CA bundle for https/wss (tests, proxies) */
    } tls;
    char *database;
    char *scripts;
    struct {
        char *listen;         /* "host:port"; port 0 picks a free one */
        long max_connections; /* more are closed as soon as accepted */
    } http;
    long long *admins;
    int nadmins;
    double shutdown_timeout;  /* seconds to flush the outbox on SIGTERM */
    struct {
        double feed_down_after;   /* seconds the feed may be unwell before admins hear */
        double repeat_after;      /* seconds between reminders of one problem */
        long memory_mb;           /* resident memory above which admins are told */
    } admin;
    struct {                      /* admin diagnostics by e-mail too; off while server is unset */
        char *server;
        long port;                /* 0: 465 with tls "implicit", else 587 */
        int tls;                  /* enum config_tls */
        char *user;
        char *password;           /* secret: never logged, never printed */
        char *from;
        char *to;                 /* addresses, one a line */
    } email;
    struct {
        enum log_level level;
        int json;
    } log;
    struct {
        long pairs_per_preset;  /* a manual list's size */
        long presets_per_user;
    } limits;
    struct {
        long memory_mb;         /* Lua state allocation limit */
        long instruction_limit; /* per call into a script */
    } lua;
    /* Scripts' sections: top-level tables that are not the core's, kept as
     * JSON objects for the script that declares them (host.config), which
     * checks them against its schema. */
    struct config_section *sections;
    int nsections;
};

struct config_section {
    char *name;
    char *json;
};

/* email.to takes at most this many addresses (one mail goes to all). */
#define CONFIG_EMAIL_MAX_TO 16

enum config_tls { CONFIG_TLS_STARTTLS, CONFIG_TLS_IMPLICIT, CONFIG_TLS_NONE };

enum config_vtype { CV_STRING, CV_INT, CV_NUMBER, CV_BOOL, CV_TABLE, CV_OTHER };

/* A value taken from config.lua, already converted from Lua. */
struct config_value {
    enum config_vtype type;
    const char *s;
    long long i;
    double n;
    int b;
    const long long *ints;   /* CV_TABLE: the table's items, when all integers */
    int nints;
    int ints_ok;             /* CV_TABLE: 1 when it is a sequence of integers */
    const char *const *strs; /* CV_TABLE: the table's items, when all strings */
    int nstrs;
    int strs_ok;
    const char *lua_type;    /* for messages: "string", "table", ... */
};

void config_defaults(struct config *c);
/* A venue's section by its id (0 exchange, 1 spot, 2 bybit: enum venue's
 * order); NULL for another number. */
const struct config_venue *config_venue_of(const struct config *c, int venue);
void config_free(struct config *c);

/* Is `key` ("telegram", "log") a section whose value is a table of keys? */
int config_is_section(const char *key);
/* Is `name` a name of the core's: a section or a top-level key ("database")? */
int config_is_core(const char *name);

/* A script's section as config.lua gave it (a JSON object), replacing one
 * of that name; json NULL removes it.  0, or -1 out of memory. */
int config_set_section(struct config *c, const char *name, const char *json);
/* The JSON of the section `name`, or NULL. */
const char *config_section(const struct config *c, const char *name);

/* "unknown key 'name'", with "(did you mean 'x'?)" when one of the n
 * candidates (and, with core set, one of the core's keys and sections)
 * is close to it. */
void config_unknown_key(const char *name, const char *const *cands, int n, int core,
                        char *err, size_t errlen);
/* The one of the n candidates close enough to name to suggest (the
 * nearest), or NULL. */
const char *config_nearest(const char *name, const char *const *cands, int n);

/* Sets one dotted key.  Returns 0, or -1 with a message naming the key. */
int config_set(struct config *c, const char *key, const struct config_value *v,
               char *err, size_t errlen);

/* Splits http.listen into host and port. */
int config_listen_parse(const char *listen, char *host, size_t hostlen, int *port);

/* Lines describing every key, its type and default (for --help). */
void config_describe(FILE *out);
/* What needs several keys together (an e-mail server needs from and to);
 * 0, or -1 with a message naming the key. */
int config_check(const struct config *c, char *err, size_t errlen);

/* 1 when s is a secret_token Telegram accepts: 1-256 of A-Z a-z 0-9 _ - */
int config_webhook_secret_ok(const char *s);

#endif
