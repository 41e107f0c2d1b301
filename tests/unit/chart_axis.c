/* The chart's axis arithmetic by its properties: price steps are 1, 2 or 5
 * times a power of ten, give at most the ticks asked for and are the
 * finest such step that does; a step's decimals are the fewest that show
 * it exactly; time steps are the smallest listed one at least the gap. */
#include <math.h>
#include <stdint.h>

#include "chart/chart.h"
#include "tap.h"

/* m in {1, 2, 5} and k with step = m * 10^k (within rounding) */
static int is_nice(double step, double *mant)
{
    double k = floor(log10(step) + 1e-9), m = step / pow(10, k);
    *mant = m;
    return fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6;
}

/* the nice number just below step */
static double smaller_nice(double step)
{
    double m;
    is_nice(step, &m);
    double k = pow(10, floor(log10(step) + 1e-9));
    return fabs(m - 1) < 1e-6 ? 0.5 * k : fabs(m - 2) < 1e-6 ? k : 2 * k;
}

static void test_steps(void)
{
    int bad = 0, cases = 0;
    for (double range = 1e-9; range < 1e14; range *= 1.37) {
        for (int ticks = 2; ticks <= 16; ticks += 7) {
            double s = chart_nice_step(range, ticks), m;
            cases++;
            if (!is_nice(s, &m) || range / s > ticks + 1e-9 || range / smaller_nice(s) <= ticks - 1e-9) {
                if (bad++ < 5)
                    printf("# range %g ticks %d: step %g\n", range, ticks, s);
            }
        }
    }
    ok(cases > 100, "%d ranges", cases);
    is_int(bad, 0, "each step nice, within the ticks, the finest that is");
    ok(chart_nice_step(0, 5) > 0 && chart_nice_step(NAN, 5) > 0 && chart_nice_step(INFINITY, 5) > 0,
       "a positive step whatever the range");
}

static void test_decimals(void)
{
    int bad = 0;
    for (int k = -12; k <= 6; k++)
        for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
            double step = m * pow(10, k);
            int d = chart_step_decimals(step);
            double scaled = step * pow(10, d), less = step * pow(10, d - 1);
            if (fabs(scaled - round(scaled)) > 1e-6 || (d > 0 && fabs(less - round(less)) < 1e-6)) {
                if (bad++ < 5)
                    printf("# step %g: %d decimals\n", step, d);
            }
        }
    is_int(bad, 0, "the fewest decimals that show each step exactly");
}

static void test_time_steps(void)
{
    int bad = 0;
    int64_t prev = 0;
    for (int64_t gap = 1000; gap < 400LL * 86400000; gap = gap * 3 / 2) {
        int64_t s = chart_time_step(gap);
        if (s < gap || s < prev || s % 60000 != 0)
            bad++;
        prev = s;
    }
    is_int(bad, 0, "time steps: whole minutes, at least the gap, growing with it");
    is_int(chart_time_step(1), 60000, "a minute at least");
    is_int(chart_time_step(3600000), 3600000, "an hour for an hour's gap");
}

int main(void)
{
    test_steps();
    test_decimals();
    test_time_steps();
    return done();
}
