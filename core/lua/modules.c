/* The modules scripts see, listed once (as Lua's linit.c lists its
 * libraries): sandbox.c opens each into the frozen API table, in this
 * order; gen.c calls each on_live, in this order, when a generation goes
 * live. */
#include "lua/internal.h"

const struct lh_module lh_modules[] = {
    {"log", lh_open_log, NULL},
    {"timer", lh_open_timer, NULL},
    {"http", lh_open_http, NULL},
    {"json", lh_open_json, NULL},
    {"store", lh_open_store, NULL},
    {"host", lh_open_host, NULL},
    {"candles", lh_open_candles, NULL},
    {"bot", lh_open_bot, lh_bot_live},         /* the command menu follows the scripts */
    {"alerts", lh_open_alerts, lh_alerts_live}, /* the engine evaluates their rules */
    {"metrics", lh_open_metrics, NULL},
    {"decimal", lh_open_decimal, NULL},
    {"chart", lh_open_chart, NULL},
    {NULL, NULL, NULL},
};
