/* The Bot API's answers, read: pure code (no I/O), shared by the client
 * and its fuzz target.  Telegram's error texts are not documented and
 * change, so outcomes are matched on status and substrings. */
#ifndef CW_TG_ANSWER_H
#define CW_TG_ANSWER_H

#include <stddef.h>

#include "tg/api.h"

struct cJSON;

/* Fills *r from an HTTP status and body; returns the parsed JSON, which
 * r->result points into (the caller frees it with cJSON_Delete), or NULL
 * when the body is not JSON. */
struct cJSON *tg_answer_parse(long status, const char *body, size_t len, struct tg_result *r);

#endif
