/* tg_multipart.c: multipart/form-data request bodies (RFC 7578), as
 * libcurl's mime API sends them: fields become string parameters, files
 * go to S.files for the method (sendPhoto) to take. */
#include "tg_fake.h"

static const char bad[] = "Bad Request: can't parse multipart/form-data";

/* The boundary from the Content-Type (quoted or not) into out; 0 or -1. */
static int boundary_of(const struct req *q, char *out, size_t size)
{
    const char *ct = q->ctype, *end = q->ctype + q->ctype_len;
    const char *b = memmem(ct, q->ctype_len, "boundary=", 9);
    if (!b)
        return -1;
    b += 9;
    int quoted = b < end && *b == '"';
    b += quoted;
    size_t n = 0;
    while (b + n < end && b[n] != (quoted ? '"' : ';') && (quoted || b[n] != ' '))
        n++;
    if (!n || n > 70 || n + 1 > size)
        return -1;
    memcpy(out, b, n);
    out[n] = 0;
    return 0;
}

/* A header parameter (name="x") of a part's Content-Disposition into out. */
static int disposition_param(const char *h, size_t hn, const char *key, char *out, size_t size)
{
    char pat[32];
    snprintf(pat, sizeof pat, "; %s=\"", key);
    const char *p = memmem(h, hn, pat, strlen(pat));
    if (!p)
        return 0;
    p += strlen(pat);
    const char *q = memchr(p, '"', hn - (size_t)(p - h));
    if (!q || (size_t)(q - p) >= size)
        return -1;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = 0;
    return 1;
}

/* One part: headers, blank line, data. */
static const char *part(cJSON *p, const char *s, size_t n)
{
    const char *hend = memmem(s, n, "\r\n\r\n", 4);
    if (!hend)
        return bad;
    size_t hn = (size_t)(hend - s) + 2;
    const char *data = hend + 4;
    size_t len = n - (size_t)(data - s);
    char name[64], filename[128] = "", ctype[64] = "application/octet-stream";
    if (!memmem(s, hn, "Content-Disposition: form-data", 30) ||
        disposition_param(s, hn, "name", name, sizeof name) != 1 ||
        disposition_param(s, hn, "filename", filename, sizeof filename) < 0)
        return bad;
    const char *ct = memmem(s, hn, "Content-Type: ", 14);
    if (ct) {
        const char *e = memmem(ct, hn - (size_t)(ct - s), "\r\n", 2);
        snprintf(ctype, sizeof ctype, "%.*s", (int)(e - ct - 14), ct + 14);
    }
    if (!filename[0]) {
        char *v = strndup(data, len);
        set_param(p, name, cJSON_CreateString(v));
        free(v);
        return NULL;
    }
    if (S.nfiles == MAX_FILES)
        return "Bad Request: too many files";
    struct upload *u = &S.files[S.nfiles++];
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->filename, sizeof u->filename, "%s", filename);
    snprintf(u->ctype, sizeof u->ctype, "%s", ctype);
    u->data = data;
    u->len = len;
    return NULL;
}

const char *multipart_decode(cJSON *p, const struct req *q)
{
    char b[80], delim[84];
    if (boundary_of(q, b, sizeof b) != 0)
        return "Bad Request: multipart/form-data without a boundary";
    int dn = snprintf(delim, sizeof delim, "\r\n--%s", b);
    const char *s = q->body, *end = q->body + q->body_len;
    /* the first delimiter has no CRLF before it */
    if (q->body_len < (size_t)dn || memcmp(s, delim + 2, (size_t)dn - 2))
        return bad;
    s += dn - 2;
    for (;;) {
        if (end - s >= 2 && !memcmp(s, "--", 2))
            return NULL;   /* the close delimiter */
        if (end - s < 2 || memcmp(s, "\r\n", 2))
            return bad;
        s += 2;
        const char *next = memmem(s, (size_t)(end - s), delim, (size_t)dn);
        if (!next)
            return bad;
        const char *e = part(p, s, (size_t)(next - s));
        if (e)
            return e;
        s = next + dn;
    }
}
