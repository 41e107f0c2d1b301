#include "replay/csvrow.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/interval.h"

#define MAX_COLS 64

static const char *const field_names[CSV_NFIELDS] = {
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
};

/* Other names a header may give a field (normalised: lower case, '_'). */
static const struct {
    const char *name;
    enum csv_field f;
} aliases[] = {
    {"quote_asset_volume", CSV_QUOTE_VOLUME},
    {"trades", CSV_TRADES},
    {"number_of_trades", CSV_TRADES},
};

static int is_blank(int ch)
{
    return ch == ' ' || ch == '\t';
}

/* One field in place from *pp (quotes removed, "" kept as one, blanks
 * around trimmed); *pp moves past its comma, or to NULL after the last. */
static char *field(char **pp, char *err, size_t errlen)
{
    char *p = *pp;
    while (is_blank(*p))
        p++;
    char *start = p, *out;
    if (*p == '"') {
        out = start;
        for (p++;; p++) {
            if (!*p) {
                snprintf(err, errlen, "a quoted field has no closing quote");
                return NULL;
            }
            if (*p == '"' && p[1] != '"')
                break;
            *out++ = *p;
            p += *p == '"';
        }
        for (p++; is_blank(*p); p++)
            ;
        if (*p && *p != ',') {
            snprintf(err, errlen, "text after a quoted field's closing quote");
            return NULL;
        }
    } else {
        p += strcspn(p, ",\"");
        if (*p == '"') {
            snprintf(err, errlen, "a quote inside a field (quote the whole field)");
            return NULL;
        }
        for (out = p; out > start && is_blank(out[-1]); out--)
            ;
    }
    *pp = *p ? p + 1 : NULL;
    *out = '\0';
    return start;
}

/* The fields of a line without its line end; their number, or -1. */
static int split(char *s, char **fld, char *err, size_t errlen)
{
    int n = 0;
    for (char *p = s; p;) {
        if (n == MAX_COLS) {
            snprintf(err, errlen, "more than %d fields", MAX_COLS);
            return -1;
        }
        if (!(fld[n++] = field(&p, err, errlen)))
            return -1;
    }
    return n;
}

static int starts_number(const char *s)
{
    return isdigit((unsigned char)s[0]) || (s[0] == '.' && isdigit((unsigned char)s[1]));
}

/* A header name as the table spells it: lower case, '_' for blanks. */
static enum csv_field header_field(const char *name)
{
    char n[40];
    size_t i = 0;
    for (; name[i] && i < sizeof n - 1; i++)
        n[i] = is_blank(name[i]) ? '_' : (char)tolower((unsigned char)name[i]);
    n[i] = '\0';
    for (int f = 0; f < CSV_NFIELDS; f++)
        if (!strcmp(n, field_names[f]))
            return (enum csv_field)f;
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (!strcmp(n, aliases[k].name))
            return aliases[k].f;
    return CSV_NFIELDS;
}

static int header(struct csv_layout *l, char **fld, int nf, char *err, size_t errlen)
{
    for (int f = 0; f < CSV_NFIELDS; f++)
        l->col[f] = -1;
    for (int i = 0; i < nf; i++) {
        enum csv_field f = header_field(fld[i]);
        if (f == CSV_NFIELDS)
            continue;   /* taker_buy_volume, ignore, ...: not used */
        if (l->col[f] >= 0) {
            snprintf(err, errlen, "the header names %s twice (columns %d and %d)", field_names[f],
                     l->col[f] + 1, i + 1);
            return -1;
        }
        l->col[f] = i;
    }
    for (int f = 0; f < CSV_NFIELDS; f++)
        if (l->col[f] < 0 && f != CSV_CLOSE_TIME && f != CSV_TRADES) {
            snprintf(err, errlen, "the header has no %s column (the columns needed: open_time, "
                     "open, high, low, close, volume, quote_volume; close_time and count are "
                     "read when present)", field_names[f]);
            return -1;
        }
    l->ncols = nf;
    l->has_header = 1;
    return 0;
}

