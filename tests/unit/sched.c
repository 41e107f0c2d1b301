/* The delivery scheduler's decisions, in-process: a fake Bot API behind
 * tg_sched_set_call answers each send after 20 ms of simulated time, and
 * the test drives the clock and the timers 1 ms at a time.  Pacing
 * (README, "Delivery"), merging, and what a 429, a 5xx and a 403 do. */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <unistd.h>

#include "config/config.h"
#include "loop/rt.h"
#include "store/store.h"
#include "tap.h"
#include "tg/sched.h"

#define MAX_CALLS 4096
#define LATENCY_MS 20

struct call {
    uint64_t at;                 /* when the scheduler sent it (simulated ms) */
    int64_t chat;
    char method[32];
    char text[512];
    tg_api_cb cb;
    void *cb_ud;
    int answered;
};

/* The fake Bot API: what it was sent, and how it answers. */
static struct {
    uint64_t now;                /* the simulated clock */
    struct call calls[MAX_CALLS];
    int n;
    /* the answer to the next call to a chat: an outcome for its first
     * `times` calls (0: TG_OK) */
    int64_t bad_chat;
    enum tg_outcome bad_outcome;
    long retry_after;
    int times;
    int hold;                    /* answer nothing for now */
} fk;

static uint64_t sim_now(void *clock)
{
    (void)clock;
    return fk.now;
}

static int64_t sim_wall(void *clock)
{
    (void)clock;
    return 1700000000000 + (int64_t)fk.now;
}

static uint64_t fake_call(void *ud, const char *method, const char *body,
                          const struct httpc_part *parts, int nparts, long timeout_ms,
                          tg_api_cb cb, void *cb_ud)
{
    (void)ud;
    (void)parts;
    (void)nparts;
    (void)timeout_ms;
    if (fk.n == MAX_CALLS)
        abort();
    struct call *c = &fk.calls[fk.n++];
    memset(c, 0, sizeof *c);
    c->at = fk.now;
    snprintf(c->method, sizeof c->method, "%s", method);
    cJSON *j = cJSON_Parse(body);
    const cJSON *chat = cJSON_GetObjectItemCaseSensitive(j, "chat_id");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
    c->chat = cJSON_IsNumber(chat) ? (int64_t)chat->valuedouble : 0;
    snprintf(c->text, sizeof c->text, "%s", cJSON_IsString(text) ? text->valuestring : "");
    cJSON_Delete(j);
    c->cb = cb;
    c->cb_ud = cb_ud;
    return (uint64_t)fk.n;
}

/* Answers the calls whose latency has passed. */
static void answer_due(void)
{
    for (int i = 0; i < fk.n; i++) {
        struct call *c = &fk.calls[i];
        if (fk.hold || c->answered || c->at + LATENCY_MS > fk.now)
            continue;
        c->answered = 1;
        struct tg_result r = {.outcome = TG_OK, .status = 200};
        if (fk.times && c->chat == fk.bad_chat) {
            fk.times--;
            r.outcome = fk.bad_outcome;
            r.retry_after = fk.retry_after;
            snprintf(r.description, sizeof r.description, "fake: %s",
                     tg_outcome_name(fk.bad_outcome));
        }
        c->cb(c->cb_ud, &r);
    }
}

static struct timers ts;
static struct logger lg;
static struct config cfg;
static struct rt rt = {.timers = &ts, .log = &lg, .now = sim_now, .wall = sim_wall};

static void advance(uint64_t ms)
{
    for (uint64_t end = fk.now + ms; fk.now < end;) {
        fk.now++;
        answer_due();
        timers_run_due(&ts, fk.now);
    }
}

static struct tg_sched *fresh(void)
{
    memset(&fk, 0, sizeof fk);
    fk.now = 1000;
    struct tg_sched *s = tg_sched_new(&rt, &cfg, NULL, NULL);
    tg_sched_set_call(s, fake_call, NULL);
    return s;
}

static void done_with(struct tg_sched *s)
{
    advance(LATENCY_MS + 1);   /* (no callback may run after the free) */
    tg_sched_free(s);
}

