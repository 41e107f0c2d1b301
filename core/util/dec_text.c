/* Exact decimals as text (see dec.h): strict parsing of machine text, lenient
 * parsing of what people type (with a sentence when it is wrong), the
 * canonical text and formatting with thousands separators. */
#include <stdio.h>
#include <string.h>

#include "util/dec.h"

typedef unsigned __int128 u128;

#define EXP_CAP 1000000L    /* exponents beyond are out of range anyway */
#define INPUT_DIGITS 80     /* digits a person may type (more: too long) */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The digits ip "." fp (nf of them after the point) times 10^exp: at the
 * natural scale nf - exp if it fits, else with trailing zeros dropped as in
 * arithmetic.  No big arithmetic: the value is m 10^e with m the significant
 * digits (at most 38, or it cannot fit), and e an exponent. */
static int from_digits(int neg, const char *ip, size_t ni, const char *fp, size_t nf,
                       long exp, struct dec *out)
{
    size_t n = ni + nf, lead = 0;
#define DIGIT_AT(k) ((k) < ni ? ip[k] : fp[(k) - ni])
    while (lead < n && DIGIT_AT(lead) == '0')
        lead++;
    long natural = (long)nf - exp;
    long s = natural < 0 ? 0 : natural > DEC_MAX_SCALE ? DEC_MAX_SCALE : natural;
    if (lead == n) {
        out->coef = 0;
        out->scale = (int)s;
        return DEC_OK;
    }
    size_t tail = n - 1;
    while (DIGIT_AT(tail) == '0')
        tail--;
    long sig = (long)(tail - lead + 1);
    long e = (long)(n - 1 - tail) + exp - (long)nf;   /* the value is m 10^e */
    long min_scale = e < 0 ? -e : 0;
    if (min_scale > DEC_MAX_SCALE)
        return DEC_ESCALE;
    if (sig + e + min_scale > DEC_MAX_DIGITS)
        return DEC_ERANGE;
    if (s > DEC_MAX_DIGITS - sig - e)   /* the natural scale would be too many digits */
        s = DEC_MAX_DIGITS - sig - e;
    u128 m = 0;
    for (size_t k = lead; k <= tail; k++)
        m = m * 10 + (u128)(DIGIT_AT(k) - '0');
#undef DIGIT_AT
    for (long k = 0; k < e + s; k++)
        m *= 10;
    out->coef = neg ? -(__int128)m : (__int128)m;
    out->scale = (int)s;
    return DEC_OK;
}

static size_t digits(const char *s, size_t i, size_t len)
{
    size_t start = i;
    while (i < len && is_digit(s[i]))
        i++;
    return i - start;
}

int dec_parse(const char *s, size_t len, struct dec *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    size_t ip = i, ni = digits(s, i, len), fp = i + ni, nf = 0;
    i += ni;
    if (!ni)
        return DEC_ESYNTAX;
    if (i < len && s[i] == '.') {
        fp = ++i;
        nf = digits(s, i, len);
        if (!nf)
            return DEC_ESYNTAX;
        i += nf;
    }
    long exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = ++i < len && s[i] == '-';
        i += i < len && (s[i] == '-' || s[i] == '+');
        size_t ne = digits(s, i, len);
        if (!ne)
            return DEC_ESYNTAX;
        for (; ne; ne--, i++)
            if (exp < EXP_CAP)
                exp = exp * 10 + (s[i] - '0');
        exp = eneg ? -exp : exp;
    }
    if (i != len)
        return DEC_ESYNTAX;
    return from_digits(neg, s + ip, ni, s + fp, nf, exp, out);
}

/* The length of a space that may set digit groups apart at s[i] (a plain,
 * no-break, figure, thin or narrow no-break space), or 0. */
