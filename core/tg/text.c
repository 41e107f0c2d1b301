#include "tg/text.h"

#include <stdlib.h>
#include <string.h>

size_t tg_text_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        n += (c & 0xC0) != 0x80;   /* a lead byte starts a character */
        n += c >= 0xF0;            /* four-byte ones are surrogate pairs */
    }
    return n;
}

/* Invisible characters that change how the text around them reads (bidi
 * overrides and isolates, zero-width spaces, word joiners, soft hyphens,
 * tags...): Unicode's format characters but the joiners (ZWNJ, ZWJ), which
 * emoji and several scripts need. */
static int invisible(unsigned long cp)
{
    static const unsigned long ranges[][2] = {
        {0x7F, 0x9F},       {0xAD, 0xAD},       {0x600, 0x605},     {0x61C, 0x61C},
        {0x6DD, 0x6DD},     {0x70F, 0x70F},     {0x180E, 0x180E},   {0x200B, 0x200B},
        {0x200E, 0x200F},   {0x2028, 0x202E},   {0x2060, 0x206F},   {0xFEFF, 0xFEFF},
        {0xFFF9, 0xFFFB},   {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1])
            return 1;
    return 0;
}

unsigned long tg_text_invisible(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned long cp = *p;
        int more = *p >= 0xF0 ? 3 : *p >= 0xE0 ? 2 : *p >= 0xC0 ? 1 : 0;
        if (more)
            cp &= 0x3Fu >> more;
        p++;
        for (; more && (*p & 0xC0) == 0x80; more--, p++)
            cp = cp << 6 | (*p & 0x3F);
        if (cp < 0x20 || invisible(cp))
            return cp ? cp : 0x20;   /* (never 0: a found one is true) */
    }
    return 0;
}

/* Writes code point cp as UTF-8 at out; the number of bytes. */
static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* An entity at s ("&amp;", "&#36;", "&#x24;"): its length, and the text
 * it stands for in out; 0 when s is not one (the '&' is then kept). */
static size_t entity(const char *s, char *out, size_t *outn)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if (strncmp(s, named[i].name, n) == 0) {
            out[0] = named[i].c;
            *outn = 1;
            return n;
        }
    }
    if (s[1] != '#')
        return 0;
    int hex = s[2] == 'x' || s[2] == 'X';
    char *end;
    unsigned long cp = strtoul(s + 2 + hex, &end, hex ? 16 : 10);
    if (*end != ';' || end == s + 2 + hex || cp == 0 || cp > 0x10FFFF)
        return 0;
    *outn = put_utf8(out, cp);
    return (size_t)(end - s) + 1;
}

char *tg_text_plain(const char *html)
{
    char *out = malloc(strlen(html) + 1), *o = out;   /* never grows: entities shrink */
    if (!out)
        return NULL;
    for (const char *p = html; *p;) {
        if (*p == '<') {
            const char *gt = strchr(p, '>');
            if (gt) {
                p = gt + 1;
                continue;
            }
        } else if (*p == '&') {
            char buf[4];
            size_t n = 0, len = entity(p, buf, &n);
            if (len && n <= len) {
                memcpy(o, buf, n);
                o += n;
                p += len;
                continue;
            }
        }
        *o++ = *p++;
    }
    *o = '\0';
    return out;
}

void tg_text_escape(char *out, size_t size, const char *in)
{
    size_t k = 0;
    if (!size)
        return;
    for (; *in; in++) {
        const char *e = *in == '<' ? "&lt;" : *in == '>' ? "&gt;" : *in == '&' ? "&amp;" : NULL;
        size_t n = e ? strlen(e) : 1;
        if (k + n >= size)
            break;
        if (e)
            memcpy(out + k, e, n);
        else
            out[k] = *in;
        k += n;
    }
    out[k] = 0;
}

/* The character at s (at most left bytes): its bytes, and in *esc what
 * stands for it in HTML (NULL: itself). */
static size_t line_char(const char *s, size_t left, const char **esc)
{
    unsigned char c = (unsigned char)*s;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    *esc = c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : NULL;
    return n < left ? n : left;   /* (a sequence cut short: the bytes that are there) */
}

void tg_text_line(char *out, size_t size, const char *text, size_t max_chars)
{
    static const char more[] = "…";
    if (size < sizeof more)
        return;
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    size_t end = strcspn(text, "\r\n"), need = 0, chars = 0, n;
    const char *esc;
    for (size_t i = 0; i < end; i += n, chars++) {
        n = line_char(text + i, end - i, &esc);
        need += esc ? strlen(esc) : n;
    }
    /* cut: what fits before the "…" */
    int cut = chars > max_chars || need >= size;
    size_t room = cut ? size - sizeof more : size - 1, k = 0;
    chars = 0;
    for (size_t i = 0; i < end && !(cut && chars == max_chars); i += n, chars++) {
        n = line_char(text + i, end - i, &esc);
        size_t w = esc ? strlen(esc) : n;
        if (k + w > room)
            break;
        memcpy(out + k, esc ? esc : text + i, w);
        k += w;
    }
    if (cut)
        memcpy(out + k, more, sizeof more);
    else
        out[k] = '\0';
}

/* The bytes of s's first characters that fit max UTF-16 units. */
static size_t text_prefix(const char *s, size_t max)
{
    size_t units = 0, i = 0;
    while (s[i]) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        size_t u = c >= 0xF0 ? 2 : 1;
        if (units + u > max)
            break;
        units += u;
        for (i++; --len && s[i] && ((unsigned char)s[i] & 0xC0) == 0x80;)
            i++;
    }
    return i;
}

char *tg_text_fit(const char *text, int html, size_t max_chars)
{
    char *plain = html ? tg_text_plain(text) : strdup(text);
    if (!plain || tg_text_chars(plain) <= max_chars) {
        char *same = plain ? strdup(text) : NULL;
        free(plain);
        return same;
    }
    size_t keep = text_prefix(plain, max_chars > 0 ? max_chars - 1 : 0);
    static const char ell[] = "…";
    size_t size = html ? keep * 5 + sizeof ell : keep + sizeof ell;   /* "&amp;": 5 a byte */
    char *out = malloc(size);
    if (out) {
        plain[keep] = '\0';
        if (html)
            tg_text_escape(out, size, plain);
        else
            memcpy(out, plain, keep + 1);
        strcat(out, ell);
    }
    free(plain);
    return out;
}
