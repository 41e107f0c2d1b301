/* tg_updates.c: the stand-in Telegram's updates: the queue, getUpdates
 * with long polling, and delivery to a webhook. */
#include "tg_fake.h"

static const char *const update_types[] = {
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "message_reaction",
    "message_reaction_count", "inline_query", "chosen_inline_result", "callback_query",
    "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
    "my_chat_member", "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost"};
#define NTYPES ((int)(sizeof update_types / sizeof update_types[0]))

/* ---- updates ---- */

static int type_index(const char *t)
{
    for (int i = 0; i < NTYPES; i++)
        if (!strcmp(update_types[i], t))
            return i;
    return -1;
}

uint32_t default_allowed(void)
{
    uint32_t all = (uint32_t)((1ULL << NTYPES) - 1);
    return all & ~(1u << type_index("chat_member")) & ~(1u << type_index("message_reaction")) &
           ~(1u << type_index("message_reaction_count"));
}

/* allowed_updates: [] = the default set, omitted = keep the previous one.
 * 0, or -1 when answered with an error. */
static int take_allowed(struct call *k)
{
    int bad;
    cJSON *a = p_json(k->p, "allowed_updates", &bad), *t;
    if (bad || (a && !cJSON_IsArray(a))) {
        fail(k, 400, "Bad Request: can't parse allowed updates JSON array");
        return -1;
    }
    if (!a)
        return 0;
    uint32_t mask = 0;
    cJSON_ArrayForEach(t, a) {
        int i = cJSON_IsString(t) ? type_index(t->valuestring) : -1;
        if (i >= 0)   /* unknown names are ignored, as Telegram does */
            mask |= 1u << i;
    }
    S.allowed = mask ? mask : default_allowed();
    return 0;
}

static void confirm_head(void)
{
    struct update *u = &S.upd[S.upd_head++];
    S.confirmed_id = u->id;
    free(u->json);
    u->json = NULL;
}

static void drop_pending(void)
{
    while (S.upd_head < S.upd_n)
        confirm_head();
}

size_t pending_count(void) { return S.upd_n - S.upd_head; }

/* {"ok":true,"result":[<up to limit pending updates>]} */
static char *updates_body(int limit)
{
    struct buf b = {0};
    buf_str(&b, "{\"ok\":true,\"result\":[");
    for (size_t i = S.upd_head; i < S.upd_n && (int)(i - S.upd_head) < limit; i++) {
        if (i > S.upd_head)
            buf_str(&b, ",");
        buf_str(&b, S.upd[i].json);
    }
    buf_str(&b, "]}");
    return b.p;
}

static void poll_stop(struct conn *c)
{
    uv_timer_stop(&c->timer);
    if (S.poll == c)
        S.poll = NULL;
}

/* Answers the held getUpdates (if any) with what is pending now. */
static void poll_answer(void)
{
    struct conn *c = S.poll;
    if (!c)
        return;
    poll_stop(c);
    char *body = updates_body(c->poll_limit);
    respond(c, 200, body, 1);
    free(body);
}

static void poll_fail(const char *description)
{
    struct conn *c = S.poll;
    if (!c)
        return;
    poll_stop(c);
    S.conflicts++;
    char *body = error_body(409, description, 0);
    respond(c, 409, body, 1);
    free(body);
}

static void on_poll_timeout(uv_timer_t *t)
{
    if (S.poll == t->data)
        poll_answer();   /* nothing came: [] */
}

static const char webhook_conflict[] =
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

