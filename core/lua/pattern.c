/* The worst-case cost of a Lua pattern match, for the sandbox's guard.
 *
 * Lua's matcher backtracks in C, outside the instruction budget.  This
 * bounds the steps it may take on a subject of n bytes, read from the
 * pattern alone.  Going right to left, W(L) is the most work a match of the
 * rest of the pattern may do with L bytes of subject left, as a polynomial
 * in L with non-negative coefficients (L never exceeds n, so a degree above
 * POLY_DEG is folded into the top one times n):
 *
 *   single item (cost c: 1, or a set's length)   c + W'
 *   X?                                           c + 2 W'
 *   X* / X+   (counts up to L, then tries W'      c (L+1) + sum_{l<=L} W'(l)
 *             at each split)
 *   X-                                           c (L+1) + sum_{l<=L} W'(l)
 *   %b, %1 (scan up to L bytes)                  L + W'
 *   captures, %f                                 c + W'
 *
 * The repetitions' product is what makes patterns costly, and most of it is
 * not real: after a repetition of X, a split tries the rest at a byte of X;
 * when nothing the rest may start with can be such a byte (the classes are
 * disjoint: "%S+%s"), that try fails after a few steps (F), and only the
 * split at the end of the run goes on, so the cost adds instead of
 * multiplying.  And when the rest matches anywhere (".-%s*$", "%s*" at the
 * end) the first split succeeds.  A find without '^' tries every start.
 *
 * The subject itself bounds more: a repetition of X consumes at most the
 * longest run of X's bytes in it (a text of Chinese characters has no run
 * of digits), and when the pattern must start with a byte of X, only the
 * starts at such bytes go further than one step.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"

#define POLY_DEG 8

struct poly {
    double a[POLY_DEG + 1];   /* a[k]: the coefficient of L^k */
};

/* A set of bytes, and whether the end of the subject is in it ($). */
struct cset {
    uint64_t w[4];
    int end;
};

/* What the rest of the pattern (right of an item) is known to do. */
struct rest {
    struct poly w;      /* its cost */
    int total;          /* it matches wherever it starts */
    int endok;          /* it matches at the end of the subject */
    int known;          /* first is exact (no %b, %f or back reference first) */
    int empty;          /* it may match the empty string (somewhere) */
    struct cset first;  /* the bytes (or end) its first consumed byte may be */
    double fail;        /* steps to fail at a byte not in first */
};

static double poly_eval(const struct poly *p, double n)
{
    double v = 0;
    for (int k = POLY_DEG; k >= 0; k--)
        v = v * n + p->a[k];
    return v;
}

/* p *= L (L <= n: the top degree stays, times n) */
static void poly_mul_l(struct poly *p, double n)
{
    double top = p->a[POLY_DEG] * n;
    for (int k = POLY_DEG; k > 0; k--)
        p->a[k] = p->a[k - 1];
    p->a[0] = 0;
    p->a[POLY_DEG] += top;
}

/* p = sum_{l=0..L} p(l) <= sum_k a_k (L^(k+1) / (k+1) + L^k) */
static void poly_sum(struct poly *p, double n)
{
    struct poly up = *p;
    poly_mul_l(&up, n);
    for (int k = 1; k <= POLY_DEG; k++)
        up.a[k] /= k < POLY_DEG ? k : 1;   /* (the folded top: no division) */
    for (int k = 0; k <= POLY_DEG; k++)
        p->a[k] += up.a[k];
}

static void poly_add(struct poly *p, const struct poly *q, double times)
{
    for (int k = 0; k <= POLY_DEG; k++)
        p->a[k] += q->a[k] * times;
}

static void cset_add(struct cset *s, unsigned c)
{
    s->w[c >> 6] |= (uint64_t)1 << (c & 63);
}

static int cset_meets(const struct cset *a, const struct cset *b)
{
    for (int i = 0; i < 4; i++)
        if (a->w[i] & b->w[i])
            return 1;
    return 0;
}

static int cset_all(const struct cset *s)
{
    for (int i = 0; i < 4; i++)
        if (s->w[i] != UINT64_MAX)
            return 0;
    return 1;
}

/* The bytes %cl stands for (Lua's classes, C locale; an upper-case class is
 * the complement; another letter or a symbol stands for itself). */
