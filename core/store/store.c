#include "store/store.h"

#include "store/internal.h"
#include "metrics/prom.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Append-only: a released migration is never edited, only followed. */
static const char *const migrations[] = {
    /* 1: the scripts' key-value store */
    "CREATE TABLE kv ("
    "  scope TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, key)"
    ") WITHOUT ROWID;",
    /* 2: Telegram: the outbox, the inbox of updates not yet handled, the
     * ids handled since the last confirmed offset, chats that blocked us */
    "CREATE TABLE tg_outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  chat_id INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  method TEXT NOT NULL,"
    "  params TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  alerts INTEGER NOT NULL,"
    "  priority REAL NOT NULL,"
    "  queued_ms INTEGER NOT NULL"
    ");"
    "CREATE TABLE tg_inbox (update_id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
    "CREATE TABLE tg_handled (update_id INTEGER PRIMARY KEY);"
    "CREATE TABLE tg_chats ("
    "  chat_id INTEGER PRIMARY KEY,"
    "  active INTEGER NOT NULL,"
    "  changed_ms INTEGER NOT NULL"
    ");",
    /* 3: alerts: presets, the candle each (chat, symbol, interval) last
     * fired for, and a log of what fired for the presets' statistics */
    "CREATE TABLE presets ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL,"
    "  chat_id INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"
    "  updated_ms INTEGER NOT NULL"
    ");"
    "CREATE INDEX presets_user ON presets (user_id);"
    "CREATE TABLE alert_fired ("
    "  chat_id INTEGER NOT NULL,"
    "  symbol TEXT NOT NULL,"
    "  interval INTEGER NOT NULL,"
    "  open_time INTEGER NOT NULL,"
    "  PRIMARY KEY (chat_id, symbol, interval)"
    ") WITHOUT ROWID;"
    "CREATE TABLE alert_log ("
    "  id INTEGER PRIMARY KEY,"
    "  preset_id INTEGER NOT NULL,"
    "  chat_id INTEGER NOT NULL,"
    "  symbol TEXT NOT NULL,"
    "  interval INTEGER NOT NULL,"
    "  open_time INTEGER NOT NULL,"
    "  move REAL NOT NULL,"
    "  fired_ms INTEGER NOT NULL"
    ");"
    "CREATE INDEX alert_log_preset ON alert_log (preset_id, fired_ms);",
    /* 4: a preset's settings in columns, not a JSON body (parsing 300,000
     * bodies was half of a big start-up); lists are space-separated;
     * alert_log pruned by time through an index; and the fired marks an
     * append-only log (the newest row of a key wins), because updating a
     * table keyed by chat wrote a random page per alert: megabytes per
     * commit in a market-wide move */
    "ALTER TABLE presets ADD COLUMN name TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE presets ADD COLUMN rule TEXT NOT NULL DEFAULT 'move';"
    "ALTER TABLE presets ADD COLUMN pairs TEXT NOT NULL DEFAULT 'top';"
    "ALTER TABLE presets ADD COLUMN top_n INTEGER NOT NULL DEFAULT 100;"
    "ALTER TABLE presets ADD COLUMN symbols TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE presets ADD COLUMN intervals TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE presets ADD COLUMN threshold REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE presets ADD COLUMN direction TEXT NOT NULL DEFAULT 'both';"
    "ALTER TABLE presets ADD COLUMN trigger TEXT NOT NULL DEFAULT 'forming';"
    "ALTER TABLE presets ADD COLUMN min_volume REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE presets ADD COLUMN active INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE presets ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;"
    "UPDATE presets SET"
    "  name = coalesce(json_extract(body, '$.name'), '?'),"
    "  rule = coalesce(json_extract(body, '$.rule'), 'move'),"
    "  pairs = coalesce(json_extract(body, '$.pairs'), 'top'),"
    "  top_n = coalesce(json_extract(body, '$.top_n'), 100),"
    "  symbols = coalesce((SELECT group_concat(value, ' ') FROM json_each(body, '$.symbols')), ''),"
    "  intervals = coalesce((SELECT group_concat(value, ' ') FROM json_each(body, '$.intervals')), ''),"
    "  threshold = coalesce(json_extract(body, '$.threshold'), 0),"
    "  direction = coalesce(json_extract(body, '$.direction'), 'both'),"
    "  trigger = coalesce(json_extract(body, '$.trigger'), 'forming'),"
    "  min_volume = coalesce(json_extract(body, '$.min_volume'), 0),"
    "  active = coalesce(json_extract(body, '$.active'), 1),"
    "  created_ms = coalesce(json_extract(body, '$.created_ms'), 0)"
    "  WHERE json_valid(body);"
    "ALTER TABLE presets DROP COLUMN body;"
    "CREATE INDEX alert_log_time ON alert_log (fired_ms);"
    "CREATE TABLE alert_fired_log ("
    "  chat_id INTEGER NOT NULL,"
    "  symbol TEXT NOT NULL,"
    "  interval INTEGER NOT NULL,"
    "  open_time INTEGER NOT NULL"
    ");"
    "INSERT INTO alert_fired_log SELECT chat_id, symbol, interval, open_time FROM alert_fired"
    "  ORDER BY open_time;"
    "DROP TABLE alert_fired;"
    "ALTER TABLE alert_fired_log RENAME TO alert_fired;"
    "CREATE INDEX alert_fired_time ON alert_fired (open_time);",
    /* 5: a fired mark is a rule's (a chat's move alert must not swallow
     * its RSI alert on the same candle); the marks so far were the move
     * rule's, the only one there was */
    "ALTER TABLE alert_fired ADD COLUMN rule TEXT NOT NULL DEFAULT 'move';",
    /* 6: the settings a preset chose for its rule ("50,200": ema_cross's
     * periods); '' is the rule's defaults */
    "ALTER TABLE presets ADD COLUMN params TEXT NOT NULL DEFAULT '';",
    /* 7: an alert waiting in the outbox is a row of its own, with what
     * merging it again needs (its group and heading): merging it into the
     * chat's waiting message rewrote that message's row, 4 KB for each of
     * up to 50 alerts; the rows of a message are merged again at start-up */
    "ALTER TABLE tg_outbox ADD COLUMN grp INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tg_outbox ADD COLUMN heading TEXT;",
    /* 8: a preset may ask for a chart with each alert */
    "ALTER TABLE presets ADD COLUMN chart INTEGER NOT NULL DEFAULT 0;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))


#define STORE_BUSY_MS 200   /* on the loop; opening and migrating wait 5 s */

int store_schema_latest(void)
{
    return NMIGRATIONS;
}

static int fail(struct store *s, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "database %s: %s: %s", s->path, what,
             s->db ? sqlite3_errmsg(s->db) : "cannot open");
    return -1;
}

