/* One-line-per-event logging, text or JSON, with the bot token masked.
 *
 * Usage:
 *   struct logger lg; log_init(&lg);  lg.level = LOG_INFO;  lg.json = 0;
 *   log_add_secret(&lg, token);       // every later line has it masked
 *   log_msg(&lg, LOG_WARN, "store", "commit failed: %s", why);
 */
#ifndef CW_LOG_H
#define CW_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

typedef void (*log_capture_fn)(void *ud, enum log_level lv, const char *component,
                               const char *msg);

/* Warnings and errors repeated word for word within LOG_REPEAT_MS are
 * counted, not printed; the next one printed says how many there were. */
#define LOG_REPEAT_MS 60000
#define LOG_REPEAT_SLOTS 32

struct log_repeat {
    uint64_t hash, at_ms;
    long suppressed;
};

/* the bot token, the SMTP password, and the scripts' secret settings */
#define LOG_SECRETS 16

struct logger {
    enum log_level level;
    int json;                 /* one JSON object per line instead of text */
    FILE *out;                /* stderr by default; NULL silences output */
    char secrets[LOG_SECRETS][256]; /* masked as "***" wherever they appear */
    log_capture_fn capture;   /* optional second sink (spec runner) */
    void *capture_ud;
    int64_t update_id;        /* the Telegram update being handled (0: none): on each line */
    struct log_repeat repeats[LOG_REPEAT_SLOTS];
};

void log_init(struct logger *lg);
/* 0, or -1 when all LOG_SECRETS slots are taken (the secret is not
 * masked: the caller must not let it be logged).  A secret shorter than 6
 * bytes is not masked (it would garble ordinary words): 0. */
int log_add_secret(struct logger *lg, const char *secret);
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level lv);

void log_msg(struct logger *lg, enum log_level lv, const char *component,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_vmsg(struct logger *lg, enum log_level lv, const char *component,
              const char *fmt, va_list ap);
/* A line about the Telegram update update_id (0: none), whichever update
 * is being handled now: a message's delivery names the update it answers. */
void log_msg_upd(struct logger *lg, int64_t update_id, enum log_level lv, const char *component,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Replaces every occurrence of secret in buf (in place, NUL-terminated). */
void log_mask(char *buf, const char *secret);
/* The same for every secret of lg: text that leaves by another way than
 * the log (an error in /health, a message to the admins). */
void log_mask_all(const struct logger *lg, char *buf);

#define log_debug(lg, comp, ...) log_msg((lg), LOG_DEBUG, (comp), __VA_ARGS__)
#define log_info(lg, comp, ...)  log_msg((lg), LOG_INFO, (comp), __VA_ARGS__)
#define log_warn(lg, comp, ...)  log_msg((lg), LOG_WARN, (comp), __VA_ARGS__)
#define log_error(lg, comp, ...) log_msg((lg), LOG_ERROR, (comp), __VA_ARGS__)

#endif
