/* The alert tables: presets (owned by the alert engine), the candle each
 * (chat, rule, symbol, interval) last fired for, and a log of fired alerts
 * for the presets' statistics. */
#include "util/interval.h"
#include "store/internal.h"

#include <stdlib.h>
#include <string.h>

enum {
    Q_PRESET_ADD, Q_PRESET_PUT, Q_PRESET_DEL, Q_PRESET_ALL, Q_FIRED_SET, Q_FIRED_ALL,
    Q_FIRED_PRUNE, Q_FIRED_UPTO, Q_FIRED_COUNT, Q_LOG_ADD, Q_LOG_STATS, Q_LOG_PRUNE, Q_LOG_DEL, Q_LOG_SINCE, Q_KV_SCOPE,
    Q_PRESET_ONE, Q_KV_RANGE, Q_KV_FROM, Q_COUNT
};

static const char *const sql[Q_COUNT] = {
#define PRESET_COLS "user_id, chat_id, name, rule, pairs, top_n, symbols, intervals, threshold," \
                    " direction, trigger, min_volume, active, created_ms, params, chart"
    [Q_PRESET_ADD] = "INSERT INTO presets (" PRESET_COLS ", updated_ms)"
                     " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?17,"
                     " ?18, ?16)",
    [Q_PRESET_PUT] = "UPDATE presets SET (" PRESET_COLS ", updated_ms) ="
                     " (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?17, ?18, ?16)"
                     " WHERE id = ?1",
    [Q_PRESET_DEL] = "DELETE FROM presets WHERE id = ?1",
    [Q_PRESET_ALL] = "SELECT id, " PRESET_COLS " FROM presets ORDER BY id",
    [Q_PRESET_ONE] = "SELECT id, " PRESET_COLS " FROM presets WHERE id = ?1",
    /* a log: read in order, the newest row of a (chat, rule, symbol,
     * interval) wins */
    [Q_FIRED_SET] = "INSERT INTO alert_fired (chat_id, rule, symbol, interval, open_time)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    /* marks whose candle closed at most ?1 ms before the newest mark: by
     * the marks' own clock, as the market's time need not be the wall's (a
     * replay of 2022 must not find its marks "old") */
#define FIRED_NEWEST "(SELECT max(open_time) FROM alert_fired)"
/* (the first term lets the open_time index skip the old marks: no
 * interval is longer than a day) */
#define FIRED_LIVE "open_time >= " FIRED_NEWEST " - ?1 - 86400000 AND " \
                   "open_time + cw_interval_ms(interval) + ?1 >= " FIRED_NEWEST
    [Q_FIRED_ALL] = "SELECT chat_id, rule, symbol, interval, open_time FROM alert_fired WHERE "
                    FIRED_LIVE " ORDER BY rowid",
    [Q_FIRED_COUNT] = "SELECT count(*) FROM alert_fired WHERE " FIRED_LIVE,
    [Q_FIRED_PRUNE] = "DELETE FROM alert_fired WHERE rowid > ?2 AND rowid <= ?3 AND NOT ("
                      FIRED_LIVE ")",
    [Q_FIRED_UPTO] = "SELECT max(rowid) FROM (SELECT rowid FROM alert_fired WHERE rowid > ?1"
                     " ORDER BY rowid LIMIT ?2)",
    [Q_LOG_ADD] = "INSERT INTO alert_log (preset_id, chat_id, symbol, interval, open_time, move,"
                  " fired_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_LOG_STATS] = "SELECT count(*) FILTER (WHERE fired_ms >= ?2), count(*), max(fired_ms)"
                    " FROM alert_log WHERE preset_id = ?1 AND fired_ms >= ?3",
    [Q_LOG_PRUNE] = "DELETE FROM alert_log WHERE rowid IN (SELECT rowid FROM alert_log"
                    " WHERE fired_ms < ?1 LIMIT ?2)",
    [Q_LOG_DEL] = "DELETE FROM alert_log WHERE preset_id = ?1",
    [Q_LOG_SINCE] = "SELECT count(*) FROM alert_log WHERE fired_ms >= ?1",
    [Q_KV_SCOPE] = "SELECT key, value FROM kv WHERE scope = ?1",
    /* (both walk the primary key: a page costs its rows, not the scope's) */
    [Q_KV_RANGE] = "SELECT key, value FROM kv WHERE scope = ?1 AND key >= ?2 AND key < ?3"
                   " ORDER BY key LIMIT ?4",
    [Q_KV_FROM] = "SELECT key, value FROM kv WHERE scope = ?1 AND key >= ?2"
                  " ORDER BY key LIMIT ?4",
};

_Static_assert(Q_COUNT <= STORE_ALERT_STATEMENTS, "room for the statements");

/* cw_interval_ms(interval) -> the interval's length in ms (0: unknown) */
static void sql_interval_ms(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int iv = sqlite3_value_int(argv[0]);
    sqlite3_result_int64(ctx, iv >= 0 && iv < IV_COUNT ? interval_ms(iv) : 0);
}

