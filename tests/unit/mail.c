/* The e-mail diagnostics' text: Telegram HTML to plain text, and Subject
 * headers that stay within RFC 2047's encoded words. */
#include <stdlib.h>
#include <string.h>

#include "ops/mail.h"
#include "tap.h"

static size_t unbase64(char *out, const char *in, long len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    unsigned v = 0;
    int bits = 0;
    for (long i = 0; i < len && in[i] != '='; i++) {
        v = v << 6 | (unsigned)(strchr(abc, in[i]) - abc);
        if ((bits += 6) >= 8)
            out[k++] = (char)(v >> (bits -= 8) & 0xFF);
    }
    return k;
}

int main(void)
{
    char out[512];
    mail_plain(out, sizeof out, "⚠️ <b>Database</b>: disk &lt;full&gt; &amp; &quot;stuck&quot;");
    is_str(out, "⚠️ Database: disk <full> & \"stuck\"", "tags dropped, entities decoded");
    mail_plain(out, sizeof out, "a <b unclosed");
    is_str(out, "a ", "an unclosed tag ends the text");
    mail_plain(out, 4, "abcdef");
    is_str(out, "abc", "cut to the buffer, terminated");

    mail_subject(out, sizeof out, "candlewatch: all fine");
    is_str(out, "candlewatch: all fine", "an ASCII subject goes as it is");
    mail_subject(out, sizeof out, "Ä");
    is_str(out, "=?UTF-8?B?w4Q=?=", "non-ASCII becomes a base64 encoded word");

    /* 40 two-byte characters: 80 bytes, more than one word's 45 */
    char long_subject[81] = "";
    for (int i = 0; i < 40; i++)
        strcat(long_subject, "é");
    mail_subject(out, sizeof out, long_subject);
    int words = 0, longest = 0, bad = 0;
    for (char *w = out; (w = strstr(w, "=?UTF-8?B?")); words++) {
        char *end = strstr(w + 10, "?=");
        if (!end) {
            bad = 1;
            break;
        }
        int len = (int)(end + 2 - w);
        longest = len > longest ? len : longest;
        /* 44 bytes (22 characters, never half of one) encode to 60 */
        bad |= (end - (w + 10)) % 4 != 0;
        w = end + 2;
    }
    is_int(words, 2, "a long subject takes two encoded words");
    ok(longest <= 75 && !bad, "each at most 75 characters, whole base64 quanta (%d)", longest);
    ok(strstr(out, "?=\r\n =?UTF-8?B?") != NULL, "folded onto a continuation line");
    /* decoded and joined, the words give the text back, and the first
     * ends between characters */
    char joined[128] = "";
    size_t n = 0, first = 0;
    for (char *w = out; (w = strstr(w, "=?UTF-8?B?")); w += 10) {
        n += unbase64(joined + n, w + 10, strstr(w + 10, "?=") - (w + 10));
        first = first ? first : n;
    }
    joined[n] = 0;
    is_str(joined, long_subject, "the words decode to the text");
    ok(first % 2 == 0, "cut between characters, never inside one (%zu bytes)", first);
    /* 16 recipients of 240 characters and long texts: every byte of it
     * fits (ASan would see an overrun) and no line reaches 998 characters */
    static char addr[16][256];
    const char *to[17];
    for (int i = 0; i < 16; i++) {
        memset(addr[i], 'a' + i, 230);
        snprintf(addr[i] + 230, sizeof addr[i] - 230, "@example.com");
        to[i] = addr[i];
    }
    to[16] = NULL;
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 100; i < 2900; i += 100)
        big[i] = '\n';
    char *texts[] = {"⚠️ Database: disk full\nsince 10:00", big, "✅ Database: cleared"};
    char *msg = mail_message("bot@example.com", to, "host1", 7, texts, 3);
    ok(msg != NULL, "a message with 16 long recipients is made");
    int widest = 0, bare_lf = 0, every_to = 1;
    for (const char *p = msg, *line = msg; p && *p; p++)
        if (*p == '\n') {
            bare_lf |= p == msg || p[-1] != '\r';
            widest = (int)(p - line) > widest ? (int)(p - line) : widest;
            line = p + 1;
        }
    for (int i = 0; i < 16; i++)
        every_to &= strstr(msg, addr[i]) != NULL;
    ok(every_to, "every recipient is in To:");
    ok(widest < 998 && !bare_lf, "CRLF lines under 998 characters (longest %d)", widest);
    ok(strstr(msg, "\r\n\r\n⚠️ Database: disk full\r\nsince 10:00\r\n") != NULL,
       "the body follows the headers, with CRLF line ends");
    ok(strstr(msg, "✅ Database: cleared\r\n\r\n") != NULL, "and holds every text");
    ok(strstr(msg, "Subject: =?UTF-8?B?") != NULL && strstr(msg, "Message-ID: <") != NULL,
       "with an encoded subject and a Message-ID");
    free(msg);
    return done();
}
