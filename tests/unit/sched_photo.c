/* Photos through the delivery scheduler, in-process: a fake Bot API
 * behind tg_sched_set_call answers each send after 20 ms of simulated
 * time with a Message holding two photo sizes.  What an upload carries
 * (multipart parts), what on_sent is told (the largest size's file_id, or
 * NULL when given up), the key's file_id reused for other chats, the
 * bytes uploaded again when a file_id is refused, and what is refused. */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "loop/rt.h"
#include "tap.h"
#include "tg/sched.h"

#define MAX_CALLS 64
#define LATENCY_MS 20

static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13};

struct call {
    uint64_t at;
    int64_t chat;
    int upload;                  /* multipart, with the file */
    char photo[64];              /* by file_id: the id */
    char caption[1100], filename[32], type[32], parse_mode[16];
    size_t file_len;
    tg_api_cb cb;
    void *cb_ud;
    int answered;
};

static struct {
    uint64_t now;
    struct call calls[MAX_CALLS];
    int n;
    enum tg_outcome next_outcome;   /* the next answer's (then TG_OK) */
    int uploads;
} fk;

static uint64_t sim_now(void *clock)
{
    (void)clock;
    return fk.now;
}

static int64_t sim_wall(void *clock)
{
    (void)clock;
    return 1700000000000 + (int64_t)fk.now;
}

static void take_part(struct call *c, const struct httpc_part *p)
{
    char v[1100];
    snprintf(v, sizeof v, "%.*s", (int)(p->len < sizeof v - 1 ? p->len : sizeof v - 1), p->data);
    if (p->filename) {
        c->upload = 1;
        c->file_len = p->len;
        snprintf(c->filename, sizeof c->filename, "%s", p->filename);
        snprintf(c->type, sizeof c->type, "%s", p->type ? p->type : "");
    } else if (!strcmp(p->name, "chat_id")) {
        c->chat = strtoll(v, NULL, 10);
    } else if (!strcmp(p->name, "caption")) {
        snprintf(c->caption, sizeof c->caption, "%s", v);
    } else if (!strcmp(p->name, "parse_mode")) {
        snprintf(c->parse_mode, sizeof c->parse_mode, "%.15s", v);
    }
}

static void take_json(struct call *c, const char *body)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *chat = cJSON_GetObjectItemCaseSensitive(j, "chat_id");
    const cJSON *photo = cJSON_GetObjectItemCaseSensitive(j, "photo");
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(j, "caption");
    c->chat = cJSON_IsNumber(chat) ? (int64_t)chat->valuedouble : 0;
    snprintf(c->photo, sizeof c->photo, "%s", cJSON_IsString(photo) ? photo->valuestring : "");
    snprintf(c->caption, sizeof c->caption, "%s", cJSON_IsString(cap) ? cap->valuestring : "");
    cJSON_Delete(j);
}

static uint64_t fake_call(void *ud, const char *method, const char *body,
                          const struct httpc_part *parts, int nparts, long timeout_ms,
                          tg_api_cb cb, void *cb_ud)
{
    (void)ud;
    (void)timeout_ms;
    (void)method;
    if (fk.n == MAX_CALLS)
        abort();
    struct call *c = &fk.calls[fk.n++];
    memset(c, 0, sizeof *c);
    c->at = fk.now;
    for (int i = 0; i < nparts; i++)
        take_part(c, &parts[i]);
    if (!parts)
        take_json(c, body);
    c->cb = cb;
    c->cb_ud = cb_ud;
    return (uint64_t)fk.n;
}

/* A Message with the photo in two sizes, the larger first (Telegram lists
 * them smallest first: the scheduler must not rely on the order). */