/* Sends to chat (0: any) among the calls; their times in at[]. */
static int sends_to(int64_t chat, uint64_t *at)
{
    int n = 0;
    for (int i = 0; i < fk.n; i++)
        if ((!chat || fk.calls[i].chat == chat) && !strcmp(fk.calls[i].method, "sendMessage"))
            at[n++] = fk.calls[i].at;
    return n;
}

/* The most sends in any window of span_ms, sliding over every start. */
static int most_in_window(const uint64_t *at, int n, uint64_t span_ms)
{
    int most = 0;
    for (int i = 0, j = 0; i < n; i++) {
        while (at[i] - at[j] >= span_ms)
            j++;
        if (i - j + 1 > most)
            most = i - j + 1;
    }
    return most;
}

static void test_global_pacing(void)
{
    struct tg_sched *s = fresh();
    for (int i = 1; i <= 300; i++)
        tg_sched_send(s, i, "sendMessage", NULL, "hi");
    advance(15000);
    uint64_t at[MAX_CALLS];
    int n = sends_to(0, at);
    is_int(n, 300, "300 replies to 300 chats all go out within 15 s");
    int most = most_in_window(at, n, 1000);
    ok(most <= 28, "no second holds more than rate less 2 (28 of 30): %d", most);
    ok(most >= 20, "and the bot does use its rate (%d in the busiest second)", most);
    done_with(s);
}

static void test_chat_pacing(void)
{
    struct tg_sched *s = fresh();
    char text[16];
    for (int i = 0; i < 10; i++) {
        snprintf(text, sizeof text, "m%d", i);
        tg_sched_send(s, 42, "sendMessage", NULL, text);
    }
    advance(20000);
    uint64_t at[MAX_CALLS];
    int n = sends_to(42, at);
    is_int(n, 10, "10 replies to one private chat all go out");
    is_int(most_in_window(at, n, 3200), 3, "at most 3 of them in any 3.2 s");
    int in_order = 1;
    for (int i = 0; i < fk.n; i++) {
        snprintf(text, sizeof text, "m%d", i);
        in_order &= !strcmp(fk.calls[i].text, text);
    }
    ok(in_order, "in the order they were queued");
    int one_at_a_time = 1;
    for (int i = 1; i < fk.n; i++)
        one_at_a_time &= fk.calls[i].at >= fk.calls[i - 1].at + LATENCY_MS;
    ok(one_at_a_time, "one request to the chat at a time");
    done_with(s);
}

static void test_group_pacing(void)
{
    struct tg_sched *s = fresh();
    for (int i = 0; i < 30; i++)
        tg_sched_send(s, -1001, "sendMessage", NULL, "to the group");
    advance(130000);
    uint64_t at[MAX_CALLS];
    int n = sends_to(-1001, at);
    is_int(n, 30, "30 replies to a group all go out within 130 s");
    ok(most_in_window(at, n, 60200) <= 20, "at most 20 in any 60.2 s (%d)",
       most_in_window(at, n, 60200));
    ok(most_in_window(at, n, 1000) <= 4, "a burst of at most 4 (%d in a second)",
       most_in_window(at, n, 1000));
    done_with(s);
}

static void test_merging(void)
{
    struct tg_sched *s = fresh();
    is_int(tg_sched_alert(s, 7, &(struct tg_alert){.text = "A small", .priority = 1}), 0,
           "the first alert is queued");
    advance(10);
    is_int(tg_sched_alert(s, 7, &(struct tg_alert){.text = "B big", .priority = 5}), 1,
           "one 10 ms later is merged into it");
    advance(10);
    is_int(tg_sched_alert(s, 7, &(struct tg_alert){.text = "C mid", .priority = 3}), 1,
           "and another");
    advance(1000);
    is_int(fk.n, 1, "the three go out as one message");
    is_str(fk.calls[0].text, "B big\n\nC mid\n\nA small", "bigger first, a blank line between");
    ok(fk.calls[0].at >= 1000 + 50, "not before the 50 ms gathering delay");
    struct tg_sched_stats st;
    tg_sched_stats(s, &st);
    is_int(st.merged, 2, "two merged");
    is_int(st.alerts_sent, 3, "three alerts sent");
    /* once it is in flight, the next alert starts a new message */
    tg_sched_alert(s, 7, &(struct tg_alert){.text = "D", .priority = 1});
    advance(3000);
    is_int(fk.n, 2, "an alert after the message went is a message of its own");
    done_with(s);
}

