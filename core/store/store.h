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

/* Ends the open write batch, if any.  0 on success (or nothing to do). */
int store_commit(struct store *s);
int store_batch_open(const struct store *s);
/* Called once each time a batch opens, so the owner can schedule a commit. */
void store_on_batch(struct store *s, void (*cb)(void *ud), void *ud);

/* The last error, or NULL while the store is healthy. */
const char *store_error(const struct store *s);
const char *store_path(const struct store *s);

#endif