static int exec(struct store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int user_version(struct store *s, int *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int migrate(struct store *s, char *err, size_t errlen)
{
    int v;
    if (user_version(s, &v) != 0)
        return fail(s, err, errlen, "cannot read the schema version");
    if (v > NMIGRATIONS) {
        snprintf(err, errlen,
                 "database %s has schema version %d, newer than this candlewatch "
                 "understands (%d); refusing to use or alter it: run a newer candlewatch",
                 s->path, v, NMIGRATIONS);
        return -1;
    }
    for (; v < NMIGRATIONS; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (exec(s, "BEGIN IMMEDIATE") || exec(s, migrations[v]) || exec(s, pragma) ||
            exec(s, "COMMIT")) {
            char what[64];
            snprintf(what, sizeof what, "migration %d failed", v + 1);
            fail(s, err, errlen, what);
            exec(s, "ROLLBACK");
            return -1;
        }
        log_info(s->log, "store", "database %s migrated to schema %d", s->path, v + 1);
    }
    return 0;
}

int store_prepare(struct store *s, sqlite3_stmt **st, const char *sql)
{
    return sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) ==
                   SQLITE_OK
               ? 0
               : -1;
}

/* A commit wrote the log: only its size is noted.  SQLite's own policy
 * checkpoints inside the commit once the log passes 1,000 pages, and that
 * copy and its fsync held a loop turn for 100 ms and more; the owner
 * checkpoints when the program is not busy (store_checkpoint). */
static int wal_counted(void *ud, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    ((struct store *)ud)->wal_frames = frames;
    return SQLITE_OK;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t store_last_commit_ms(const struct store *s)
{
    return s->last_commit_ms;
}

static long long file_bytes(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

long long store_disk_bytes(const struct store *s)
{
    char wal[4096];
    if (snprintf(wal, sizeof wal, "%s-wal", s->path) >= (int)sizeof wal)
        return file_bytes(s->path);
    return file_bytes(s->path) + file_bytes(wal);
}

int store_wal_frames(const struct store *s)
{
    return s->wal_frames;
}

int store_checkpoint(struct store *s)
{
    return s->ckpt ? store_ckpt_request(s) : store_checkpoint_here(s);
}

int store_checkpoint_here(struct store *s)
{
    if (s->in_batch)   /* (not inside a transaction: the next call does it) */
        return -1;
    int log = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) != SQLITE_OK)
        return -1;
    s->wal_frames = log > done ? log - done : 0;
    return 0;
}

int store_open(struct store **out, const char *path, struct logger *log, char *err,
               size_t errlen)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->log = log;
    *out = NULL;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        fail(s, err, errlen, "cannot open");
        goto bad;
    }
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        snprintf(err, errlen, "database %s: the file is not writable", path);
        goto bad;
    }
    sqlite3_busy_timeout(s->db, 5000);
    store_alert_functions(s->db);
    /* The first statement that reads the file finds out whether it is one. */
    /* (a log that grew during a long burst of writes is cut back to 64 MB
     * when it starts over) */
    if (exec(s, "PRAGMA journal_mode = WAL") || exec(s, "PRAGMA synchronous = NORMAL") ||
        exec(s, "PRAGMA journal_size_limit = 67108864")) {
        fail(s, err, errlen, "cannot use the file");
        goto bad;
    }
    /* (the hook replaces SQLite's checkpoint inside the commit) */
    sqlite3_wal_hook(s->db, wal_counted, s);
    if (migrate(s, err, errlen) != 0)
        goto bad;
    if (store_prepare(s, &s->begin, "BEGIN IMMEDIATE") || store_prepare(s, &s->commit, "COMMIT") ||
        store_prepare(s, &s->rollback, "ROLLBACK") ||
        store_prepare(s, &s->kv_get, "SELECT value FROM kv WHERE scope = ?1 AND key = ?2") ||
        store_prepare(s, &s->kv_put,
                "INSERT INTO kv (scope, key, value, updated_at) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at") ||
        store_prepare(s, &s->kv_del, "DELETE FROM kv WHERE scope = ?1 AND key = ?2")) {
        fail(s, err, errlen, "cannot prepare statements");
        goto bad;
    }
    /* From now on the loop waits: another writer (a backup tool, an
     * operator's shell) makes a batch fail fast rather than stall every
     * socket for seconds; what failed is handled as a full disk is. */
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    *out = s;
    return 0;