static void class_add(struct cset *s, unsigned char cl)
{
    if (!strchr("acdglpsuwxz", tolower(cl)) || cl == '\0') {
        cset_add(s, cl);
        return;
    }
    for (unsigned c = 0; c < 256; c++) {
        int in;
        switch (tolower(cl)) {
        case 'a': in = isalpha((int)c); break;
        case 'c': in = iscntrl((int)c); break;
        case 'd': in = isdigit((int)c); break;
        case 'g': in = isgraph((int)c); break;
        case 'l': in = islower((int)c); break;
        case 'p': in = ispunct((int)c); break;
        case 's': in = isspace((int)c); break;
        case 'u': in = isupper((int)c); break;
        case 'w': in = isalnum((int)c); break;
        case 'x': in = isxdigit((int)c); break;
        default: in = c == 0; break;   /* %z, deprecated but still there */
        }
        if (isupper(cl) ? !in : in)
            cset_add(s, c);
    }
}

/* The set [...] starting at p[0] == '['; returns its length in bytes (as
 * Lua reads it: a ']' right after '[' or '[^' is a member). */
static size_t set_parse(const char *p, size_t n, struct cset *s)
{
    size_t i = 1, start;
    int neg = i < n && p[i] == '^';
    i += neg;
    start = i;
    struct cset in = {{0}, 0};
    while (i < n && (i == start || p[i] != ']')) {
        if (p[i] == '%' && i + 1 < n) {
            class_add(&in, (unsigned char)p[i + 1]);
            i += 2;
        } else if (i + 2 < n && p[i + 1] == '-' && p[i + 2] != ']') {
            for (unsigned c = (unsigned char)p[i]; c <= (unsigned char)p[i + 2]; c++)
                cset_add(&in, c);
            i += 3;
        } else {
            cset_add(&in, (unsigned char)p[i++]);
        }
    }
    for (int k = 0; k < 4; k++)
        s->w[k] = neg ? ~in.w[k] : in.w[k];
    return i < n ? i + 1 : n;
}

/* The subject, and what is known of it. */
struct subject {
    const unsigned char *s;
    size_t n;
    size_t scan_left;   /* bytes we may still read to learn runs */
};

#define SCAN_MAX ((size_t)1 << 24)

/* The longest run of bytes of set in the subject (its length, without
 * reading it, when that would take too long). */
static double subject_run(struct subject *sj, const struct cset *set)
{
    if (sj->scan_left < sj->n)
        return (double)sj->n;
    sj->scan_left -= sj->n;
    size_t run = 0, best = 0;
    for (size_t i = 0; i < sj->n; i++) {
        unsigned c = sj->s[i];
        run = set->w[c >> 6] >> (c & 63) & 1 ? run + 1 : 0;
        best = run > best ? run : best;
    }
    return (double)best;
}

/* How many bytes of the subject are in set. */
static double subject_count(struct subject *sj, const struct cset *set)
{
    if (sj->scan_left < sj->n)
        return (double)sj->n;
    sj->scan_left -= sj->n;
    size_t k = 0;
    for (size_t i = 0; i < sj->n; i++)
        k += set->w[sj->s[i] >> 6] >> (sj->s[i] & 63) & 1;
    return (double)k;
}

enum item_kind { IT_SINGLE, IT_CAPTURE, IT_END, IT_SCAN, IT_FRONTIER };

struct item {
    enum item_kind kind;
    char quant;          /* '*', '+', '-', '?' or 0 (singles) */
    struct cset set;     /* singles */
    double cost;         /* steps of one single match */
    size_t len;          /* bytes of pattern */
};

/* Reads the item at p[0] (Lua's syntax, leniently: a malformed pattern is
 * for Lua to refuse). */
static struct item item_parse(const char *p, size_t n)
{
    struct item it = {.kind = IT_SINGLE, .cost = 1, .len = 1};
    if (p[0] == '(' || p[0] == ')') {
        it.kind = IT_CAPTURE;
        it.len = p[0] == '(' && n > 1 && p[1] == ')' ? 2 : 1;
        return it;
    }
    if (p[0] == '$' && n == 1) {
        it.kind = IT_END;
        return it;
    }
    if (p[0] == '%' && n > 1 && (p[1] == 'b' || isdigit((unsigned char)p[1]))) {
        it.kind = IT_SCAN;
        it.len = p[1] == 'b' ? (n < 4 ? n : 4) : 2;
        return it;
    }
    if (p[0] == '%' && n > 1 && p[1] == 'f') {
        it.kind = IT_FRONTIER;
        it.len = n > 2 && p[2] == '[' ? 2 + set_parse(p + 2, n - 2, &it.set) : n;
        it.cost = 2.0 * (double)it.len;
        return it;
    }
    if (p[0] == '.') {
        memset(it.set.w, 0xff, sizeof it.set.w);
    } else if (p[0] == '%' && n > 1) {
        class_add(&it.set, (unsigned char)p[1]);
        it.len = 2;
    } else if (p[0] == '[') {
        it.len = set_parse(p, n, &it.set);
        it.cost = (double)it.len;
    } else {
        cset_add(&it.set, (unsigned char)p[0]);
    }
    if (it.len < n && strchr("*+-?", p[it.len]) && p[it.len] != '\0') {
        it.quant = p[it.len];
        it.len++;
    }
    return it;
}

