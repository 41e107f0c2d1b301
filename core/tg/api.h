/* Telegram Bot API calls: {telegram.api_url}/bot{token}/METHOD with a JSON
 * body, through the host's HTTP client.  Each answer is sorted into what
 * the caller must do about it.  The URL holds the token, so it is never
 * logged; calls are named by method only.
 *
 *   tg_api_call(&api, "sendMessage", "{\"chat_id\":1,\"text\":\"hi\"}", 0, done, ud);
 *   tg_api_form(&api, "sendPhoto", parts, nparts, 0, done, ud);   (multipart upload)
 *   done(ud, &res): res->outcome says what happened, res->result is the
 *                   answer's "result" (valid during the callback only)
 */
#ifndef CW_TG_API_H
#define CW_TG_API_H

#include <stdint.h>

#include "net/httpc.h"

struct cJSON;
struct tg_call;

enum tg_outcome {
    TG_OK,
    TG_NOT_MODIFIED,     /* "message is not modified": the edit is already there */
    TG_RETRY_AFTER,      /* 429: wait retry_after seconds */
    TG_TRANSIENT,        /* 5xx, network error, timeout, garbage: retry with backoff */
    TG_GONE,             /* 403 blocked/kicked/deactivated, or the chat does not exist */
    TG_PARSE_ERROR,      /* the HTML was refused */
    TG_BAD_REQUEST,      /* any other 400: retrying will not help */
    TG_UNAUTHORIZED,     /* 401/404: the token is wrong */
    TG_CONFLICT,         /* 409: a webhook is set, or another getUpdates runs */
    TG_OUTCOME_COUNT
};

/* The methods counted by name in /metrics; the rest as "other". */
#define TG_METHODS {"getUpdates", "sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup", \
                    "deleteMessage", "answerCallbackQuery", "getChatMember", "getMe",         \
                    "setMyCommands", "setWebhook", "deleteWebhook", "other"}
#define TG_METHOD_COUNT 13

struct tg_result {
    enum tg_outcome outcome;
    long status;               /* HTTP status, 0 without an answer */
    long retry_after;          /* seconds, for TG_RETRY_AFTER */
    char description[256];     /* Telegram's description, or why there was no answer */
    const struct cJSON *result;
};

typedef void (*tg_api_cb)(void *ud, const struct tg_result *r);

struct tg_api {
    struct httpc *httpc;
    struct logger *log;
    char *base;                /* "{api_url}/bot{token}/": secret */
    long calls, failures;
    uint64_t by_method[TG_METHOD_COUNT][TG_OUTCOME_COUNT];   /* answers, for /metrics */
    struct tg_call *calls_list;  /* under way */
};

int tg_api_init(struct tg_api *a, struct httpc *h, struct logger *log, const char *api_url,
                const char *token);
void tg_api_free(struct tg_api *a);
/* timeout_ms 0: 30 s.  Returns a call id for tg_api_cancel, 0 on failure
 * (then cb has run already with TG_TRANSIENT).  cb never runs after
 * tg_api_cancel or tg_api_free. */
uint64_t tg_api_call(struct tg_api *a, const char *method, const char *json_body,
                     long timeout_ms, tg_api_cb cb, void *ud);
/* As tg_api_call with a multipart/form-data body (a file upload: sendPhoto). */
uint64_t tg_api_form(struct tg_api *a, const char *method, const struct httpc_part *parts,
                     int nparts, long timeout_ms, tg_api_cb cb, void *ud);
void tg_api_cancel(struct tg_api *a, uint64_t id);
const char *tg_outcome_name(enum tg_outcome o);
const char *tg_method_name(int method);
struct prom;
/* Requests by method and outcome. */
void tg_api_metrics(const struct tg_api *a, struct prom *p);

#endif
