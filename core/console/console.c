#include "console/console.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert/engine.h"
#include "app.h"
#include "lua/host.h"
#include "util/interval.h"
#include "replay/replay.h"
#include "store/store.h"
#include "tg/bot.h"
#include "tg/text.h"
#include "util/grow.h"

#define USER_ID 1
#define MAX_BUTTONS 64

struct button {
    char data[72];
    int64_t message_id;
};

struct console {
    struct app *app;
    uv_pipe_t in;
    char line[4096];
    size_t len;
    int eof;
    /* a getUpdates held until a line arrives */
    uint64_t poll_id;
    struct timer *poll_timer;
    cJSON *pending;           /* updates typed but not yet fetched */
    int64_t next_update, next_message;
    struct button buttons[MAX_BUTTONS];
    int nbuttons;
    struct timer *idle_timer;
    struct replay *replay;
    int replay_done, replay_max;
    /* piped input: a line goes in when the bot has answered the last one,
     * as a person would type */
    int piped;
    char **lines;
    size_t nlines, caplines, nextline;
    int quiet_checks;
};

/* ---- answers to the bot's calls ---- */

struct answer {
    struct console *c;
    uint64_t id;
    char *body;
};

static void deliver(void *ud)
{
    struct answer *an = ud;
    struct httpc_resp r = {.status = 200, .body = an->body, .body_len = strlen(an->body),
                           .headers = ""};
    httpc_complete(&an->c->app->httpc, an->id, &r);
    free(an->body);
    free(an);
}

/* Answers call id on the next loop turn (never from inside the request). */
static void answer(struct console *c, uint64_t id, cJSON *result)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddItemToObject(o, "result", result ? result : cJSON_CreateTrue());
    struct answer *an = malloc(sizeof *an);
    if (!an) {
        cJSON_Delete(o);
        return;
    }
    an->c = c;
    an->id = id;
    an->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    timers_add(&c->app->timers, app_now_ms(c->app), deliver, an);
}

static void print_buttons(struct console *c, const cJSON *markup, int64_t message_id)
{
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(markup, "inline_keyboard"), *row;
    if (!cJSON_IsArray(rows))
        return;
    c->nbuttons = 0;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *b;
        printf("  ");
        cJSON_ArrayForEach(b, row)
        {
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(b, "text");
            const cJSON *data = cJSON_GetObjectItemCaseSensitive(b, "callback_data");
            const cJSON *url = cJSON_GetObjectItemCaseSensitive(b, "url");
            if (cJSON_IsString(data) && c->nbuttons < MAX_BUTTONS) {
                struct button *bt = &c->buttons[c->nbuttons++];
                snprintf(bt->data, sizeof bt->data, "%s", data->valuestring);
                bt->message_id = message_id;
                printf("[%d] %s   ", c->nbuttons, cJSON_IsString(text) ? text->valuestring : "?");
            } else if (cJSON_IsString(url)) {
                printf("<%s>   ", url->valuestring);
            }
        }
        printf("\n");
    }
}

static void print_message(struct console *c, const char *what, const cJSON *p, int64_t mid)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(p, "text");
    const cJSON *markup = cJSON_GetObjectItemCaseSensitive(p, "reply_markup");
    if (cJSON_IsString(text)) {
        char *plain = tg_text_plain(text->valuestring);
        printf("%s%s\n", what, plain ? plain : text->valuestring);
        free(plain);
    }
    print_buttons(c, markup, mid);
    fflush(stdout);
}

/* A picture's bytes to a new file under $TMPDIR (or /tmp) whose name
 * nobody can guess or plant a link at first (mkstemps: O_EXCL, mode 600);
 * its path in path.  0, or -1 when it could not be written whole. */
static int console_save_file(char *path, size_t len, const struct httpc_part *pt)
{
    const char *dir = getenv("TMPDIR");
    const char *ext = pt->type && strstr(pt->type, "jpeg") ? ".jpg" : ".png";
    if ((size_t)snprintf(path, len, "%s/candlewatch-console-XXXXXX%s", dir && *dir ? dir : "/tmp",
                         ext) >= len)
        return -1;
    int fd = mkstemps(path, (int)strlen(ext));
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        return -1;
    }
    int ok = fwrite(pt->data, 1, pt->len, f) == pt->len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* A multipart call's fields as a JSON call's parameters (reply_markup
 * parsed); its file (the photo) saved to a file whose path goes in "file". */
static cJSON *form_params(const struct httpc_req *req)
{
    cJSON *p = cJSON_CreateObject();
    for (int i = 0; p && i < req->nparts; i++) {
        const struct httpc_part *pt = &req->parts[i];
        if (pt->filename) {
            char path[256];
            int ok = console_save_file(path, sizeof path, pt) == 0;
            cJSON_AddStringToObject(p, "file", ok ? path : "(could not be saved)");
        } else if (!strcmp(pt->name, "reply_markup")) {
            cJSON_AddItemToObject(p, pt->name, cJSON_ParseWithLength(pt->data, pt->len));
        } else {
            char *v = strndup(pt->data, pt->len);
            cJSON_AddStringToObject(p, pt->name, v ? v : "");
            free(v);
        }
    }
    return p;
}

