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
