#include "ops/status_page.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REFRESH_S 5

/* A growing string; a failed allocation sets oom and stops writing. */
struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 8192;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, len);
    b->n += len;
    b->s[b->n] = 0;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len < sizeof tmp) {
        sb_put(b, tmp, (size_t)len);
        return;
    }
    char *big = malloc((size_t)len + 1);   /* (rare: the page's few long parts) */
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)len + 1, fmt, ap);
    va_end(ap);
    sb_put(b, big, (size_t)len);
    free(big);
}

/* Text from outside (a script's reason, an error, a component's name) as
 * HTML text or attribute value. */
static void sb_str(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_esc(struct sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': sb_put(b, "&amp;", 5); break;
        case '<': sb_put(b, "&lt;", 4); break;
        case '>': sb_put(b, "&gt;", 4); break;
        case '"': sb_put(b, "&quot;", 6); break;
        case '\'': sb_put(b, "&#39;", 5); break;
        default: sb_put(b, s, 1);
        }
    }
}

static const cJSON *comp(const cJSON *root, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "components"), name);
}

/* A number of a component, or -1 when absent. */
static long long num(const cJSON *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static const char *str(const cJSON *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A row: label, and the value as shown; path names the /health field it
 * shows (data-h), so that a reader (and the test) can check one against
 * the other. */
static void row_text(struct sbuf *b, const char *label, const char *path, const char *text)
{
    sb_printf(b, "<div class=r><span>%s</span><b", label);
    if (path)
        sb_printf(b, " data-h=\"%s\"", path);
    sb_put(b, ">", 1);
    sb_esc(b, text);
    sb_put(b, "</b></div>\n", 11);
}

static void row_num(struct sbuf *b, const char *label, const char *path, long long v)
{
    char t[32];
    if (v < 0)
        snprintf(t, sizeof t, "–");
    else
        snprintf(t, sizeof t, "%lld", v);
    row_text(b, label, path, t);
}

static void status_dot(struct sbuf *b, const char *st)
{
    sb_printf(b, "<i class=\"dot %s\"></i>", st && !strcmp(st, "ok") ? "ok"
              : st && !strcmp(st, "degraded") ? "degraded" : "failing");
}

/* A card's title with its component's status; the reason under it. */
static void card_open(struct sbuf *b, const char *title, const cJSON *c)
{
    sb_printf(b, "<section><h2>%s ", title);
    if (c)
        status_dot(b, str(c, "status"));
    sb_put(b, "</h2>\n", 6);
    const char *why = str(c, "reason");
    if (why) {
        sb_put(b, "<p class=why>", 13);
        sb_esc(b, why);
        sb_put(b, "</p>\n", 5);
    }
}

static void fmt_utc(char *out, size_t len, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void head(struct sbuf *b)
{
    sb_printf(b, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
              "<meta name=viewport content=\"width=device-width,initial-scale=1\">\n"
              "<meta http-equiv=refresh content=%d>\n"
              "<meta name=robots content=noindex><link rel=icon href=\"data:,\">\n<title>candlewatch status</title>\n",
              REFRESH_S);
    sb_str(b, "<style>\n"
        ":root{color-scheme:light dark;--bg:#f4f5f7;--fg:#1c1e21;--card:#fff;--mut:#5f6672;"
        "--line:#e3e5e9;--ok:#1a7f37;--deg:#b7791f;--fail:#cf222e;--bar:#2f6fd6}\n"
        "@media(prefers-color-scheme:dark){:root{--bg:#0f1115;--fg:#e8e9eb;--card:#181b21;"
        "--mut:#9aa1ad;--line:#2a2f38;--ok:#2ea043;--deg:#d29922;--fail:#f85149;--bar:#58a6ff}}\n"
        "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
        "background:var(--bg);color:var(--fg)}\n"
        "header{display:flex;align-items:center;flex-wrap:wrap;gap:.5em 1em;padding:14px 16px}\n"
        "h1{font-size:1.25em;margin:0}\n"
        ".badge{padding:2px 12px;border-radius:999px;color:#fff;font-weight:600}\n"
        ".badge.ok{background:var(--ok)}.badge.degraded{background:var(--deg)}"
        ".badge.failing{background:var(--fail)}\n"
        ".when{color:var(--mut);font-size:.85em;margin-left:auto}\n"
        "main{display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:12px;"
        "padding:0 16px 16px}\n"
        "section{background:var(--card);border:1px solid var(--line);border-radius:10px;"
        "padding:10px 14px;min-width:0}\n"
        "h2{font-size:.78em;text-transform:uppercase;letter-spacing:.07em;color:var(--mut);"
        "margin:0 0 6px;display:flex;align-items:center;gap:.5em}\n"
        ".r{display:flex;justify-content:space-between;gap:1em;padding:3px 0;"
        "border-bottom:1px solid var(--line)}\n.r:last-child{border-bottom:0}\n"
        ".r span{color:var(--mut);flex:none}.r b{font-weight:600;font-variant-numeric:tabular-nums;"
        "text-align:right;overflow-wrap:anywhere}\n"
        ".why{color:var(--mut);font-size:.85em;margin:0 0 6px;overflow-wrap:anywhere}"
        ".r b.why{font-weight:400;margin:0}\n"
        ".dot{display:inline-block;width:.65em;height:.65em;border-radius:50%}\n"
        ".dot.ok{background:var(--ok)}.dot.degraded{background:var(--deg)}"
        ".dot.failing{background:var(--fail)}\n"
        "svg{display:block;width:100%;height:90px}svg rect{fill:var(--bar)}"
        "svg line{stroke:var(--line)}\n"
        ".axis{display:flex;justify-content:space-between;color:var(--mut);font-size:.78em}\n"
        ".big{font-size:1.6em;font-weight:600;font-variant-numeric:tabular-nums}\n"
        "</style></head><body>\n");
}

static void header(struct sbuf *b, const cJSON *root, int64_t now_ms)
{
    const char *st = str(root, "status");
    char when[40];
    fmt_utc(when, sizeof when, now_ms);
    sb_printf(b, "<header><h1>candlewatch</h1><span class=\"badge %s\" data-h=\"status\">",
              st && !strcmp(st, "ok") ? "ok" : st && !strcmp(st, "degraded") ? "degraded"
              : "failing");
    sb_esc(b, st ? st : "unknown");
    sb_printf(b, "</span><span class=when>%s · refreshes every %d s</span></header>\n<main>\n",
              when, REFRESH_S);
}

/* The freshest data among the connections, in ms, or -1. */
static long long last_data_ms(const cJSON *ex)
{
    long long best = -1;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ex, "by_connection")) {
        long long ms = num(c, "ms_since_data");
        if (ms >= 0 && (best < 0 || ms < best))
            best = ms;
    }
    return best;
}

/* frames/s since the previous page (at least a second before: a quick
 * reload keeps the last rate). */
static void feed_rate(struct status_page *sp, long long received, int64_t now_ms)
{
    if (received < 0)
        return;
    if (sp->prev_ms && now_ms - sp->prev_ms >= 1000 && received >= sp->prev_received)
        sp->rate = (double)(received - sp->prev_received) * 1000.0 / (double)(now_ms - sp->prev_ms);
    if (!sp->prev_ms || now_ms - sp->prev_ms >= 1000) {
        sp->prev_received = received;
        sp->prev_ms = now_ms;
    }
}

static void card_feed(struct sbuf *b, struct status_page *sp, const cJSON *root, int64_t now_ms)
{
    const cJSON *ex = comp(root, "exchange");
    card_open(b, "Feed", ex);
    if (!ex) {
        sb_put(b, "<p class=why>The feed is off.</p></section>\n", 43);
        return;
    }
    feed_rate(sp, num(ex, "received"), now_ms);
    row_num(b, "Connections", "components.exchange.connections", num(ex, "connections"));
    row_num(b, "Live", "components.exchange.live", num(ex, "live"));
    row_num(b, "Streams", "components.exchange.streams", num(ex, "streams"));
    row_num(b, "Symbols", "components.exchange.symbols", num(ex, "symbols"));
    char t[48];
    if (sp->rate >= 0)
        snprintf(t, sizeof t, "%.1f", sp->rate);
    else
        snprintf(t, sizeof t, "(next refresh)");
    row_text(b, "Frames/s", NULL, t);
    long long age = last_data_ms(ex);
    if (age >= 0)
        snprintf(t, sizeof t, "%.1f s ago", (double)age / 1000);
    else
        snprintf(t, sizeof t, "none yet");
    row_text(b, "Last data", NULL, t);
    row_num(b, "Reconnects", "components.exchange.reconnects", num(ex, "reconnects"));
    sb_put(b, "</section>\n", 11);
}

static void card_telegram(struct sbuf *b, const cJSON *root)
{
    const cJSON *tg = comp(root, "telegram");
    card_open(b, "Telegram", tg);
    if (!tg) {
        sb_put(b, "<p class=why>Not signed in.</p></section>\n", 41);
        return;
    }
    const char *mode = str(tg, "mode");
    row_text(b, "Mode", "components.telegram.mode", mode ? mode : "–");
    row_num(b, "Queue", "components.telegram.queue_depth", num(tg, "queue_depth"));
    row_num(b, "Oldest queued (s)", "components.telegram.oldest_queued_s",
            num(tg, "oldest_queued_s"));
    row_num(b, "Sent", "components.telegram.sent", num(tg, "sent"));
    row_num(b, "429s", "components.telegram.rate_limited_429", num(tg, "rate_limited_429"));
    row_num(b, "Failed", "components.telegram.failed", num(tg, "failed"));
    row_num(b, "Blocked chats", "components.telegram.blocked_chats", num(tg, "blocked_chats"));
    sb_put(b, "</section>\n", 11);
}

/* One bar per minute, the hour's largest filling the height. */
static void alerts_svg(struct sbuf *b, const uint32_t *per_min, int n)
{
    uint32_t max = 0;
    for (int i = 0; i < n; i++)
        if (per_min[i] > max)
            max = per_min[i];
    sb_printf(b, "<svg viewBox=\"0 0 %d 100\" preserveAspectRatio=none role=img "
              "aria-label=\"alerts per minute\"><line x1=0 y1=99.5 x2=%d y2=99.5 />",
              n * 10, n * 10);
    for (int i = 0; i < n; i++) {
        if (!per_min[i])
            continue;
        double h = 96.0 * per_min[i] / max;   /* (max > 0 here) */
        sb_printf(b, "<rect x=%d y=%.1f width=8 height=%.1f><title>%d min ago: %u</title>"
                  "</rect>", i * 10 + 1, 99 - h, h, n - 1 - i, per_min[i]);
    }
    sb_printf(b, "</svg><div class=axis><span>−%d min</span><span>max %u/min</span>"
              "<span>now</span></div>\n", n, max);
}

static void card_alerts(struct sbuf *b, const cJSON *root, const struct status_facts *f)
{
    const cJSON *al = comp(root, "alerts");
    card_open(b, "Alerts", al);
    long long hour = 0;
    for (int i = 0; f->per_min && i < f->nmin; i++)
        hour += f->per_min[i];
    sb_printf(b, "<div class=r><span>Last hour</span><b class=big id=alerts-hour>%lld</b>"
              "</div>\n", hour);
    if (f->per_min && f->nmin > 0)
        alerts_svg(b, f->per_min, f->nmin);
    row_num(b, "Fired since start", "components.alerts.fired", num(al, "fired"));
    row_num(b, "Presets", "components.alerts.presets", num(al, "presets"));
    row_num(b, "Subscriptions", "components.alerts.subscriptions", num(al, "subscriptions"));
    sb_put(b, "</section>\n", 11);
}

/* The scripts' own components (host.health): "script:<name>". */
static void script_components(struct sbuf *b, const cJSON *root)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "components")) {
        if (!c->string || strncmp(c->string, "script:", 7) != 0)
            continue;
        sb_put(b, "<div class=r><span>", 19);
        status_dot(b, str(c, "status"));
        sb_put(b, " ", 1);
        sb_esc(b, c->string + 7);
        sb_put(b, "</span><b class=why>", 20);
        sb_esc(b, str(c, "reason") ? str(c, "reason") : str(c, "status"));
        sb_put(b, "</b></div>\n", 11);
    }
}

