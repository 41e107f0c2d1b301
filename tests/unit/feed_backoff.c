/* The feed's reconnect delay: from 1 s, doubling per failed attempt, at
 * most 60 s, each within +/- 25 % (jitter, so that connections lost
 * together do not come back together). */
#include "market/feed_int.h"
#include "tap.h"

/* The delay's range for one attempt, over every jitter value that matters. */
static void range(int attempts, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MAX;
    *hi = 0;
    for (unsigned r = 0; r < 200000; r += 7) {
        int64_t d = feed_backoff_ms(attempts, r);
        *lo = d < *lo ? d : *lo;
        *hi = d > *hi ? d : *hi;
    }
}

int main(void)
{
    int64_t lo, hi;
    range(0, &lo, &hi);
    ok(lo >= 750 && hi <= 1250, "the first retry waits 1 s +/- 25 %% (%lld..%lld)",
       (long long)lo, (long long)hi);
    ok(hi - lo > 400, "and is spread over that range, not fixed");

    int64_t prev_lo = lo;
    for (int a = 1; a <= 5; a++) {
        int64_t base = 1000LL << a;
        range(a, &lo, &hi);
        ok(lo >= base * 3 / 4 && hi <= base * 5 / 4,
           "attempt %d waits %lld ms +/- 25 %% (%lld..%lld)", a, (long long)base,
           (long long)lo, (long long)hi);
        ok(lo > prev_lo, "attempt %d waits longer than the one before", a);
        prev_lo = lo;
    }

    for (int a = 6; a <= 40; a += 17) {
        range(a, &lo, &hi);
        ok(lo >= 45000 && hi <= 75000, "attempt %d is capped at 60 s +/- 25 %% (%lld..%lld)", a,
           (long long)lo, (long long)hi);
    }
    range(1 << 30, &lo, &hi);
    ok(lo >= 45000 && hi <= 75000, "a huge attempt count does not overflow the shift");
    range(-1, &lo, &hi);
    ok(lo >= 750 && hi <= 1250, "a negative count counts as the first attempt");
    is_int(feed_backoff_ms(0, 0), 750, "jitter 0 gives the low end");
    is_int(feed_backoff_ms(0, 500), 1250, "the largest jitter gives the high end");
    return done();
}
