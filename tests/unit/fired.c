/* The "already fired" marks: lookups equal a reference through growth and
 * the moves between tables; a big table is moved a little per write, not
 * in one stall; a mark is dropped only once its candle closed more than
 * late_ms before the newest mark, so a steady stream of alerts keeps the
 * table at a steady size.  Marks are per rule. */
#include <stdlib.h>

#include "alert/fired.h"
#include "util/interval.h"
#include "tap.h"

#define CHATS 3000
#define SYMS 20   /* 10 symbols x 2 rules: a rule's mark is not another's */
#define IVS 3   /* 1m, 3m, 5m */
#define RULE(s) ((s) / 10)
#define SYM(s) ((uint32_t)(s) % 10)

static int64_t ref[CHATS][SYMS][IVS];

int main(void)
{
    struct fired f = {0};
    f.late_ms = 120000;
    srand(11);
    int64_t now = 1000000;
    long wrong = 0, checked = 0, moving = 0;
    for (long i = 0; i < 400000; i++) {
        int c = rand() % CHATS, s = rand() % SYMS, v = rand() % IVS;
        now += rand() % 3;
        int64_t t = now - (rand() % 8 == 0 ? rand() % 100000 : 0);   /* some older */
        if (fired_set(&f, c + 1, RULE(s), SYM(s), v, t) != 0)
            break;
        ref[c][s][v] = t;
        moving += f.old != NULL;
        /* a random key: exact while its candle could still alert */
        c = rand() % CHATS, s = rand() % SYMS, v = rand() % IVS;
        int64_t got = fired_get(&f, c + 1, RULE(s), SYM(s), v), want = ref[c][s][v];
        if (want && !fired_expired(&f, v, want)) {
            checked++;
            wrong += got != want;
        } else {
            wrong += got != want && got != 0;   /* dropped, or still there */
        }
    }
    is_int(wrong, 0, "lookups equal the reference (%ld exact checks)", checked);
    ok(checked > 50000, "many lookups were of marks still needed");
    ok(moving > 100, "tables are moved a little per write (%ld writes during a move)", moving);

    long lost = 0, kept = 0;
    for (int c = 0; c < CHATS; c++)
        for (int s = 0; s < SYMS; s++)
            for (int v = 0; v < IVS; v++)
                if (ref[c][s][v] && !fired_expired(&f, v, ref[c][s][v])) {
                    kept++;
                    lost += fired_get(&f, c + 1, RULE(s), SYM(s), v) != ref[c][s][v];
                }
    is_int(lost, 0, "every mark whose candle could still alert is there (%ld)", kept);
    ok(fired_expired(&f, IV_1M, f.newest - 60000 - 120001), "a 1m candle closed 120.001 s before is over");
    ok(!fired_expired(&f, IV_5M, f.newest - 60000 - 120001), "a 5m candle that opened then is not");

    /* a steady stream: one 1m mark per millisecond for 3 hours of market
     * time; about 3 minutes of them can matter at any time */
    struct fired g = {0};
    g.late_ms = 120000;
    size_t biggest = 0;
    for (long i = 0; i < 3 * 3600000L; i += 10) {
        fired_set(&g, i, 0, 1, IV_1M, 1 + i);
        if (g.cap + g.old_cap > biggest)
            biggest = g.cap + g.old_cap;
    }
    ok(biggest <= 4 * 1048576, "a steady stream keeps the table bounded (at most %zu slots)",
       biggest);
    ok(fired_count(&g) <= 400000, "old marks are dropped (%zu kept of 1,080,000)", fired_count(&g));
    is_int(fired_get(&g, 3 * 3600000L - 10, 0, 1, IV_1M), 3 * 3600000L - 9, "the newest mark is there");

    /* late_ms 0: nothing is ever dropped */
    struct fired h = {0};
    for (long i = 0; i < 100000; i++)
        fired_set(&h, i, 0, 2, 1, 1 + i * 1000);
    long missing = 0;
    for (long i = 0; i < 100000; i++)
        missing += fired_get(&h, i, 0, 2, 1) != 1 + i * 1000;
    is_int(missing, 0, "without late_ms every mark stays");
    fired_free(&f);
    fired_free(&g);
    fired_free(&h);
    return done();
}