/* A merged message stays within 4,096 characters, headings and blank
 * lines counted: four alerts of 1,000 characters in two timeframes fit
 * (4,026), a fifth starts a message of its own. */
static void test_merge_limit(void)
{
    struct tg_sched *s = fresh();
    static char big[1001];
    memset(big, 'x', 1000);
    int rc[5];
    for (int i = 0; i < 5; i++)
        rc[i] = tg_sched_alert(s, 12, &(struct tg_alert){big, 1, 1 + i % 2,
                                                         i % 2 ? "<b>5m</b>" : "<b>1m</b>"});
    ok(rc[0] == 0 && rc[1] == 1 && rc[2] == 1 && rc[3] == 1, "four alerts of 1,000 characters merge");
    is_int(rc[4], 0, "the fifth would pass 4,096 characters: a message of its own");
    advance(5000);
    is_int(fk.n, 2, "two messages go out");
    done_with(s);
}

static void test_reply_first(void)
{
    struct tg_sched *s = fresh();
    tg_sched_alert(s, 8, &(struct tg_alert){.text = "alert 1", .priority = 100});
    fk.hold = 1;
    advance(60);   /* past the gathering delay: in flight, not answered */
    is_int(fk.n, 1, "the first alert is in flight");
    tg_sched_alert(s, 8, &(struct tg_alert){.text = "alert 2", .priority = 100});
    advance(100);   /* gathered, waiting for the chat's request in flight */
    tg_sched_send(s, 8, "sendMessage", NULL, "the reply");
    advance(100);
    is_int(fk.n, 1, "one request to a chat at a time");
    fk.hold = 0;
    advance(5000);
    is_int(fk.n, 3, "then two more sends");
    is_str(fk.calls[1].text, "the reply", "the reply, queued last, goes before the alert");
    is_str(fk.calls[2].text, "alert 2", "then the alert");
    done_with(s);
}

static void test_429(void)
{
    struct tg_sched *s = fresh();
    fk.bad_chat = 9;
    fk.bad_outcome = TG_RETRY_AFTER;
    fk.retry_after = 5;
    fk.times = 1;
    tg_sched_send(s, 9, "sendMessage", NULL, "first");
    advance(100);   /* sent at once, 429 after 20 ms: 9 had not been sending, so every chat waits */
    uint64_t answered = fk.calls[0].at + LATENCY_MS;
    tg_sched_send(s, 10, "sendMessage", NULL, "other chat");
    ok(tg_sched_paused_ms(s) > 4000, "a 429 to a quiet chat pauses every chat (%llu ms)",
       (unsigned long long)tg_sched_paused_ms(s));
    advance(10000);
    is_int(fk.n, 3, "after the wait both go");
    ok(fk.calls[1].at >= answered + 5000 && fk.calls[2].at >= answered + 5000,
       "neither before retry_after (5 s) passed");
    done_with(s);

    /* a chat that was sending fast hit its own limit: only it waits */
    s = fresh();
    tg_sched_send(s, 11, "sendMessage", NULL, "one");
    tg_sched_send(s, 11, "sendMessage", NULL, "two");
    advance(100);
    fk.bad_chat = 11;
    fk.bad_outcome = TG_RETRY_AFTER;
    fk.retry_after = 30;
    fk.times = 1;
    tg_sched_send(s, 11, "sendMessage", NULL, "three");
    advance(1100);   /* "three" went 80 ms after "two": answered 429 */
    tg_sched_send(s, 12, "sendMessage", NULL, "other chat");
    advance(2000);
    is_int(tg_sched_paused_ms(s), 0, "a 429 to a chat sending fast does not pause every chat");
    is_str(fk.calls[fk.n - 1].text, "other chat", "another chat still gets its message");
    int n_before = fk.n;
    advance(20000);
    is_int(fk.n, n_before, "the limited chat waits its retry_after");
    advance(15000);
    is_int(fk.n, n_before + 1, "then sends again");
    is_str(fk.calls[fk.n - 1].text, "three", "the message that was limited");
    done_with(s);
}