bad:
    store_close(s);
    return -1;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    s->on_end = NULL;   /* the owner is going away */
    s->on_undo = NULL;
    store_ckpt_stop(s);
    if (s->in_batch)
        store_commit(s);
    sqlite3_finalize(s->begin);
    sqlite3_finalize(s->commit);
    sqlite3_finalize(s->rollback);
    sqlite3_finalize(s->kv_get);
    sqlite3_finalize(s->kv_put);
    sqlite3_finalize(s->kv_del);
    for (int i = 0; i < STORE_TG_STATEMENTS; i++)
        sqlite3_finalize(s->tg[i]);
    for (int i = 0; i < STORE_ALERT_STATEMENTS; i++)
        sqlite3_finalize(s->alert[i]);
    if (s->db) {
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close(s->db);
    }
    free(s->done.v);
    free(s->path);
    free(s);
}

void store_set_error(struct store *s, const char *what)
{
    s->errors++;
    snprintf(s->error, sizeof s->error, "%s: %s", what, sqlite3_errmsg(s->db));
    log_error(s->log, "store", "database %s: %s", s->path, s->error);
}

int store_run(struct store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        store_set_error(s, what);
        /* After an I/O error or a full disk SQLite may have rolled the
         * whole transaction back: the batch is lost, and later writes must
         * not quietly run outside it. */
        if (s->in_batch && sqlite3_get_autocommit(s->db))
            s->lost = 1;
        return -1;
    }
    return 0;
}

