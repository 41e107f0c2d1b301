/* `candlewatch replay`: recorded klines through the real pipeline, and the
 * alerts that presets would have fired, printed one a line:
 *
 *   2022-09-05T13:45Z BTCUSDT 1m +0.53% chat 1: Majors
 *   2022-09-05T14:58Z BTCUSDT 1m 0.35% above_average up 0.30 chat 1: backtest
 *
 * and the digests the engine sends when a chat's pause ends:
 *
 *   digest chat 1: 3 held: BTCUSDT 1m +0.53%, BTCUSDT 5m -0.61%, … and 1 more
 *
 * Presets are the database's, or one given on the command line (then in
 * a temporary database, so the real one is untouched). */
#ifndef CW_REPLAY_BACKTEST_H
#define CW_REPLAY_BACKTEST_H

struct app;

/* preset: NULL, or "rule=NAME pairs=BTCUSDT,ETHUSDT|top:100 intervals=1m,5m
 * threshold=0.5 direction=both|up|down trigger=forming|close" (rule: any
 * live one, default move; its alerts are printed with the rule's name, value
 * and level).  The app
 * has its config loaded and nothing else.  Returns the exit status. */
int backtest_run(struct app *a, char **files, int nfiles, double speed, const char *preset);

#endif
