/* The Prometheus text writer: HELP/TYPE once per family, labels escaped,
 * histogram buckets cumulative with +Inf, _sum and _count. */
#include <stdlib.h>
#include <string.h>

#include "metrics/prom.h"
#include "tap.h"

int main(void)
{
    struct prom p;
    prom_init(&p);
    char a[128] = "", b[128] = "";
    prom_label(a, sizeof a, "reason", "say \"hi\"\\\n");
    prom_label(a, sizeof a, "x", "y");
    is_str(a, "reason=\"say \\\"hi\\\"\\\\\\n\",x=\"y\"", "label values are escaped and joined");
    prom_label(b, sizeof b, "reason", "json");
    prom_counter(&p, "t_dropped_total", "Dropped.", b, 3);
    prom_counter(&p, "t_dropped_total", "Dropped.", a, 4);
    prom_gauge(&p, "t_depth", "Depth.", NULL, 2.5);
    struct hist h = {0};
    hist_observe(&h, 0.00002);
    hist_observe(&h, 0.003);
    hist_observe(&h, 100);   /* beyond the last bound: only +Inf */
    prom_histogram(&p, "t_latency_seconds", "Latency.", &h);
    char *text = prom_finish(&p);
    ok(text != NULL, "the text is written");
    const char *want_head = "# HELP t_dropped_total Dropped.\n# TYPE t_dropped_total counter\n"
                            "t_dropped_total{reason=\"json\"} 3\n";
    ok(!strncmp(text, want_head, strlen(want_head)), "a family starts with HELP and TYPE");
    char *second = strstr(strstr(text, "# TYPE t_dropped_total") + 1, "# TYPE t_dropped_total");
    ok(second == NULL, "once per family");
    ok(strstr(text, "t_depth 2.5\n") != NULL, "a gauge without labels");
    ok(strstr(text, "t_latency_seconds_bucket{le=\"1e-05\"} 0\n") != NULL, "buckets below: 0");
    ok(strstr(text, "t_latency_seconds_bucket{le=\"2.5e-05\"} 1\n") != NULL, "cumulative: 1");
    ok(strstr(text, "t_latency_seconds_bucket{le=\"0.01\"} 2\n") != NULL, "cumulative: 2");
    ok(strstr(text, "t_latency_seconds_bucket{le=\"30\"} 2\n") != NULL, "100 s is past 30");
    ok(strstr(text, "t_latency_seconds_bucket{le=\"+Inf\"} 3\n") != NULL, "+Inf has all");
    ok(strstr(text, "t_latency_seconds_count 3\n") != NULL, "the count");
    ok(strstr(text, "t_latency_seconds_sum 100.00302") != NULL, "the sum");
    free(text);
    return done();
}
