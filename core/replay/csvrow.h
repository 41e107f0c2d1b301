/* One line of a kline CSV file (Binance's from data.binance.vision, or any
 * with a header naming the columns), read strictly: every line is a row
 * read exactly, a header, a blank line, or an error saying what is wrong.
 * Pure: no I/O, no app; the caller adds FILE:LINE to the message.
 *
 * The first non-blank line is a header when its first field is not a
 * number; the header then decides the columns (names in any order, any
 * case; unknown ones ignored).  Without one, Binance's order:
 * open_time,open,high,low,close,volume,close_time,quote_volume,count,...
 * Fields may be quoted.  Times are epoch milliseconds, microseconds (spot
 * files from 2025) or seconds, told apart by magnitude (a date after
 * 2001-09-09), one unit a file. */
#ifndef CW_REPLAY_CSVROW_H
#define CW_REPLAY_CSVROW_H

#include <stddef.h>
#include <stdint.h>

enum csv_field {
    CSV_OPEN_TIME, CSV_OPEN, CSV_HIGH, CSV_LOW, CSV_CLOSE, CSV_VOLUME, CSV_CLOSE_TIME,
    CSV_QUOTE_VOLUME, CSV_TRADES, CSV_NFIELDS
};

/* What the lines so far said about the file; zero it before the first. */
struct csv_layout {
    int col[CSV_NFIELDS];   /* column of each field, -1 when absent */
    int ncols;              /* columns every row has; 0 until known */
    int has_header;
    int64_t unit;           /* open_time units per ms: 0 unknown, 1 (ms), 1000 (µs), -1000 (s) */
};

struct csv_row {
    int64_t open_time, close_time;   /* ms */
    double open, high, low, close, volume, quote_volume;
    int32_t trades;
    uint8_t price_dp;   /* decimals the prices carry, trailing zeros ignored */
};

/* line (len bytes, may end in \n or \r\n; modified, with room for a NUL
 * after them, as getline's) of a file of interval iv: 1 with *row filled,
 * 0 for a header or a blank line, -1 with err. */
int csvrow_read(struct csv_layout *l, char *line, size_t len, int iv, struct csv_row *row,
                char *err, size_t errlen);

#endif