/* sendPhoto: the picture's file (an upload, saved) or file_id, the caption. */
static void print_photo(struct console *c, cJSON *p, uint64_t id)
{
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(p, "file");
    const cJSON *photo = cJSON_GetObjectItemCaseSensitive(p, "photo");
    char fid[64];
    int64_t mid = ++c->next_message;
    snprintf(fid, sizeof fid, "console-photo-%lld", (long long)mid);
    printf("bot (picture %s)\n", cJSON_IsString(file) ? file->valuestring
                                  : cJSON_IsString(photo) ? photo->valuestring : "?");
    cJSON *caption = cJSON_DetachItemFromObjectCaseSensitive(p, "caption");
    if (caption)
        cJSON_AddItemToObject(p, "text", caption);
    print_message(c, "bot: ", p, mid);
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddNumberToObject(msg, "message_id", (double)mid);
    cJSON *sizes = cJSON_AddArrayToObject(msg, "photo"), *size = cJSON_CreateObject();
    cJSON_AddStringToObject(size, "file_id", cJSON_IsString(photo) ? photo->valuestring : fid);
    cJSON_AddNumberToObject(size, "width", 800);
    cJSON_AddNumberToObject(size, "height", 500);
    cJSON_AddItemToArray(sizes, size);
    answer(c, id, msg);
}

static void fetch_updates(struct console *c)
{
    if (!c->poll_id || !c->pending || !cJSON_GetArraySize(c->pending))
        return;
    if (c->poll_timer)
        timers_cancel(&c->app->timers, c->poll_timer);
    c->poll_timer = NULL;
    uint64_t id = c->poll_id;
    c->poll_id = 0;
    cJSON *batch = c->pending;
    c->pending = cJSON_CreateArray();
    answer(c, id, batch);
}

static void poll_expired(void *ud)
{
    struct console *c = ud;
    c->poll_timer = NULL;
    if (c->poll_id) {
        uint64_t id = c->poll_id;
        c->poll_id = 0;
        answer(c, id, cJSON_CreateArray());
    }
}

static void transport(void *ud, uint64_t id, const struct httpc_req *req)
{
    struct console *c = ud;
    const char *method = strrchr(req->url, '/');
    method = method ? method + 1 : "";
    cJSON *p = req->nparts ? form_params(req)
             : req->body ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
    if (!strcmp(method, "sendPhoto")) {
        print_photo(c, p, id);
    } else if (!strcmp(method, "getMe")) {
        cJSON *me = cJSON_CreateObject();
        cJSON_AddNumberToObject(me, "id", 1000);
        cJSON_AddTrueToObject(me, "is_bot");
        cJSON_AddStringToObject(me, "first_name", "candlewatch");
        cJSON_AddStringToObject(me, "username", "candlewatch_console");
        answer(c, id, me);
    } else if (!strcmp(method, "getUpdates")) {
        c->poll_id = id;
        long timeout = (long)c->app->cfg.telegram.poll_timeout;
        c->poll_timer = timers_add(&c->app->timers, app_now_ms(c->app) + (uint64_t)timeout * 1000,
                                   poll_expired, c);
        fetch_updates(c);
    } else if (!strcmp(method, "sendMessage") || !strcmp(method, "editMessageText") ||
               !strcmp(method, "editMessageReplyMarkup")) {
        int edit = method[0] == 'e';
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "message_id");
        int64_t mid = edit && cJSON_IsNumber(m) ? (int64_t)m->valuedouble : ++c->next_message;
        print_message(c, edit ? "bot (edited): " : "bot: ", p, mid);
        cJSON *msg = cJSON_CreateObject();
        cJSON_AddNumberToObject(msg, "message_id", (double)mid);
        answer(c, id, msg);
    } else if (!strcmp(method, "answerCallbackQuery")) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(p, "text");
        if (cJSON_IsString(text)) {
            printf("bot (notice): %s\n", text->valuestring);
            fflush(stdout);
        }
        answer(c, id, NULL);
    } else if (!strcmp(method, "getChatMember")) {
        cJSON *mem = cJSON_CreateObject();
        cJSON_AddStringToObject(mem, "status", "creator");
        answer(c, id, mem);
    } else {   /* setMyCommands, deleteMessage, deleteWebhook ... */
        answer(c, id, NULL);
    }
    cJSON_Delete(p);
}

/* ---- what the user types ---- */

static cJSON *party(void)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "id", USER_ID);
    cJSON_AddStringToObject(u, "first_name", "you");
    cJSON_AddStringToObject(u, "type", "private");
    return u;
}

