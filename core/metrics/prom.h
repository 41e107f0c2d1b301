/* The Prometheus text exposition format (version 0.0.4), written into a
 * growing buffer: each module writes its own metrics when /metrics is
 * scraped, so nothing is kept or formatted between scrapes.
 *
 *   struct prom p; prom_init(&p);
 *   prom_counter(&p, "candlewatch_alerts_fired_total", "Alerts fired.", NULL, 12);
 *   char lb[128]; prom_label(lb, sizeof lb, "reason", "json");
 *   prom_counter(&p, "candlewatch_candle_messages_dropped_total", "...", lb, 3);
 *   char *text = prom_finish(&p);   // malloc'd, or NULL when out of memory
 */
#ifndef CW_METRICS_PROM_H
#define CW_METRICS_PROM_H

#include <stddef.h>

#include "metrics/hist.h"

struct prom {
    char *buf;
    size_t len, cap;
    char family[128];         /* the last family whose HELP/TYPE was written */
    int oom;
};

void prom_init(struct prom *p);
/* The text (the caller frees it), or NULL when out of memory. */
char *prom_finish(struct prom *p);

/* One sample; HELP and TYPE lines come first when the family changes.
 * labels: from prom_label (joined with ","), or NULL. */
void prom_counter(struct prom *p, const char *name, const char *help, const char *labels,
                  double value);
void prom_gauge(struct prom *p, const char *name, const char *help, const char *labels,
                double value);
void prom_histogram(struct prom *p, const char *name, const char *help, const struct hist *h);
/* A histogram with buckets of its own: n upper bounds in increasing order
 * and the observations in each (not cumulative; those above the last bound
 * only in count). */
struct prom_buckets {
    const double *bounds;
    const uint64_t *counts;
    int n;
    uint64_t count;
    double sum;
};
void prom_histogram_of(struct prom *p, const char *name, const char *help,
                       const struct prom_buckets *b);
/* Appends key="value" (escaped) to the labels in out, comma-separated. */
void prom_label(char *out, size_t size, const char *key, const char *value);

#endif
