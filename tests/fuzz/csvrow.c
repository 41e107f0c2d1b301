/* libFuzzer target for the replay's kline CSV rows (make fuzz): the input,
 * cut into lines, goes through csvrow_read with one layout, as a file's
 * lines do.  Whatever the bytes, nothing may crash, read out of bounds or
 * hit undefined behaviour, every error says something, and every row read
 * must hold: a time on the interval's boundary, a close within the candle,
 * prices above 0 that high and low enclose, volumes of 0 or more, a trade
 * count of 0 or more.  The first byte picks the file's interval. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/interval.h"
#include "replay/csvrow.h"

static void check(const struct csv_row *r, int iv)
{
    int64_t ms = interval_ms(iv);
    if (r->open_time <= 0 || r->open_time % ms || r->close_time <= r->open_time ||
        r->close_time >= r->open_time + ms || !(r->low > 0) || !(r->high >= r->low) ||
        r->high < r->open || r->high < r->close || r->low > r->open || r->low > r->close ||
        !isfinite(r->high) || !(r->volume >= 0) || !isfinite(r->volume) ||
        !(r->quote_volume >= 0) || !isfinite(r->quote_volume) || r->trades < 0 || r->price_dp > 18)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int iv = data[0] % IV_COUNT;
    struct csv_layout l = {0};
    const uint8_t *p = data + 1, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        /* an exact-size copy plus the NUL getline leaves: ASan catches any
         * read past it */
        char *line = malloc(len + 1);
        memcpy(line, p, len);
        line[len] = '\0';
        struct csv_row row;
        char err[256] = "";
        int rc = csvrow_read(&l, line, len, iv, &row, err, sizeof err);
        if (rc < -1 || rc > 1 || (rc == -1 && !err[0]))
            abort();
        if (rc == 1)
            check(&row, iv);
        free(line);
        p += len;
    }
    return 0;
}
