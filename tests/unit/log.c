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

int main(void)
{
    const char *token = "123456:AAE-secret_Token";
    struct logger lg;
    log_init(&lg);
    log_set_secret(&lg, token);
    lg.capture = grab;

    char *buf = NULL;
    size_t len = 0;
    lg.out = open_memstream(&buf, &len);
    log_info(&lg, "tg", "GET https://api.telegram.org/bot%s/getMe failed", token);
    fflush(lg.out);
    ok(strstr(buf, token) == NULL, "the token is not in the text line");
    ok(strstr(buf, "/bot***/getMe") != NULL, "it is masked in place: %s", buf);
    ok(strstr(last, token) == NULL, "nor in what a capture sink sees");

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
    fclose(lg.out);
    free(buf);
    return done();
}
