/* Telegram updates as the bot reads them (kind, chat, sender, membership),
 * the webhook's check of a request, and the HTTP server's intake of its
 * body: the pure code behind tg/bot.c and http/server.c. */
#include <cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "http/intake.h"
#include "tap.h"
#include "tg/update.h"

static struct tg_update u;

/* Parses and keeps *u; 1 when it is an update. */
static int parse(const char *json)
{
    cJSON *j = tg_update_parse(json, strlen(json), &u);
    cJSON_Delete(j);
    return j != NULL;
}

static int64_t int_of(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    int64_t v = tg_update_int(j);
    cJSON_Delete(j);
    return v;
}

/* "/name@bot args": the command a message's text holds. */
static void test_commands(void)
{
    char name[8];
    const char *args = "unset";
    is_int(tg_update_command("hello /start", "cw_bot", name, sizeof name, &args), TG_CMD_NONE,
           "text that does not start with / is no command");
    ok(!name[0] && !args, "no name, no arguments");
    is_int(tg_update_command("/Help", "cw_bot", name, sizeof name, &args), TG_CMD_OURS,
           "a bare command");
    ok(!strcmp(name, "help") && !strcmp(args, ""), "its name in lower case, no arguments");
    tg_update_command("/add  BTCUSDT 5%", "cw_bot", name, sizeof name, &args);
    ok(!strcmp(name, "add") && !strcmp(args, "BTCUSDT 5%"), "arguments after the spaces");
    tg_update_command("/add\nline two", "", name, sizeof name, &args);
    ok(!strcmp(name, "add") && !strcmp(args, "line two"), "a newline ends the name too");
    is_int(tg_update_command("/add@cw_bot  x y", "cw_bot", name, sizeof name, &args), TG_CMD_OURS,
           "a command addressed to this bot");
    ok(!strcmp(name, "add") && !strcmp(args, "x y"), "the mention is not an argument");
    is_int(tg_update_command("/add@cw_bot", "cw_bot", name, sizeof name, &args), TG_CMD_OURS,
           "a mention at the text's end");
    is_int(tg_update_command("/add@other_bot x", "cw_bot", name, sizeof name, &args),
           TG_CMD_OTHER_BOT, "a command for another bot in the group");
    is_int(tg_update_command("/add@cw_bot2 x", "cw_bot", name, sizeof name, &args),
           TG_CMD_OTHER_BOT, "a longer name that starts with this bot's is another bot's");
    is_int(tg_update_command("/add@cw x", "cw_bot", name, sizeof name, &args), TG_CMD_OTHER_BOT,
           "so is a shorter one");
    is_int(tg_update_command("/add@anyone x", "", name, sizeof name, &args), TG_CMD_OURS,
           "before the bot knows its name, any mention is taken as its own");
    is_int(tg_update_command("/toolongname x", "cw_bot", name, sizeof name, &args), TG_CMD_OURS,
           "a name longer than the buffer is still a command");
    ok(!strcmp(name, "") && !strcmp(args, "x"), "with an empty name (no handler has it)");
    tg_update_command("/", "cw_bot", name, sizeof name, &args);
    ok(!strcmp(name, "") && !strcmp(args, ""), "a lone slash");
    tg_update_command("/ÄB", "cw_bot", name, sizeof name, &args);
    ok(!strcmp(name, "\xc3\x84" "b"), "only A-Z are lowered (bytes of other letters kept)");
}

