/* Charts that follow alerts (a preset's "chart with each alert"): the
 * alert engine's sink hands each such alert here after its text went to
 * the scheduler.  One picture per (symbol, interval, candle, level),
 * however many chats get it: drawn off the loop (uv_queue_work, on a copy
 * of the candles), uploaded once, then sent by the file_id Telegram gave
 * to every other chat; a chat's picture is queued only once its alert
 * text has gone. */
#ifndef CW_APP_CHART_H
#define CW_APP_CHART_H

#include <stdint.h>

struct app;
struct alert_view;
struct app_charts;

struct app_charts_stats {
    uint64_t rendered, failed, uploads, by_file_id, dropped;
};

struct app_charts *app_charts_new(struct app *a);
/* chat's alert v asked for a chart (v->chart): it will follow the text. */
void app_charts_alert(struct app_charts *c, int64_t chat, const struct alert_view *v);
void app_charts_stats(const struct app_charts *c, struct app_charts_stats *out);
struct prom;
void app_charts_metrics(const struct app_charts *c, struct prom *p);
/* Stopping (before the Telegram side goes): no more pictures; it frees
 * itself once the renders and uploads under way are over. */
void app_charts_close(struct app_charts *c);

#endif
