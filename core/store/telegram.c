/* The Telegram tables: outbox, inbox, handled update ids, inactive chats.
 * Statements are prepared on first use and kept until the store closes.
 * Writes join the open batch like every other write (see store.h).
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "util/grow.h"

enum {
    Q_OUT_ADD, Q_OUT_DEL, Q_OUT_ALL, Q_IN_SEEN, Q_IN_ADD, Q_IN_DEL, Q_HANDLED_ADD,
    Q_IN_ALL, Q_HANDLED_PRUNE, Q_CHAT_SET, Q_CHATS_OFF, Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_OUT_ADD] = "INSERT INTO tg_outbox (chat_id, kind, method, params, text, alerts, priority,"
                  " queued_ms, grp, heading) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [Q_OUT_DEL] = "DELETE FROM tg_outbox WHERE id = ?1",
    [Q_OUT_ALL] = "SELECT id, chat_id, kind, method, params, text, alerts, priority, queued_ms,"
                  " grp, heading FROM tg_outbox ORDER BY id",
    [Q_IN_SEEN] = "SELECT 1 FROM tg_handled WHERE update_id = ?1"
                  " UNION ALL SELECT 1 FROM tg_inbox WHERE update_id = ?1",
    [Q_IN_ADD] = "INSERT INTO tg_inbox (update_id, body) VALUES (?1, ?2)",
    [Q_IN_DEL] = "DELETE FROM tg_inbox WHERE update_id = ?1",
    [Q_HANDLED_ADD] = "INSERT OR IGNORE INTO tg_handled (update_id) VALUES (?1)",
    [Q_IN_ALL] = "SELECT update_id, body FROM tg_inbox ORDER BY update_id",
    [Q_HANDLED_PRUNE] = "DELETE FROM tg_handled WHERE update_id < ?1",
    [Q_CHAT_SET] = "INSERT INTO tg_chats (chat_id, active, changed_ms) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (chat_id) DO UPDATE SET active = excluded.active,"
                   " changed_ms = excluded.changed_ms",
    [Q_CHATS_OFF] = "SELECT chat_id FROM tg_chats WHERE active = 0",
};

_Static_assert(Q_COUNT <= STORE_TG_STATEMENTS, "room for the statements");

static sqlite3_stmt *stmt(struct store *s, int q)
{
    return store_stmt(s, &s->tg[q], sql[q]);
}


int store_outbox_add(struct store *s, struct store_outbox_row *r)
{
    sqlite3_stmt *st = stmt(s, Q_OUT_ADD);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->chat_id);
    sqlite3_bind_int(st, 2, r->kind);
    sqlite3_bind_text(st, 3, r->method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->params, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->text, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, r->alerts);
    sqlite3_bind_double(st, 7, r->priority);
    sqlite3_bind_int64(st, 8, r->queued_ms);
    sqlite3_bind_int(st, 9, r->group);
    if (r->heading)
        sqlite3_bind_text(st, 10, r->heading, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 10);
    if (store_write(s, st) != 0)
        return -1;
    r->id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_outbox_remove(struct store *s, int64_t id)
{
    sqlite3_stmt *st = stmt(s, Q_OUT_DEL);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return store_write(s, st);
}

struct outbox_each {
    store_outbox_fn fn;
    void *ud;
};

static int outbox_row(sqlite3_stmt *st, void *ud)
{
    struct outbox_each *e = ud;
    struct store_outbox_row r = {
        .id = sqlite3_column_int64(st, 0),
        .chat_id = sqlite3_column_int64(st, 1),
        .kind = sqlite3_column_int(st, 2),
        .method = store_col_text(st, 3),
        .params = store_col_text(st, 4),
        .text = store_col_text(st, 5),
        .alerts = sqlite3_column_int(st, 6),
        .priority = sqlite3_column_double(st, 7),
        .queued_ms = sqlite3_column_int64(st, 8),
        .group = sqlite3_column_int(st, 9),
        .heading = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL : store_col_text(st, 10),
    };
    return e->fn(e->ud, &r);
}

int store_outbox_each(struct store *s, store_outbox_fn fn, void *ud)
{
    struct outbox_each e = {fn, ud};
    return store_each_row(s, stmt(s, Q_OUT_ALL), outbox_row, &e);
}

int store_inbox_add(struct store *s, int64_t update_id, const char *body)
{
    sqlite3_stmt *seen = stmt(s, Q_IN_SEEN), *add = stmt(s, Q_IN_ADD);
    if (!seen || !add)
        return -1;
    sqlite3_bind_int64(seen, 1, update_id);
    int rc = sqlite3_step(seen);
    sqlite3_reset(seen);
    sqlite3_clear_bindings(seen);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE) {
        store_set_error(s, "read");
        return -1;
    }
    sqlite3_bind_int64(add, 1, update_id);
    sqlite3_bind_text(add, 2, body, -1, SQLITE_STATIC);
    return store_write(s, add) == 0 ? 1 : -1;
}

static int mark_done(struct store *s, int64_t update_id)
{
    sqlite3_stmt *del = stmt(s, Q_IN_DEL), *add = stmt(s, Q_HANDLED_ADD);
    if (!del || !add)
        return -1;
    sqlite3_bind_int64(del, 1, update_id);
    sqlite3_bind_int64(add, 1, update_id);
    int a = store_write(s, del), b = store_write(s, add);
    return a || b ? -1 : 0;
}

/* Past this many handled updates awaiting a working database, the oldest
 * marks are given up on (those updates would be handled again after a
 * restart); it bounds memory when the disk stays full for days. */