/* The cost of a repetition of `it` followed by the rest r, whose cost is w
 * (see the top of the file); run: the most bytes it may take. */
static void repeat_cost(struct poly *w, const struct rest *r, const struct item *it, double n,
                        double run)
{
    double c = it->cost;
    int disjoint = r->known && !cset_meets(&it->set, &r->first);
    /* (run < n: a constant bound; min(L, run) <= either) */
    struct poly steps = {{1, run < n ? 0 : 1}};
    if (run < n)
        steps.a[0] += run;
    if (r->total) {
        poly_add(w, &steps, c);
    } else if (disjoint) {
        poly_add(w, &steps, c + r->fail);
    } else {
        struct poly sum = *w, each = *w;
        poly_sum(&sum, n);
        for (int k = 0; k <= POLY_DEG; k++)
            each.a[k] *= run + 1;
        *w = run < n && poly_eval(&each, n) < poly_eval(&sum, n) ? each : sum;
        poly_add(w, &steps, c);
    }
}

/* The rest r becomes the item `it` followed by r. */
static void rest_prepend(struct rest *r, const struct item *it, struct subject *sj)
{
    struct poly w = r->w;
    double c = it->cost, n = (double)sj->n;
    int disjoint = r->known && !cset_meets(&it->set, &r->first);
    switch (it->kind) {
    case IT_CAPTURE:
        w.a[0] += 1;
        r->fail += 1;
        break;
    case IT_END:
        memset(&w, 0, sizeof w);
        w.a[0] = 1;
        r->total = 0;
        r->endok = r->known = 1;
        memset(&r->first, 0, sizeof r->first);
        r->first.end = 1;
        r->fail = 1;
        break;
    case IT_SCAN:
    case IT_FRONTIER:
        if (it->kind == IT_SCAN)
            w.a[1] += 1;   /* + L */
        w.a[0] += c;
        r->total = r->endok = r->known = 0;
        r->empty = r->empty && !(it->kind == IT_SCAN && it->len == 4);   /* (%b eats 2) */
        break;
    case IT_SINGLE:
        if (it->quant == 0) {
            w.a[0] += c;
        } else if (it->quant == '?') {   /* with the byte, then without */
            w.a[0] += c;
            if (disjoint && !r->total)
                w.a[0] += r->fail;
            else if (!r->total)
                poly_add(&w, &r->w, 1);
        } else {
            repeat_cost(&w, r, it, n, subject_run(sj, &it->set));
        }
        if (it->quant == 0 || it->quant == '+') {
            r->empty = 0;
            r->first = it->set;
            r->known = 1;
            r->fail = c;
            r->total = r->endok = 0;
        } else {   /* may match nothing: the rest's first bytes stay possible */
            for (int k = 0; k < 4; k++)
                r->first.w[k] |= it->set.w[k];
            r->fail += c + 1;
            r->total = r->total || (cset_all(&it->set) && r->endok && it->quant != '?');
        }
        break;
    }
    r->w = w;
}

double lh_pattern_cost(const char *p, size_t plen, const char *s, size_t slen, int anchor_ok)
{
    struct subject sj = {(const unsigned char *)s, slen, SCAN_MAX};
    double n = (double)slen;
    int anchored = anchor_ok && plen > 0 && p[0] == '^';
    if (anchored) {
        p++;
        plen--;
    }
    /* The items' offsets, then the items right to left. */
    size_t *at = malloc((plen + 1) * sizeof *at);
    if (!at)
        return HUGE_VAL;
    size_t nitems = 0;
    for (size_t i = 0; i < plen; i += item_parse(p + i, plen - i).len)
        at[nitems++] = i;
    struct rest r = {.w = {{1}}, .total = 1, .endok = 1, .known = 1, .empty = 1, .fail = 1};
    for (size_t k = nitems; k-- > 0;) {
        struct item it = item_parse(p + at[k], plen - at[k]);
        rest_prepend(&r, &it, &sj);
    }
    free(at);
    if (anchored)
        return poly_eval(&r.w, n);
    /* Every start; when the pattern must begin with a byte of a set, only
     * the starts at such bytes go further than failing at once. */
    double all = n + 1;
    double starts = r.known && !r.total && !r.first.end ? subject_count(&sj, &r.first) : all;
    struct poly sum = r.w;
    poly_sum(&sum, n);
    double each = starts * poly_eval(&r.w, n) + all * (r.fail + 1);
    double total = poly_eval(&sum, n);
    /* gmatch and gsub try a start twice after an empty match there */
    return (each < total ? each : total) * (r.empty ? 2 : 1);
}