static void typed(struct console *c, char *line)
{
    while (*line && isspace((unsigned char)*line))
        line++;
    size_t n = strlen(line);
    while (n && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    if (!n)
        return;
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "update_id", (double)c->next_update++);
    char *end;
    long k = strtol(line, &end, 10);
    if (!*end && k >= 1 && k <= c->nbuttons) {   /* a button's number: press it */
        cJSON *q = cJSON_AddObjectToObject(u, "callback_query");
        char id[32];
        snprintf(id, sizeof id, "q%lld", (long long)c->next_update);
        cJSON_AddStringToObject(q, "id", id);
        cJSON_AddItemToObject(q, "from", party());
        cJSON_AddStringToObject(q, "data", c->buttons[k - 1].data);
        cJSON *m = cJSON_AddObjectToObject(q, "message");
        cJSON_AddNumberToObject(m, "message_id", (double)c->buttons[k - 1].message_id);
        cJSON_AddItemToObject(m, "chat", party());
    } else {
        cJSON *m = cJSON_AddObjectToObject(u, "message");
        cJSON_AddNumberToObject(m, "message_id", (double)++c->next_message);
        cJSON_AddNumberToObject(m, "date", (double)time(NULL));
        cJSON_AddItemToObject(m, "from", party());
        cJSON_AddItemToObject(m, "chat", party());
        cJSON_AddStringToObject(m, "text", line);
    }
    cJSON_AddItemToArray(c->pending, u);
    fetch_updates(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct console *c = h->data;
    buf->base = c->line + c->len;
    buf->len = sizeof c->line - 1 - c->len;
}

static void take_line(struct console *c, const char *line);

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct console *c = s->data;
    if (nread < 0) {   /* the end of input: leave once the bot is done */
        uv_read_stop(s);
        c->eof = 1;
        if (c->len) {
            c->line[c->len] = '\0';
            take_line(c, c->line);
            c->len = 0;
        }
        return;
    }
    c->len += (size_t)nread;
    c->line[c->len] = '\0';
    char *nl;
    while ((nl = memchr(c->line, '\n', c->len))) {
        *nl = '\0';
        take_line(c, c->line);
        size_t used = (size_t)(nl - c->line) + 1;
        memmove(c->line, nl + 1, c->len - used);
        c->len -= used;
    }
    if (c->len == sizeof c->line - 1)
        c->len = 0;   /* an endless line: dropped */
}

/* The bot has nothing in hand: no update waiting, nothing to send, no
 * call but the held getUpdates. */
static int bot_idle(struct console *c)
{
    struct tg_sched_stats st;
    tg_sched_stats(tg_bot_sched(c->app->tg), &st);
    return !cJSON_GetArraySize(c->pending) && !st.depth && httpc_pending(&c->app->httpc) <= 1;
}

/* Every 100 ms: the next piped line once the bot has been idle twice in a
 * row (a handler's reply can take a few loop turns to be queued); at the
 * end of input, leave once it is idle and any replay has ended. */
static void check_idle(void *ud)
{
    struct console *c = ud;
    c->idle_timer = NULL;
    c->quiet_checks = bot_idle(c) ? c->quiet_checks + 1 : 0;
    if (c->quiet_checks >= 2 && c->nextline < c->nlines) {
        c->quiet_checks = 0;
        printf("> %s\n", c->lines[c->nextline]);
        typed(c, c->lines[c->nextline++]);
    } else if (c->quiet_checks >= 2 && c->eof &&
               (!c->replay || c->replay_done || !c->replay_max)) {
        /* (a replay at full speed ends soon: a scripted session waits for
         * its alerts; a timed one would keep Ctrl-D waiting for hours) */
        uv_stop(&c->app->loop);
        return;
    }
    c->idle_timer = timers_add(&c->app->timers, app_now_ms(c->app) + 100, check_idle, c);
}

static void take_line(struct console *c, const char *line)
{
    if (!c->piped) {
        typed(c, (char *)line);
        return;
    }
    char **v = grow_from(c->lines, &c->caplines, c->nlines + 1, sizeof *v, 64);
    if (!v)
        return;
    c->lines = v;
    c->lines[c->nlines++] = strdup(line);
}

static void replay_finished(void *ud)
{
    struct console *c = ud;
    c->replay_done = 1;
    printf("-- the replay has ended (%zu klines) --\n", replay_total(c->replay));
    fflush(stdout);
}

/* With a replay and no preset yet, one to watch right away: the replay's
 * pairs, whatever their venues (BTCUSDT, spot:ETHUSDT). */