int main(void)
{
    /* Telegram's own webhook example: a /start in a private chat */
    ok(parse("{\"update_id\":10000,\"message\":{\"date\":1441645532,\"chat\":{\"id\":1111111,"
             "\"type\":\"private\"},\"message_id\":1365,\"from\":{\"id\":1111112},"
             "\"text\":\"/start\"}}"),
       "a message is an update");
    ok(u.update_id == 10000 && u.kind == TG_UPD_MESSAGE && u.chat_id == 1111111 &&
           u.user_id == 1111112,
       "its id, kind, chat and sender");
    is_int(u.membership, TG_MEMBERSHIP_ACTIVATE, "/start revives the chat");
    parse("{\"update_id\":1,\"message\":{\"chat\":{\"id\":-1001293752024},\"from\":{\"id\":5},"
          "\"text\":\"/start@candle_bot x\"}}");
    ok(u.chat_id == -1001293752024 && u.membership == TG_MEMBERSHIP_ACTIVATE,
       "a supergroup's id; /start@bot counts too");
    parse("{\"update_id\":1,\"message\":{\"chat\":{\"id\":3},\"from\":{\"id\":3},"
          "\"text\":\"/start now\"}}");
    is_int(u.membership, TG_MEMBERSHIP_ACTIVATE, "/start with an argument counts");
    parse("{\"update_id\":1,\"message\":{\"chat\":{\"id\":3},\"from\":{\"id\":3},"
          "\"text\":\"/started\"}}");
    is_int(u.membership, TG_MEMBERSHIP_NONE, "/started is another command");
    parse("{\"update_id\":1,\"message\":{\"chat\":{\"id\":3},\"from\":{\"id\":3},"
          "\"text\":\"hi /start\"}}");
    is_int(u.membership, TG_MEMBERSHIP_NONE, "/start must come first");
    parse("{\"update_id\":2,\"edited_message\":{\"chat\":{\"id\":7},\"from\":{\"id\":8},"
          "\"text\":\"/start\"}}");
    ok(u.kind == TG_UPD_EDITED_MESSAGE && u.chat_id == 7 && u.user_id == 8 &&
           u.membership == TG_MEMBERSHIP_ACTIVATE,
       "an edited message: its chat and sender, and an edit to /start counts");

    /* teloxide's fixture: a user blocking the bot */
    parse("{\"update_id\":0,\"my_chat_member\":{\"chat\":{\"id\":42,\"type\":\"private\"},"
          "\"from\":{\"id\":42},\"old_chat_member\":{\"status\":\"member\"},"
          "\"new_chat_member\":{\"status\":\"kicked\",\"until_date\":0}}}");
    ok(u.kind == TG_UPD_MY_CHAT_MEMBER && u.chat_id == 42 && u.user_id == 42,
       "a membership change: its chat and who made it");
    ok(u.membership == TG_MEMBERSHIP_DEACTIVATE && !strcmp(u.member_status, "kicked"),
       "blocked: the chat is marked kicked");
    parse("{\"update_id\":3,\"my_chat_member\":{\"chat\":{\"id\":-5},"
          "\"new_chat_member\":{\"status\":\"left\"}}}");
    ok(u.membership == TG_MEMBERSHIP_DEACTIVATE && !strcmp(u.member_status, "left"),
       "removed from a group: left");
    parse("{\"update_id\":3,\"my_chat_member\":{\"chat\":{\"id\":-5},"
          "\"new_chat_member\":{\"status\":\"administrator\"}}}");
    is_int(u.membership, TG_MEMBERSHIP_ACTIVATE, "made an administrator: active");
    parse("{\"update_id\":3,\"my_chat_member\":{\"chat\":{\"id\":-5},"
          "\"new_chat_member\":{\"status\":\"restricted\"}}}");
    ok(u.membership == TG_MEMBERSHIP_NONE && !u.member_status, "restricted: no change");
    parse("{\"update_id\":3,\"message\":{\"chat\":{\"id\":9},\"from\":{\"id\":9},"
          "\"text\":\"/start\"},"
          "\"my_chat_member\":{\"chat\":{\"id\":-5},\"new_chat_member\":{\"status\":\"left\"}}}");
    ok(u.kind == TG_UPD_MESSAGE && u.chat_id == 9 && u.membership == TG_MEMBERSHIP_DEACTIVATE,
       "both a message and a membership change: the message's chat, the change decides");

    /* Telegram's example: a button under an inline message has no chat */
    parse("{\"update_id\":10000,\"callback_query\":{\"id\":\"4382bfdwdsb323b2d9\","
          "\"from\":{\"id\":1111111},\"data\":\"x\",\"inline_message_id\":\"1234csdbsk4839\"}}");
    ok(u.kind == TG_UPD_CALLBACK_QUERY && u.user_id == 1111111 && u.chat_id == 1111111,
       "a callback without a chat is answered to its sender");
    parse("{\"update_id\":4,\"callback_query\":{\"id\":\"c\",\"from\":{\"id\":6},"
          "\"message\":{\"chat\":{\"id\":-77}}}}");
    ok(u.chat_id == -77 && u.user_id == 6, "a callback under a message: that message's chat");
    parse("{\"update_id\":5,\"channel_post\":{\"chat\":{\"id\":-100}}}");
    ok(u.kind == TG_UPD_NONE && u.chat_id == 0 && u.user_id == 0 &&
           u.membership == TG_MEMBERSHIP_NONE,
       "a kind the bot does not ask for: no chat, no sender");
    parse("{\"update_id\":6,\"message\":[1,2],\"edited_message\":{\"chat\":{\"id\":\"12\"}}}");
    ok(u.kind == TG_UPD_EDITED_MESSAGE && u.chat_id == 0 && u.malformed,
       "a message that is not an object is skipped; a string id is no id: malformed");

    ok(!parse("[]") && !parse("{}") && !parse("{\"update_id\":\"5\"}") && !parse("nul") &&
           !parse("{\"update_id\":5") && !parse(""),
       "not updates: a list, no id, a string id, garbage, a cut body, nothing");
    ok(!u.update_id && !u.kind && !u.chat_id, "and nothing read from them");
    ok(parse("{\"update_id\":0}") && u.update_id == 0, "update_id 0 is an id");
    /* out of int64's range: casting it was undefined behaviour */
    ok(!parse("{\"update_id\":1e300,\"message\":{\"chat\":{\"id\":1}}}"),
       "an update_id of 1e300 is no id: not an update");
    ok(!parse("{\"update_id\":9223372036854775808}"), "nor is 2^63");
    parse("{\"update_id\":7,\"message\":{\"chat\":{\"id\":-1e300},\"from\":{\"id\":1e19}}}");
    ok(u.update_id == 7 && u.chat_id == 0 && u.user_id == 0 && u.malformed,
       "ids out of range read as none (%lld, %lld): malformed", (long long)u.chat_id,
       (long long)u.user_id);

    /* what handlers rely on, checked here: anything short is malformed,
     * with no chat, no sender and no side effect */
    static const struct { const char *json, *why; } bad[] = {
        {"{\"update_id\":8,\"message\":{\"from\":{\"id\":5},\"text\":\"/start\"}}",
         "a message without a chat"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":\"abc\"},\"from\":{\"id\":5},"
         "\"text\":\"/start\"}}", "a chat id that is a string"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":5},\"text\":\"/start\"}}",
         "a message without a sender"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":5},\"from\":{\"id\":1e30},"
         "\"text\":\"/start\"}}", "a sender id of 1e30"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":5},\"from\":{\"id\":5.5}}}",
         "a fractional sender id"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":5},\"from\":{\"id\":-5}}}",
         "a negative sender id (users' ids are positive)"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":0},\"from\":{\"id\":5}}}",
         "chat 0"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":9007199254740992},"
         "\"from\":{\"id\":5}}}", "a chat id of 2^53"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":5},\"from\":{\"id\":5},"
         "\"text\":12}}", "text that is a number"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":5},\"from\":{\"id\":5},"
         "\"message_id\":\"x\"}}", "a message id that is a string"},
        {"{\"update_id\":8,\"message\":{\"chat\":{\"id\":5},\"from\":{\"id\":5},"
         "\"message_id\":-1}}", "a negative message id"},
        {"{\"update_id\":8,\"callback_query\":{\"id\":\"c\",\"from\":{\"id\":5},"
         "\"data\":\"x\"}}", "a button press under no message"},
        {"{\"update_id\":8,\"callback_query\":{\"from\":{\"id\":5},\"data\":\"x\","
         "\"message\":{\"chat\":{\"id\":5}}}}", "a button press without an id"},
        {"{\"update_id\":8,\"callback_query\":{\"id\":\"c\",\"data\":\"x\","
         "\"message\":{\"chat\":{\"id\":5}}}}", "a button press without a sender"},
        {"{\"update_id\":8,\"callback_query\":{\"id\":\"c\",\"from\":{\"id\":5},"
         "\"data\":[1],\"message\":{\"chat\":{\"id\":5}}}}", "data that is not a string"},
        {"{\"update_id\":8,\"callback_query\":{\"id\":\"c\",\"from\":{\"id\":5},"
         "\"message\":{\"chat\":{}}}}", "a button press under a message without a chat"},
        {"{\"update_id\":8,\"my_chat_member\":{\"chat\":{\"id\":\"5\"},"
         "\"new_chat_member\":{\"status\":\"kicked\"}}}", "a membership change of no chat"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int is = parse(bad[i].json);
        ok(is && u.update_id == 8 && u.kind && u.malformed && !u.chat_id && !u.user_id &&
               u.membership == TG_MEMBERSHIP_NONE,
           "malformed: %s (%s)", bad[i].why, u.malformed ? u.malformed : "taken");
    }
    parse("{\"update_id\":9,\"message\":{\"chat\":{\"id\":-4503599627370495},"
          "\"from\":{\"id\":4503599627370495},\"message_id\":3,\"text\":\"hi\"}}");
    ok(!u.malformed && u.chat_id == -4503599627370495LL && u.user_id == 4503599627370495LL,
       "52-bit ids are well-formed");
    parse("{\"update_id\":9,\"callback_query\":{\"id\":\"c\",\"from\":{\"id\":6},"
          "\"message\":{\"chat\":{\"id\":-7},\"message_id\":0,\"date\":0}}}");
    ok(!u.malformed && u.chat_id == -7 && u.user_id == 6,
       "a press without data (a game's), under an inaccessible message (id 0), is "
       "well-formed: its handler decides");
    parse("{\"update_id\":9,\"my_chat_member\":{\"chat\":{\"id\":-5},"
          "\"new_chat_member\":{\"status\":\"left\"}}}");
    ok(!u.malformed && u.membership == TG_MEMBERSHIP_DEACTIVATE,
       "a membership change needs no sender");
    is_int(int_of("-9223372036854775808"), INT64_MIN, "-2^63 is in range");
    is_int(int_of("9007199254740993"), 9007199254740992LL, "past 2^53: what the double holds");
    is_int(int_of("12.9"), 12, "a fraction is cut, as a cast does");
    is_int(int_of("1e400"), 0, "infinity: none");
    is_int(int_of("\"5\""), 0, "a string: none");

    /* the webhook: method, then shutdown, then secret, then size */
    struct tg_webhook_answer an;
    const char *want = "s3cret_TOKEN-1";
    tg_webhook_check("POST", 0, "s3cret_TOKEN-1", 14, want, 100, &an);
    ok(an.status == 200 && an.receive && !an.refused && !an.garbage && !strcmp(an.body, "{}"),
       "the right secret: 200, and the body is taken");
    tg_webhook_check("GET", 0, "", -1, want, 0, &an);
    ok(an.status == 405 && !an.receive && !an.refused && !an.garbage, "GET: 405, not counted");
    tg_webhook_check("POST", 1, "s3cret_TOKEN-1", 14, want, 100, &an);
    ok(an.status == 503 && !an.receive, "shutting down: 503, Telegram sends it again");
    tg_webhook_check("POST", 0, "", -1, want, 100, &an);
    ok(an.status == 401 && an.refused && an.garbage && !an.receive, "no secret header: 401");
    tg_webhook_check("POST", 0, "s3cret_TOKEN-", 13, want, 100, &an);
    ok(an.status == 401 && an.refused, "a prefix of the secret: 401");
    tg_webhook_check("POST", 0, "s3cret_TOKEN-12", 15, want, 100, &an);
    ok(an.status == 401 && an.refused, "the secret and more: 401");
    tg_webhook_check("POST", 0, "s3cret_TOKEN-2", 14, want, 100, &an);
    ok(an.status == 401, "one character off: 401");
    tg_webhook_check("POST", 0, "s3cret_TOKEN-1", 14, NULL, 100, &an);
    ok(an.status == 401, "no secret configured: nothing is taken");
    tg_webhook_check("POST", 0, "s3cret_TOKEN-1", 14, want, TG_WEBHOOK_BODY_MAX + 1, &an);
    ok(an.status == 413 && !an.receive && an.garbage && !an.refused, "oversized: 413");
    tg_webhook_check("POST", 0, "s3cret_TOKEN-1", 14, want, TG_WEBHOOK_BODY_MAX, &an);
    is_int(an.status, 200, "at the limit: taken");
    tg_webhook_check("OTHER", 1, "", -1, want, 0, &an);
    is_int(an.status, 405, "the method is checked first");

    /* the server's intake of a POST */
    is_int(http_intake_post("", 0), HTTP_INTAKE_NOW, "no Content-Length: nothing to read");
    is_int(http_intake_post("0", 0), HTTP_INTAKE_NOW, "length 0: answered at once");
    is_int(http_intake_post("", 1), HTTP_INTAKE_NO_LENGTH, "chunked without a length: 411");
    is_int(http_intake_post("12", 1), HTTP_INTAKE_BODY, "a length wins over chunked");
    is_int(http_intake_post("1048576", 0), HTTP_INTAKE_BODY, "1 MiB is read");
    is_int(http_intake_post("1048577", 0), HTTP_INTAKE_TOO_BIG, "past it: 413");
    is_int(http_intake_post("99999999999999999999999", 0), HTTP_INTAKE_TOO_BIG,
           "a length past LONG_MAX: 413");
    is_int(http_intake_post("-5", 0), HTTP_INTAKE_NOW, "a negative length: nothing to read");
    is_int(http_intake_post("x", 0), HTTP_INTAKE_NOW, "a length that is no number: likewise");
    struct http_body b = {0};
    ok(http_body_append(&b, "{\"upd", 5) == 0 && http_body_append(&b, "", 0) == 0 &&
           http_body_append(&b, "ate_id\":1}", 10) == 0,
       "a body in pieces");
    ok(b.len == 15 && !strcmp(b.p, "{\"update_id\":1}") && !b.too_big,
       "is whole and NUL-terminated");
    http_body_free(&b);
    char *big = calloc(HTTP_BODY_MAX, 1);
    ok(http_body_append(&b, big, HTTP_BODY_MAX - 1) == 0 && http_body_append(&b, "x", 1) == 0 &&
           !b.too_big && b.len == HTTP_BODY_MAX,
       "up to HTTP_BODY_MAX is kept");
    ok(http_body_append(&b, "y", 1) == 0 && b.too_big && b.len == HTTP_BODY_MAX,
       "a byte more: too big, and the rest ignored");
    http_body_append(&b, "z", 1);
    ok(b.too_big && b.len == HTTP_BODY_MAX, "it stays too big");
    http_body_free(&b);
    free(big);

    test_commands();
    return done();
}
