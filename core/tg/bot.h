/* The Telegram side of the bot: the Bot API client, the delivery
 * scheduler, and the intake of updates (long polling, or the webhook).
 *
 * Intake is exactly-once across crashes: each update is written to the
 * inbox (SQLite) before Telegram is told it was received (the next
 * getUpdates' offset); the handler's end removes it from the inbox and
 * records its id as handled, in the same transaction as the handler's own
 * writes.  At start the inbox is handled again, and an update Telegram
 * delivers twice is recognised by its id.  (A handler that waits on I/O
 * has its writes before the wait committed with that loop turn: if the
 * process dies during the wait, it runs again from the start.)
 *
 * Updates of one chat are handled one after another, in order; different
 * chats in parallel.  The handler is the dispatcher's (the Lua host's):
 *
 *   tg_bot_set_dispatch(bot, handle, ud);
 *   handle(ud, update_id, chat_id, json) -> 0 started (call tg_bot_done
 *                                           later), -1 nothing to run,
 *                                           1 not now (no scripts live:
 *                                           tg_bot_resume later)
 */
#ifndef CW_TG_BOT_H
#define CW_TG_BOT_H

#include <stddef.h>
#include <stdint.h>

#include "tg/api.h"
#include "tg/sched.h"

struct rt;
struct config;
struct store;
struct httpc;
struct jsonw;
struct tg_bot;
struct http_request;
struct http_response;

typedef int (*tg_dispatch_fn)(void *ud, int64_t update_id, int64_t chat_id, const char *json);

/* From the runtime, the config (its telegram section), the store (inbox,
 * outbox, offset; NULL: none) and the HTTP client the Bot API calls go
 * through; all outlive the bot. */
struct tg_bot *tg_bot_new(const struct rt *rt, const struct config *cfg, struct store *store,
                          struct httpc *httpc);
void tg_bot_free(struct tg_bot *b);
/* Checks the token (getMe), then polls or sets the webhook.  Start-up
 * failures are reported to cb(ud, NULL or error text) once. */
void tg_bot_start(struct tg_bot *b, void (*cb)(void *ud, const char *err), void *ud);
void tg_bot_set_dispatch(struct tg_bot *b, tg_dispatch_fn fn, void *ud);
/* Scripts are live again: the updates that waited are handled. */
void tg_bot_resume(struct tg_bot *b);
/* The handler of update_id ended (whatever its outcome). */
/* Shutting down: no more updates are fetched or accepted (the webhook
 * answers 503); handlers already running finish. */
void tg_bot_stop_intake(struct tg_bot *b);
/* When the update being handled for chat_id arrived (hist_clock), or 0. */
double tg_bot_arrived(struct tg_bot *b, int64_t chat_id, int64_t update_id);
void tg_bot_done(struct tg_bot *b, int64_t update_id, int64_t chat_id);
/* An update from the webhook or a spec.  0 taken (or a duplicate),
 * -1 not an update. */
int tg_bot_receive(struct tg_bot *b, const char *json, size_t len);
/* The webhook endpoint (an http_route_fn; ud is the tg_bot): checks
 * X-Telegram-Bot-Api-Secret-Token in constant time (401 without it) from
 * the headers, before the body is read; then records the update and
 * answers 200 at once; handling follows on the loop. */
void tg_bot_webhook(void *ud, const struct http_request *rq, struct http_response *out);
/* Replaces the command menu (setMyCommands); commands as a JSON array. */
void tg_bot_set_commands(struct tg_bot *b, const char *json_array);

struct tg_api *tg_bot_api(struct tg_bot *b);
struct tg_sched *tg_bot_sched(struct tg_bot *b);
const char *tg_bot_username(const struct tg_bot *b);
/* The fields of "telegram" in /health (a health_detail_fn; ud: the bot). */
void tg_bot_health_detail(void *ud, struct jsonw *w);

#endif