static void demo_preset(struct console *c)
{
    const struct preset *have[1];
    if (alert_presets_of(c->app->alerts, USER_ID, have, 1))
        return;
    struct preset p;
    memset(&p, 0, sizeof p);
    p.user_id = p.chat_id = USER_ID;
    snprintf(p.name, sizeof p.name, "Demo: the replay's pairs, 0.15%%");
    snprintf(p.rule, sizeof p.rule, "move");
    const struct symtab *st = &c->app->market.syms;
    char names[50][SYM_NAME_MAX + 1];
    for (uint32_t i = 0; i < st->n && p.nsymbols < 50; i++)
        if (st->v[i].active)
            snprintf(names[p.nsymbols++], sizeof names[0], "%s", st->v[i].name);
    p.pairs = PAIRS_MANUAL;
    p.symbols = names;
    p.intervals = 1 << IV_1M | 1 << IV_5M;
    p.threshold = 0.15;
    p.active = 1;
    char err[256];
    if (alert_preset_save(c->app->alerts, &p, err, sizeof err) == 0)
        printf("A demo preset watches the replay's pairs (1m and 5m candles moving 0.15%%): change or "
               "delete it with /preset.\n");
}

static void started(void *ud, const char *err)
{
    (void)ud;
    if (err)
        fprintf(stderr, "console: %s\n", err);
}

int console_run(struct app *a, char **files, int nfiles, double speed)
{
    struct console c;
    memset(&c, 0, sizeof c);
    c.app = a;
    c.pending = cJSON_CreateArray();
    c.next_update = (int64_t)time(NULL) * 1000;   /* unique across runs on one database */
    a->cfg.exchange.enabled = 0;                 /* offline: nothing reaches the network */
    free(a->cfg.telegram.token);
    a->cfg.telegram.token = strdup("console:local");
    free(a->cfg.telegram.webhook_url);
    a->cfg.telegram.webhook_url = NULL;
    a->cfg.telegram.rate = 1000;
    int rc = 1;
    if (app_init(a, 0) != 0 || app_open_store(a) != 0)
        goto out;
    a->httpc.stub = transport;
    a->httpc.stub_ud = &c;
    /* the files before the bot: a bad one stops the console before anything
     * is sent (or left waiting on the loop) */
    c.replay_max = speed <= 0;
    if (nfiles) {
        char err[1024];
        if (!(c.replay = replay_start(a, files, nfiles, speed, replay_finished, &c, err, sizeof err))) {
            fprintf(stderr, "candlewatch console: %s\n", err);
            rc = 2;
            goto out;
        }
    }
    if (app_diag_quiet(a) != 0 || !(a->lua = lh_new(a, LH_CONSOLE)) || !(a->tg = app_tg_new(a)))
        goto out;
    lh_reload(a->lua, "start");
    if ((rc = lh_sections_verdict(a->lua)) != 0)
        goto out;
    rc = 1;
    lh_bot_attach(a->lua);
    tg_bot_start(a->tg, started, &c);
    c.piped = !isatty(0);
    c.idle_timer = timers_add(&a->timers, app_now_ms(a) + 100, check_idle, &c);
    a->log.level = a->log.level < LOG_WARN ? LOG_WARN : a->log.level;   /* the chat, not the log */
    struct stat st;
    if (fstat(0, &st) == 0 && S_ISREG(st.st_mode)) {
        /* a file: epoll cannot watch one, and it is all there already */
        char buf[4096];
        while (fgets(buf, sizeof buf, stdin)) {
            buf[strcspn(buf, "\r\n")] = '\0';
            take_line(&c, buf);
        }
        c.eof = 1;
    } else {
        uv_pipe_init(&a->loop, &c.in, 0);
        c.in.data = &c;
        if (uv_pipe_open(&c.in, 0) != 0 ||
            uv_read_start((uv_stream_t *)&c.in, on_alloc, on_read) != 0) {
            fprintf(stderr, "candlewatch console: cannot read the standard input\n");
            goto out;
        }
    }
    printf("candlewatch console: you are chatting with the bot, as user %d.\n"
           "Type /start, /preset or /help; press a button by typing its number; Ctrl-D leaves.\n",
           USER_ID);
    if (c.replay) {
        printf("Replaying %zu recorded klines%s: alerts for your presets appear as they fire.\n",
               replay_total(c.replay), speed > 0 ? "" : " as fast as possible");
        demo_preset(&c);
    }
    fflush(stdout);
    uv_run(&a->loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    if (!uv_is_closing((uv_handle_t *)&c.in) && c.in.loop)
        uv_close((uv_handle_t *)&c.in, NULL);
    replay_free(c.replay);
    if (c.poll_timer)
        timers_cancel(&a->timers, c.poll_timer);
    if (c.idle_timer)
        timers_cancel(&a->timers, c.idle_timer);
    app_destroy(a);
    cJSON_Delete(c.pending);
    for (size_t i = 0; i < c.nlines; i++)
        free(c.lines[i]);
    free(c.lines);
    return rc;
}
