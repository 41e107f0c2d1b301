/* GET /: one self-contained HTML page for an operator's browser, built
 * from what /health says (its JSON, so the two never disagree) plus the
 * alerts fired per minute.  Reloads itself every few seconds; no script
 * framework, CSS inline, dark or light as the browser prefers.
 */
#ifndef CW_STATUS_PAGE_H
#define CW_STATUS_PAGE_H

#include <stdint.h>

/* Between two renders: the feed's frames/s comes from the change of its
 * "received" counter since the previous page. */
struct status_page {
    long long prev_received;
    int64_t prev_ms;
    double rate;               /* < 0: not known yet */
};

struct status_facts {
    int64_t now_ms;            /* wall clock */
    const uint32_t *per_min;   /* alerts fired per minute, oldest first, or NULL */
    int nmin;
};

void status_page_init(struct status_page *sp);
/* The page (malloc'd, NUL-terminated), or NULL when out of memory or the
 * JSON is not /health's. */
char *status_page_html(struct status_page *sp, const char *health_json,
                       const struct status_facts *f);

#endif
