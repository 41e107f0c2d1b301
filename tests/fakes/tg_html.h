/* tg_html: Telegram's parse_mode=HTML, as the Bot API server (tdlib's
 * parse_html) applies it to a message text, for fake_telegram.
 *
 *   struct tg_text t;
 *   char err[256];
 *   if (tg_parse_html(raw, 1, &t, err, sizeof err) != 0)
 *       ... 400 "Bad Request: can't parse entities: <err>"
 *   t.text / t.chars / t.ent ... ; tg_text_free(&t);
 *
 * The result is what the recipient sees: tags removed, entities decoded,
 * surrounding white space trimmed, plus the formatting entities with
 * offsets and lengths in UTF-16 code units, as the Bot API reports them.
 */
#ifndef TG_HTML_H
#define TG_HTML_H

#include <stddef.h>

struct tg_entity {
    const char *type;       /* "bold", "text_link", ...: a static string */
    size_t offset, length;  /* UTF-16 code units */
    char *arg;              /* url, language or custom_emoji_id; NULL if none */
    size_t order;           /* opening order: outer entities sort first */
};

struct tg_text {
    char *text;             /* visible text, UTF-8, NUL-terminated */
    size_t len;             /* bytes */
    size_t chars;           /* Unicode code points (the 4096 limit counts these) */
    struct tg_entity *ent;
    size_t nent;
};

/* 1 when s[0..n) is well-formed UTF-8 (no surrogates, no overlongs). */
int tg_utf8_valid(const char *s, size_t n);
/* Code points in well-formed UTF-8. */
size_t tg_utf8_chars(const char *s, size_t n);

/* Parses NUL-terminated HTML.  strict: also refuse a bare '&' or '>'
 * outside tags, as the documentation demands (the real server shows them
 * literally).  0 and *out filled, or -1 with the reason in err. */
int tg_parse_html(const char *in, int strict, struct tg_text *out, char *err, size_t errlen);
/* A text without parse_mode: trimmed, no entities. */
void tg_plain(const char *in, struct tg_text *out);
/* 1 when the visible text and the formatting are the same. */
int tg_text_same(const struct tg_text *a, const struct tg_text *b);
void tg_text_free(struct tg_text *t);

#endif