static void test_5xx(void)
{
    struct tg_sched *s = fresh();
    fk.bad_chat = 13;
    fk.bad_outcome = TG_TRANSIENT;
    fk.times = 3;
    tg_sched_send(s, 13, "sendMessage", NULL, "again");
    advance(60000);
    is_int(fk.n, 4, "retried after each 5xx until it went");
    ok(fk.calls[1].at - fk.calls[0].at >= LATENCY_MS + 500, "the first retry waits at least 0.5 s");
    ok(fk.calls[3].at - fk.calls[2].at >= LATENCY_MS + 2000, "the third at least 2 s (doubling)");
    struct tg_sched_stats st;
    tg_sched_stats(s, &st);
    is_int(st.retried, 3, "three retries counted");
    is_int(st.sent, 1, "one message sent");
    done_with(s);

    /* past telegram.retry_deadline it is given up */
    s = fresh();
    cfg.telegram.retry_deadline = 10;
    fk.bad_chat = 14;
    fk.bad_outcome = TG_TRANSIENT;
    fk.times = 1000;
    tg_sched_send(s, 14, "sendMessage", NULL, "lost");
    advance(60000);
    tg_sched_stats(s, &st);
    is_int(st.failed, 1, "a message failing past retry_deadline is given up");
    is_int(st.depth, 0, "and leaves the queue");
    cfg.telegram.retry_deadline = 86400;
    done_with(s);
}

static void test_403(void)
{
    struct tg_sched *s = fresh();
    fk.bad_chat = 15;
    fk.bad_outcome = TG_GONE;
    fk.times = 1;
    for (int i = 0; i < 3; i++)
        tg_sched_send(s, 15, "sendMessage", NULL, "to a blocked chat");
    tg_sched_alert(s, 15, &(struct tg_alert){.text = "alert"});
    advance(10000);
    is_int(fk.n, 1, "after a 403 nothing more is sent to the chat");
    ok(!tg_sched_active(s, 15), "the chat is inactive");
    struct tg_sched_stats st;
    tg_sched_stats(s, &st);
    is_int(st.depth, 0, "its queue is dropped");
    is_int(st.dropped_inactive, 4, "the 4 messages counted as dropped");
    is_int(tg_sched_send(s, 15, "sendMessage", NULL, "more"), -2, "a new one is refused");
    tg_sched_activate(s, 15);
    is_int(tg_sched_send(s, 15, "sendMessage", NULL, "back"), 0, "after /start it is queued");
    advance(3000);
    is_int(fk.n, 2, "and sent");
    done_with(s);
}

/* Log lines about a message name the update it answers, not the update
 * being handled when the answer came. */
static void test_log_names_update(void)
{
    char *buf = NULL;
    size_t len = 0;
    lg.out = open_memstream(&buf, &len);
    struct tg_sched *s = fresh();
    fk.bad_chat = 16;
    fk.bad_outcome = TG_BAD_REQUEST;
    fk.times = 1;
    tg_sched_reply(s, &(struct tg_origin){.update_id = 777}, 16, "sendMessage", NULL, "x");
    lg.update_id = 5;   /* another update is being handled meanwhile */
    advance(1000);
    fflush(lg.out);
    ok(buf && strstr(buf, "[update 777]") && strstr(buf, "given up"),
       "the line about a refused reply names its update");
    ok(buf && !strstr(buf, "[update 5]"), "not the one being handled");
    is_int(lg.update_id, 5, "the logger's own update is left alone");
    lg.update_id = 0;
    done_with(s);
    fclose(lg.out);
    free(buf);
    lg.out = NULL;
}

/* 20 alerts for a chat, in two timeframes (groups with headings). */
static void queue_twenty(struct tg_sched *s, int64_t chat)
{
    for (int i = 1; i <= 20; i++) {
        char text[32];
        snprintf(text, sizeof text, "alert %d", i);
        tg_sched_alert(s, chat, &(struct tg_alert){text, (double)(i % 7), 1 + i % 2,
                                                   i % 2 ? "<b>5m</b>" : "<b>1m</b>"});
    }
}