static size_t group_space(const char *s, size_t i, size_t len)
{
    const unsigned char *u = (const unsigned char *)s + i;
    if (i < len && u[0] == ' ')
        return 1;
    if (i + 1 < len && u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (i + 2 < len && u[0] == 0xE2 && u[1] == 0x80 &&
        (u[2] == 0x87 || u[2] == 0x89 || u[2] == 0xAF))
        return 3;
    return 0;
}

/* The length of blank space at s[i] (also tabs and line ends), or 0. */
static size_t blank(const char *s, size_t i, size_t len)
{
    if (i < len && (s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        return 1;
    return group_space(s, i, len);
}

/* The length of the blank space that ends s[0..len), or 0. */
static size_t blank_at_end(const char *s, size_t len)
{
    for (size_t k = 1; k <= 3 && k <= len; k++)
        if (blank(s, len - k, len) == k)
            return k;
    return 0;
}

struct input {
    char ip[INPUT_DIGITS], fp[INPUT_DIGITS];
    size_t ni, nf;
    int in_frac, seps, group;   /* after the point; separators seen; the group's digits */
    const char *example;
    char *why;
    size_t whylen;
};

/* Says what is wrong in in->why, with how to type it when example is set. */
static int refuse(struct input *in, int err, const char *what, int example)
{
    if (example)
        snprintf(in->why, in->whylen, "%s: type it like %s.", what, in->example);
    else
        snprintf(in->why, in->whylen, "%s.", what);
    return err;
}

static int take_digit(struct input *in, char c)
{
    if (in->ni + in->nf >= INPUT_DIGITS)
        return refuse(in, DEC_ERANGE, "The number is too long", 0);
    if (in->in_frac)
        in->fp[in->nf++] = c;
    else {
        in->ip[in->ni++] = c;
        in->group++;
    }
    return DEC_OK;
}

/* A group ends (at a separator, the point or the end): after a separator it
 * must be three digits. */
static int end_group(struct input *in)
{
    if (in->seps && in->group != 3)
        return refuse(in, DEC_ESYNTAX, "Digits go in groups of three between spaces", 1);
    return DEC_OK;
}

/* A space or '_': only between digits before the point, the group before
 * it one to three digits (the first) or three (the others). */
static int take_separator(struct input *in)
{
    if (in->in_frac)
        return refuse(in, DEC_ESYNTAX, "No spaces after the decimal separator", 1);
    if (in->group == 0 || in->group > 3)
        return refuse(in, DEC_ESYNTAX, "Digits go in groups of three between spaces", 1);
    int rc = end_group(in);
    in->seps++;
    in->group = 0;
    return rc;
}

static int take_point(struct input *in)
{
    if (in->in_frac)
        return refuse(in, DEC_ESYNTAX, "A number has one decimal separator", 1);
    int rc = end_group(in);
    in->in_frac = 1;
    return rc;
}

/* One character of the number at s[*i]; moves *i past it. */
static int take(struct input *in, const char *s, size_t *i, size_t len, int comma)
{
    char c = s[*i];
    size_t sp = c == '_' ? 1 : group_space(s, *i, len);
    if (sp) {
        *i += sp;
        return take_separator(in);
    }
    (*i)++;
    if (is_digit(c))
        return take_digit(in, c);
    if (c == '.' || (c == ',' && comma))
        return take_point(in);
    if (c == ',')
        return refuse(in, DEC_ESYNTAX, "Use a point as the decimal separator", 1);
    /* the sentence goes to people, often as HTML: only harmless characters
     * are quoted back */
    if (c <= ' ' || c >= 127 || strchr("<>&\"'", c))
        return refuse(in, DEC_ESYNTAX, "Only digits make a number", 1);
    char what[64];
    snprintf(what, sizeof what, "\"%c\" is not part of a number", c);
    return refuse(in, DEC_ESYNTAX, what, 1);
}

/* An optional sign at s[*i]: '-', '+' or the minus sign U+2212.  1: minus. */
static int take_sign(const char *s, size_t *i, size_t len)
{
    if (*i < len && (s[*i] == '-' || s[*i] == '+'))
        return s[(*i)++] == '-';
    if (*i + 2 < len && !memcmp(s + *i, "\xE2\x88\x92", 3)) {
        *i += 3;
        return 1;
    }
    return 0;
}

int dec_parse_input(const char *s, size_t len, int comma, struct dec *out, char *why,
                    size_t whylen)
{
    struct input in = {.example = comma ? "10 000,50" : "10 000.50", .why = why,
                       .whylen = whylen};
    size_t i = 0, k;
    while ((k = blank(s, i, len)))
        i += k;
    while ((k = blank_at_end(s + i, len - i)))
        len -= k;
    int neg = take_sign(s, &i, len), rc = DEC_OK;
    while (i < len && rc == DEC_OK)
        rc = take(&in, s, &i, len, comma);
    if (rc != DEC_OK)
        return rc;
    if (in.ni + in.nf == 0)
        return refuse(&in, DEC_ESYNTAX, "That is not a number", 1);
    if (!in.in_frac && (rc = end_group(&in)) != DEC_OK)
        return rc;
    struct dec d;
    rc = from_digits(neg, in.ip, in.ni, in.fp, in.nf, 0, &d);
    if (rc == DEC_ESCALE)
        return refuse(&in, rc, "At most 18 digits may follow the decimal separator", 0);
    if (rc != DEC_OK)
        return refuse(&in, rc, "The number is too large", 0);
    *out = d;
    return DEC_OK;
}

/* |a.coef|'s digits, at least a.scale + 1 of them (leading zeros). */
static size_t coef_digits(struct dec a, char *d)
{
    char rev[DEC_MAX_DIGITS + 2];
    size_t n = 0;
    u128 m = a.coef < 0 ? -(u128)a.coef : (u128)a.coef;
    do {
        rev[n++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m || n < (size_t)a.scale + 1);
    for (size_t k = 0; k < n; k++)
        d[k] = rev[n - 1 - k];
    return n;
}

struct out {
    char *buf;
    size_t size, n;
};

static void put(struct out *o, const char *s, size_t len)
{
    for (size_t k = 0; k < len; k++, o->n++)
        if (o->n + 1 < o->size)
            o->buf[o->n] = s[k];
    if (o->size)
        o->buf[o->n < o->size ? o->n : o->size - 1] = 0;
}

int dec_format(struct dec a, const struct dec_fmt *f, char *buf, size_t size)
{
    if (f->decimals >= 0) {
        int rc = dec_round(a, f->decimals, f->mode, &a);
        if (rc != DEC_OK)
            return rc;
    }
    char d[DEC_MAX_DIGITS + 2];
    size_t n = coef_digits(a, d), ni = n - (size_t)a.scale, glen = strlen(f->group);
    struct out o = {buf, size, 0};
    if (a.coef < 0)
        put(&o, "-", 1);
    for (size_t k = 0; k < ni; k++) {
        if (k && (ni - k) % 3 == 0)
            put(&o, f->group, glen);
        put(&o, d + k, 1);
    }
    if (a.scale) {
        put(&o, f->point, strlen(f->point));
        put(&o, d + ni, (size_t)a.scale);
    }
    return DEC_OK;
}

size_t dec_str(struct dec a, char *buf, size_t size)
{
    struct dec_fmt f = {-1, DEC_HALF_EVEN, "", "."};
    dec_format(a, &f, buf, size);
    return strlen(buf);
}