/* The active handler's first write: its savepoint. */
static int savepoint_open(struct store *s)
{
    if (sqlite3_exec(s->db, "SAVEPOINT handler", NULL, NULL, NULL) != SQLITE_OK) {
        store_set_error(s, "savepoint");
        return -1;
    }
    s->sp.id = ++s->sp.next;
    s->sp.batch = s->batch_id;
    s->sp.user_data = s->user_data;
    return 0;
}

int store_batch(struct store *s)
{
    if (s->in_batch) {
        if (s->lost)
            return -1;
    } else {
        if (store_run(s, s->begin, "begin") != 0) {
            s->done.redo |= s->done.n > 0;
            return -1;
        }
        s->in_batch = 1;
        s->batch_id++;
        s->user_data = 0;
        if (s->done.redo)
            store_inbox_redo(s);
        if (s->on_batch)
            s->on_batch(s->on_batch_ud);
    }
    return s->sp.active && !s->sp.id ? savepoint_open(s) : 0;
}

int store_handler_begin(struct store *s)
{
    if (s->sp.active)
        return 0;
    s->sp.active = 1;
    s->sp.id = 0;
    return 1;
}

void store_handler_end(struct store *s, int token, int ok)
{
    if (!token)
        return;
    uint64_t id = s->sp.id, batch = s->sp.batch;
    s->sp.active = 0;
    s->sp.id = 0;
    /* nothing written, the batch ended meanwhile, or it fails as a whole */
    if (!id || !s->in_batch || batch != s->batch_id || s->lost)
        return;
    if (ok) {
        if (sqlite3_exec(s->db, "RELEASE handler", NULL, NULL, NULL) != SQLITE_OK) {
            store_set_error(s, "release");
            s->lost = 1;   /* what it holds is uncertain: the batch fails */
        }
        return;
    }
    if (sqlite3_exec(s->db, "ROLLBACK TO handler", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "RELEASE handler", NULL, NULL, NULL) != SQLITE_OK) {
        store_set_error(s, "rollback to savepoint");
        s->lost = 1;
        return;
    }
    s->user_data = s->sp.user_data;
    if (s->on_undo)
        s->on_undo(s->on_undo_ud, batch, id);
}

uint64_t store_savepoint_id(const struct store *s)
{
    return s->in_batch && s->sp.id && s->sp.batch == s->batch_id ? s->sp.id : 0;
}

void store_on_undo(struct store *s, store_undo_fn cb, void *ud)
{
    s->on_undo = cb;
    s->on_undo_ud = ud;
}

static void batch_end(struct store *s, int ok)
{
    uint64_t id = s->batch_id;
    int user_data = s->user_data;
    s->in_batch = s->lost = s->user_data = 0;
    s->sp.id = 0;   /* (ended with the batch) */
    if (ok) {
        s->done.n = 0;
        s->error[0] = '\0';
    } else {
        s->done.redo = 1;
    }
    if (s->on_end)
        s->on_end(s->on_end_ud, id, ok, user_data);
}