static cJSON *photo_message(const struct call *c)
{
    char id[64], thumb[72];
    if (c->upload)
        snprintf(id, sizeof id, "file-%d", ++fk.uploads);
    else
        snprintf(id, sizeof id, "%s", c->photo);
    snprintf(thumb, sizeof thumb, "%s-small", id);
    cJSON *m = cJSON_CreateObject(), *sizes = cJSON_AddArrayToObject(m, "photo");
    const char *ids[2] = {id, thumb};
    for (int i = 0; i < 2; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "file_id", ids[i]);
        cJSON_AddNumberToObject(s, "width", i ? 90 : 800);
        cJSON_AddNumberToObject(s, "height", i ? 56 : 500);
        cJSON_AddItemToArray(sizes, s);
    }
    return m;
}

static void answer_due(void)
{
    for (int i = 0; i < fk.n; i++) {
        struct call *c = &fk.calls[i];
        if (c->answered || c->at + LATENCY_MS > fk.now)
            continue;
        c->answered = 1;
        struct tg_result r = {.outcome = fk.next_outcome, .status = 200};
        fk.next_outcome = TG_OK;
        cJSON *m = r.outcome == TG_OK ? photo_message(c) : NULL;
        r.result = m;
        if (r.outcome != TG_OK)
            snprintf(r.description, sizeof r.description, "fake: %s", tg_outcome_name(r.outcome));
        c->cb(c->cb_ud, &r);
        cJSON_Delete(m);
    }
}

static struct timers ts;
static struct logger lg;
static struct config cfg;
static struct rt rt = {.timers = &ts, .log = &lg, .now = sim_now, .wall = sim_wall};

static void advance(uint64_t ms)
{
    for (uint64_t end = fk.now + ms; fk.now < end;) {
        fk.now++;
        answer_due();
        timers_run_due(&ts, fk.now);
    }
}

static struct tg_sched *fresh(void)
{
    memset(&fk, 0, sizeof fk);
    fk.now = 1000;
    struct tg_sched *s = tg_sched_new(&rt, &cfg, NULL, NULL);
    tg_sched_set_call(s, fake_call, NULL);
    return s;
}

/* on_sent's reports */
static char sent_ids[8][64];
static int nsent;

static void on_sent(void *ud, const char *file_id)
{
    (void)ud;
    snprintf(sent_ids[nsent++ % 8], sizeof sent_ids[0], "%s", file_id ? file_id : "(null)");
}

static void test_upload(void)
{
    struct tg_sched *s = fresh();
    nsent = 0;
    struct tg_photo p = {.bytes = PNG, .len = sizeof PNG, .caption = "<b>BTC</b>",
                         .params = "{\"parse_mode\":\"HTML\"}", .key = "k1", .on_sent = on_sent};
    is_int(tg_sched_photo(s, NULL, 42, &p), 0, "a photo is queued");
    advance(100);
    struct call *c = &fk.calls[0];
    ok(fk.n == 1 && c->upload, "its bytes go up as a multipart file part");
    is_int((int)c->file_len, (int)sizeof PNG, "all of them");
    is_str(c->filename, "chart.png", "named chart.png");
    is_str(c->type, "image/png", "as image/png");
    is_int((int)c->chat, 42, "with chat_id as a field");
    is_str(c->caption, "<b>BTC</b>", "and the caption");
    is_str(c->parse_mode, "HTML", "and the parameters (parse_mode)");
    is_int(nsent, 1, "on_sent runs once");
    is_str(sent_ids[0], "file-1", "with the largest size's file_id");
    is_str(tg_sched_photo_id(s, "k1"), "file-1", "which the key remembers");
    p.on_sent = NULL;
    tg_sched_photo(s, NULL, 43, &p);
    advance(100);
    ok(fk.n == 2 && !fk.calls[1].upload, "the same key for another chat: no upload");
    is_str(fk.calls[1].photo, "file-1", "but the file_id");
    p.bytes = NULL;
    tg_sched_photo(s, NULL, 44, &p);
    advance(100);
    is_str(fk.calls[2].photo, "file-1", "the key alone works once it is known");
    advance(100);
    tg_sched_free(s);
}