static void card_scripts(struct sbuf *b, const cJSON *root)
{
    const cJSON *sc = comp(root, "scripts");
    card_open(b, "Scripts", sc);
    row_num(b, "Generation", "components.scripts.generation", num(sc, "generation"));
    row_num(b, "Scripts", "components.scripts.scripts", num(sc, "scripts"));
    row_num(b, "Errors since start", "components.scripts.errors", num(sc, "errors"));
    script_components(b, root);
    sb_put(b, "</section>\n", 11);
}

static void fmt_bytes(char *out, size_t len, long long v)
{
    if (v < 0)
        snprintf(out, len, "–");
    else if (v < 1024 * 1024)
        snprintf(out, len, "%.1f KiB", (double)v / 1024);
    else
        snprintf(out, len, "%.1f MiB", (double)v / (1024 * 1024));
}

static void card_store(struct sbuf *b, const cJSON *root, int64_t now_ms)
{
    const cJSON *st = comp(root, "store");
    card_open(b, "Database", st);
    char t[64];
    fmt_bytes(t, sizeof t, num(st, "db_bytes"));
    sb_printf(b, "<div class=r><span>Size</span><b data-h=\"components.store.db_bytes\" "
              "data-v=\"%lld\">%s</b></div>\n", num(st, "db_bytes"), t);
    long long at = num(st, "last_commit_ms");
    if (at > 0) {
        char when[40];
        fmt_utc(when, sizeof when, at);
        double ago = now_ms > at ? (double)(now_ms - at) / 1000 : 0;   /* (a clock step) */
        snprintf(t, sizeof t, "%s (%.0f s ago)", when + 11, ago);
    } else {
        snprintf(t, sizeof t, "none yet");
    }
    row_text(b, "Last commit", NULL, t);
    sb_put(b, "</section>\n", 11);
}

