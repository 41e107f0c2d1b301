/* Internals of the store, shared by the files of core/store/ only. */
#ifndef CW_STORE_INTERNAL_H
#define CW_STORE_INTERNAL_H

#include <sqlite3.h>

#include "metrics/hist.h"
#include "store/store.h"

#define STORE_TG_STATEMENTS 16
#define STORE_ALERT_STATEMENTS 24
/* SQL functions the alert statements use (alerts.c). */
void store_alert_functions(sqlite3 *db);

struct store {
    sqlite3 *db;
    char *path;
    struct logger *log;
    sqlite3_stmt *begin, *commit, *rollback, *kv_get, *kv_put, *kv_del;
    sqlite3_stmt *tg[STORE_TG_STATEMENTS];   /* telegram.c's, prepared on first use */
    sqlite3_stmt *alert[STORE_ALERT_STATEMENTS];   /* alerts.c's */
    int in_batch;
    int wal_frames;           /* in the write-ahead log after the last commit */
    int lost;                 /* SQLite rolled the open batch back: it fails as a whole */
    int user_data;            /* the open batch holds data a user may be told of */
    uint64_t batch_id;        /* the open batch's, counting from 1 */
    char error[512];
    void (*on_batch)(void *ud);
    void *on_batch_ud;
    store_end_fn on_end;
    void *on_end_ud;
    struct {                  /* updates marked handled, not yet committed */
        int64_t *v;
        size_t n, cap;
        int redo;             /* a batch that marked them was lost: mark again */
    } done;
    struct hist commit_latency;
    int64_t last_commit_ms;   /* wall clock of the last commit that succeeded, or 0 */
    struct hist_max commit_max;
    long errors;
    struct {                  /* a handler's slice: its writes in a savepoint */
        int active;           /* between store_handler_begin and _end */
        uint64_t id;          /* the open savepoint's id (ids grow from 1), or 0 */
        uint64_t batch;       /* the batch it is in */
        uint64_t next;
        int user_data;        /* the batch's flag when the savepoint opened */
    } sp;
    store_undo_fn on_undo;
    void *on_undo_ud;
    struct store_ckpt *ckpt;  /* the checkpoint thread (checkpoint.c), or NULL */
};

/* checkpoint.c: asks the thread for a copy (0, or -1: the last one failed);
 * ends the thread, after the copy under way. */
int store_ckpt_request(struct store *s);
void store_ckpt_stop(struct store *s);

/* Logs the database's error and keeps it for store_error(). */
void store_set_error(struct store *s, const char *what);
/* Steps a statement that returns no rows and resets it. */
int store_run(struct store *s, sqlite3_stmt *st, const char *what);
/* Opens the write batch unless one is open. */
int store_batch(struct store *s);
int store_prepare(struct store *s, sqlite3_stmt **st, const char *sql);
/* The statement sql, prepared into *slot on first use; NULL on error. */
sqlite3_stmt *store_stmt(struct store *s, sqlite3_stmt **slot, const char *sql);
/* Runs a write statement inside the batch and clears its bindings. */
int store_write(struct store *s, sqlite3_stmt *st);
/* Steps a query to its end, or until row() returns non-zero. */
int store_each_row(struct store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ud),
                   void *ud);
const char *store_col_text(sqlite3_stmt *st, int i);
/* The handled-update marks of a lost batch, written again (telegram.c). */
void store_inbox_redo(struct store *s);

#endif
