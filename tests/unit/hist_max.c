/* The windowed maximum behind the *_max_seconds gauges: the longest value
 * of the last 10 to 20 s, so a stall shows for a while and then goes. */
#include "metrics/hist.h"
#include "tap.h"

int main(void)
{
    struct hist_max m = {0};
    double t = 1000;   /* seconds on hist_clock's scale */
    ok(hist_max_get(&m, t) == 0, "nothing observed: 0");
    hist_max_observe(&m, 0.5, t);
    hist_max_observe(&m, 0.2, t + 1);
    ok(hist_max_get(&m, t + 2) == 0.5, "the largest of the window, not the last");
    hist_max_observe(&m, 0.1, t + 12);   /* a new window: 0.5 is the last one's */
    ok(hist_max_get(&m, t + 13) == 0.5, "the last window's largest still shows");
    hist_max_observe(&m, 0.3, t + 15);
    ok(hist_max_get(&m, t + 21) == 0.5, "until its window and the next are over");
    hist_max_observe(&m, 0.05, t + 23);   /* 0.5's window is two back now */
    ok(hist_max_get(&m, t + 24) == 0.3, "then the window after it");
    ok(hist_max_get(&m, t + 34) == 0.05, "a window over with nothing since: its largest");
    ok(hist_max_get(&m, t + 44) == 0, "two quiet windows: 0");
    hist_max_observe(&m, 0.01, t + 60);
    ok(hist_max_get(&m, t + 61) == 0.01, "after a long quiet, old values do not come back");
    return done();
}
