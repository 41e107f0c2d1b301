#include "metrics/prom.h"
#include "util/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prom_init(struct prom *p)
{
    memset(p, 0, sizeof *p);
}

static void put(struct prom *p, const char *fmt, ...)
{
    if (p->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p->buf ? p->buf + p->len : NULL, p->buf ? p->cap - p->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            p->oom = 1;
            return;
        }
        if (p->buf && p->len + (size_t)n < p->cap) {
            p->len += (size_t)n;
            return;
        }
        char *b = grow_from(p->buf, &p->cap, p->len + (size_t)n + 1, 1, 8192);
        if (!b) {
            p->oom = 1;
            return;
        }
        p->buf = b;
    }
}

char *prom_finish(struct prom *p)
{
    if (p->oom || !p->buf) {
        free(p->buf);
        return p->oom ? NULL : strdup("");
    }
    return p->buf;
}

static void family(struct prom *p, const char *name, const char *type, const char *help)
{
    if (!strcmp(p->family, name))
        return;
    snprintf(p->family, sizeof p->family, "%s", name);
    put(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct prom *p, const char *name, const char *suffix, const char *labels,
                   double v)
{
    if (labels && *labels)
        put(p, "%s%s{%s} %.17g\n", name, suffix, labels, v);
    else
        put(p, "%s%s %.17g\n", name, suffix, v);
}

void prom_counter(struct prom *p, const char *name, const char *help, const char *labels,
                  double value)
{
    family(p, name, "counter", help);
    sample(p, name, "", labels, value);
}

void prom_gauge(struct prom *p, const char *name, const char *help, const char *labels,
                double value)
{
    family(p, name, "gauge", help);
    sample(p, name, "", labels, value);
}

/* A bucket's bound as the shortest text that reads back as the same
 * double ("0.005", not "0.0050000000000000001"): le must name it exactly. */
static void put_le(struct prom *p, const char *name, double bound, uint64_t cum)
{
    char le[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(le, sizeof le, "%.*g", digits, bound);
        if (strtod(le, NULL) == bound)
            break;
    }
    put(p, "%s_bucket{le=\"%s\"} %llu\n", name, le, (unsigned long long)cum);
}

void prom_histogram_of(struct prom *p, const char *name, const char *help,
                       const struct prom_buckets *b)
{
    family(p, name, "histogram", help);
    uint64_t cum = 0;
    for (int i = 0; i < b->n; i++) {
        cum += b->counts[i];
        put_le(p, name, b->bounds[i], cum);
    }
    put(p, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n", name,
        (unsigned long long)b->count, name, b->sum, name, (unsigned long long)b->count);
}

void prom_histogram(struct prom *p, const char *name, const char *help, const struct hist *h)
{
    struct prom_buckets b = {hist_bounds, h->counts, HIST_BUCKETS, h->n, h->sum};
    prom_histogram_of(p, name, help, &b);
}

void prom_label(char *out, size_t size, const char *key, const char *value)
{
    size_t k = strlen(out);
    if (k + 1 >= size)
        return;
    k += (size_t)snprintf(out + k, size - k, "%s%s=\"", k ? "," : "", key);
    for (const char *c = value; *c && k + 3 < size; c++) {
        if (*c == '\\' || *c == '"' || *c == '\n') {
            out[k++] = '\\';
            out[k++] = *c == '\n' ? 'n' : *c;
        } else {
            out[k++] = *c;
        }
    }
    if (k + 1 < size)
        out[k++] = '"';
    out[k < size ? k : size - 1] = 0;
}