void m_get_updates(struct call *k)
{
    S.get_updates++;
    if (S.wh_url) {
        S.conflicts++;
        fail(k, 409, "%s", webhook_conflict);
        return;
    }
    /* a newer getUpdates ends the one still waiting */
    poll_fail("Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
    int64_t offset = 0, limit = 100, timeout = 0;
    if (p_int(k->p, "offset", &offset) < 0 || p_int(k->p, "limit", &limit) < 0 ||
        p_int(k->p, "timeout", &timeout) < 0) {
        fail(k, 400, "Bad Request: wrong parameter type");
        return;
    }
    if (take_allowed(k) != 0)
        return;
    if (offset < 0) {   /* -N: only the last N are kept */
        size_t keep = offset < -1000000 ? 1000000 : (size_t)-offset;   /* no overflow on INT64_MIN */
        while (pending_count() > keep)
            confirm_head();
    } else {
        while (S.upd_head < S.upd_n && S.upd[S.upd_head].id < offset)
            confirm_head();
    }
    limit = limit < 1 ? 1 : limit > 100 ? 100 : limit;
    if (pending_count() == 0 && timeout > 0) {
        struct conn *c = k->c;
        c->state = C_POLL;
        c->poll_limit = (int)limit;
        S.poll = c;
        uv_timer_start(&c->timer, on_poll_timeout, (uint64_t)(timeout > 86400 ? 86400 : timeout) * 1000, 0);
        return;
    }
    char *body = updates_body((int)limit);
    respond(k->c, 200, body, 0);
    free(body);
}

static void webhook_kick(void);

/* Adds an Update: {"update_id":N, type: obj}.  Takes obj.  Types the bot
 * did not ask for are dropped when created, as Telegram does. */
int64_t push_update(const char *type, cJSON *obj, int *dropped)
{
    int64_t id = ++S.last_update_id;
    int ti = type_index(type);
    *dropped = ti >= 0 && !(S.allowed & (1u << ti));
    if (*dropped) {
        S.filtered++;
        cJSON_Delete(obj);
        return id;
    }
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "update_id", (double)id);
    cJSON_AddItemToObject(u, type, obj);
    if (S.upd_n == S.upd_cap) {
        S.upd_cap = S.upd_cap ? S.upd_cap * 2 : 64;
        S.upd = realloc(S.upd, S.upd_cap * sizeof *S.upd);
    }
    S.upd[S.upd_n++] = (struct update){.id = id, .json = cJSON_PrintUnformatted(u)};
    cJSON_Delete(u);
    poll_answer();
    webhook_kick();
    return id;
}

/* ---- webhook ---- */

static void on_webhook_closed(uv_handle_t *h)
{
    struct webhook_post *w = h->data;
    if (--w->handles == 0) {
        free(w->out);
        free(w->in.p);
        free(w);
    }
}

static void on_webhook_retry(uv_timer_t *t)
{
    (void)t;
    webhook_kick();
}

/* Ends the delivery: 2xx confirms the update, anything else is retried
 * in a second, up to WEBHOOK_ATTEMPTS times. */
void webhook_done(struct webhook_post *w, int status, const char *why)
{
    if (w->done)
        return;
    w->done = 1;
    S.wh = NULL;
    uv_close((uv_handle_t *)&w->tcp, on_webhook_closed);
    uv_close((uv_handle_t *)&w->timer, on_webhook_closed);
    struct update *head = S.upd_head < S.upd_n ? &S.upd[S.upd_head] : NULL;
    if (head && head->id != w->update_id)
        head = NULL;   /* dropped meanwhile */
    if (status >= 200 && status < 300) {
        if (head)
            confirm_head();
        webhook_kick();
        return;
    }
    S.webhook_rejected++;
    S.wh_error_date = unix_now();
    if (status > 0)
        snprintf(S.wh_error, sizeof S.wh_error, "Wrong response from the webhook: %d %s", status, reason(status));
    else
        snprintf(S.wh_error, sizeof S.wh_error, "%s", why);
    if (head && ++head->attempts >= WEBHOOK_ATTEMPTS)
        confirm_head();   /* given up */
    uv_timer_start(&S.wh_retry, on_webhook_retry, 1000, 0);
}

/* The status code once the whole answer is in (or the peer closed). */
static int webhook_status(const struct buf *in, int eof)
{
    if (in->n < 12 || strncmp(in->p, "HTTP/1.", 7))
        return eof || in->n >= 12 ? -1 : 0;
    int status = atoi(in->p + 9);
    const char *end = strstr(in->p, "\r\n\r\n");
    if (!end)
        return eof ? status : 0;
    const char *cl = strcasestr(in->p, "\r\ncontent-length:");
    if (cl && cl < end) {
        size_t need = (size_t)(end + 4 - in->p) + (size_t)atol(cl + 17);
        return in->n >= need || eof ? status : 0;
    }
    if (strcasestr(in->p, "chunked"))
        return strstr(end, "\r\n0\r\n") || !strncmp(end + 4, "0\r\n", 3) || eof ? status : 0;
    return eof ? status : 0;
}

