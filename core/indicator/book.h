/* The indicator book: the indicators the live rules read (their specs), kept
 * per (symbol, interval) of the market.
 *
 * A series is kept from the first time a rule reads it (only where a
 * preset of an indicator rule watches: the rest costs nothing), and asks
 * for its history then (need_history: the feed fetches ind_book_want
 * candles).  Closed candles go in in order, each once: ind_book_closed when
 * the alert engine takes the event from its queue (so a rule evaluated on
 * that event sees the indicators as of that event, not of a newer one
 * already queued), and ind_book_history with the REST rows.  A closed
 * candle that leaves a gap restarts the series from it and asks for the
 * history again; until a spec has taken its warm-up (ind_warmup, at most
 * BOOK_FETCH_MAX candles) it gives no value.
 *
 * A series' states live in one block; the specs change only when scripts
 * go live or a preset's settings need others (ind_book_set_specs), when the
 * states of the specs kept carry over and the kept series ask for their
 * history again.  Domain C: no Lua. */
#ifndef CW_INDICATOR_BOOK_H
#define CW_INDICATOR_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "indicator/indicator.h"
#include "market/candle.h"

#define BOOK_SPECS_MAX 32
/* The closed candles one klines request brings (1,500 rows, the forming
 * one not counted): the most a spec waits for.  EMA(200)'s seed then
 * weighs (1 - 2/201)^1300, about 2e-6 of the value's distance from it. */
#define BOOK_FETCH_MAX 1499

struct book_series;

struct ind_book {
    struct ind_spec specs[BOOK_SPECS_MAX];
    int nspecs;
    int warm[BOOK_SPECS_MAX];      /* candles taken before a value is given */
    size_t off[BOOK_SPECS_MAX];    /* each state's place in a series' block */
    size_t block;                  /* a series' block */
    struct book_series *series;    /* [symbol * IV_COUNT + interval] */
    uint32_t nsym;
    /* a gap: the series wants its history again (the feed fetches it) */
    void (*need_history)(void *ud, uint32_t symbol, int iv);
    void *need_history_ud;
    uint64_t pushed, restarted, asked, oom;
};

void ind_book_init(struct ind_book *b);
void ind_book_free(struct ind_book *b);

/* The specs live rules read (normalized; duplicates taken once).  Kept
 * specs keep their states; others are dropped; new ones start cold.
 * Returns 1 when a spec was added (its series want their history again),
 * 0 when not, -1 out of memory or more than BOOK_SPECS_MAX (unchanged). */
int ind_book_set_specs(struct ind_book *b, const struct ind_spec *specs, int n);
/* The spec's index in the book, or -1. */
int ind_book_find(const struct ind_book *b, const struct ind_spec *spec);
/* Closed candles a series' history brings so every spec is warm (at most
 * BOOK_FETCH_MAX); 0 with no specs. */
int ind_book_want(const struct ind_book *b);

/* The series of (symbol, iv), kept from now on (and its history asked
 * for, the first time); NULL out of memory or with no specs. */
struct book_series *ind_book_keep(struct ind_book *b, uint32_t symbol, int iv);
/* Asks the CPU for the states of (symbol, iv): a series' block is read on
 * every event, and at the feed's pace it has always left the cache. */
void ind_book_prefetch(const struct ind_book *b, uint32_t symbol, int iv);
/* The open time of the last closed candle the series of (symbol, iv)
 * took, or -1. */
int64_t ind_book_at(const struct ind_book *b, uint32_t symbol, int iv);
/* A closed candle, in the engine's order (see above). */
void ind_book_closed(struct ind_book *b, const struct candle *c);
/* A series' history: closed rows, oldest first (the forming one excluded). */
void ind_book_history(struct ind_book *b, uint32_t symbol, int iv, const struct candle *rows,
                      size_t n);

/* Spec i's values for candle c: on a forming candle, if it closed now; on
 * a closed one, after it.  back 1: one closed candle earlier.  The number
 * of values, 0 when there are none (not warm, or the series is not at c).
 * Keeps the series (ind_book_keep). */
int ind_book_value(struct ind_book *b, int i, const struct candle *c, int back,
                   double out[IND_MAXOUT]);
/* Spec i's values after the last closed candle of (symbol, iv), and that
 * candle's open time in *open (0 values: none). */
int ind_book_last(const struct ind_book *b, int i, uint32_t symbol, int iv, int64_t *open,
                  double out[IND_MAXOUT]);

/* "rsi(14)", "macd(12,26,9)", "bb(20,2)": how rules and /why name a spec. */
int ind_spec_format(const struct ind_spec *s, char *out, size_t len);
/* A spec from its kind and numbers in the order a rule writes them (the
 * periods; bb: period, k), normalized; "rsi", "rsi(14)" and "bb(20,2.5)"
 * by ind_spec_parse.  0, or -1 with a sentence in err. */
int ind_spec_make(const char *kind, const double *nums, int n, struct ind_spec *out, char *err,
                  size_t errlen);
int ind_spec_parse(const char *s, struct ind_spec *out, char *err, size_t errlen);
/* The same from the kind itself (a rule's ind.rsi(14): no name to look up). */
int ind_spec_from_kind(enum ind_kind kind, const double *nums, int n, struct ind_spec *out,
                       char *err, size_t errlen);
/* The numbers a kind takes (its periods; bb: period and k). */
int ind_spec_nums(enum ind_kind kind);

#endif
