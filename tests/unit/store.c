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

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return done();
}
