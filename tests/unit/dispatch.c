/* Update dispatch (core/lua/bot_dispatch.c) in-process: the Lua host on a
 * simulated clock with a temporary store and one script of handlers, and
 * a fake Telegram side behind lh_bot_attach_port that records what
 * dispatch asks of it.  Each handler says it ran by writing to the store,
 * so "routed there" and "committed" are read back from the store.
 * Covered: a command (with "/cmd@bot args"), a command for another bot,
 * an unknown command, a button press routed by its data's prefix (and one
 * whose prefix nothing handles), text while a conversation step is
 * active, and a failing handler (the user told, nothing committed). */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "lua/host.h"
#include "store/store.h"
#include "tap.h"

#define BOT "candlebot"
#define CHAT 4242

static char dir[] = "/tmp/cw-unit-dispatch-XXXXXX";

/* ---- the fake Telegram side ---- */

static struct {
    int replies, answers, take_backs, retracts, dones;
    int64_t reply_chat;
    char reply[512];
    char answer_id[64];
    char answer_text[512];   /* "" for an answer without a notice */
    int64_t done_update, take_back_update;
} tg;

static const char *fk_username(void *ud)
{
    (void)ud;
    return BOT;
}

static void fk_reply(void *ud, int64_t chat, const char *text)
{
    (void)ud;
    tg.replies++;
    tg.reply_chat = chat;
    snprintf(tg.reply, sizeof tg.reply, "%s", text);
}

static void fk_answer(void *ud, const char *id, const char *text)
{
    (void)ud;
    tg.answers++;
    snprintf(tg.answer_id, sizeof tg.answer_id, "%s", id);
    snprintf(tg.answer_text, sizeof tg.answer_text, "%s", text ? text : "");
}

static void fk_take_back(void *ud, int64_t chat, int64_t update_id)
{
    (void)ud, (void)chat;
    tg.take_backs++;
    tg.take_back_update = update_id;
}

static void fk_retract(void *ud, int64_t chat, int64_t update_id)
{
    (void)ud, (void)chat, (void)update_id;
    tg.retracts++;
}

static void fk_done(void *ud, int64_t update_id, int64_t chat)
{
    (void)ud, (void)chat;
    tg.dones++;
    tg.done_update = update_id;
}

/* ---- the host ---- */

static const char script[] =
    "bot.command('echo', 'Echo', function(ctx)\n"
    "  store.set('unit', 'echo', ctx.command .. '|' .. ctx.args)\n"
    "end)\n"
    "bot.command('ask', 'Ask a name', function(ctx) ctx:go('ask.name') end)\n"
    "bot.step('ask.name', function(ctx)\n"
    "  store.set('unit', 'step', ctx.state.step .. '|' .. ctx.text)\n"
    "  ctx:finish()\n"
    "end)\n"
    "bot.callback('pick', function(ctx, rest)\n"
    "  store.set('unit', 'pick', rest .. '|' .. ctx.data)\n"
    "end)\n"
    "bot.command('boom', 'Fails', function(ctx)\n"
    "  store.set('unit', 'boom', 'written')\n"
    "  ctx:go('ask.name')\n"
    "  error('boom on purpose')\n"
    "end)\n";

static struct app a;

static int host_open(void)
{
    char path[256];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/scripts", dir);
    if (mkdir(path, 0700) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/scripts/handlers.lua", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(script, f) == EOF || fclose(f) != 0)
        return -1;
    memset(&a, 0, sizeof a);
    config_defaults(&a.cfg);
    log_init(&a.log);
    a.log.out = getenv("CW_UNIT_LOG") ? stderr : NULL;
    free(a.cfg.scripts);
    free(a.cfg.database);
    snprintf(path, sizeof path, "%s/scripts", dir);
    a.cfg.scripts = strdup(path);
    snprintf(path, sizeof path, "%s/unit.db", dir);
    a.cfg.database = strdup(path);
    if (app_init(&a, 1) != 0 || app_open_store(&a) != 0 || !(a.lua = lh_new(&a, LH_RUN)))
        return -1;
    if (lh_reload(a.lua, "unit start") != 0)
        return -1;
    struct lh_bot_port port = {.username = fk_username,
                               .reply = fk_reply,
                               .answer = fk_answer,
                               .take_back = fk_take_back,
                               .retract = fk_retract,
                               .done = fk_done};
    lh_bot_attach_port(a.lua, &port);
    return 0;
}

/* One loop turn at this instant: what fell due runs (the handler's
 * task), then the store commits, as the real loop does. */
static void turn(void)
{
    while (timers_next(&a.timers) <= a.sim_ms) {
        timers_run_due(&a.timers, a.sim_ms);
        store_commit(a.store);
    }
    store_commit(a.store);
}

/* Dispatches an update and runs what it started; dispatch's answer. */
static int deliver(int64_t update_id, int64_t chat, const char *json)
{
    memset(&tg, 0, sizeof tg);
    int rc = lh_bot_dispatch(a.lua, update_id, chat, json);
    turn();
    return rc;
}

static int message(int64_t update_id, const char *text)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"update_id\":%lld,\"message\":{\"message_id\":%lld,\"date\":1767225600,"
             "\"from\":{\"id\":%d,\"first_name\":\"Ann\"},"
             "\"chat\":{\"id\":%d,\"type\":\"private\"},\"text\":\"%s\"}}",
             (long long)update_id, (long long)update_id + 100, CHAT, CHAT, text);
    return deliver(update_id, CHAT, json);
}