/* The core's components, with their reasons. */
static void card_components(struct sbuf *b, const cJSON *root)
{
    card_open(b, "Components", NULL);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "components")) {
        if (!c->string || !strncmp(c->string, "script:", 7))   /* (under Scripts) */
            continue;
        sb_put(b, "<div class=r><span>", 19);
        status_dot(b, str(c, "status"));
        sb_put(b, " ", 1);
        sb_esc(b, c->string);
        sb_put(b, "</span><b class=why>", 20);
        sb_esc(b, str(c, "reason") ? str(c, "reason") : str(c, "status"));
        sb_put(b, "</b></div>\n", 11);
    }
    sb_put(b, "</section>\n", 11);
}

void status_page_init(struct status_page *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->rate = -1;
}

char *status_page_html(struct status_page *sp, const char *health_json,
                       const struct status_facts *f)
{
    cJSON *root = cJSON_Parse(health_json);
    if (!root)
        return NULL;
    struct sbuf b = {0};
    head(&b);
    header(&b, root, f->now_ms);
    card_feed(&b, sp, root, f->now_ms);
    card_telegram(&b, root);
    card_alerts(&b, root, f);
    card_scripts(&b, root);
    card_store(&b, root, f->now_ms);
    card_components(&b, root);
    sb_put(&b, "</main></body></html>\n", 22);
    cJSON_Delete(root);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
