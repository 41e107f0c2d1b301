/* Telegram helpers: the token bucket's arithmetic, message text as
 * Telegram counts and renders it, the id map. */
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "tg/answer.h"
#include <cJSON.h>
#include <string.h>
#include "tg/bucket.h"
#include "tg/text.h"
#include "tg/window.h"
#include "util/i64map.h"

/* tg_text_fit: a caption's cut, counted as shown (UTF-16 units). */
static void test_fit(void)
{
    char *s = tg_text_fit("<b>bold</b> &amp; more", 1, 13);
    is_str(s, "<b>bold</b> &amp; more", "HTML that fits as shown is kept, tags and all");
    free(s);
    s = tg_text_fit("<b>bold</b> &amp; more", 1, 8);
    is_str(s, "bold &amp; …", "cut: its shown text, escaped again, 8 characters with the …");
    free(s);
    s = tg_text_fit("a<b>c", 0, 4);
    is_str(s, "a<b…", "plain text is cut as it is");
    free(s);
    s = tg_text_fit("\xF0\x9F\x98\x80\xF0\x9F\x98\x80x", 0, 4);   /* two emoji: 4 units */
    is_str(s, "\xF0\x9F\x98\x80\xE2\x80\xA6", "an emoji counts two, and is never split");
    free(s);
    s = tg_text_fit("", 1, 1024);
    is_str(s, "", "empty stays empty");
    free(s);
}

