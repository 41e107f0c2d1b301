/* The SQLite store: migrations, key-value round trips, batches, refusal of
 * newer or corrupt databases without touching them. */
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "tap.h"

static char dir[] = "/tmp/cw-unit-store-XXXXXX";

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static struct store_preset got;
static char got_name[64], got_syms[256], got_ivs[64], got_dir[16], got_trig[16];
static int n_presets;

static int keep_preset(void *ud, const struct store_preset *r)
{
    (void)ud;
    got = *r;
    snprintf(got_name, sizeof got_name, "%s", r->name);
    snprintf(got_syms, sizeof got_syms, "%s", r->symbols);
    snprintf(got_ivs, sizeof got_ivs, "%s", r->intervals);
    snprintf(got_dir, sizeof got_dir, "%s", r->direction);
    snprintf(got_trig, sizeof got_trig, "%s", r->trigger);
    n_presets++;
    return 0;
}

static int n_marks;
static int64_t last_mark;
static char first_rule[32], last_rule[32];

static int keep_mark(void *ud, int64_t chat, const char *rule, const char *symbol, int iv,
                     int64_t open_time)
{
    (void)ud, (void)chat, (void)iv;
    if (!n_marks++)
        snprintf(first_rule, sizeof first_rule, "%s", rule);
    snprintf(last_rule, sizeof last_rule, "%s", rule);
    if (!strcmp(symbol, "BTCUSDT"))
        last_mark = open_time;
    return 0;
}

static uint64_t undone_batch, undone_sp;
static int n_undone;

static void on_undo(void *ud, uint64_t batch, uint64_t sp)
{
    (void)ud;
    undone_batch = batch;
    undone_sp = sp;
    n_undone++;
}

/* 1 when scope/key holds a value */
static int has(struct store *s, const char *key)
{
    char *v = NULL;
    int rc = store_kv_get(s, "h", key, &v);
    free(v);
    return rc == 1;
}

/* A handler's writes in a savepoint: kept when it ends ok, rolled back
 * (and the owner told) when it fails, the batch's other writes untouched. */
static void handler_savepoints(struct store *s)
{
    store_on_undo(s, on_undo, NULL);
    store_kv_set(s, "h", "before", "1");   /* another writer's, same batch */
    uint64_t batch = store_batch_id(s);
    int t = store_handler_begin(s);
    ok(t && !store_savepoint_id(s), "a handler begins; no savepoint before its first write");
    is_int(store_handler_begin(s), 0, "not nested: a second begin is a no-op");
    store_kv_set(s, "h", "failed", "1");
    uint64_t sp = store_savepoint_id(s);
    ok(sp && store_batch_id(s) == batch, "its first write opens a savepoint in the open batch");
    store_handler_end(s, t, 0);
    ok(!has(s, "failed") && has(s, "before"), "failed: its write is gone, the batch's other is not");
    ok(n_undone == 1 && undone_batch == batch && undone_sp == sp, "and the owner is told which");
    ok(store_batch_open(s) && !store_savepoint_id(s), "the batch stays open");
    t = store_handler_begin(s);
    store_kv_set(s, "h", "kept", "1");
    store_handler_end(s, t, 1);
    is_int(n_undone, 1, "ended ok: nothing undone");
    is_int(store_commit(s), 0, "the batch commits");
    ok(has(s, "kept") && has(s, "before") && !has(s, "failed"), "with what succeeded");
    t = store_handler_begin(s);
    store_handler_end(s, t, 0);
    ok(!store_batch_open(s) && n_undone == 1, "a handler that wrote nothing opens nothing");
    t = store_handler_begin(s);
    store_kv_set(s, "h", "committed", "1");
    store_commit(s);   /* (none is made while a handler runs; if one were:) */
    store_kv_set(s, "h", "after", "1");
    store_handler_end(s, t, 0);
    ok(has(s, "committed") && !has(s, "after"), "a commit in between makes what came before final");
    store_commit(s);
}

/* ---- store_kv_range ---- */

static char range_seen[256];
static int range_stop_after;   /* rows fn takes before it stops; 0: all */

