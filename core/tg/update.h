/* Telegram updates and webhook requests, read: pure code (no app, no loop,
 * no I/O), shared by the bot (tg/bot.c) and its fuzz target.
 *
 *   struct tg_update u;
 *   cJSON *j = tg_update_parse(body, len, &u);   // NULL: not an update
 *   ... u.chat_id, u.membership ...; cJSON_Delete(j);
 */
#ifndef CW_TG_UPDATE_H
#define CW_TG_UPDATE_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

/* Which object the update carries (the first found, in this order). */
enum tg_update_kind {
    TG_UPD_NONE,              /* none the bot asks for (allowed_updates) */
    TG_UPD_MESSAGE,
    TG_UPD_EDITED_MESSAGE,
    TG_UPD_MY_CHAT_MEMBER,
    TG_UPD_CALLBACK_QUERY,
    TG_UPD_KIND_COUNT
};

/* The side effect the core owns, whatever the scripts do: a chat that
 * blocked the bot is marked, /start (or being added back) revives it. */
enum tg_membership {
    TG_MEMBERSHIP_NONE,
    TG_MEMBERSHIP_ACTIVATE,
    TG_MEMBERSHIP_DEACTIVATE,
    TG_MEMBERSHIP_COUNT
};

struct tg_update {
    int64_t update_id;        /* 0 when absent or not a number in range */
    enum tg_update_kind kind;
    int64_t chat_id;          /* the chat its handling belongs to; 0: none */
    int64_t user_id;          /* who sent it (rate limited per user); 0: none */
    enum tg_membership membership;
    const char *member_status;/* DEACTIVATE: "kicked" or "left" (static) */
    const char *malformed;    /* a known kind without what handlers rely on
                               * (then chat_id, user_id 0, no membership):
                               * why, static; NULL: well-formed */
};

/* A JSON number as an int64 (truncated, as Telegram's ids are integers);
 * 0 when it is not a number or not within int64's range (casting 1e300
 * is undefined behaviour). */
int64_t tg_update_int(const struct cJSON *n);

/* Reads a parsed update (any JSON value: what is missing reads as 0).
 * A message or an edit needs a chat and a sender (whole ids below 2^53,
 * a user's positive), text if any a string; a membership change a chat;
 * a button press a sender, an id, data if any a string, and a message
 * (checked likewise, its sender optional) or an inline_message_id (its
 * chat is then the sender's).  Otherwise it is malformed. */
void tg_update_read(const struct cJSON *u, struct tg_update *out);

/* Parses JSON text; returns the update (the caller frees it with
 * cJSON_Delete) with *out read from it, or NULL (and *out zeroed) when it
 * is not an update: not an object, or no update_id that is a number in
 * range. */
struct cJSON *tg_update_parse(const char *json, size_t len, struct tg_update *out);

/* ---- a message's command: "/name@bot args" ---- */

enum tg_command {
    TG_CMD_NONE,              /* not a command (no leading '/') */
    TG_CMD_OURS,              /* a command, for this bot or for any */
    TG_CMD_OTHER_BOT,         /* "/name@other_bot": another bot's, in a group */
};

/* Reads the command in a message's text.  For TG_CMD_OURS: name (size
 * bytes) gets the command's name in lower case (A-Z only), or "" when it
 * does not fit; *args points into text, past the name, "@bot" and the
 * spaces and newlines after them.  bot_username is the bot's own ("":
 * not known yet, then any mention is taken as the bot's). */
enum tg_command tg_update_command(const char *text, const char *bot_username, char *name,
                                  size_t size, const char **args);

/* ---- the webhook's request, before its body is read as an update ---- */

#define TG_WEBHOOK_BODY_MAX (256 * 1024)   /* updates are a few KB */

struct tg_webhook_answer {
    int status;               /* HTTP status to answer */
    const char *body;         /* the JSON to answer with (static) */
    int receive;              /* 1: hand the body to the update intake */
    int refused;              /* 1: counts as a refused webhook request */
    const char *garbage;      /* counted and logged as dropped, or NULL */
};

/* What to do with a request: method ("POST", ...), stopping (shutting
 * down), the secret token header's value (secret_len -1: absent or too
 * long to hold), the configured secret, and the body's length.  The
 * secret is compared in constant time. */
void tg_webhook_check(const char *method, int stopping, const char *secret, int secret_len,
                      const char *want, size_t body_len, struct tg_webhook_answer *out);

#endif