int main(void)
{
    /* 30/s, burst 1: the first send now, the next after 1/30 s */
    struct bucket b;
    bucket_init(&b, 30, 1, 1000);
    ok(bucket_take(&b, 1000), "a full bucket gives a token");
    ok(!bucket_take(&b, 1000), "burst 1: not a second one at once");
    uint64_t w = bucket_wait_ms(&b, 1000);
    ok(w >= 33 && w <= 35, "the next token comes after 1/30 s (wait %llu ms)", (unsigned long long)w);
    ok(!bucket_take(&b, 1000 + w - 2), "not before that");
    ok(bucket_take(&b, 1000 + w), "and is there then");
    /* in any second, no more than burst + rate: count sends over 10 s */
    bucket_init(&b, 30, 1, 0);
    int max_in_window = 0, sends[20000], n = 0;
    for (uint64_t t = 0; t < 10000; t++)
        while (bucket_take(&b, t))
            sends[n++] = (int)t;
    for (int i = 0, j = 0; i < n; i++) {
        while (sends[i] - sends[j] >= 1000)
            j++;
        if (i - j + 1 > max_in_window)
            max_in_window = i - j + 1;
    }
    ok(max_in_window <= 30, "no sliding second holds more than 30 sends (%d)", max_in_window);
    ok(n >= 299 && n <= 301, "10 s at 30/s is 300 sends (%d)", n);
    bucket_init(&b, 1, 2, 0);
    ok(bucket_take(&b, 0) && bucket_take(&b, 0) && !bucket_take(&b, 0), "burst 2 allows two at once");
    ok(!bucket_take(&b, 999) && bucket_take(&b, 1000), "then one a second");

    /* a sliding window: 3 in any 3 s, whatever the pattern of tries */
    struct swin sw;
    ok(swin_init(&sw, 3, 3000) == 0, "a window of 3 in 3 s");
    ok(!swin_wait_ms(&sw, 5000), "empty: a send at once");
    swin_note(&sw, 5000);
    swin_note(&sw, 5000);
    swin_note(&sw, 5100);
    is_int((long long)swin_wait_ms(&sw, 5100), 2900, "the fourth waits until the first leaves");
    ok(!swin_wait_ms(&sw, 8000), "and goes when it has");
    int times[64], nt = 0, most = 0;
    for (uint64_t t = 10000; t < 40000; t += 7)
        if (!swin_wait_ms(&sw, t) && (t % 3 || t % 5 == 0)) {
            swin_note(&sw, t);
            times[nt++] = (int)t;
        }
    for (int i = 0; i < nt; i++) {
        int k = 0;
        for (int j = i; j < nt; j++)
            k += times[j] - times[i] < 3000;
        most = k > most ? k : most;
    }
    is_int(most, 3, "no window of 3 s holds more than 3 sends");
    ok(nt >= 28, "and it lets through about 3 every 3 s (%d in 30 s)", nt);
    swin_free(&sw);

    is_int(tg_text_chars("héllo €"), 7, "characters, not bytes");
    is_int(tg_text_chars("up 🚀"), 5, "an emoji counts two, as UTF-16 does");
    /* names must read as they show */
    is_int(tg_text_invisible("Majors 3% 🚀 héllo"), 0, "plain text, emoji and accents: none");
    is_int(tg_text_invisible("\u202Eevil"), 0x202E, "a right-to-left override");
    is_int(tg_text_invisible("a\u200Bb"), 0x200B, "a zero-width space");
    is_int(tg_text_invisible("x\u2066y"), 0x2066, "a bidi isolate");
    is_int(tg_text_invisible("\uFEFFx"), 0xFEFF, "a byte-order mark");
    is_int(tg_text_invisible("tag\U000E0041"), 0xE0041, "a tag character");
    is_int(tg_text_invisible("\x7Fx"), 0x7F, "DEL");
    is_int(tg_text_invisible("\xC2\x85x"), 0x85, "a C1 control");
    is_int(tg_text_invisible("a\tb"), 9, "a tab");
    is_int(tg_text_invisible("👨\u200D👩\u200D👧 \u0645\u06CC\u200C\u062E"), 0,
           "the joiners emoji and Persian need are fine");
    char *p = tg_text_plain("<b>BTC</b> &lt;3 &amp; &#36;5 &#x20AC; &bogus; <a href=\"x\">link</a> 1 < 2");
    is_str(p, "BTC <3 & $5 € &bogus; link 1 < 2", "HTML to the text it shows");
    free(p);
    p = tg_text_plain("unclosed <b");
    is_str(p, "unclosed <b", "a lone '<' is kept");
    free(p);

    struct i64map m = {0};
    int vals[3000];
    int fine = 1;
    for (int i = 0; i < 3000; i++)
        fine &= i64map_put(&m, (int64_t)i * -1000003, &vals[i]) == 0;
    for (int i = 0; i < 3000; i++)
        fine &= i64map_get(&m, (int64_t)i * -1000003) == &vals[i];
    ok(fine, "3,000 chat ids (negative too) map to their values across growth");
    ok(i64map_get(&m, 42) == NULL, "an absent id maps to nothing");
    is_int(m.n, 3000, "and are counted once");
    i64map_put(&m, 0, &vals[1]);
    is_int(m.n, 3000, "replacing does not add");
    fine = 1;
    for (int i = 0; i < 3000; i += 2)
        fine &= i64map_del(&m, (int64_t)i * -1000003) == (i ? &vals[i] : &vals[1]);
    for (int i = 0; i < 3000; i++)
        fine &= i64map_get(&m, (int64_t)i * -1000003) == (i % 2 ? &vals[i] : NULL);
    ok(fine, "removing every other id leaves the rest reachable");
    is_int(m.n, 1500, "and counted");
    ok(i64map_del(&m, 0) == NULL, "removing an absent id finds nothing");
    i64map_free(&m);

    /* Bot API answers, including hostile numbers (a cast of 1e300 to long
     * was undefined behaviour before the values were clamped) */
    struct tg_result r;
    const char *a429 = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: "
                       "retry after 7\",\"parameters\":{\"retry_after\":7}}";
    cJSON *j = tg_answer_parse(429, a429, strlen(a429), &r);
    ok(r.outcome == TG_RETRY_AFTER && r.retry_after == 7, "a 429 with retry_after 7");
    cJSON_Delete(j);
    const char *huge = "{\"ok\":false,\"error_code\":1e300,\"parameters\":{\"retry_after\":-1e300}}";
    j = tg_answer_parse(400, huge, strlen(huge), &r);
    ok(r.outcome == TG_TRANSIENT && r.retry_after == 0, "absurd numbers are clamped, not cast");
    cJSON_Delete(j);
    const char *ra = "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":1e300}}";
    j = tg_answer_parse(429, ra, strlen(ra), &r);
    ok(r.outcome == TG_RETRY_AFTER && r.retry_after == 86400 * 365, "a huge retry_after is capped");
    cJSON_Delete(j);
    j = tg_answer_parse(502, "<html>Bad Gateway</html>", 24, &r);
    ok(r.outcome == TG_TRANSIENT && j == NULL, "a proxy's page is transient");
    const char *okb = "{\"ok\":true,\"result\":{\"message_id\":5}}";
    j = tg_answer_parse(200, okb, strlen(okb), &r);
    ok(r.outcome == TG_OK && cJSON_IsObject(r.result), "ok, with the result");
    cJSON_Delete(j);
    char esc[16];
    tg_text_escape(esc, sizeof esc, "a<b & c>d");
    is_str(esc, "a&lt;b &amp; c", "escaped, cut short before an entity that would not fit");
    tg_text_escape(esc, sizeof esc, "x<y");
    is_str(esc, "x&lt;y", "escaped");
    char line[16];
    tg_text_line(line, sizeof line, "\n  Gas < 8\nsecond line", 50);
    is_str(line, "Gas &lt; 8", "a line: the first, escaped, leading blanks skipped");
    tg_text_line(line, sizeof line, "abcdefghijklmno", 50);
    is_str(line, "abcdefghijklmno", "a line that fits exactly is not cut");
    tg_text_line(line, sizeof line, "abcdefghijklmnop", 50);
    is_str(line, "abcdefghijkl…", "a longer one is cut, with room for the …");
    tg_text_line(line, sizeof line, "abcdefghij", 4);
    is_str(line, "abcd…", "cut to at most max_chars characters");
    tg_text_line(line, sizeof line, "ab&cdefghijklmnop", 50);
    is_str(line, "ab&amp;cdefg…", "never inside an entity");
    tg_text_line(line, sizeof line, "Привет, мир!", 50);
    is_str(line, "Привет…", "never inside a character");
    tg_text_line(line, sizeof line, "\xF0\x9F", 50);
    is_str(line, "\xF0\x9F", "a character cut short is kept as it is, no further");
    tg_text_line(line, sizeof line, " \n ", 50);
    is_str(line, "", "no line: empty");
    test_fit();
    return done();
}