static int range_row(void *ud, const char *key, const char *value)
{
    (void)ud;
    (void)value;
    size_t n = strlen(range_seen);
    snprintf(range_seen + n, sizeof range_seen - n, "%s%s", n ? " " : "", key);
    return range_stop_after && --range_stop_after == 0;
}

static const char *range_of(struct store *s, const char *from, const char *to,
                            const char *prefix, long limit)
{
    range_seen[0] = '\0';
    struct store_kv_range r = {from, to, prefix, limit};
    if (store_kv_range(s, "r", &r, range_row, NULL) != 0)
        return "(failed)";
    return range_seen;
}

static void kv_range(struct store *s)
{
    static const char *const keys[] = {"a", "ab", "ab\xff", "ab\xff\xff", "ac", "b", "B",
                                       "\xff", "\xff\xff"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        store_kv_set(s, "r", keys[i], "1");
    store_kv_set(s, "q", "a", "1");   /* another scope */
    is_str(range_of(s, NULL, NULL, NULL, 100), "B a ab ab\xff ab\xff\xff ac b \xff \xff\xff",
           "a scope's keys in byte order");
    is_str(range_of(s, NULL, NULL, "ab", 100), "ab ab\xff ab\xff\xff",
           "a prefix: the keys that start with it");
    is_str(range_of(s, NULL, NULL, "ab\xff", 100), "ab\xff ab\xff\xff",
           "a prefix ending in 0xff bytes");
    is_str(range_of(s, NULL, NULL, "\xff", 100), "\xff \xff\xff",
           "a prefix of 0xff bytes only: no upper bound");
    is_str(range_of(s, "ab\xff", "b", NULL, 100), "ab\xff ab\xff\xff ac",
           "from is in the range, to is not");
    is_str(range_of(s, "aa", "ac", "a", 2), "ab ab\xff", "the limit cuts the page");
    is_str(range_of(s, "b", "a", NULL, 100), "", "from past to: nothing");
    is_str(range_of(s, "ac", NULL, "ab", 100), "", "from past the prefix's keys: nothing");
    range_stop_after = 1;
    is_str(range_of(s, NULL, NULL, NULL, 100), "B", "fn stops the walk");
    is_str(range_of(s, NULL, NULL, "a", 1), "a", "and the query runs again after it");
}

static int read_version(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int v = -1;
    sqlite3_open(path, &db);
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The log copied by the store's own thread: asked for inside an open
 * batch (in place that must wait for the batch's end), it is copied while
 * the batch stays open, and the log starts over after it. */
static void background_checkpoint(struct store *s)
{
    char big[4001];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < 1500; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        store_kv_set(s, "big", key, big);
    }
    store_commit(s);
    int before = store_wal_frames(s);
    ok(before >= 1500, "1,500 values of 4 KB fill the log (%d pages)", before);
    is_int(store_checkpoint_in_background(s), 0, "the checkpoint thread starts");
    store_kv_set(s, "u", "open", "1");
    is_int(store_checkpoint(s), 0, "a checkpoint is asked for while a batch is open");
    for (int i = 0; i < 1000 && store_checkpoint_running(s); i++)
        usleep(10000);
    ok(!store_checkpoint_running(s), "the thread copies the log meanwhile");
    ok(store_batch_open(s), "(the batch stays open)");
    store_commit(s);
    /* (the log starts over once every frame in it is copied: the batch's
     * too, by the next copy) */
    store_checkpoint(s);
    for (int i = 0; i < 1000 && store_checkpoint_running(s); i++)
        usleep(10000);
    store_kv_set(s, "u", "after", "1");
    store_commit(s);
    ok(store_wal_frames(s) < 100, "the log starts over at the next write (%d pages)",
       store_wal_frames(s));
}

int main(void)
{
    struct logger lg;
    log_init(&lg);
    lg.out = NULL;
    char err[1024], path[256], *val = NULL;
    struct store *s;
    if (!mkdtemp(dir))
        return 1;

    path_of(path, sizeof path, "a.db");
    is_int(store_open(&s, path, &lg, err, sizeof err), 0, "a new database opens");
    is_int(read_version(path), store_schema_latest(), "and is migrated to the latest schema");
    is_int(store_kv_get(s, "u", "1", &val), 0, "a missing key reads as absent");
    is_int(store_kv_set(s, "u", "1", "{\"a\":1}"), 0, "a write succeeds");
    ok(store_batch_open(s), "the write opened a batch");
    is_int(store_kv_get(s, "u", "1", &val), 1, "the write is visible inside the batch");
    is_str(val, "{\"a\":1}", "with its value");
    free(val);
    is_int(store_commit(s), 0, "commit succeeds");
    ok(!store_batch_open(s), "no batch is open after commit");
    store_kv_set(s, "u", "1", "2");
    store_kv_set(s, "u", "2", "3");
    store_kv_set(s, "u", "2", NULL);
    store_close(s);   /* commits what is pending */

    is_int(store_open(&s, path, &lg, err, sizeof err), 0, "the database reopens");
    is_int(store_kv_get(s, "u", "1", &val), 1, "a value written before close is there");
    is_str(val, "2", "with the last value written");
    free(val);
    is_int(store_kv_get(s, "u", "2", &val), 0, "a deleted key is gone");
    kv_range(s);
    handler_savepoints(s);
    background_checkpoint(s);
    store_close(s);
    is_int(store_open(&s, path, &lg, err, sizeof err), 0, "the database reopens");
    is_int(store_kv_get(s, "big", "1499", &val), 1, "with the values the thread copied");
    free(val);
    is_int(store_kv_get(s, "u", "after", &val), 1, "and those written after the copy");
    free(val);
    store_close(s);

    /* a database from a newer candlewatch */
    path_of(path, sizeof path, "newer.db");
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL);
    sqlite3_close(db);
    is_int(store_open(&s, path, &lg, err, sizeof err), -1, "a newer schema is refused");
    ok(strstr(err, "newer") && strstr(err, path), "with a message naming the file: %s", err);
    is_int(read_version(path), 999, "and the database is not altered");

    /* a file that is not a database */
    path_of(path, sizeof path, "junk.db");
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 200; i++)
        fputs("this is not a database file at all. ", f);
    fclose(f);
    struct stat before, after;
    stat(path, &before);
    is_int(store_open(&s, path, &lg, err, sizeof err), -1, "a corrupt file is refused");
    ok(strstr(err, path) != NULL, "the message names the file: %s", err);
    stat(path, &after);
    ok(before.st_size == after.st_size && before.st_mtime == after.st_mtime,
       "and the file is left as it was");

    /* an unwritable file */
    if (getuid() != 0) {
        path_of(path, sizeof path, "ro.db");
        store_open(&s, path, &lg, err, sizeof err);
        store_close(s);
        chmod(path, 0444);
        is_int(store_open(&s, path, &lg, err, sizeof err), -1, "a read-only file is refused");
    } else {
        /* root can write read-only files: use a missing folder instead */
        is_int(store_open(&s, "/nonexistent-dir/x.db", &lg, err, sizeof err), -1,
               "a database that cannot be created is refused");
        ok(strstr(err, "/nonexistent-dir/x.db") != NULL, "naming the file: %s", err);
    }

    /* schema 3 kept a preset as a JSON body: migration 4 moves it into
     * columns, every field kept */
    path_of(path, sizeof path, "v3.db");
    is_int(store_open(&s, path, &lg, err, sizeof err), 0, "a database is made");
    store_close(s);
    sqlite3_open(path, &db);   /* and taken back to schema 3 */
    is_int(sqlite3_exec(db,
        "DROP TABLE presets; DROP INDEX alert_log_time; DROP TABLE alert_fired;"
        "ALTER TABLE tg_outbox DROP COLUMN grp; ALTER TABLE tg_outbox DROP COLUMN heading;"
        "CREATE TABLE alert_fired (chat_id INTEGER NOT NULL, symbol TEXT NOT NULL,"
        " interval INTEGER NOT NULL, open_time INTEGER NOT NULL,"
        " PRIMARY KEY (chat_id, symbol, interval)) WITHOUT ROWID;"
        "INSERT INTO alert_fired VALUES (-100, 'BTCUSDT', 2, 1700000000000);"
        "CREATE TABLE presets (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,"
        " chat_id INTEGER NOT NULL, body TEXT NOT NULL, updated_ms INTEGER NOT NULL);"
        "INSERT INTO presets VALUES (7, 5, -100, '{\"name\":\"Majors <b>\",\"rule\":\"move\","
        "\"pairs\":\"manual\",\"symbols\":[\"BTCUSDT\",\"ETHUSDT\"],\"intervals\":[\"5m\","
        "\"15m\"],\"threshold\":2.5,\"direction\":\"down\",\"trigger\":\"close\","
        "\"min_volume\":1000000,\"active\":false,\"created_ms\":1700000000000}', 1);"
        "PRAGMA user_version = 3;", NULL, NULL, NULL), SQLITE_OK, "as schema 3 had it");
    sqlite3_close(db);
    is_int(store_open(&s, path, &lg, err, sizeof err), 0, "it opens and migrates");
    if (!s) {
        printf("#   %s\n", err);
        return done();
    }
    store_presets_each(s, keep_preset, NULL);
    is_int(n_presets, 1, "its preset is there");
    ok(got.id == 7 && got.user_id == 5 && got.chat_id == -100, "with its ids");
    is_str(got_name, "Majors <b>", "its name");
    is_str(got_syms, "BTCUSDT ETHUSDT", "its pairs");
    is_str(got_ivs, "5m 15m", "its timeframes");
    ok(got.threshold == 2.5 && got.min_volume == 1000000, "its threshold and volume floor");
    is_str(got_dir, "down", "its direction");
    is_str(got_trig, "close", "its trigger");
    ok(!got.active && got.created_ms == 1700000000000LL, "paused, and its creation time");
    is_int(store_fired_count(s, 1), 1, "the fired mark is kept");
    store_fired_set(s, -100, "move", "BTCUSDT", 2, 1700000600000LL);
    store_fired_set(s, -100, "rsi", "ETHUSDT", 2, 1700000600000LL);
    store_fired_each(s, 86400000, keep_mark, NULL);
    is_int(n_marks, 3, "marks are a log, read oldest first");
    ok(last_mark == 1700000600000LL, "so the newest of a key comes last");
    is_str(first_rule, "move", "a mark from before rules had its own is the move rule's");
    is_str(last_rule, "rsi", "a mark keeps its rule");
    store_commit(s);
    /* a step at a time (a loop turn's share): one mark a step here */
    int64_t from = 0;
    int steps = 0;
    while (store_fired_prune_step(s, 1, &from, 1) > 0 && steps < 10)
        steps++;   /* the first 5m candle closed 5 minutes before */
    is_int(steps, 3, "pruning one mark a step takes a step a mark");
    n_marks = 0;
    store_fired_each(s, 1, keep_mark, NULL);
    is_int(n_marks, 2, "pruning drops the marks whose candle is over");
    store_close(s);

    /* a commit never checkpoints (it held loop turns): the log grows past
     * SQLite's own 1,000 pages until the owner checkpoints */
    path_of(path, sizeof path, "wal.db");
    is_int(store_open(&s, path, &lg, err, sizeof err), 0, "a database for the log");
    char big[4000], key[16];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < 1500; i++) {   /* a page and more each, in 30 commits */
        snprintf(key, sizeof key, "%d", i);
        store_kv_set(s, "w", key, big);
        if (i % 50 == 49)
            store_commit(s);
    }
    ok(store_wal_frames(s) > 1500, "commits leave the log to grow (%d pages)", store_wal_frames(s));
    store_kv_set(s, "w", "open", "1");
    is_int(store_checkpoint(s), -1, "no checkpoint inside an open batch");
    store_commit(s);
    is_int(store_checkpoint(s), 0, "a checkpoint between batches");
    is_int(store_wal_frames(s), 0, "copies the whole log");
    store_kv_set(s, "w", "after", "1");
    store_commit(s);
    ok(store_wal_frames(s) < 10, "and the log starts over (%d pages)", store_wal_frames(s));
    is_int(store_kv_get(s, "w", "1499", &val), 1, "nothing written is lost");
    free(val);
    store_close(s);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return done();
}
