/* The kline CSV row reader: each line is a row read exactly, a header, a
 * blank line, or an error saying what is wrong. */
#include "tap.h"

#include "util/interval.h"
#include "replay/csvrow.h"

static char err[512];

#define like_err(text, what) ok(strstr(err, text) != NULL, "%s (%s)", what, err)

/* One line through a layout; the reader's return. */
static int line(struct csv_layout *l, const char *text, int iv, struct csv_row *row)
{
    char buf[1024];
    size_t n = strlen(text);
    memcpy(buf, text, n + 1);
    err[0] = '\0';
    return csvrow_read(l, buf, n, iv, row, err, sizeof err);
}

/* A line on its own (a fresh layout, after the header hdr unless NULL). */
static int alone(const char *hdr, const char *text, int iv, struct csv_row *row)
{
    struct csv_layout l = {0};
    if (hdr && line(&l, hdr, iv, row) != 0)
        return 9;
    return line(&l, text, iv, row);
}

#define BINANCE "1662336000000,19992.70,20000.00,19988.10,19996.80,482.638,1662336059999,9650791.43440,4263,302.950,6057727.57980,0\n"
#define HEADER "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n"

static void binance_rows(void)
{
    struct csv_row r;
    is_int(alone(NULL, BINANCE, IV_1M, &r), 1, "a Binance row without a header is read");
    ok(r.open_time == 1662336000000LL && r.close_time == 1662336059999LL && r.open == 19992.70 &&
       r.high == 20000.00 && r.low == 19988.10 && r.close == 19996.80 && r.volume == 482.638 &&
       r.quote_volume == 9650791.43440 && r.trades == 4263, "every field in its place");
    is_int(r.price_dp, 1, "19992.70, 20000.00, 19988.10, 19996.80 carry 1 decimal");
    struct csv_layout l = {0};
    is_int(line(&l, HEADER, IV_1M, &r), 0, "the header is no row");
    is_int(line(&l, BINANCE, IV_1M, &r), 1, "and the row after it is read");
    is_int(line(&l, "\r\n", IV_1M, &r), 0, "a blank line is no row");
    is_int(line(&l, "1662336060000,1.5,1.5,1.5,1.5,0,1662336119999,0,0,0,0,0\r\n", IV_1M, &r), 1,
           "a CRLF line is read");
    is_int(alone(NULL, "\xEF\xBB\xBF" HEADER, IV_1M, &r), 0, "a byte order mark before the header is skipped");
    is_int(alone(NULL, "1660435200000,1983.55000000,1983.90000000,1982.14000000,1982.29000000,"
                       "205.13100000,1660435259999,406814.92308000,288,105.29930000,208854.93067400,0",
                 IV_1M, &r), 1, "a spot row");
    is_int(r.price_dp, 2, "1983.55000000 carries 2 decimals, not 8");
    is_int(alone(NULL, "1660435200000,1.5e-05,2.25e-05,1e-05,1.5e-05,1,1660435259999,1,1", IV_1M, &r), 1,
           "exponents are read");
    ok(r.high == 2.25e-05 && r.price_dp == 7, "2.25e-05 carries 7 decimals");
}

static void reordered_and_quoted(void)
{
    struct csv_row r;
    is_int(alone("Close,Open Time,Quote Asset Volume,High,Low,Open,Volume,Number of Trades",
                 "19996.80,1662336000000,9650791.4344,20000,19988.10,19992.70,482.638,4263", IV_1M, &r),
           1, "a header in another order, names in other spellings");
    ok(r.open_time == 1662336000000LL && r.open == 19992.70 && r.close == 19996.80 &&
       r.high == 20000 && r.low == 19988.10 && r.volume == 482.638 && r.trades == 4263 &&
       r.close_time == 1662336059999LL, "decides the columns");
    is_int(alone(HEADER, "\"1662336000000\",\"19992.70\",\"20000.00\",\"19988.10\",\"19996.80\","
                         "\"482.638\",\"1662336059999\",\"9650791.43440\",\"4263\",\"302.950\",\"1\",\"0\"",
                 IV_1M, &r), 1, "quoted fields are read");
    ok(r.open == 19992.70 && r.trades == 4263, "as the numbers they quote");
    is_int(alone(NULL, "\"1662336000000\",19992.70,20000.00,19988.10,19996.80,482.638,1662336059999,"
                       "9650791.43440,4263", IV_1M, &r), 1, "a quoted time in a file without a header");
    struct csv_layout l = {0};
    is_int(line(&l, "open_time,open,high,low,close,volume", IV_1M, &r), -1,
           "a header without quote_volume is refused");
    like_err("quote_volume", "naming the column");
    l = (struct csv_layout){0};
    is_int(line(&l, "open_time,open,high,low,close,volume,quote_volume,open", IV_1M, &r), -1,
           "a header naming a column twice is refused");
    is_int(alone(HEADER, "\"1662336000000,19992.70", IV_1M, &r), -1, "an unclosed quote is refused");
}