static void test_refused(void)
{
    struct tg_sched *s = fresh();
    nsent = 0;
    struct tg_photo p = {.bytes = PNG, .len = sizeof PNG, .file_id = "stale", .on_sent = on_sent};
    tg_sched_photo(s, NULL, 50, &p);
    fk.next_outcome = TG_BAD_REQUEST;
    advance(200);
    ok(fk.n == 2 && !fk.calls[0].upload && fk.calls[1].upload,
       "a refused file_id: the bytes are uploaded instead");
    is_str(sent_ids[0], "file-1", "and on_sent hears of the upload's file_id");
    struct tg_photo q = {.file_id = "stale", .on_sent = on_sent};
    tg_sched_photo(s, NULL, 51, &q);
    fk.next_outcome = TG_BAD_REQUEST;
    advance(200);
    is_int(fk.n, 3, "without bytes it is not tried again");
    is_str(sent_ids[1], "(null)", "and on_sent is told it was not delivered (NULL)");
    tg_sched_photo(s, NULL, 52, &q);
    fk.next_outcome = TG_GONE;
    advance(200);
    is_str(sent_ids[2], "(null)", "a blocked chat: NULL too");
    tg_sched_photo(s, NULL, 53, &q);
    tg_sched_free(s);
    is_str(sent_ids[3], "(null)", "and a photo still waiting when the scheduler is freed");
}

static void test_refusals(void)
{
    struct tg_sched *s = fresh();
    static const unsigned char gif[] = "GIF89a....";
    struct tg_photo p = {.bytes = gif, .len = sizeof gif};
    is_int(tg_sched_photo(s, NULL, 1, &p), -3, "bytes that are not a PNG or JPEG: -3");
    unsigned char *big = calloc(1, TG_PHOTO_MAX + 1);
    memcpy(big, PNG, sizeof PNG);
    p = (struct tg_photo){.bytes = big, .len = TG_PHOTO_MAX + 1};
    is_int(tg_sched_photo(s, NULL, 1, &p), -3, "over 10 MB: -3");
    p.len = TG_PHOTO_MAX;
    is_int(tg_sched_photo(s, NULL, 1, &p), 0, "10 MB exactly: queued");
    free(big);
    p = (struct tg_photo){.key = "unknown"};
    is_int(tg_sched_photo(s, NULL, 1, &p), -3, "a key without a file_id, and no bytes: -3");
    char key[TG_PHOTO_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    p = (struct tg_photo){.file_id = "x", .key = key};
    is_int(tg_sched_photo(s, NULL, 1, &p), -3, "a key over 128 bytes: -3");
    tg_sched_deactivate(s, 9, "test");
    p = (struct tg_photo){.file_id = "x"};
    is_int(tg_sched_photo(s, NULL, 9, &p), -2, "an inactive chat: -2");
    advance(100);
    tg_sched_free(s);
}

static void test_caption(void)
{
    struct tg_sched *s = fresh();
    char cap[1200];
    snprintf(cap, sizeof cap, "<b>");
    for (int i = 0; i < 1100; i++)
        strcat(cap, "a");
    strcat(cap, "</b>");
    struct tg_photo p = {.file_id = "id", .caption = cap, .params = "{\"parse_mode\":\"HTML\"}"};
    tg_sched_photo(s, NULL, 60, &p);
    advance(100);
    const char *got = fk.calls[0].caption;
    ok(!strchr(got, '<'), "a caption over 1,024 characters loses its tags");
    is_int((int)strlen(got), 1023 + 3, "and is cut to 1,023 characters and a …");
    p.caption = "<b>short</b>";
    tg_sched_photo(s, NULL, 61, &p);
    advance(100);
    is_str(fk.calls[1].caption, "<b>short</b>", "a short one is kept as it is");
    tg_sched_free(s);
}

int main(void)
{
    timers_init(&ts);
    log_init(&lg);
    lg.out = NULL;   /* quiet: the test looks at what was sent */
    config_defaults(&cfg);
    test_upload();
    test_refused();
    test_refusals();
    test_caption();
    timers_free(&ts);
    return done();
}
