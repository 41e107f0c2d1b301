/* Market replay: recorded klines (Binance's CSV from data.binance.vision,
 * read row by row by replay/csvrow.c) fed through the market's real path in
 * place of the network, at N times real speed or as fast as possible.  The
 * rows of all files play in time order, each at its candle's end, shorter
 * intervals first.  Higher timeframes are built from the files' own: each
 * row becomes the forming and closed candle of its interval, and updates
 * the forming candles of every longer configured interval, which close
 * with their last row, or with a row of a later candle when it is missing.
 *
 * The file's name gives the symbol and interval: [prefix_]SYMBOL-1m-....csv
 * Files of different days play one after the other: quiet spans longer
 * than an hour are played as one minute.
 */
#ifndef CW_REPLAY_H
#define CW_REPLAY_H

#include <stddef.h>

struct app;
struct replay;

/* Loads the files and starts feeding on the app's loop; speed 0 is as fast
 * as possible.  done runs once, after the last row.  NULL with err set
 * (naming the file and line) when a file cannot be used: any row that
 * cannot be read exactly makes the whole replay refused. */
struct replay *replay_start(struct app *a, char **files, int nfiles, double speed,
                            void (*done)(void *ud), void *ud, char *err, size_t errlen);
void replay_free(struct replay *r);
/* Rows fed so far, and in all. */
size_t replay_fed(const struct replay *r);
size_t replay_total(const struct replay *r);

#endif