/* Binance's own order, for a file without a header. */
static int binance_layout(struct csv_layout *l, int nf, char *err, size_t errlen)
{
    if (nf < CSV_NFIELDS) {
        snprintf(err, errlen, "%d fields, and no header naming them: expected Binance's "
                 "open_time,open,high,low,close,volume,close_time,quote_volume,count,...", nf);
        return -1;
    }
    for (int f = 0; f < CSV_NFIELDS; f++)
        l->col[f] = f;
    l->ncols = nf;
    return 0;
}

/* A decimal like 19790.10 or 1.5e-05 (no sign, no inf/nan/hex): its value
 * and the decimals it carries, trailing zeros ignored. */
static int number(const char *s, double *v, int *dp)
{
    const char *p = s;
    int digits = 0, sig = 0;
    for (; isdigit((unsigned char)*p); p++)
        digits++;
    if (*p == '.') {
        const char *f = ++p;
        for (; isdigit((unsigned char)*p); p++)
            digits++;
        for (sig = (int)(p - f); sig > 0 && f[sig - 1] == '0'; sig--)
            ;
    }
    if (!digits)
        return -1;
    long e = 0;
    if (*p == 'e' || *p == 'E') {
        int neg = *++p == '-';
        p += *p == '-' || *p == '+';
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++)
            e = e < 1000 ? e * 10 + (*p - '0') : e;
        e = neg ? -e : e;
    }
    if (*p)
        return -1;
    *v = strtod(s, NULL);
    long d = sig - e;
    *dp = d < 0 ? 0 : d > 18 ? 18 : (int)d;
    return isfinite(*v) ? 0 : -1;
}

static int whole(const char *s, int64_t *v)
{
    size_t n = strspn(s, "0123456789");
    if (!n || s[n] || n > 18)
        return -1;
    *v = strtoll(s, NULL, 10);
    return 0;
}

/* Units of t per ms by its magnitude (a date from 2001-09-09 to 2286):
 * 1 ms, 1000 µs, -1000 s; 0 when it is none of them. */
static int64_t time_unit(int64_t t)
{
    if (t >= 1000000000LL && t < 10000000000LL)
        return -1000;
    if (t >= 1000000000000LL && t < 10000000000000LL)
        return 1;
    if (t >= 1000000000000000LL && t < 10000000000000000LL)
        return 1000;
    return 0;
}

static const char *unit_name(int64_t unit)
{
    return unit == 1 ? "milliseconds" : unit == 1000 ? "microseconds" : "seconds";
}

static int64_t to_ms(int64_t t, int64_t unit)
{
    return unit < 0 ? t * -unit : t / unit;
}

static int read_times(struct csv_layout *l, char **fld, int iv, struct csv_row *row, char *err,
                      size_t errlen)
{
    const char *ot = fld[l->col[CSV_OPEN_TIME]];
    int64_t t, ct, u;
    if (whole(ot, &t) != 0 || !(u = time_unit(t))) {
        snprintf(err, errlen, "open_time \"%.40s\" is not a time: epoch milliseconds (like "
                 "1662336000000), microseconds or seconds after 2001-09-09", ot);
        return -1;
    }
    if (l->unit && u != l->unit) {
        snprintf(err, errlen, "open_time %s is in %s, the rows above in %s", ot, unit_name(u),
                 unit_name(l->unit));
        return -1;
    }
    l->unit = u;
    int64_t ms = interval_ms(iv);
    row->open_time = to_ms(t, u);
    if (row->open_time % ms) {
        snprintf(err, errlen, "open_time %s is not the start of a %s candle (the interval in the "
                 "file's name)", ot, interval_name(iv));
        return -1;
    }
    row->close_time = row->open_time + ms - 1;
    if (l->col[CSV_CLOSE_TIME] < 0)
        return 0;
    const char *cs = fld[l->col[CSV_CLOSE_TIME]];
    if (whole(cs, &ct) != 0 || time_unit(ct) != u || to_ms(ct, u) <= row->open_time ||
        to_ms(ct, u) > row->open_time + ms) {
        snprintf(err, errlen, "close_time \"%.40s\" does not end the %s candle opening at %s (is "
                 "the interval in the file's name right?)", cs, interval_name(iv), ot);
        return -1;
    }
    return 0;
}

