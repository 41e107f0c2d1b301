/* Database checks for the e2e tests, with no sqlite3 CLI needed:
 *   dbcheck DB [SCOPE KEY]      PRAGMA integrity_check: "integrity: ok"
 *                               (exit 0) or the problems (exit 1); with SCOPE
 *                               and KEY also "value: ..." or "value: none"
 *   dbcheck DB --get-version    "version: N" (PRAGMA user_version)
 *   dbcheck DB --set-version N  sets PRAGMA user_version
 *   dbcheck DB --lock SECONDS   holds the write lock that long (as a backup
 *                               tool or an operator's sqlite3 shell can);
 *                               prints "locked" once it has it */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: dbcheck DB [SCOPE KEY | --get-version | --set-version N | "
                        "--lock SECONDS]\n");
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        printf("cannot open %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_stmt *st;
    int rc = 1;
    if (argc >= 3 && strcmp(argv[2], "--get-version") == 0) {
        if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            printf("version: %d\n", sqlite3_column_int(st, 0));
            rc = 0;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return rc;
    }
    if (argc == 4 && strcmp(argv[2], "--lock") == 0) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            printf("cannot lock: %s\n", sqlite3_errmsg(db));
            sqlite3_close(db);
            return 1;
        }
        printf("locked\n");
        fflush(stdout);
        sleep((unsigned)atoi(argv[3]));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        return 0;
    }
    if (argc == 4 && strcmp(argv[2], "--set-version") == 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", atoi(argv[3]));
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : 1;
        sqlite3_close(db);
        return rc;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        printf("integrity: %s\n", r);
        rc = strcmp(r, "ok") == 0 ? 0 : 1;
    } else {
        printf("integrity: cannot check: %s\n", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    if (argc == 4 && sqlite3_prepare_v2(db, "SELECT value FROM kv WHERE scope = ? AND key = ?",
                                        -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, argv[2], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, argv[3], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            printf("value: %s\n", sqlite3_column_text(st, 0));
        else
            printf("value: none\n");
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return rc;
}