static void on_webhook_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct webhook_post *w = s->data;
    if (nread > 0 && w->in.n < 65536)
        buf_add(&w->in, b->base, (size_t)nread);
    free(b->base);
    if (nread == 0 || w->done)
        return;
    int status = webhook_status(&w->in, nread < 0);
    if (status < 0)
        webhook_done(w, -1, "Wrong response from the webhook: not HTTP");
    else if (status > 0)
        webhook_done(w, status, NULL);
    else if (nread < 0)
        webhook_done(w, -1, "Connection closed by the webhook");
}

static void on_webhook_written(uv_write_t *req, int status)
{
    struct webhook_post *w = req->data;
    if (status < 0)
        webhook_done(w, -1, "Connection reset by the webhook");
}

static void on_webhook_connect(uv_connect_t *req, int status)
{
    struct webhook_post *w = req->data;
    if (w->done)
        return;
    if (status < 0) {
        webhook_done(w, -1, "Connection refused");
        return;
    }
    uv_buf_t b = uv_buf_init(w->out, (unsigned)strlen(w->out));
    w->wreq.data = w;
    uv_write(&w->wreq, (uv_stream_t *)&w->tcp, &b, 1, on_webhook_written);
    uv_read_start((uv_stream_t *)&w->tcp, on_alloc, on_webhook_read);
}

static void on_webhook_timeout(uv_timer_t *t)
{
    webhook_done(t->data, -1, "Read timeout expired");
}

static int webhook_addr(struct sockaddr_storage *sa)
{
    if (strchr(S.wh_host, ':'))
        return uv_ip6_addr(S.wh_host, S.wh_port, (struct sockaddr_in6 *)sa);
    return uv_ip4_addr(S.wh_host, S.wh_port, (struct sockaddr_in *)sa);
}

/* Posts the oldest pending update, if a webhook is set and nothing is
 * under way (one at a time keeps them in order). */
static void webhook_kick(void)
{
    if (!S.wh_url || S.wh || uv_is_active((uv_handle_t *)&S.wh_retry) || !pending_count())
        return;
    struct update *u = &S.upd[S.upd_head];
    struct webhook_post *w = calloc(1, sizeof *w);
    struct buf out = {0};
    char head[1024];
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n",
             S.wh_path, S.wh_host, S.wh_port, strlen(u->json));
    buf_str(&out, head);
    if (S.wh_secret) {
        buf_str(&out, "X-Telegram-Bot-Api-Secret-Token: ");
        buf_str(&out, S.wh_secret);
        buf_str(&out, "\r\n");
    }
    buf_str(&out, "\r\n");
    buf_str(&out, u->json);
    w->out = out.p;
    w->update_id = u->id;
    w->handles = 2;
    uv_tcp_init(&S.loop, &w->tcp);
    uv_timer_init(&S.loop, &w->timer);
    w->tcp.data = w->timer.data = w->creq.data = w;
    S.wh = w;
    S.webhook_posts++;
    uv_timer_start(&w->timer, on_webhook_timeout, WEBHOOK_TIMEOUT_MS, 0);
    struct sockaddr_storage sa;
    if (webhook_addr(&sa) != 0 ||
        uv_tcp_connect(&w->creq, &w->tcp, (struct sockaddr *)&sa, on_webhook_connect) != 0)
        webhook_done(w, -1, "Failed to connect");
}

/* http://host[:port][/path] on loopback only: nothing leaves the machine.
 * 0, or -1 with *why. */
