/* tg_html: parse_mode=HTML the way the Bot API server parses it.  The
 * structure and the error texts follow tdlib's parse_html (MessageEntity.cpp),
 * so a bot sees the same "can't parse entities: ..." details as in
 * production.  See tg_html.h. */
#include "tg_html.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct obuf {               /* the visible text being built */
    char *p;
    size_t n, cap;
    size_t u16;             /* its length in UTF-16 code units */
};

struct open_tag {           /* a start tag waiting for its end tag */
    char name[64];
    size_t begin;           /* byte offset of '<' in the input */
    size_t off16;           /* where its text starts, UTF-16 units */
    char *arg;
    int expandable;
    size_t order;
};

struct parser {
    const char *s;
    int strict;
    struct obuf out;
    struct open_tag *stack;
    size_t depth, stack_cap;
    struct tg_entity *ent;
    size_t nent, ent_cap;
    size_t opened;
    char *err;
    size_t errlen;
};

/* Like tdlib's is_space: NUL counts, which stops the scanning loops at
 * the end of the input. */
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0' || c == '\v' || c == '\f';
}

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alnum(char c) { return is_alpha(c) || is_digit(c); }

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int tg_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

size_t tg_utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static void put_byte(struct obuf *b, char c)
{
    if (b->n + 2 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
    }
    b->p[b->n++] = c;
    b->p[b->n] = '\0';
    unsigned char u = (unsigned char)c;
    if ((u & 0xC0) != 0x80)          /* a character starts here */
        b->u16 += u >= 0xF0 ? 2 : 1; /* 4-byte sequences are surrogate pairs */
}