static long sql_long(sqlite3 *db, const char *q)
{
    sqlite3_stmt *st;
    long v = -1;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The outbox holds an alert as a row of its own: merging one into the
 * chat's waiting message writes that alert (O(1)), not the message again
 * (4 KB for each of up to 50 alerts); after a restart the rows are merged
 * into the same one message. */
static void test_outbox_rows(void)
{
    char dir[] = "/tmp/cw-unit-sched-XXXXXX", path[64], err[256];
    struct store *st = NULL;
    sqlite3 *db = NULL;
    if (!mkdtemp(dir) || (snprintf(path, sizeof path, "%s/o.db", dir),
                          store_open(&st, path, &lg, err, sizeof err)) != 0 ||
        sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "CREATE TABLE rewrites (n INTEGER); INSERT INTO rewrites VALUES (0);"
                         "CREATE TRIGGER counted AFTER UPDATE ON tg_outbox BEGIN"
                         " UPDATE rewrites SET n = n + 1; END;", NULL, NULL, NULL) != SQLITE_OK) {
        ok(0, "outbox rows: a database (%s)", err);
        return;
    }
    /* what the chat would receive with no restart */
    struct tg_sched *s = fresh();
    queue_twenty(s, 10);
    advance(1000);
    char want[512];
    snprintf(want, sizeof want, "%s", fk.n == 1 ? fk.calls[0].text : "");
    done_with(s);

    memset(&fk, 0, sizeof fk);
    fk.now = 1000;
    s = tg_sched_new(&rt, &cfg, st, NULL);
    tg_sched_set_call(s, fake_call, NULL);
    queue_twenty(s, 9);
    store_commit(st);
    is_int(sql_long(db, "SELECT count(*) FROM tg_outbox"), 20, "20 alerts are 20 outbox rows");
    is_int(sql_long(db, "SELECT n FROM rewrites"), 0, "merging them rewrote no row");
    is_int(sql_long(db, "SELECT sum(length(text)) FROM tg_outbox"), 9 * 7 + 11 * 8,
           "each row holds its own alert's text");
    tg_sched_free(s);   /* as kill -9 would: the rows stay */

    s = tg_sched_new(&rt, &cfg, st, NULL);
    tg_sched_set_call(s, fake_call, NULL);
    advance(1000);
    is_int(fk.n, 1, "after a restart the 20 go out as one message");
    is_str(fk.n ? fk.calls[0].text : "", want, "the same message as without the restart");
    store_commit(st);
    is_int(sql_long(db, "SELECT count(*) FROM tg_outbox"), 0, "delivered: their rows are gone");
    done_with(s);

    /* a message an older version merged into one row goes as it was */
    sqlite3_exec(db, "INSERT INTO tg_outbox (chat_id, kind, method, params, text, alerts,"
                     " priority, queued_ms) VALUES (11, 1, 'sendMessage', '{}',"
                     " 'x' || char(10) || char(10) || 'y', 2, 1, 1700000000000)",
                 NULL, NULL, NULL);
    memset(&fk, 0, sizeof fk);
    fk.now = 1000;
    s = tg_sched_new(&rt, &cfg, st, NULL);
    tg_sched_set_call(s, fake_call, NULL);
    advance(1000);
    is_str(fk.n == 1 ? fk.calls[0].text : "", "x\n\ny", "a row of two merged alerts from before goes as it was");
    done_with(s);
    sqlite3_close(db);
    store_close(st);
    store_remove_files(path);
    rmdir(dir);
}

int main(void)
{
    timers_init(&ts);
    log_init(&lg);
    lg.out = NULL;   /* quiet: the test looks at what was sent */
    config_defaults(&cfg);
    test_global_pacing();
    test_chat_pacing();
    test_group_pacing();
    test_merging();
    test_merge_limit();
    test_reply_first();
    test_429();
    test_5xx();
    test_403();
    test_log_names_update();
    test_outbox_rows();
    config_free(&cfg);
    timers_free(&ts);
    return done();
}