/* The prices and volumes; the prices' decimals into row. */
static int read_numbers(const struct csv_layout *l, char **fld, struct csv_row *row, char *err,
                        size_t errlen)
{
    double *dst[] = {&row->open, &row->high, &row->low, &row->close, &row->volume,
                     &row->quote_volume};
    enum csv_field src[] = {CSV_OPEN, CSV_HIGH, CSV_LOW, CSV_CLOSE, CSV_VOLUME, CSV_QUOTE_VOLUME};
    int dp = 0;
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
        const char *s = fld[l->col[src[i]]];
        int price = src[i] <= CSV_CLOSE, d;
        if (number(s, dst[i], &d) != 0 || (price && !(*dst[i] > 0))) {
            snprintf(err, errlen, "%s \"%.40s\" is not %s", field_names[src[i]], s,
                     price ? "a price (a number above 0)" : "a volume (a number, 0 or more)");
            return -1;
        }
        if (price && d > dp)
            dp = d;
    }
    row->price_dp = (uint8_t)dp;
    if (row->high < row->low || row->high < row->open || row->high < row->close ||
        row->low > row->open || row->low > row->close) {
        snprintf(err, errlen, "the prices do not make a candle: high %s and low %s must "
                 "enclose open %s and close %s", fld[l->col[CSV_HIGH]], fld[l->col[CSV_LOW]],
                 fld[l->col[CSV_OPEN]], fld[l->col[CSV_CLOSE]]);
        return -1;
    }
    row->trades = 0;
    if (l->col[CSV_TRADES] >= 0) {
        const char *s = fld[l->col[CSV_TRADES]];
        int64_t n;
        if (whole(s, &n) != 0 || n > INT32_MAX) {
            snprintf(err, errlen, "count \"%.40s\" is not a number of trades", s);
            return -1;
        }
        row->trades = (int32_t)n;
    }
    return 0;
}

int csvrow_read(struct csv_layout *l, char *line, size_t len, int iv, struct csv_row *row,
                char *err, size_t errlen)
{
    if (memchr(line, '\0', len)) {
        snprintf(err, errlen, "a NUL byte: this is not a text file, or it is damaged");
        return -1;
    }
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    line[len] = '\0';
    if (!l->ncols && !strncmp(line, "\xEF\xBB\xBF", 3))
        line += 3;   /* a byte order mark, as some spreadsheets write */
    if (!line[strspn(line, " \t")])
        return 0;
    char *fld[MAX_COLS];
    int nf = split(line, fld, err, errlen);
    if (nf < 0)
        return -1;
    if (!l->ncols && !starts_number(fld[0]))
        return header(l, fld, nf, err, errlen);
    if (!l->ncols && binance_layout(l, nf, err, errlen) != 0)
        return -1;
    if (!starts_number(fld[0])) {
        if (header_field(fld[0]) == CSV_OPEN_TIME)
            snprintf(err, errlen, "a second header: files joined together? Name each file instead");
        else
            snprintf(err, errlen, "\"%.40s\" is not a kline row: its first field is no open_time",
                     fld[0]);
        return -1;
    }
    if (nf != l->ncols) {
        snprintf(err, errlen, "%d fields where the %s has %d", nf,
                 l->has_header ? "header" : "first row", l->ncols);
        return -1;
    }
    if (read_times(l, fld, iv, row, err, errlen) != 0)
        return -1;
    return read_numbers(l, fld, row, err, errlen) != 0 ? -1 : 1;
}