static void put_cp(struct obuf *b, uint32_t cp)
{
    if (cp < 0x80) {
        put_byte(b, (char)cp);
    } else if (cp < 0x800) {
        put_byte(b, (char)(0xC0 | cp >> 6));
        put_byte(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put_byte(b, (char)(0xE0 | cp >> 12));
        put_byte(b, (char)(0x80 | (cp >> 6 & 0x3F)));
        put_byte(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        put_byte(b, (char)(0xF0 | cp >> 18));
        put_byte(b, (char)(0x80 | (cp >> 12 & 0x3F)));
        put_byte(b, (char)(0x80 | (cp >> 6 & 0x3F)));
        put_byte(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* tdlib's decode_html_entity: &lt; &gt; &amp; &quot; &#NN; &#xNN; (the
 * ';' may be missing).  Returns the code point and moves *pos past the
 * entity, or 0 when s+*pos does not start one. */
static uint32_t decode_entity(const char *s, size_t *pos)
{
    size_t p = *pos, e = p + 1;
    uint32_t r = 0;
    if (s[p] != '&')
        return 0;
    if (s[p + 1] == '#') {
        e++;
        if (s[p + 2] == 'x') {
            e++;
            while (hex_value(s[e]) >= 0) {
                r = r * 16 + (uint32_t)hex_value(s[e++]);
                if (r >= 0x10FFFF)
                    return 0;
            }
        } else {
            while (is_digit(s[e])) {
                r = r * 10 + (uint32_t)(s[e++] - '0');
                if (r >= 0x10FFFF)
                    return 0;
            }
        }
        /* surrogates would make invalid UTF-8: not an entity */
        if (r == 0 || r >= 0x10FFFF || e - p >= 10 || (r >= 0xD800 && r <= 0xDFFF))
            return 0;
    } else {
        while (is_alpha(s[e]))
            e++;
        size_t n = e - p - 1;
        const char *name = s + p + 1;
        if (n == 2 && !memcmp(name, "lt", 2))
            r = '<';
        else if (n == 2 && !memcmp(name, "gt", 2))
            r = '>';
        else if (n == 3 && !memcmp(name, "amp", 3))
            r = '&';
        else if (n == 4 && !memcmp(name, "quot", 4))
            r = '"';
        else
            return 0;
    }
    *pos = s[e] == ';' ? e + 1 : e;
    return r;
}

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err, ps->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Lower-cased copy of s[0..n), cut to fit (only for names we compare
 * against short known ones, or print in an error). */
static void lower_copy(char *dst, size_t cap, const char *s, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++)
        dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    dst[k] = '\0';
}

static const char *const supported[] = {"a",   "b",          "strong",   "i",    "em",   "s",
                                        "strike", "del",     "u",        "ins",  "tg-spoiler",
                                        "tg-emoji", "span",  "pre",      "code", "blockquote"};

static int is_supported(const char *name)
{
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++)
        if (!strcmp(name, supported[i]))
            return 1;
    return 0;
}

static void add_entity(struct parser *ps, const char *type, size_t off, size_t len, const char *arg,
                       size_t order)
{
    if (len == 0)
        return;   /* empty entities are dropped, as Telegram does */
    if (ps->nent == ps->ent_cap) {
        ps->ent_cap = ps->ent_cap ? ps->ent_cap * 2 : 8;
        ps->ent = realloc(ps->ent, ps->ent_cap * sizeof *ps->ent);
    }
    ps->ent[ps->nent++] = (struct tg_entity){type, off, len, arg ? strdup(arg) : NULL, order};
}

/* Reads one attribute value at s+*i (quoted, or a bare name token) into a
 * fresh string; NULL with ps->err set on a malformed token. */
static char *attr_value(struct parser *ps, size_t *i)
{
    const char *s = ps->s;
    struct obuf v = {0};
    put_byte(&v, 'x');   /* make sure v.p exists even for an empty value */
    v.n = 0;
    v.p[0] = '\0';
    if (s[*i] != '\'' && s[*i] != '"') {
        /* a name token: letters, digits, '.', '-'; case-insensitive */
        size_t tb = *i;
        while (is_alnum(s[*i]) || s[*i] == '.' || s[*i] == '-') {
            char c = s[(*i)++];
            put_byte(&v, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c);
        }
        if (!is_space(s[*i]) && s[*i] != '>') {
            free(v.p);
            fail(ps, "Unexpected end of name token at byte offset %zu", tb);
            return NULL;
        }
        return v.p;
    }
    char quote = s[(*i)++];
    while (s[*i] != quote && s[*i]) {
        if (s[*i] == '&') {
            uint32_t ch = decode_entity(s, i);
            if (ch) {
                put_cp(&v, ch);
                continue;
            }
        }
        put_byte(&v, s[(*i)++]);
    }
    if (s[*i] == quote)
        (*i)++;
    return v.p;
}

/* Keeps the argument a tag understands; ignores other attributes, as
 * Telegram does. */
static void take_attr(struct open_tag *t, const char *attr, size_t an, char *val)
{
    char *keep = NULL;
    if (!strcmp(t->name, "a") && an == 4 && !strncmp(attr, "href", 4))
        keep = strdup(val);
    else if (!strcmp(t->name, "code") && an == 5 && !strncmp(attr, "class", 5) &&
             !strncmp(val, "language-", 9))
        keep = strdup(val + 9);
    else if (!strcmp(t->name, "span") && an == 5 && !strncmp(attr, "class", 5) && !strncmp(val, "tg-", 3))
        keep = strdup(val + 3);
    else if (!strcmp(t->name, "tg-emoji") && an == 8 && !strncmp(attr, "emoji-id", 8))
        keep = strdup(val);
    if (keep) {
        free(t->arg);
        t->arg = keep;
    }
}

static int start_tag(struct parser *ps, size_t begin, size_t *pi)
{
    const char *s = ps->s;
    size_t i = *pi, ns = i;
    while (!is_space(s[i]) && s[i] != '>')
        i++;
    if (!s[i])
        return fail(ps, "Unclosed start tag at byte offset %zu", begin);
    struct open_tag t = {.begin = begin, .off16 = ps->out.u16, .order = ps->opened++};
    char name[64];
    lower_copy(name, sizeof name, s + ns, i - ns);
    if (!is_supported(name))
        return fail(ps, "Unsupported start tag \"%s\" at byte offset %zu", name, begin);
    snprintf(t.name, sizeof t.name, "%s", name);
    while (s[i] != '>') {
        while (s[i] && is_space(s[i]))
            i++;
        if (s[i] == '>')
            break;
        size_t ab = i;
        while (!is_space(s[i]) && s[i] != '=' && s[i] != '>')
            i++;
        size_t an = i - ab;
        if (an == 0) {
            free(t.arg);
            return fail(ps, "Empty attribute name in the tag \"%s\" at byte offset %zu", t.name, begin);
        }
        while (s[i] && is_space(s[i]))
            i++;
        if (s[i] != '=') {
            if (!strcmp(t.name, "blockquote") && an == 10 && !strncmp(s + ab, "expandable", 10)) {
                t.expandable = 1;   /* the one attribute without a value */
                continue;
            }
            free(t.arg);
            return fail(ps, "Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %zu",
                        t.name, begin);
        }
        i++;
        while (s[i] && is_space(s[i]))
            i++;
        if (!s[i]) {
            free(t.arg);
            return fail(ps, "Unclosed start tag \"%s\" at byte offset %zu", t.name, begin);
        }
        char *val = attr_value(ps, &i);
        if (!val) {
            free(t.arg);
            return -1;
        }
        if (!s[i]) {
            free(val);
            free(t.arg);
            return fail(ps, "Unclosed start tag at byte offset %zu", begin);
        }
        take_attr(&t, s + ab, an, val);
        free(val);
    }
    if (!strcmp(t.name, "span") && (!t.arg || strcmp(t.arg, "spoiler"))) {
        free(t.arg);
        return fail(ps, "Tag \"span\" must have class \"tg-spoiler\" at byte offset %zu", begin);
    }
    if (!strcmp(t.name, "tg-emoji")) {
        char *end = NULL;
        long long id = t.arg ? strtoll(t.arg, &end, 10) : 0;
        if (!t.arg || *end || id <= 0) {
            free(t.arg);
            return fail(ps, "Invalid custom emoji identifier specified");
        }
    }
    if (ps->depth == ps->stack_cap) {
        ps->stack_cap = ps->stack_cap ? ps->stack_cap * 2 : 8;
        ps->stack = realloc(ps->stack, ps->stack_cap * sizeof *ps->stack);
    }
    ps->stack[ps->depth++] = t;
    *pi = i;
    return 0;
}

static const char *entity_type(const struct open_tag *t)
{
    const char *n = t->name;
    if (!strcmp(n, "b") || !strcmp(n, "strong"))
        return "bold";
    if (!strcmp(n, "i") || !strcmp(n, "em"))
        return "italic";
    if (!strcmp(n, "u") || !strcmp(n, "ins"))
        return "underline";
    if (!strcmp(n, "s") || !strcmp(n, "strike") || !strcmp(n, "del"))
        return "strikethrough";
    if (!strcmp(n, "tg-spoiler") || !strcmp(n, "span"))
        return "spoiler";
    if (!strcmp(n, "tg-emoji"))
        return "custom_emoji";
    if (!strcmp(n, "code"))
        return "code";
    if (!strcmp(n, "pre"))
        return "pre";
    if (!strcmp(n, "blockquote"))
        return t->expandable ? "expandable_blockquote" : "blockquote";
    return t->arg ? "text_link" : NULL;   /* <a> without href: plain text */
}

static int end_tag(struct parser *ps, size_t begin, size_t *pi)
{
    const char *s = ps->s;
    size_t i = *pi;
    if (ps->depth == 0)
        return fail(ps, "Unexpected end tag at byte offset %zu", begin);
    while (!is_space(s[i]) && s[i] != '>')
        i++;
    char name[64];
    lower_copy(name, sizeof name, s + begin + 2, i - begin - 2);
    while (s[i] && is_space(s[i]))
        i++;
    if (s[i] != '>')
        return fail(ps, "Unclosed end tag at byte offset %zu", begin);
    struct open_tag *t = &ps->stack[ps->depth - 1];
    if (name[0] && strcmp(name, t->name))
        return fail(ps, "Unmatched end tag at byte offset %zu, expected \"</%s>\", found \"</%s>\"", begin,
                    t->name, name);
    struct open_tag *parent = ps->depth > 1 ? t - 1 : NULL;
    if (!strcmp(t->name, "code") && t->arg && parent && !strcmp(parent->name, "pre") &&
        parent->off16 == t->off16 && !parent->arg) {
        /* <pre><code class="language-x">: one pre entity with a language */
        parent->arg = t->arg;
        t->arg = NULL;
    } else {
        const char *type = entity_type(t);
        if (type)
            add_entity(ps, type, t->off16, ps->out.u16 - t->off16,
                       !strcmp(t->name, "code") ? NULL : t->arg, t->order);
    }
    free(t->arg);
    ps->depth--;
    *pi = i;
    return 0;
}

static int cmp_entity(const void *a, const void *b)
{
    const struct tg_entity *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    if (x->length != y->length)
        return x->length > y->length ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int is_trim(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* Telegram strips white space around a message; entities are cut to the
 * text that remains.  Trimmed characters are ASCII: bytes == UTF-16 units. */
static void trim(struct tg_text *t)
{
    size_t l = 0, r = t->len;
    while (l < r && is_trim(t->text[l]))
        l++;
    while (r > l && is_trim(t->text[r - 1]))
        r--;
    memmove(t->text, t->text + l, r - l);
    t->len = r - l;
    t->text[t->len] = '\0';
    size_t total16 = 0;
    for (size_t i = 0; i < t->len; i++) {
        unsigned char u = (unsigned char)t->text[i];
        if ((u & 0xC0) != 0x80)
            total16 += u >= 0xF0 ? 2 : 1;
    }
    size_t k = 0;
    for (size_t e = 0; e < t->nent; e++) {
        struct tg_entity x = t->ent[e];
        size_t start = x.offset > l ? x.offset - l : 0;
        size_t end = x.offset + x.length > l ? x.offset + x.length - l : 0;
        if (end > total16)
            end = total16;
        if (end <= start) {
            free(x.arg);
            continue;
        }
        x.offset = start;
        x.length = end - start;
        t->ent[k++] = x;
    }
    t->nent = k;
    t->chars = tg_utf8_chars(t->text, t->len);
}

static void free_parser(struct parser *ps)
{
    for (size_t i = 0; i < ps->depth; i++)
        free(ps->stack[i].arg);
    free(ps->stack);
    for (size_t i = 0; i < ps->nent; i++)
        free(ps->ent[i].arg);
    free(ps->ent);
    free(ps->out.p);
}

int tg_parse_html(const char *in, int strict, struct tg_text *out, char *err, size_t errlen)
{
    struct parser ps = {.s = in, .strict = strict, .err = err, .errlen = errlen};
    int rc = 0;
    memset(out, 0, sizeof *out);
    put_byte(&ps.out, 'x');   /* allocate, then empty */
    ps.out.n = ps.out.u16 = 0;
    ps.out.p[0] = '\0';
    for (size_t i = 0; in[i] && rc == 0; i++) {
        char c = in[i];
        if (c == '&') {
            size_t p = i;
            uint32_t ch = decode_entity(in, &p);
            if (ch) {
                put_cp(&ps.out, ch);
                i = p - 1;
                continue;
            }
            if (strict) {
                rc = fail(&ps, "Character \"&\" must be escaped as \"&amp;\" at byte offset %zu", i);
                break;
            }
        }
        if (c == '>' && strict) {
            rc = fail(&ps, "Character \">\" must be escaped as \"&gt;\" at byte offset %zu", i);
            break;
        }
        if (c != '<') {
            put_byte(&ps.out, c);
            continue;
        }
        size_t begin = i++;
        rc = in[i] != '/' ? start_tag(&ps, begin, &i) : end_tag(&ps, begin, &i);
    }
    if (rc == 0 && ps.depth)
        rc = fail(&ps, "Can't find end tag corresponding to start tag \"%s\"", ps.stack[ps.depth - 1].name);
    if (rc != 0) {
        free_parser(&ps);
        return -1;
    }
    if (ps.nent)   /* qsort(NULL, 0) is undefined */
        qsort(ps.ent, ps.nent, sizeof *ps.ent, cmp_entity);
    out->text = ps.out.p;
    out->len = ps.out.n;
    out->ent = ps.ent;
    out->nent = ps.nent;
    free(ps.stack);
    trim(out);
    return 0;
}

void tg_plain(const char *in, struct tg_text *out)
{
    memset(out, 0, sizeof *out);
    out->text = strdup(in);
    out->len = strlen(in);
    trim(out);
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int tg_text_same(const struct tg_text *a, const struct tg_text *b)
{
    if (a->len != b->len || memcmp(a->text, b->text, a->len) || a->nent != b->nent)
        return 0;
    for (size_t i = 0; i < a->nent; i++) {
        const struct tg_entity *x = &a->ent[i], *y = &b->ent[i];
        if (strcmp(x->type, y->type) || x->offset != y->offset || x->length != y->length ||
            !same_str(x->arg, y->arg))
            return 0;
    }
    return 1;
}

void tg_text_free(struct tg_text *t)
{
    for (size_t i = 0; i < t->nent; i++)
        free(t->ent[i].arg);
    free(t->ent);
    free(t->text);
    memset(t, 0, sizeof *t);
}
