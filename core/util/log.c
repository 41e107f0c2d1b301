#include "util/log.h"

#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "util/jsonw.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(struct logger *lg)
{
    memset(lg, 0, sizeof *lg);
    lg->level = LOG_INFO;
    lg->out = stderr;
}

int log_add_secret(struct logger *lg, const char *secret)
{
    /* Masking a very short secret would garble ordinary words. */
    if (!secret || strlen(secret) < 6)
        return 0;
    if (strlen(secret) >= sizeof lg->secrets[0])
        return -1;
    for (int i = 0; i < LOG_SECRETS; i++)
        if (!lg->secrets[i][0] || !strcmp(lg->secrets[i], secret)) {
            strcpy(lg->secrets[i], secret);
            return 0;
        }
    return -1;
}

int log_level_parse(const char *name, enum log_level *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    return -1;
}

const char *log_level_name(enum log_level lv)
{
    return level_names[lv];
}

void log_mask(char *buf, const char *secret)
{
    size_t n = strlen(secret);
    if (n == 0)
        return;
    char *p;
    while ((p = strstr(buf, secret)) != NULL) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + n, strlen(p + n) + 1);
    }
}

void log_mask_all(const struct logger *lg, char *buf)
{
    for (int i = 0; i < LOG_SECRETS && lg->secrets[i][0]; i++)
        log_mask(buf, lg->secrets[i]);
}

/* A line cut at the buffer's end may end in the first characters of a
 * secret: those go too. */
static void log_mask_cut(char *buf, const char *secret)
{
    size_t n = strlen(buf), sn = strlen(secret);
    for (size_t k = sn - 1 < n ? sn - 1 : n; k > 0; k--)
        if (memcmp(buf + n - k, secret, k) == 0) {
            size_t at = n - k;
            if (at + 3 > n && n >= 3)
                at = n - 3;   /* "***" must fit where the cut text ends */
            memcpy(buf + at, "***", 4);
            return;
        }
}

static void timestamp(char *buf, size_t len)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 1: a repeat to count, not print.  Otherwise the number counted since the
 * last one printed goes into *before. */
static int repeated(struct logger *lg, const char *component, const char *msg, long *before)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a of component and text */
    for (const char *p = component; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = msg; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    uint64_t now = mono_ms();
    struct log_repeat *slot = &lg->repeats[h % LOG_REPEAT_SLOTS];
    *before = 0;
    if (slot->hash == h && now - slot->at_ms < LOG_REPEAT_MS) {
        slot->suppressed++;
        return 1;
    }
    if (slot->hash == h)
        *before = slot->suppressed;
    *slot = (struct log_repeat){h, now, 0};
    return 0;
}

static void log_vmsg_upd(struct logger *lg, int64_t update_id, enum log_level lv,
                         const char *component, const char *fmt, va_list ap)
{
    if (lv < lg->level && !lg->capture)
        return;
    char msg[8192];
    int cut = vsnprintf(msg, sizeof msg, fmt, ap) >= (int)sizeof msg;
    for (int i = 0; i < LOG_SECRETS && lg->secrets[i][0]; i++) {
        log_mask(msg, lg->secrets[i]);
        if (cut)
            log_mask_cut(msg, lg->secrets[i]);
    }
    if (lg->capture)
        lg->capture(lg->capture_ud, lv, component, msg);
    if (lv < lg->level || !lg->out)
        return;
    long before = 0;
    if (lv >= LOG_WARN && repeated(lg, component, msg, &before))
        return;
    if (before) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof msg - n, " (and %ld times more in the last %d s)", before,
                 LOG_REPEAT_MS / 1000);
    }
    char ts[40];
    timestamp(ts, sizeof ts);
    if (lg->json) {
        struct jsonw w;
        jsonw_init(&w);
        jsonw_obj_open(&w);
        jsonw_kv_str(&w, "ts", ts);
        jsonw_kv_str(&w, "level", level_names[lv]);
        jsonw_kv_str(&w, "component", component);
        if (update_id)
            jsonw_kv_int(&w, "update", update_id);
        jsonw_kv_str(&w, "msg", msg);
        jsonw_obj_close(&w);
        fprintf(lg->out, "%s\n", jsonw_str(&w));
        jsonw_free(&w);
    } else if (update_id) {
        fprintf(lg->out, "%s %-5s %s: [update %lld] %s\n", ts, level_names[lv], component,
                (long long)update_id, msg);
    } else {
        fprintf(lg->out, "%s %-5s %s: %s\n", ts, level_names[lv], component, msg);
    }
    fflush(lg->out);
}

void log_vmsg(struct logger *lg, enum log_level lv, const char *component,
              const char *fmt, va_list ap)
{
    log_vmsg_upd(lg, lg->update_id, lv, component, fmt, ap);
}

void log_msg_upd(struct logger *lg, int64_t update_id, enum log_level lv, const char *component,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg_upd(lg, update_id, lv, component, fmt, ap);
    va_end(ap);
}

void log_msg(struct logger *lg, enum log_level lv, const char *component,
             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lg, lv, component, fmt, ap);
    va_end(ap);
}
