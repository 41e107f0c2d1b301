/* The axes' arithmetic: nice price steps and UTC time steps. */
#include <math.h>

#include "chart/chart.h"

double chart_nice_step(double range, int max_ticks)
{
    if (!(range > 0) || !isfinite(range) || max_ticks < 1)
        return 1;
    double raw = range / max_ticks;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    /* the smallest of 1, 2, 5, 10 at least raw: never more ticks than asked */
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * mag;
}

int chart_step_decimals(double step)
{
    if (!(step > 0) || !isfinite(step) || step >= 1)
        return 0;
    int d = (int)ceil(-log10(step) - 1e-9);
    return d > 15 ? 15 : d;
}

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

int64_t chart_time_step(int64_t min_gap_ms)
{
    /* steps a reader counts in: whole minutes, hours, days, weeks */
    static const int64_t steps[] = {
        MIN_MS, 2 * MIN_MS, 5 * MIN_MS, 10 * MIN_MS, 15 * MIN_MS, 30 * MIN_MS,
        HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 4 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS,
        DAY_MS, 2 * DAY_MS, 7 * DAY_MS, 14 * DAY_MS, 28 * DAY_MS, 91 * DAY_MS, 364 * DAY_MS,
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] >= min_gap_ms)
            return steps[i];
    int64_t years = min_gap_ms / (364 * DAY_MS) + 1;
    return years * 364 * DAY_MS;
}