static int parse_webhook_url(const char *url, char **host, int *port, char **path, const char **why)
{
    if (strncmp(url, "http://", 7)) {
        *why = "Bad Request: bad webhook: fake_telegram delivers to http://127.0.0.1 (loopback) only";
        return -1;
    }
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    char hp[256];
    if (hl == 0 || hl >= sizeof hp) {
        *why = "Bad Request: bad webhook: Webhook URL is invalid";
        return -1;
    }
    memcpy(hp, h, hl);
    hp[hl] = '\0';
    char *colon = hp[0] == '[' ? strstr(hp, "]:") : strrchr(hp, ':');
    *port = 80;
    if (colon) {
        if (hp[0] == '[')
            colon++;
        *colon = '\0';
        *port = atoi(colon + 1);
    }
    char *name = hp;
    if (name[0] == '[') {
        name++;
        char *rb = strchr(name, ']');
        if (rb)
            *rb = '\0';
    }
    if (!strcmp(name, "localhost"))
        name = "127.0.0.1";
    unsigned char a[16];
    int loop4 = inet_pton(AF_INET, name, a) == 1 && a[0] == 127;
    int loop6 = !loop4 && !strcmp(name, "::1");
    if ((!loop4 && !loop6) || *port <= 0 || *port > 65535) {
        *why = "Bad Request: bad webhook: fake_telegram delivers to http://127.0.0.1 (loopback) only";
        return -1;
    }
    *host = strdup(name);
    *path = strdup(slash ? slash : "/");
    return 0;
}

static int secret_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 256)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

void webhook_forget(void)
{
    free(S.wh_url);
    free(S.wh_secret);
    free(S.wh_host);
    free(S.wh_path);
    S.wh_url = S.wh_secret = S.wh_host = S.wh_path = NULL;
}

static void webhook_clear(void)
{
    webhook_forget();
    uv_timer_stop(&S.wh_retry);
}

void m_delete_webhook(struct call *k)
{
    int had = S.wh_url != NULL;
    webhook_clear();
    if (p_bool(k->p, "drop_pending_updates"))
        drop_pending();
    ok(k, cJSON_CreateTrue(), had ? "Webhook was deleted" : "Webhook is already deleted");
}

void m_set_webhook(struct call *k)
{
    const char *url = p_str(k->p, "url"), *secret = p_str(k->p, "secret_token"), *why = NULL;
    if (!url || !*url) {
        m_delete_webhook(k);
        return;
    }
    if (secret && *secret && !secret_ok(secret)) {
        fail(k, 400, "Bad Request: secret token contains unallowed characters");
        return;
    }
    char *host, *path;
    int port;
    if (parse_webhook_url(url, &host, &port, &path, &why) != 0) {
        fail(k, 400, "%s", why);
        return;
    }
    if (take_allowed(k) != 0) {
        free(host);
        free(path);
        return;
    }
    int same = S.wh_url && !strcmp(S.wh_url, url);
    webhook_clear();
    if (!same)
        S.wh_error_date = 0;   /* a new URL starts without errors */
    S.wh_url = strdup(url);
    S.wh_secret = secret && *secret ? strdup(secret) : NULL;
    S.wh_host = host;
    S.wh_path = path;
    S.wh_port = port;
    int64_t mc = 40;
    if (p_int(k->p, "max_connections", &mc) == 1)
        S.wh_max_conn = (int)(mc < 1 ? 1 : mc > 100 ? 100 : mc);
    else
        S.wh_max_conn = 40;
    if (p_bool(k->p, "drop_pending_updates"))
        drop_pending();
    poll_fail(webhook_conflict);
    ok(k, cJSON_CreateTrue(), same ? "Webhook is already set" : "Webhook was set");
    webhook_kick();
}

void m_webhook_info(struct call *k)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "url", S.wh_url ? S.wh_url : "");
    cJSON_AddBoolToObject(r, "has_custom_certificate", 0);
    cJSON_AddNumberToObject(r, "pending_update_count", (double)pending_count());
    if (S.wh_url) {
        cJSON_AddNumberToObject(r, "max_connections", S.wh_max_conn);
        cJSON_AddStringToObject(r, "ip_address", S.wh_host);
        if (S.wh_error_date) {
            cJSON_AddNumberToObject(r, "last_error_date", (double)S.wh_error_date);
            cJSON_AddStringToObject(r, "last_error_message", S.wh_error);
        }
    }
    ok(k, r, NULL);
}