int store_commit(struct store *s)
{
    if (!s->in_batch)
        return 0;
    if (s->lost) {
        batch_end(s, 0);
        return -1;
    }
    double t0 = hist_clock();
    int rc = store_run(s, s->commit, "commit");
    double t1 = hist_clock();
    hist_observe(&s->commit_latency, t1 - t0);
    hist_max_observe(&s->commit_max, t1 - t0, t1);
    if (rc == 0)
        s->last_commit_ms = wall_ms();
    if (rc != 0 && !sqlite3_get_autocommit(s->db))   /* leave nothing half-open */
        store_run(s, s->rollback, "rollback");
    batch_end(s, rc == 0);
    return rc;
}

void store_batch_user_data(struct store *s)
{
    if (s->in_batch)
        s->user_data = 1;
}

uint64_t store_batch_id(const struct store *s)
{
    return s->in_batch ? s->batch_id : 0;
}

void store_on_end(struct store *s, store_end_fn cb, void *ud)
{
    s->on_end = cb;
    s->on_end_ud = ud;
}

int store_probe(struct store *s)
{
    if (s->in_batch)   /* its commit will tell */
        return 0;
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    if (store_kv_set(s, "store", "probe", now) != 0) {
        store_commit(s);   /* (a lost batch still has to end) */
        return -1;
    }
    return store_commit(s);
}

void store_metrics(const struct store *s, struct prom *p)
{
    prom_histogram(p, "candlewatch_sqlite_commit_seconds",
                   "SQLite commits of a loop turn's writes (the write latency).",
                   &s->commit_latency);
    prom_gauge(p, "candlewatch_sqlite_commit_max_seconds",
               "The longest SQLite commit in the last 10 to 20 s.", NULL,
               hist_max_get(&s->commit_max, hist_clock()));
    prom_counter(p, "candlewatch_sqlite_errors_total", "SQLite errors.", NULL,
                 (double)s->errors);
}

int store_batch_open(const struct store *s)
{
    return s->in_batch;
}

void store_on_batch(struct store *s, void (*cb)(void *ud), void *ud)
{
    s->on_batch = cb;
    s->on_batch_ud = ud;
}

int store_kv_get(struct store *s, const char *scope, const char *key, char **value)
{
    sqlite3_stmt *st = s->kv_get;
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        *value = strdup(v ? v : "null");
        found = *value ? 1 : -1;
    } else if (rc != SQLITE_DONE) {
        store_set_error(s, "read");
        found = -1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}

int store_kv_set(struct store *s, const char *scope, const char *key, const char *value)
{
    if (store_batch(s) != 0)
        return -1;
    sqlite3_stmt *st = value ? s->kv_put : s->kv_del;
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (value) {
        sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
    }
    int rc = store_run(s, st, "write");
    sqlite3_clear_bindings(st);
    return rc;
}

sqlite3_stmt *store_stmt(struct store *s, sqlite3_stmt **slot, const char *sql)
{
    if (!*slot && store_prepare(s, slot, sql) != 0) {
        store_set_error(s, "prepare");
        return NULL;
    }
    return *slot;
}

int store_write(struct store *s, sqlite3_stmt *st)
{
    int rc = st && store_batch(s) == 0 ? store_run(s, st, "write") : -1;
    if (st)
        sqlite3_clear_bindings(st);
    return rc;
}

int store_each_row(struct store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ud),
                   void *ud)
{
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (row(st, ud))
            break;
    int bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
    if (bad)
        store_set_error(s, "read");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return bad ? -1 : 0;
}

const char *store_col_text(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

void store_remove_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[4096];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        remove(p);
    }
}

const char *store_error(const struct store *s)
{
    return s->error[0] ? s->error : NULL;
}

const char *store_path(const struct store *s)
{
    return s->path;
}
