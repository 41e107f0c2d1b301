/* Logging: the secret is masked in every format; JSON lines are valid. */
#include <cJSON.h>
#include <stdlib.h>

#include "tap.h"
#include "util/log.h"

static char last[8192];

static void grab(void *ud, enum log_level lv, const char *c, const char *msg)
{
    (void)ud;
    (void)lv;
    (void)c;
    snprintf(last, sizeof last, "%s", msg);
}

static void count_capture(void *ud, enum log_level lv, const char *component, const char *msg)
{
    (void)lv, (void)component, (void)msg;
    (*(int *)ud)++;
}

int main(void)
{
    const char *token = "123456:AAE-secret_Token";
    struct logger lg;
    log_init(&lg);
    log_add_secret(&lg, token);
    lg.capture = grab;

    char *buf = NULL;
    size_t len = 0;
    lg.out = open_memstream(&buf, &len);
    log_info(&lg, "tg", "GET https://api.telegram.org/bot%s/getMe failed", token);
    fflush(lg.out);
    ok(strstr(buf, token) == NULL, "the token is not in the text line");
    ok(strstr(buf, "/bot***/getMe") != NULL, "it is masked in place: %s", buf);
    ok(strstr(last, token) == NULL, "nor in what a capture sink sees");

    /* a line longer than the buffer, cut inside the token: no part of the
     * token may stay (at every place of the cut, down to one character) */
    char pad[8200];
    int leaks = 0;
    for (size_t tail = 1; tail < strlen(token); tail++) {
        size_t n = 8191 - tail;   /* the cut leaves `tail` characters of the token */
        memset(pad, 'x', n);
        pad[n] = '\0';
        log_info(&lg, "tg", "%s%s", pad, token);
        const char *end = last + strlen(last);
        if (strncmp(end - tail, token, tail) == 0 || !strstr(last, "***"))
            leaks++;
    }
    is_int(leaks, 0, "a line cut inside the token keeps none of it");

    lg.json = 1;
    fclose(lg.out);
    free(buf);
    buf = NULL;
    lg.out = open_memstream(&buf, &len);
    log_warn(&lg, "store", "quote \" backslash \\ newline \n tab \t and %s twice %s", token,
             token);
    fflush(lg.out);
    cJSON *j = cJSON_Parse(buf);
    ok(j != NULL, "a JSON line parses: %s", buf);
    cJSON *msg = cJSON_GetObjectItem(j, "msg");
    ok(msg && strstr(msg->valuestring, "\" backslash \\ newline \n tab") != NULL,
       "special characters survive the round trip");
    ok(strstr(buf, token) == NULL, "the token is masked in JSON lines too");
    is_str(cJSON_GetObjectItem(j, "level")->valuestring, "warn", "level field");
    is_str(cJSON_GetObjectItem(j, "component")->valuestring, "store", "component field");
    cJSON_Delete(j);

    lg.level = LOG_ERROR;
    size_t before = len;
    log_info(&lg, "x", "hidden");
    fflush(lg.out);
    is_int(len, before, "lines below the level are not written");

    /* the update being handled is on every line, text and JSON */
    lg.update_id = 4242;
    log_error(&lg, "scripts", "handler failed");
    fflush(lg.out);
    ok(strstr(buf + before, "\"update\":4242") != NULL, "a JSON line names the update");
    lg.json = 0;
    before = len;
    log_error(&lg, "scripts", "handler failed again");
    fflush(lg.out);
    ok(strstr(buf + before, "scripts: [update 4242] handler failed again") != NULL,
       "so does a text line: %s", buf + before);
    /* a line about another update (a reply's delivery) names that one */
    before = len;
    log_msg_upd(&lg, 77, LOG_ERROR, "telegram", "reply given up");
    fflush(lg.out);
    ok(strstr(buf + before, "telegram: [update 77] reply given up") != NULL,
       "a line about update 77 names it, whichever is handled: %s", buf + before);
    lg.json = 1;
    before = len;
    log_msg_upd(&lg, 77, LOG_ERROR, "telegram", "reply given up (JSON)");
    fflush(lg.out);
    ok(strstr(buf + before, "\"update\":77") && !strstr(buf + before, "4242"),
       "in JSON too");
    before = len;
    log_msg_upd(&lg, 0, LOG_ERROR, "telegram", "about no update");
    fflush(lg.out);
    ok(!strstr(buf + before, "\"update\""), "and a line about no update names none");
    lg.json = 0;
    is_int(lg.update_id, 4242, "the logger's own update is left as it was");
    lg.update_id = 0;

    /* an error repeated word for word is counted, not printed */
    before = len;
    int captured = 0;
    lg.capture = count_capture;
    lg.capture_ud = &captured;
    for (int i = 0; i < 50; i++)
        log_error(&lg, "market", "connection %d lost", 3);
    fflush(lg.out);
    int lines = 0;
    for (const char *p = buf + before; (p = strstr(p, "connection 3 lost")); p++)
        lines++;
    is_int(lines, 1, "50 identical errors print one line");
    is_int(captured, 50, "(a capture sink still sees each)");
    log_error(&lg, "market", "connection %d lost", 4);
    fflush(lg.out);
    ok(strstr(buf + before, "connection 4 lost") != NULL, "a different one is printed");
    for (int i = 0; i < LOG_REPEAT_SLOTS; i++)   /* as if the minute had passed */
        lg.repeats[i].at_ms = 0;
    log_error(&lg, "market", "connection %d lost", 3);
    fflush(lg.out);
    ok(strstr(buf + before, "connection 3 lost (and 49 times more in the last 60 s)") != NULL,
       "after the window it is printed again with the count");
    fclose(lg.out);
    free(buf);
    return done();
}