static void bad_values(void)
{
    struct csv_row r;
    static const struct {
        const char *row, *says, *what;
    } cases[] = {
        {"1662336000000,N/A,20000.00,19988.10,19996.80,482.638,1662336059999,9650791.4,4263,0,0,0", "open \"N/A\" is not a price", "N/A as a price"},
        {"1662336000000,19992.70,20000.00,19988.10,,482.638,1662336059999,9650791.4,4263,0,0,0", "close \"\" is not a price", "an empty price"},
        {"1662336000000,0,20000.00,0,19996.80,482.638,1662336059999,9650791.4,4263,0,0,0", "open \"0\" is not a price", "a price of 0"},
        {"1662336000000,inf,inf,1,1,1,1662336059999,1,1,0,0,0", "open \"inf\"", "inf"},
        {"1662336000000,0x10,16,16,16,1,1662336059999,1,1,0,0,0", "open \"0x10\"", "hexadecimal"},
        {"1662336000000,1,1,1,1,-4,1662336059999,1,1,0,0,0", "volume \"-4\" is not a volume", "a negative volume"},
        {"1662336000000,1,1,1,1,1,1662336059999,1,4.5,0,0,0", "count \"4.5\"", "a fractional trade count"},
        {"1662336000000,2,1,1,2,1,1662336059999,1,1,0,0,0", "high 1 and low 1 must enclose open 2", "a high under the open"},
        {"1662336000000,19992.70,20000.00\n", "3 fields", "too few fields"},
        {"hello world", "\"hello world\" is not a kline row", "a line of text"},
        {"1662336060000,1,1,1,1,1,1662336119,1,1,0,0,0", "close_time \"1662336119\" does not end", "a close time in other units"},
        {"166233600000,1,1,1,1,1,166233659999,1,1,0,0,0", "is not a time", "12 digits: no date's ms, s or µs"},
        {"1662336030000,1,1,1,1,1,1662336089999,1,1,0,0,0", "not the start of a 1m candle", "a time inside a minute"},
        {"1662336000000,1,1,1,1,1,1662339599999,1,1,0,0,0", "close_time \"1662339599999\" does not end the 1m", "an hourly row named 1m"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct csv_layout l = {0};
        line(&l, BINANCE, IV_1M, &r);
        int got = line(&l, cases[i].row, IV_1M, &r);
        ok(got == -1 && strstr(err, cases[i].says), "%s is refused, saying so", cases[i].what);
        if (got != -1 || !strstr(err, cases[i].says))
            printf("#   got %d: %s\n", got, err);
    }
    char nul[] = "1662336060000,1,1,1,1,1,16623\0 36119999,1,1,0,0,0\n";
    struct csv_layout l = {0};
    ok(csvrow_read(&l, nul, sizeof nul - 1, IV_1M, &r, err, sizeof err) == -1 && strstr(err, "NUL"),
       "a NUL byte in a line is refused");
    l = (struct csv_layout){0};
    line(&l, BINANCE, IV_1M, &r);
    is_int(line(&l, "1662336060000,1,1,1,1,1,1662336119999,1,1", IV_1M, &r), -1,
           "a row with fewer fields than the first is refused");
    is_int(line(&l, HEADER, IV_1M, &r), -1, "a second header (files joined) is refused");
}

static void time_units(void)
{
    struct csv_row r;
    is_int(alone(NULL, "1662336000,1,1,1,1,1,1662336059,1,1", IV_1M, &r), 1, "seconds are read");
    ok(r.open_time == 1662336000000LL && r.close_time == 1662336059999LL, "as seconds, not 1970");
    ok(alone(NULL, "1662336000,1,1,1,1,1,166043520004352000,1,1", IV_1M, &r) == -1 &&
       strstr(err, "close_time \"166043520004352000\" does not end"),
       "a close time of 18 digits after one in seconds is refused (not overflowed)");
    is_int(alone(NULL, "1735689600000000,1,1,1,1,1,1735689659999999,1,1", IV_1M, &r), 1,
           "microseconds (spot files from 2025) are read");
    is_int(r.open_time, 1735689600000LL, "as microseconds");
    struct csv_layout l = {0};
    line(&l, "1662336000,1,1,1,1,1,1662336059,1,1", IV_1M, &r);
    ok(line(&l, "1662336060000,1,1,1,1,1,1662336119999,1,1", IV_1M, &r) == -1 &&
       strstr(err, "in milliseconds, the rows above in seconds"), "units changing within a file are refused");
    is_int(alone(NULL, "1661299200000,1664.19,1665.31,1631.72,1639.63,1,1661302799999,1,1", IV_1H, &r),
           1, "an hourly row in an hourly file");
}

int main(void)
{
    binance_rows();
    reordered_and_quoted();
    bad_values();
    time_units();
    return done();
}
