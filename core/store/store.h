/* The SQLite store: one database file in WAL mode, schema migrated from
 * numbered migrations, prepared statements only.
 *
 * Writes are grouped: the first write opens a transaction (a "batch") and
 * store_commit() ends it.  The host commits when a handler returns and at
 * the end of each loop iteration, so the loop never waits for one commit
 * per event.  With synchronous=NORMAL a commit survives kill -9 (it is in
 * the WAL); a power cut may lose the last few commits.
 *
 *   struct store *st; char err[256];
 *   if (store_open(&st, "bot.db", &log, err, sizeof err)) die(err);
 *   store_kv_set(st, "prefs", "42", "{\"tz\":\"UTC\"}");
 *   store_commit(st);
 */
#ifndef CW_STORE_H
#define CW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/log.h"

struct store;

/* How many migrations this binary knows: the newest schema it understands. */
int store_schema_latest(void);

int store_open(struct store **out, const char *path, struct logger *log, char *err,
               size_t errlen);
/* Commits what is pending, checkpoints the WAL and closes. */
void store_close(struct store *s);

/* Returns 1 and a malloc'd copy of the value, 0 when absent, -1 on error. */
int store_kv_get(struct store *s, const char *scope, const char *key, char **value);
/* Stores value (JSON text), or deletes the key when value is NULL.  0 or -1. */
int store_kv_set(struct store *s, const char *scope, const char *key, const char *value);

/* Every key and value of a scope. */
typedef int (*store_kv_fn)(void *ud, const char *key, const char *value);
int store_kv_each(struct store *s, const char *scope, store_kv_fn fn, void *ud);
/* A scope's keys k with from <= k < to that start with prefix (each NULL:
 * no such bound), in byte order, at most limit of them; fn returns
 * non-zero to stop.  0 or -1. */
struct store_kv_range {
    const char *from, *to, *prefix;
    long limit;
};
int store_kv_range(struct store *s, const char *scope, const struct store_kv_range *r,
                   store_kv_fn fn, void *ud);

/* Ends the open write batch, if any.  0 on success (or nothing to do).
 * A batch fails as a whole (disk full, read-only file, I/O error): its
 * writes are rolled back, and the owner hears of it (store_on_end) so it
 * can take back what it was about to tell users. */
int store_commit(struct store *s);
int store_batch_open(const struct store *s);
/* The open batch's id (ids grow from 1), or 0 when none is open. */
uint64_t store_batch_id(const struct store *s);
/* Called once each time a batch opens, so the owner can schedule a commit. */
void store_on_batch(struct store *s, void (*cb)(void *ud), void *ud);
/* Called when batch `id` ends: committed (ok 1) or lost (ok 0); user_data:
 * it held a user's data (store_batch_user_data). */
typedef void (*store_end_fn)(void *ud, uint64_t id, int ok, int user_data);
void store_on_end(struct store *s, store_end_fn cb, void *ud);
/* The open batch holds data a user may be told is saved (their settings,
 * presets, a conversation step), not just the host's bookkeeping. */
void store_batch_user_data(struct store *s);
/* ---- a handler's writes: all or nothing ----
 *
 * Between store_handler_begin() and store_handler_end() (one run of a
 * handler, up to its return, error or wait) the writes go into a
 * savepoint of the batch, opened with the first write.  End ok: they stay
 * in the batch (committed with it, as any write).  End failed: they are
 * rolled back, and the owner hears of it (store_on_undo) so that memory
 * follows.  Not nested: a begin while one is active returns 0 and its end
 * does nothing.  A commit in between (none is made while a handler runs)
 * would make what came before it final. */
int store_handler_begin(struct store *s);
void store_handler_end(struct store *s, int token, int ok);
/* The open savepoint's id, or 0: what a write is tagged with, to be found
 * again when its savepoint is rolled back. */
uint64_t store_savepoint_id(const struct store *s);
/* Called when savepoint `sp` of batch `batch` was rolled back. */
typedef void (*store_undo_fn)(void *ud, uint64_t batch, uint64_t sp);
void store_on_undo(struct store *s, store_undo_fn cb, void *ud);

/* A write that touches nothing but proves the database takes writes again
 * (and clears store_error when it does).  0 or -1. */
int store_probe(struct store *s);

/* ---- Telegram (telegram.c) ---- */

/* A message waiting to be delivered: stored when queued, removed when
 * Telegram accepts it.  An alert is a row of its own, merged with the
 * chat's other alerts into one message in memory (and again at start-up). */
struct store_outbox_row {
    int64_t id;              /* set by store_outbox_add */
    int64_t chat_id;
    int kind;                /* enum tg_kind */
    const char *method;      /* "sendMessage", "editMessageText", ... */
    const char *params;      /* JSON object: the call's parameters but text */
    const char *text;
    int alerts;              /* alerts in this row (1; more: merged by an older version) */
    double priority;
    int64_t queued_ms;       /* wall clock */
    int group;               /* an alert's group, and its heading (NULL: none) */
    const char *heading;
};
typedef int (*store_outbox_fn)(void *ud, const struct store_outbox_row *r);
typedef int (*store_inbox_fn)(void *ud, int64_t update_id, const char *body);
typedef int (*store_chat_fn)(void *ud, int64_t chat_id);

