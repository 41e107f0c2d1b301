/* The narrow runtime that domain code (market/, alert/, tg/, ops/, net/,
 * http/) gets instead of the application: the loop, its timers, the clock
 * and the log.  Only app.c (and main.c) compose the program; a module takes
 * a `const struct rt *` plus its own config section and callbacks, so a unit
 * test can build one with a simulated clock and no sockets:
 *
 *   struct rt rt = {.loop = &loop, .timers = &ts, .log = &lg,
 *                   .now = my_now, .wall = my_wall, .clock = &sim};
 *   uint64_t t = rt_now_ms(&rt);
 */
#ifndef CW_RT_H
#define CW_RT_H

#include <stdint.h>
#include <uv.h>

#include "loop/timers.h"
#include "util/log.h"

struct rt {
    uv_loop_t *loop;
    struct timers *timers;
    struct logger *log;
    uint64_t (*now)(void *clock);   /* monotonic ms (simulated in specs) */
    int64_t (*wall)(void *clock);   /* ms since the epoch (simulated in specs) */
    void *clock;
};

static inline uint64_t rt_now_ms(const struct rt *rt)
{
    return rt->now(rt->clock);
}

static inline int64_t rt_wall_ms(const struct rt *rt)
{
    return rt->wall(rt->clock);
}

#endif