#define DONE_MAX 100000

int store_inbox_done(struct store *s, int64_t update_id)
{
    /* Remembered until a commit makes the mark durable: if the batch is
     * lost the update must not be handled again after a restart, as its
     * user has had an answer. */
    if (s->done.n == DONE_MAX) {
        memmove(s->done.v, s->done.v + 1, sizeof *s->done.v * (DONE_MAX - 1));
        s->done.n--;
        log_warn(s->log, "store", "more than %d handled updates wait for a working database; "
                 "the oldest may be handled again after a restart", DONE_MAX);
    }
    int64_t *v = grow(s->done.v, &s->done.cap, s->done.n + 1, sizeof *v);
    if (v)
        s->done.v = v;
    if (s->done.n < s->done.cap)
        s->done.v[s->done.n++] = update_id;
    return mark_done(s, update_id);
}

void store_inbox_redo(struct store *s)
{
    s->done.redo = 0;
    for (size_t i = 0; i < s->done.n; i++)
        if (mark_done(s, s->done.v[i]) != 0)
            return;   /* the batch is lost again: its end sets redo */
}

struct inbox_each {
    store_inbox_fn fn;
    void *ud;
};

static int inbox_row(sqlite3_stmt *st, void *ud)
{
    struct inbox_each *e = ud;
    return e->fn(e->ud, sqlite3_column_int64(st, 0), store_col_text(st, 1));
}

int store_inbox_each(struct store *s, store_inbox_fn fn, void *ud)
{
    struct inbox_each e = {fn, ud};
    return store_each_row(s, stmt(s, Q_IN_ALL), inbox_row, &e);
}

int store_handled_prune(struct store *s, int64_t below)
{
    sqlite3_stmt *st = stmt(s, Q_HANDLED_PRUNE);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, below);
    return store_write(s, st);
}

int store_chat_set_active(struct store *s, int64_t chat_id, int active, int64_t now_ms)
{
    sqlite3_stmt *st = stmt(s, Q_CHAT_SET);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, chat_id);
    sqlite3_bind_int(st, 2, active);
    sqlite3_bind_int64(st, 3, now_ms);
    return store_write(s, st);
}

struct chats_each {
    store_chat_fn fn;
    void *ud;
};

static int chat_row(sqlite3_stmt *st, void *ud)
{
    struct chats_each *e = ud;
    return e->fn(e->ud, sqlite3_column_int64(st, 0));
}

int store_chats_inactive_each(struct store *s, store_chat_fn fn, void *ud)
{
    struct chats_each e = {fn, ud};
    return store_each_row(s, stmt(s, Q_CHATS_OFF), chat_row, &e);
}