int store_outbox_add(struct store *s, struct store_outbox_row *r);
int store_outbox_remove(struct store *s, int64_t id);
/* Every pending message, oldest first; fn returns non-zero to stop. */
int store_outbox_each(struct store *s, store_outbox_fn fn, void *ud);

/* Records a received update: 1 when new, 0 when it was received or handled
 * before (then it must not be handled again), -1 on error. */
int store_inbox_add(struct store *s, int64_t update_id, const char *body);
/* The update was handled: out of the inbox, into the handled ids, in the
 * same batch as the handler's own writes. */
int store_inbox_done(struct store *s, int64_t update_id);
int store_inbox_each(struct store *s, store_inbox_fn fn, void *ud);
/* Forgets handled ids below the offset Telegram has confirmed. */
int store_handled_prune(struct store *s, int64_t below);

int store_chat_set_active(struct store *s, int64_t chat_id, int active, int64_t now_ms);
int store_chats_inactive_each(struct store *s, store_chat_fn fn, void *ud);

struct prom;
/* Commit latency and errors, for /metrics. */
void store_metrics(const struct store *s, struct prom *p);

/* ---- Alerts (alerts.c) ---- */

/* A preset's row: lists are space-separated names. */
struct store_preset {
    int64_t id, user_id, chat_id;
    const char *name, *rule, *pairs, *symbols, *intervals, *direction, *trigger;
    const char *params;         /* the rule's settings: "50,200"; "": its defaults */
    int top_n, active;
    double threshold, min_volume;
    int64_t created_ms;
    int chart;                  /* a chart with each alert */
};

typedef int (*store_preset_fn)(void *ud, const struct store_preset *row);
typedef int (*store_fired_fn)(void *ud, int64_t chat, const char *rule, const char *symbol,
                              int iv, int64_t open_time);

/* Inserts (row->id == 0: sets it) or replaces a preset. */
int store_preset_put(struct store *s, struct store_preset *row, int64_t now_ms);
int store_preset_delete(struct store *s, int64_t id);
int store_presets_each(struct store *s, store_preset_fn fn, void *ud);
/* The preset's row, if it has one: fn is called once or not at all. */
int store_preset_get(struct store *s, int64_t id, store_preset_fn fn, void *ud);
/* The candle (chat, rule, symbol, interval) fired for (appended: the
 * newest wins). */
int store_fired_set(struct store *s, int64_t chat, const char *rule, const char *symbol, int iv,
                    int64_t open_time);
/* The marks whose candle closed at most late_ms before the newest mark's
 * open time (the others can no longer matter), and how many there are. */
int store_fired_each(struct store *s, int64_t late_ms, store_fired_fn fn, void *ud);
long store_fired_count(struct store *s, int64_t late_ms);
/* Forgets the marks that can no longer matter. */
int store_fired_prune(struct store *s, int64_t late_ms);
/* The same a step at a time (a loop turn's share): among the next `scan`
 * marks after rowid *from (0: the first); *from moves past them.  1 while
 * more may follow, 0 when none, -1 on error. */
int store_fired_prune_step(struct store *s, int64_t late_ms, int64_t *from, int scan);
int store_alert_log(struct store *s, int64_t preset, int64_t chat, const char *symbol, int iv,
                    int64_t open_time, double move, int64_t now_ms);
/* Alerts of a preset since day_start and since week_start, and the last. */
int store_alert_stats(struct store *s, int64_t preset, int64_t day_start, int64_t week_start,
                      long *day, long *week, int64_t *last_ms);
/* Up to limit rows older than before_ms removed: how many, or -1. */
int store_alert_log_prune(struct store *s, int64_t before_ms, int limit);
/* Alerts logged since since_ms (each chat's alert counts once per preset). */
long store_alerts_since(struct store *s, int64_t since_ms);

/* When the last commit succeeded (wall-clock ms), or 0: none yet. */
int64_t store_last_commit_ms(const struct store *s);
/* The database's files on disk (the database and its write-ahead log). */
long long store_disk_bytes(const struct store *s);

/* Pages in the write-ahead log not yet copied into the database.  The
 * store never checkpoints inside a commit: its owner calls
 * store_checkpoint when the program is not busy. */
int store_wal_frames(const struct store *s);
/* Copies the log into the database as far as readers allow (the log then
 * starts over at the next write).  0, or -1 (inside a batch: later).  In
 * the background (below): asks for the copy and returns at once; -1 when
 * the last copy failed. */
int store_checkpoint(struct store *s);
/* From now on checkpoints are copied by a thread of the store's own, with
 * its own connection, so that the caller (the loop) never waits for a
 * copy and its fsync (a second and more for a large log); a batch may be
 * open meanwhile.  0, or -1 (then they are copied in place, as before). */
int store_checkpoint_in_background(struct store *s);
/* 1 while a background copy is asked for or under way. */
int store_checkpoint_running(struct store *s);
/* A copy in place, on the caller's thread, even with the thread: after
 * the thread's copy only what was written since is left, and the log
 * starts over at the next write only once every frame of it is copied,
 * which writes that never pause would otherwise not allow.  0, or -1
 * (inside a batch: later). */
int store_checkpoint_here(struct store *s);
/* Removes a closed database's files (the file, its -wal and -shm). */
void store_remove_files(const char *path);

/* The last error, or NULL while the store is healthy. */
const char *store_error(const struct store *s);
const char *store_path(const struct store *s);

#endif
