/* The application's loop: a timer that a timer callback adds due now (the
 * alert fan-out's "the rest next turn", the scheduler's pump) runs in the
 * next loop turn, after the poll and the commit, never in the same turn:
 * a chain of them once held one turn for seconds. */
#include "app.h"
#include "tap.h"

#define CHAIN 50

static int fired;
static int turn_of[CHAIN];
static int turns;

static void chain(void *ud)
{
    struct app *a = ud;
    turn_of[fired++] = turns;
    if (fired < CHAIN)
        timers_add(&a->timers, rt_now_ms(&a->rt), chain, a);
}

int main(void)
{
    static struct app a;
    log_init(&a.log);
    a.log.out = NULL;
    is_int(app_init(&a, 0), 0, "the application's loop starts");
    timers_add(&a.timers, rt_now_ms(&a.rt), chain, &a);
    /* one uv_run(NOWAIT) is one loop turn */
    while (fired < CHAIN && turns < 10 * CHAIN) {
        uv_run(&a.loop, UV_RUN_NOWAIT);
        turns++;
    }
    is_int(fired, CHAIN, "a chain of %d timers, each added due now by the one before, all ran",
           CHAIN);
    int same = 0;
    for (int i = 1; i < fired; i++)
        same += turn_of[i] == turn_of[i - 1];
    is_int(same, 0, "each in a loop turn of its own, none in the turn that added it");
    app_destroy(&a);
    return done();
}