void store_alert_functions(sqlite3 *db)
{
    sqlite3_create_function(db, "cw_interval_ms", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_interval_ms, NULL, NULL);
}

static sqlite3_stmt *stmt(struct store *s, int q)
{
    return store_stmt(s, &s->alert[q], sql[q]);
}

int store_preset_put(struct store *s, struct store_preset *r, int64_t now_ms)
{
    sqlite3_stmt *st = stmt(s, r->id ? Q_PRESET_PUT : Q_PRESET_ADD);
    if (!st)
        return -1;
    if (r->id)
        sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->user_id);
    sqlite3_bind_int64(st, 3, r->chat_id);
    sqlite3_bind_text(st, 4, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->pairs, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, r->top_n);
    sqlite3_bind_text(st, 8, r->symbols, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->intervals, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 10, r->threshold);
    sqlite3_bind_text(st, 11, r->direction, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, r->trigger, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 13, r->min_volume);
    sqlite3_bind_int(st, 14, r->active);
    sqlite3_bind_int64(st, 15, r->created_ms);
    sqlite3_bind_int64(st, 16, now_ms);
    sqlite3_bind_text(st, 17, r->params ? r->params : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 18, r->chart);
    int add = !r->id;
    if (store_write(s, st) != 0)
        return -1;
    if (add)
        r->id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_preset_delete(struct store *s, int64_t id)
{
    /* its history goes too: a later preset may get the same id */
    sqlite3_stmt *st = stmt(s, Q_PRESET_DEL), *log = stmt(s, Q_LOG_DEL);
    if (!st || !log)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(log, 1, id);
    int a = store_write(s, st), b = store_write(s, log);
    return a || b ? -1 : 0;
}

struct each {
    void *fn;
    void *ud;
};

static int preset_row(sqlite3_stmt *st, void *ud)
{
    struct each *e = ud;
    struct store_preset r = {
        .id = sqlite3_column_int64(st, 0), .user_id = sqlite3_column_int64(st, 1),
        .chat_id = sqlite3_column_int64(st, 2), .name = store_col_text(st, 3),
        .rule = store_col_text(st, 4), .pairs = store_col_text(st, 5),
        .top_n = sqlite3_column_int(st, 6), .symbols = store_col_text(st, 7),
        .intervals = store_col_text(st, 8), .threshold = sqlite3_column_double(st, 9),
        .direction = store_col_text(st, 10), .trigger = store_col_text(st, 11),
        .min_volume = sqlite3_column_double(st, 12), .active = sqlite3_column_int(st, 13),
        .created_ms = sqlite3_column_int64(st, 14), .params = store_col_text(st, 15),
        .chart = sqlite3_column_int(st, 16)};
    return ((store_preset_fn)e->fn)(e->ud, &r);
}

int store_presets_each(struct store *s, store_preset_fn fn, void *ud)
{
    struct each e = {(void *)fn, ud};
    return store_each_row(s, stmt(s, Q_PRESET_ALL), preset_row, &e);
}

int store_preset_get(struct store *s, int64_t id, store_preset_fn fn, void *ud)
{
    sqlite3_stmt *st = stmt(s, Q_PRESET_ONE);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    struct each e = {(void *)fn, ud};
    return store_each_row(s, st, preset_row, &e);
}

int store_fired_set(struct store *s, int64_t chat, const char *rule, const char *symbol, int iv,
                    int64_t open_time)
{
    sqlite3_stmt *st = stmt(s, Q_FIRED_SET);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, chat);
    sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, iv);
    sqlite3_bind_int64(st, 5, open_time);
    return store_write(s, st);
}

static int fired_row(sqlite3_stmt *st, void *ud)
{
    struct each *e = ud;
    return ((store_fired_fn)e->fn)(e->ud, sqlite3_column_int64(st, 0), store_col_text(st, 1),
                                   store_col_text(st, 2), sqlite3_column_int(st, 3),
                                   sqlite3_column_int64(st, 4));
}

int store_fired_each(struct store *s, int64_t late_ms, store_fired_fn fn, void *ud)
{
    struct each e = {(void *)fn, ud};
    sqlite3_stmt *st = stmt(s, Q_FIRED_ALL);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, late_ms);
    return store_each_row(s, st, fired_row, &e);
}

static int count_row(sqlite3_stmt *st, void *ud)
{
    *(long *)ud = (long)sqlite3_column_int64(st, 0);
    return 0;
}

/* A count(*) query q with one integer parameter; 0 on error. */
static long count_of(struct store *s, int q, int64_t arg)
{
    long n = 0;
    sqlite3_stmt *st = stmt(s, q);
    if (st) {
        sqlite3_bind_int64(st, 1, arg);
        store_each_row(s, st, count_row, &n);
    }
    return n;
}