static int press(int64_t update_id, const char *data)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"update_id\":%lld,\"callback_query\":{\"id\":\"cb%lld\","
             "\"from\":{\"id\":%d,\"first_name\":\"Ann\"},\"data\":\"%s\","
             "\"message\":{\"message_id\":7,\"chat\":{\"id\":%d,\"type\":\"private\"}}}}",
             (long long)update_id, (long long)update_id, CHAT, data, CHAT);
    return deliver(update_id, CHAT, json);
}

/* What a handler wrote to the store under unit/key (committed), or NULL. */
static const char *stored(const char *key)
{
    static char out[256];
    char *json = NULL;
    if (store_kv_get(a.store, "unit", key, &json) != 1)
        return NULL;
    cJSON *v = cJSON_Parse(json);
    snprintf(out, sizeof out, "%s", cJSON_IsString(v) ? v->valuestring : "(not a string)");
    cJSON_Delete(v);
    free(json);
    return out;
}

/* The chat's conversation step as stored, or NULL when none is. */
static const char *stored_step(void)
{
    static char out[64];
    char key[48], *json = NULL;
    snprintf(key, sizeof key, "%d:%d", CHAT, CHAT);
    if (store_kv_get(a.store, "telegram.state", key, &json) != 1)
        return NULL;
    cJSON *v = cJSON_Parse(json);
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(v, "step");
    snprintf(out, sizeof out, "%s", cJSON_IsString(step) ? step->valuestring : "(none)");
    cJSON_Delete(v);
    free(json);
    return out;
}

static void test_command(void)
{
    is_int(message(1, "/echo@" BOT " hello  world"), 0, "a command: its handler started");
    is_str(stored("echo"), "echo|hello  world",
           "/echo@bot args: the handler ran with ctx.command and ctx.args (the @bot cut off)");
    ok(tg.dones == 1 && tg.done_update == 1, "its end reported for update 1");
    ok(tg.replies == 0 && tg.take_backs == 0, "a handler that ends well: no apology");

    is_int(message(2, "/echo again"), 0, "a command without @bot: started");
    is_str(stored("echo"), "echo|again", "its args");

    is_int(message(3, "/echo@otherbot x"), -1, "a command for another bot: nothing to run");
    ok(tg.replies == 0 && tg.dones == 0, "and nothing said");
    is_str(stored("echo"), "echo|again", "its handler did not run");
}

static void test_unknown(void)
{
    is_int(message(4, "/nosuch thing"), -1, "an unknown command: nothing to run");
    ok(tg.replies == 1 && tg.reply_chat == CHAT, "the chat is answered once");
    ok(strstr(tg.reply, "/help") != NULL, "the answer points to /help (\"%s\")", tg.reply);
    ok(tg.dones == 0, "no handler's end to report");
}

static void test_callback(void)
{
    is_int(press(5, "pick:42"), 0, "a button press: its handler started");
    is_str(stored("pick"), "42|pick:42", "routed by the data's prefix, with the rest as arg");
    ok(tg.answers == 1 && !strcmp(tg.answer_id, "cb5") && !tg.answer_text[0],
       "the press the handler left unanswered is answered at its end, without a notice");
    ok(tg.dones == 1 && tg.done_update == 5, "its end reported");

    is_int(press(6, "gone:1"), -1, "a press whose prefix no script handles: nothing to run");
    ok(tg.answers == 1 && !strcmp(tg.answer_id, "cb6") && tg.answer_text[0],
       "it is answered with a notice (\"%s\")", tg.answer_text);
    ok(tg.replies == 0, "and no message to the chat");
}

static void test_step(void)
{
    ok(stored_step() == NULL, "no conversation yet");
    ok(stored("step") == NULL, "(the step's handler has not run)");
    is_int(message(7, "Ann Lee"), -1, "plain text outside a conversation: nothing to run");
    ok(tg.replies == 1, "the chat is told how to start");

    is_int(message(8, "/ask"), 0, "/ask started");
    is_str(stored_step(), "ask.name", "its ctx:go saved the step with the update");
    is_int(message(9, "Ann Lee"), 0, "text while the step is active: a handler started");
    is_str(stored("step"), "ask.name|Ann Lee", "the step's handler got it");
    ok(stored_step() == NULL, "its ctx:finish ended the conversation");
}

static void test_failure(void)
{
    is_int(message(10, "/boom"), 0, "a handler that fails: it started");
    ok(tg.take_backs == 1 && tg.take_back_update == 10,
       "what it queued for update 10 is taken back");
    ok(tg.replies == 1 && tg.reply_chat == CHAT, "the user is told something went wrong");
    ok(stored("boom") == NULL, "its store write was not committed");
    ok(stored_step() == NULL, "its ctx:go was not saved: the chat is where it was");
    ok(tg.dones == 1 && tg.done_update == 10, "its end is still reported (the update handled)");
    ok(lh_errors_total(a.lua) == 1, "the script error counted");
}

int main(void)
{
    if (host_open() != 0) {
        printf("Bail out! cannot set up the host in %s\n", dir);
        return 1;
    }
    test_command();
    test_unknown();
    test_callback();
    test_step();
    test_failure();
    app_destroy(&a);
    char db[256];
    snprintf(db, sizeof db, "%s/unit.db", dir);
    store_remove_files(db);
    char path[256];
    snprintf(path, sizeof path, "%s/scripts/handlers.lua", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/scripts", dir);
    rmdir(path);
    rmdir(dir);
    return done();
}
