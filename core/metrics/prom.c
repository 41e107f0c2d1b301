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

void prom_histogram(struct prom *p, const char *name, const char *help, const struct hist *h)
{
    family(p, name, "histogram", help);
    uint64_t cum = 0;
    for (int b = 0; b < HIST_BUCKETS; b++) {
        cum += h->counts[b];
        put(p, "%s_bucket{le=\"%g\"} %llu\n", name, hist_bounds[b], (unsigned long long)cum);
    }
    put(p, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n", name,
        (unsigned long long)h->n, name, h->sum, name, (unsigned long long)h->n);
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