long store_alerts_since(struct store *s, int64_t since_ms)
{
    return count_of(s, Q_LOG_SINCE, since_ms);
}

long store_fired_count(struct store *s, int64_t late_ms)
{
    return count_of(s, Q_FIRED_COUNT, late_ms);
}

int store_fired_prune_step(struct store *s, int64_t late_ms, int64_t *from, int scan)
{
    sqlite3_stmt *st = stmt(s, Q_FIRED_UPTO), *del = stmt(s, Q_FIRED_PRUNE);
    if (!st || !del)
        return -1;
    sqlite3_bind_int64(st, 1, *from);
    sqlite3_bind_int(st, 2, scan);
    int rc = sqlite3_step(st);
    int64_t upto = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
                       ? sqlite3_column_int64(st, 0)
                       : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return -1;
    if (!upto)
        return 0;
    sqlite3_bind_int64(del, 1, late_ms);
    sqlite3_bind_int64(del, 2, *from);
    sqlite3_bind_int64(del, 3, upto);
    if (store_write(s, del) != 0)
        return -1;
    *from = upto;
    return 1;
}

int store_fired_prune(struct store *s, int64_t late_ms)
{
    int64_t from = 0;
    int rc;
    while ((rc = store_fired_prune_step(s, late_ms, &from, 10000)) > 0)
        ;
    return rc;
}

int store_alert_log(struct store *s, int64_t preset, int64_t chat, const char *symbol, int iv,
                    int64_t open_time, double move, int64_t now_ms)
{
    sqlite3_stmt *st = stmt(s, Q_LOG_ADD);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, preset);
    sqlite3_bind_int64(st, 2, chat);
    sqlite3_bind_text(st, 3, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, iv);
    sqlite3_bind_int64(st, 5, open_time);
    sqlite3_bind_double(st, 6, move);
    sqlite3_bind_int64(st, 7, now_ms);
    return store_write(s, st);
}

int store_alert_stats(struct store *s, int64_t preset, int64_t day_start, int64_t week_start,
                      long *day, long *week, int64_t *last_ms)
{
    sqlite3_stmt *st = stmt(s, Q_LOG_STATS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, preset);
    sqlite3_bind_int64(st, 2, day_start);
    sqlite3_bind_int64(st, 3, week_start);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *day = (long)sqlite3_column_int64(st, 0);
        *week = (long)sqlite3_column_int64(st, 1);
        *last_ms = sqlite3_column_int64(st, 2);
    } else {
        store_set_error(s, "read");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int store_alert_log_prune(struct store *s, int64_t before_ms, int limit)
{
    sqlite3_stmt *st = stmt(s, Q_LOG_PRUNE);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, before_ms);
    sqlite3_bind_int(st, 2, limit);
    return store_write(s, st) == 0 ? sqlite3_changes(s->db) : -1;
}

static int kv_row(sqlite3_stmt *st, void *ud)
{
    struct each *e = ud;
    return ((store_kv_fn)e->fn)(e->ud, store_col_text(st, 0), store_col_text(st, 1));
}

int store_kv_each(struct store *s, const char *scope, store_kv_fn fn, void *ud)
{
    sqlite3_stmt *st = stmt(s, Q_KV_SCOPE);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_TRANSIENT);
    struct each e = {(void *)fn, ud};
    return store_each_row(s, st, kv_row, &e);
}

/* The first key after every key starting with prefix, into a malloc'd
 * string; NULL when there is none (an empty prefix, or all 0xff bytes)
 * or no memory (*oom set). */
static char *prefix_end(const char *prefix, int *oom)
{
    size_t n = strlen(prefix);
    while (n && (unsigned char)prefix[n - 1] == 0xff)
        n--;
    if (!n)
        return NULL;
    char *end = strndup(prefix, n);
    if (!end)
        *oom = 1;
    else
        end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
    return end;
}

int store_kv_range(struct store *s, const char *scope, const struct store_kv_range *r,
                   store_kv_fn fn, void *ud)
{
    const char *lo = r->from ? r->from : "", *hi = r->to;
    const char *prefix = r->prefix ? r->prefix : "";
    int oom = 0;
    char *end = prefix_end(prefix, &oom);
    if (oom)
        return -1;
    if (strcmp(prefix, lo) > 0)
        lo = prefix;
    if (end && (!hi || strcmp(end, hi) < 0))
        hi = end;
    int rc = 0;   /* (an empty range: no rows, and no query) */
    if (r->limit > 0 && (!hi || strcmp(lo, hi) < 0)) {
        sqlite3_stmt *st = stmt(s, hi ? Q_KV_RANGE : Q_KV_FROM);
        if (st) {
            sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, lo, -1, SQLITE_STATIC);
            if (hi)
                sqlite3_bind_text(st, 3, hi, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, r->limit);
        }
        struct each e = {(void *)fn, ud};
        rc = store_each_row(s, st, kv_row, &e);
    }
    free(end);
    return rc;
}
