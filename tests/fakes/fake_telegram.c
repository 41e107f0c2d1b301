/* fake_telegram: a stand-in for the Telegram Bot API on loopback, for
 * end-to-end tests of the bot.  It answers like api.telegram.org (same
 * JSON shapes, HTTP statuses and error descriptions) and enforces the
 * flood limits, so a bot that misbehaves fails its tests.
 *
 * usage: fake_telegram --port N [--token T] [--rate 30] [--paid-rate 1000]
 *                      [--chat-burst 3] [--group-per-min 20] [--html-lenient]
 *   --port 0 picks a free port; prints "fake_telegram listening on port N".
 *   A limit of 0 switches that limit off.
 *   --token: the only valid token (default 123456:TEST-token).
 *   --html-lenient: accept a bare '&' or '>' in HTML text, as the real
 *     server does; by default they are refused, as the docs demand.
 *   SIGINT/SIGTERM: clean exit, status 0.
 *
 * Bot API: GET/POST /bot<TOKEN>/<method>, parameters from a JSON body, a
 * form body (urlencoded or multipart: sendPhoto's upload) or the query
 * string.  getMe getUpdates sendMessage sendPhoto
 * editMessageText editMessageReplyMarkup deleteMessage answerCallbackQuery
 * setMyCommands getMyCommands deleteMyCommands getChatMember setWebhook
 * deleteWebhook getWebhookInfo.
 *
 * Flood control (sendMessage and sendPhoto only), every limit over sliding windows
 * (each window of that length, wherever it starts): > --rate in a second
 * per bot (allow_paid_broadcast: --paid-rate); per private chat 1 a
 * second with bursts of --chat-burst, as > N in any N seconds (N =
 * --chat-burst); > --group-per-min in a minute per group: 429 "Too Many
 * Requests: retry after S".
 *
 * Test control, same port (JSON in, JSON out):
 *   POST /control/message  {"chat":42,"from":42,"text":"/start",...}
 *   POST /control/callback {"chat":42,"from":42,"data":"x","message_id":7}
 *   POST /control/update   {"my_chat_member":{...}}      (any raw Update)
 *   GET  /control/sent?chat=42&since=K     accepted calls, in order
 *   GET  /control/texts?chat=42            plain text: the visible texts sent
 *                                          or edited into the chat, one a line
 *   GET  /control/chat?chat=42             what the chat shows now
 *   GET  /control/photo?file_id=F          the bytes of a photo sent (image/png)
 *   GET  /control/stats
 *   POST /control/block|unblock|missing {"chat":42}
 *   POST /control/admins {"chat":-100123,"users":[7,8],"creator":7}
 *   POST /control/fail {"status":500,"count":3,"method":"sendMessage"}
 *        {"status":429,"retry_after":5,"count":N} {"hang":true,"count":N}
 *        {"delay_ms":D,"count":N} {"clear":true}
 *        "count":0 disarms the matching faults ({"status":502,"count":0})
 *   POST /control/reset     clears the sent log and the stats
 *
 * One libuv loop, one thread; HTTP/1.1 with keep-alive, one request at a
 * time per connection, so a long poll, a delay or a hang just leaves its
 * connection waiting.
 */
#include "tg_fake.h"

/* (the stand-in's files: tg_http.c, tg_api.c, tg_methods.c, tg_updates.c,
 * tg_chats.c, tg_flood.c, tg_control.c, tg_photos.c, tg_multipart.c;
 * tg_html.c for texts) */

struct tg_state S;

int64_t now_ms(void) { return (int64_t)((uv_hrtime() - S.start_ns) / 1000000); }

int64_t unix_now(void) { return (int64_t)time(NULL); }

char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* ---- start and stop ---- */

static void free_all(void)
{
    for (size_t i = 0; i < S.chats_cap; i++)
        if (S.chats[i])
            chat_free(S.chats[i]);
    free(S.chats);
    for (size_t i = S.upd_head; i < S.upd_n; i++)
        free(S.upd[i].json);
    free(S.upd);
    for (size_t i = 0; i < S.nlog; i++)
        sent_free(&S.log[i]);
    free(S.log);
    photos_free();
    free(S.cbqs);
    free(S.commands);
    free(S.global.t);
    free(S.paid.t);
    free(S.all_sends.t);
    webhook_forget();
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    if (S.stopping)
        return;
    S.stopping = 1;
    /* close everything; uv_run returns once the handles are gone */
    while (S.conns)
        conn_close(S.conns);
    if (S.wh)
        webhook_done(S.wh, -1, "shutting down");
    uv_close((uv_handle_t *)&S.listener, NULL);
    uv_close((uv_handle_t *)&S.wh_retry, NULL);
    uv_close((uv_handle_t *)&S.sigint, NULL);
    uv_close((uv_handle_t *)&S.sigterm, NULL);
}

static int parse_args(int argc, char **argv, int *port)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--html-lenient")) {
            S.html_strict = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "fake_telegram: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (!strcmp(a, "--port")) *port = (int)opt_long(a, v);
        else if (!strcmp(a, "--token")) S.token = v;
        else if (!strcmp(a, "--rate")) S.rate = opt_long(a, v);
        else if (!strcmp(a, "--paid-rate")) S.paid_rate = opt_long(a, v);
        else if (!strcmp(a, "--chat-burst")) S.chat_burst = opt_long(a, v);
        else if (!strcmp(a, "--group-per-min")) S.group_per_min = opt_long(a, v);
        else {
            fprintf(stderr, "usage: fake_telegram --port N [--token T] [--rate 30] [--paid-rate 1000] "
                            "[--chat-burst 3] [--group-per-min 20] [--html-lenient]\n");
            return -1;
        }
    }
    if (*port < 0 || *port > 65535) {
        fprintf(stderr, "fake_telegram: bad --port\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = -1;
    S.token = "123456:TEST-token";
    S.rate = 30;
    S.paid_rate = 1000;
    S.chat_burst = 3;
    S.group_per_min = 20;
    S.html_strict = 1;
    if (parse_args(argc, argv, &port) != 0)
        return 2;
    if (port < 0) {
        fprintf(stderr, "fake_telegram: --port N is required (0: any free port)\n");
        return 2;
    }
    S.bot_id = strtoll(S.token, NULL, 10);
    S.allowed = default_allowed();
    S.start_ns = uv_hrtime();
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&S.loop);
    uv_tcp_init(&S.loop, &S.listener);
    uv_timer_init(&S.loop, &S.wh_retry);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    int rc = uv_tcp_bind(&S.listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&S.listener, 511, on_connection);
    if (rc != 0) {
        fprintf(stderr, "fake_telegram: cannot listen on port %d: %s\n", port, uv_strerror(rc));
        return 1;
    }
    struct sockaddr_in bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&S.listener, (struct sockaddr *)&bound, &blen);
    printf("fake_telegram listening on port %d\n", ntohs(bound.sin_port));
    fflush(stdout);
    uv_signal_init(&S.loop, &S.sigint);
    uv_signal_start(&S.sigint, on_signal, SIGINT);
    uv_signal_init(&S.loop, &S.sigterm);
    uv_signal_start(&S.sigterm, on_signal, SIGTERM);
    uv_run(&S.loop, UV_RUN_DEFAULT);
    uv_loop_close(&S.loop);
    free_all();
    return 0;
}
