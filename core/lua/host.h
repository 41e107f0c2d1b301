/* The Lua script host, as the rest of the core sees it (no lua.h here).
 *
 * Scripts live under cfg.scripts; each file is loaded into its own sandbox
 * environment.  All of them together form a "generation".  A reload builds
 * a new generation beside the live one, and swaps it in only when every
 * script compiled and registered cleanly; otherwise the old one keeps
 * serving.  Handlers already running finish on their own generation.
 */
#ifndef CW_LUA_HOST_H
#define CW_LUA_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct app;
struct lh_host;

enum lh_mode { LH_RUN, LH_SPEC, LH_CHECK, LH_CONSOLE };

struct lh_host *lh_new(struct app *app, enum lh_mode mode);
void lh_free(struct lh_host *h);

/* Builds a generation from cfg.scripts and swaps it in.  Returns 0, or -1
 * (the old generation stays live, errors are logged as file:line). */
int lh_reload(struct lh_host *h, const char *why);
/* Asks for a reload on the next loop turn (SIGHUP, file watch, host.reload). */
void lh_reload_soon(struct lh_host *h, const char *why);

/* Compiles and registers every script without going live, printing each
 * problem as "file:line: message" to out.  Returns the number of problems. */
int lh_check(struct lh_host *h, FILE *out);

/* config.lua's script sections, as the last lh_reload or lh_check found
 * them.  LH_SECTIONS_BAD: a section's value does not fit its schema, or a
 * top-level table is neither the core's nor declared by a script;
 * LH_SECTIONS_UNCHECKED: the scripts did not load for another reason. */
enum { LH_SECTIONS_OK, LH_SECTIONS_BAD, LH_SECTIONS_UNCHECKED };
/* At start-up (run, console, check): LH_SECTIONS_BAD prints
 * "candlewatch: CONFIG: key ..." and returns 2 (the exit status);
 * unchecked sections are named in a warning (the bot starts as with any
 * broken script); otherwise 0. */
int lh_sections_verdict(struct lh_host *h);

/* Runs one spec file (TAP lines on stdout, numbered from *number, which
 * advances).  Adds its failures to *failed.  -1 if the runner could not
 * start. */
int lh_spec_file(struct lh_host *h, const char *file, int *number, int *failed);

/* Script errors since start, all scripts together, and the last one's text. */
long lh_errors_total(struct lh_host *h);
const char *lh_last_error(struct lh_host *h);
/* Handlers running or waiting (on HTTP, a timer...). */
int lh_running(struct lh_host *h);

struct prom;
/* Script errors, Lua memory and the scripts' own metrics, for /metrics. */
void lh_metrics(struct lh_host *h, struct prom *p);

/* Routes Telegram updates (app->tg) to the scripts' handlers from now on. */
void lh_bot_attach(struct lh_host *h);

/* What routing an update needs of the Telegram side, and nothing more:
 * lh_bot_attach installs the bot's (app->tg); a unit test installs its
 * own with lh_bot_attach_port and calls lh_bot_dispatch.  (A handler's own
 * ctx:reply still goes to app->tg.) */
struct lh_bot_port {
    void *ud;
    /* the bot's username, for "/cmd@name" ("" while not known: any
     * @name is taken as this bot) */
    const char *(*username)(void *ud);
    /* a short plain message to the chat, in the reply class */
    void (*reply)(void *ud, int64_t chat, const char *text);
    /* answers a button press, with a notice or none (text NULL) */
    void (*answer)(void *ud, const char *callback_id, const char *text);
    /* the replies queued in answer to update_id: taken back because its
     * handler failed, or retracted because its state was not saved */
    void (*take_back)(void *ud, int64_t chat, int64_t update_id);
    void (*retract)(void *ud, int64_t chat, int64_t update_id);
    /* the handler of update_id ended, whatever its outcome */
    void (*done)(void *ud, int64_t update_id, int64_t chat);
};
void lh_bot_attach_port(struct lh_host *h, const struct lh_bot_port *port);
/* Routes one update (ud: the host; a tg_dispatch_fn): 0 its handler
 * started (port->done follows), -1 nothing to run, 1 not now (no scripts
 * live yet). */
int lh_bot_dispatch(void *ud, int64_t update_id, int64_t chat_id, const char *json);

/* For /health and the logs. */
int lh_generation(const struct lh_host *h);
int lh_script_count(const struct lh_host *h);
size_t lh_memory(const struct lh_host *h);

#include "config/config.h"
/* Evaluates a config.lua (sandboxed, plus os.getenv) into cfg, which holds
 * the defaults.  Returns 0, or -1 with a message naming the file or key. */
int lh_config_load(const char *path, struct config *cfg, char *err, size_t errlen);
/* The same from text in memory (what lh_config_load does with the file's
 * bytes); chunkname names it in messages ("config.lua:3: ..."). */
int lh_config_load_buffer(const char *text, size_t len, const char *chunkname,
                          struct config *cfg, char *err, size_t errlen);

#endif
