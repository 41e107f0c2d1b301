/* core/util/dec.h: exact decimals at their edges (range, places, rounding
 * of negatives in every mode, division by zero, amounts of 10^12 with 18
 * places, parsing).  The bulk comparison with Python's decimal module is
 * tests/spec/decimal_spec.lua on tests/fixtures/decimal_table.tsv. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/dec.h"

static char text[DEC_FMT_MAX];

static struct dec D(const char *s)
{
    struct dec d = {0, 0};
    if (dec_parse(s, strlen(s), &d) != DEC_OK)
        printf("# cannot parse %s\n", s);
    return d;
}

static const char *S(struct dec d)
{
    dec_str(d, text, sizeof text);
    return text;
}

/* the text of dec_parse(s), or "!<error number>" */
static const char *P(const char *s)
{
    struct dec d;
    int rc = dec_parse(s, strlen(s), &d);
    if (rc != DEC_OK) {
        snprintf(text, sizeof text, "!%d", rc);
        return text;
    }
    return S(d);
}

typedef int (*binop)(struct dec, struct dec, struct dec *);

/* the text of op(a, b), or "!<error number>" */
static const char *O(binop op, const char *a, const char *b)
{
    struct dec r;
    int rc = op(D(a), D(b), &r);
    if (rc != DEC_OK) {
        snprintf(text, sizeof text, "!%d", rc);
        return text;
    }
    return S(r);
}

static const char *DIV(const char *a, const char *b, int scale, enum dec_mode m)
{
    struct dec r;
    int rc = dec_div(D(a), D(b), scale, m, &r);
    if (rc != DEC_OK) {
        snprintf(text, sizeof text, "!%d", rc);
        return text;
    }
    return S(r);
}

static const char *ROUND(const char *a, int scale, enum dec_mode m)
{
    struct dec r;
    int rc = dec_round(D(a), scale, m, &r);
    if (rc != DEC_OK) {
        snprintf(text, sizeof text, "!%d", rc);
        return text;
    }
    return S(r);
}

static const char *FMT(const char *a, int decimals, const char *group, const char *point)
{
    struct dec_fmt f = {decimals, DEC_HALF_UP, group, point};
    int rc = dec_format(D(a), &f, text, sizeof text);
    if (rc != DEC_OK)
        snprintf(text, sizeof text, "!%d", rc);
    return text;
}

/* dec_parse_input: the value's text, or the sentence after "!" */
static const char *IN(const char *s, int comma)
{
    static char why[200], out[202];
    struct dec d;
    if (dec_parse_input(s, strlen(s), comma, &d, why, sizeof why) != DEC_OK) {
        snprintf(out, sizeof out, "!%s", why);
        return out;
    }
    return S(d);
}

#define NINES38 "99999999999999999999999999999999999999"

static void test_parse(void)
{
    is_str(P("10000.50"), "10000.50", "the scale is kept");
    is_str(P("-1"), "-1", "a sign");
    is_str(P("+7.0"), "7.0", "a plus sign");
    is_str(P("007.25"), "7.25", "leading zeros go");
    is_str(P("-0.00"), "0.00", "no negative zero");
    is_str(P("2.5e3"), "2500", "an exponent: the natural scale is never below 0");
    is_str(P("1.50e1"), "15.0", "an exponent takes from the scale");
    is_str(P("1E-7"), "0.0000001", "a negative exponent adds to it");
    is_str(P("0e-50"), "0.000000000000000000", "zero at too fine a scale: 18 places");
    is_str(P("0.100000000000000000000"), "0.100000000000000000",
           "more than 18 places of which the last are zeros: they go");
    is_str(P("0.0000000000000000001"), "!2", "19 significant places: DEC_ESCALE");
    is_str(P("1e-19"), "!2", "1e-19: DEC_ESCALE");
    is_str(P("1e-18"), "0.000000000000000001", "1e-18 fits");
    is_str(P(NINES38), NINES38, "38 digits fit");
    is_str(P("1" NINES38), "!1", "39 digits: DEC_ERANGE");
    is_str(P("1e37"), "10000000000000000000000000000000000000", "1e37 fits");
    is_str(P("1e38"), "!1", "1e38: DEC_ERANGE");
    is_str(P("9999999999999999999.99999999999999999999"), "!2",
           "39 digits, 20 of them places: too many places comes first");
    is_str(P("12345678901234567890.1234567890000000000"), "12345678901234567890.123456789000000000",
           "a natural scale of 19 over 39 digits: trailing zeros dropped to fit");
    is_str(P("1e999999999999999"), "!1", "a huge exponent: out of range, no overflow");
    is_str(P("1e-999999999999999"), "!2", "a huge negative exponent: too many places");
    const char *bad[] = {"", "-", "+", ".5", "5.", " 1", "1 ", "1,5", "1e", "1e+", "0x10",
                         "1_000", "inf", "nan", "1.2.3", "--1", "1e5.5", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        is_str(P(bad[i]), "!4", "strict parsing refuses \"%s\"", bad[i]);
    struct dec d;
    ok(dec_parse("12\0" "3", 4, &d) == DEC_ESYNTAX, "a NUL inside the text is refused");
}

static void test_input(void)
{
    is_str(IN("10 000,50", 1), "10000.50", "10 000,50 with comma");
    is_str(IN("  10 000,50\n", 1), "10000.50", "blank space around it");
    is_str(IN("10\xC2\xA0" "000\xE2\x80\xAF" "000.5", 1), "10000000.5",
           "no-break and narrow no-break spaces, '.' with comma too");
    is_str(IN("1\xE2\x80\x89" "000", 0), "1000", "a thin space");
    is_str(IN("1_000_000", 0), "1000000", "'_' groups");
    is_str(IN("\xE2\x88\x92" "2.5", 0), "-2.5", "the minus sign U+2212");
    is_str(IN("+2", 0), "2", "a plus sign");
    is_str(IN(".5", 0), "0.5", "no digit before the point");
    is_str(IN("5,", 1), "5", "no digit after it");
    is_str(IN("123456", 1), "123456", "no groups at all");
    is_str(IN("1,5", 0), "!Use a point as the decimal separator: type it like 10 000.50.",
           "a comma without comma = true");
    is_str(IN("1,000.5", 1), "!A number has one decimal separator: type it like 10 000,50.",
           "two separators");
    is_str(IN("10 00", 1), "!Digits go in groups of three between spaces: type it like 10 000,50.",
           "a short last group");
    is_str(IN("1 0000", 1), "!Digits go in groups of three between spaces: type it like 10 000,50.",
           "a long last group");
    is_str(IN("1000 000", 1), "!Digits go in groups of three between spaces: type it like 10 000,50.",
           "a long first group");
    is_str(IN("10  000", 1), "!Digits go in groups of three between spaces: type it like 10 000,50.",
           "two spaces");
    is_str(IN("10_", 0), "!Digits go in groups of three between spaces: type it like 10 000.50.",
           "a '_' at the end");
    is_str(IN("1,000 5", 1), "!No spaces after the decimal separator: type it like 10 000,50.",
           "a space after the point");
    is_str(IN("2.5%", 0), "!\"%\" is not part of a number: type it like 10 000.50.", "a percent sign");
    is_str(IN("1e5", 0), "!\"e\" is not part of a number: type it like 10 000.50.", "an exponent");
    is_str(IN("5\xE2\x82\xAC", 0), "!Only digits make a number: type it like 10 000.50.",
           "a euro sign");
    is_str(IN("<b>1</b>", 0), "!Only digits make a number: type it like 10 000.50.",
           "'<' is not quoted back (the sentence may go out as HTML)");
    is_str(IN("1&2", 0), "!Only digits make a number: type it like 10 000.50.", "nor '&'");
    is_str(IN("", 1), "!That is not a number: type it like 10 000,50.", "nothing");
    is_str(IN(" - ", 1), "!That is not a number: type it like 10 000,50.", "a sign alone");
    is_str(IN("0,1234567890123456789", 1),
           "!At most 18 digits may follow the decimal separator.", "19 places");
    is_str(IN("1" NINES38, 0), "!The number is too large.", "39 digits");
    char many[120];
    memset(many, '1', sizeof many - 1);
    many[sizeof many - 1] = 0;
    is_str(IN(many, 0), "!The number is too long.", "119 digits");
}

static void test_arith(void)
{
    is_str(O(dec_add, "1.5", "0.25"), "1.75", "the larger scale");
    is_str(O(dec_sub, "1.50", "1.5"), "0.00", "a zero keeps it");
    is_str(O(dec_sub, "1", "1.25"), "-0.25", "a negative result");
    is_str(O(dec_add, "-5", "2.5"), "-2.5", "signs differ");
    is_str(O(dec_mul, "0.1", "0.1"), "0.01", "0.1 * 0.1 exactly");
    is_str(O(dec_mul, "-1.20", "3"), "-3.60", "the sum of the scales");
    is_str(O(dec_mul, "0.000000001", "0.000000001"), "0.000000000000000001", "18 places");
    is_str(O(dec_mul, "0.0000000001", "0.000000001"), "!2", "19 places: DEC_ESCALE");
    is_str(O(dec_mul, "0.0000000010", "0.0000000010"), "0.000000000000000001",
           "20 places of which two are zeros: dropped");
    is_str(O(dec_add, NINES38, "1"), "!1", "past 38 digits: DEC_ERANGE");
    is_str(O(dec_sub, "-" NINES38, "1"), "!1", "past -38 digits too");
    is_str(O(dec_add, NINES38, "-" NINES38), "0", "the largest minus itself");
    is_str(O(dec_mul, "10000000000000000000", "10000000000000000000"), "!1", "10^19 squared");
    is_str(O(dec_mul, "10000000000000000000", "1000000000000000000"),
           "10000000000000000000000000000000000000", "10^19 * 10^18 = 10^37 fits");
    is_str(O(dec_add, "99999999999999999999.999999999999999999", "0.000000000000000001"),
           "100000000000000000000.00000000000000000",
           "a carry into a 39th digit: 10^20 at 17 places, exact");
    is_str(O(dec_add, "99999999999999999999.999999999999999999", "0.000000000000000002"), "!1",
           "10^20 + 10^-18 needs 39 digits: DEC_ERANGE");
    is_str(O(dec_add, "99999999999999999999.000000000000000000", "1"),
           "100000000000000000000.00000000000000000", "one carry: a trailing zero dropped");
    struct dec max = D(NINES38), neg = dec_neg(max);
    is_int(dec_cmp(neg, max), -1, "the range is symmetric: -max fits");
    is_str(S(dec_abs(neg)), NINES38, "abs(-max)");
    is_int(dec_cmp(D("1.50"), D("1.5")), 0, "1.50 == 1.5");
    is_int(dec_cmp(D("-2"), D("-1.5")), -1, "-2 < -1.5");
    is_int(dec_cmp(D("0.001"), D("-1000")), 1, "0.001 > -1000");
    is_int(dec_cmp(D("0.00"), D("-0")), 0, "zeros are equal");
    is_int(dec_sign(D("-0.01")), -1, "sign of -0.01");
    is_int(dec_sign(D("0.00")), 0, "sign of 0.00");
}

/* Amounts up to 10^12 with 18 places. */
static void test_amounts(void)
{
    const char *big = "999999999999.999999999999999999";
    is_str(O(dec_add, big, "0.000000000000000001"), "1000000000000.000000000000000000",
           "10^12 - 10^-18 plus 10^-18");
    is_str(O(dec_mul, big, "1"), big, "times 1");
    is_str(O(dec_mul, big, big), "!2", "squared: 36 places, not representable");
    is_str(O(dec_mul, "1000000000000.000000000000000000", "1000000000000.000000000000000000"),
           "1000000000000000000000000.0000000000000",
           "10^12 squared at 36 places: zeros dropped until it fits in 38 digits");
    is_str(O(dec_mul, big, "-100"), "-99999999999999.999999999999999900", "times -100");
    is_str(DIV(big, "3", 18, DEC_HALF_EVEN), "333333333333.333333333333333333", "divided by 3");
    is_str(DIV("1000000000000", "0.000000000000000001", 0, DEC_DOWN),
           "1000000000000000000000000000000", "10^12 / 10^-18 = 10^30");
    is_str(DIV(big, "0.000000000000000001", 18, DEC_DOWN), "!1",
           "that quotient at 18 places: 48 digits, DEC_ERANGE");
    is_str(ROUND(big, 2, DEC_HALF_UP), "1000000000000.00", "rounded to 2 places");
    is_str(ROUND("-" "999999999999.999999999999999999", 2, DEC_DOWN), "-999999999999.99",
           "negative, down");
}

static const char *const modes[DEC_MODES] = {"half_even", "half_up", "half_down", "down", "up",
                                             "floor", "ceiling"};

/* Each value rounded to 0 places in each mode, as Python's decimal does. */
static void test_rounding(void)
{
    const char *x[] = {"2.5", "2.6", "2.4", "3.5", "-2.5", "-2.6", "-2.4", "-3.5", "-0.5", "0.5",
                       "-0.05"};
    const char *want[DEC_MODES][11] = {
        {"2", "3", "2", "4", "-2", "-3", "-2", "-4", "0", "0", "0"},
        {"3", "3", "2", "4", "-3", "-3", "-2", "-4", "-1", "1", "0"},
        {"2", "3", "2", "3", "-2", "-3", "-2", "-3", "0", "0", "0"},
        {"2", "2", "2", "3", "-2", "-2", "-2", "-3", "0", "0", "0"},
        {"3", "3", "3", "4", "-3", "-3", "-3", "-4", "-1", "1", "-1"},
        {"2", "2", "2", "3", "-3", "-3", "-3", "-4", "-1", "0", "-1"},
        {"3", "3", "3", "4", "-2", "-2", "-2", "-3", "0", "1", "0"},
    };
    for (int m = 0; m < DEC_MODES; m++) {
        is_int(dec_mode_parse(modes[m]), m, "mode %s", modes[m]);
        for (int i = 0; i < 11; i++)
            is_str(ROUND(x[i], 0, (enum dec_mode)m), want[m][i], "%s %s", x[i], modes[m]);
    }
    is_int(dec_mode_parse("HALF_EVEN"), -1, "modes are lower case");
    const char *third[DEC_MODES] = {"-0.33", "-0.33", "-0.33", "-0.33", "-0.34", "-0.34", "-0.33"};
    const char *eighth[DEC_MODES] = {"-0.12", "-0.13", "-0.12", "-0.12", "-0.13", "-0.13", "-0.12"};
    const char *tiny[DEC_MODES] = {"1", "1", "1", "1", "2", "1", "2"};
    for (int m = 0; m < DEC_MODES; m++) {
        is_str(DIV("-1", "3", 2, (enum dec_mode)m), third[m], "-1 / 3 %s", modes[m]);
        is_str(DIV("1", "-8", 2, (enum dec_mode)m), eighth[m], "1 / -8 (an exact half) %s", modes[m]);
        is_str(DIV("1.000000000000000001", "1", 0, (enum dec_mode)m), tiny[m],
               "a remainder of 10^-18 %s", modes[m]);
    }
    is_str(ROUND("1.5", 4, DEC_DOWN), "1.5000", "a finer scale: zeros added");
    is_str(ROUND(NINES38, 1, DEC_DOWN), "!1", "zeros added past 38 digits: DEC_ERANGE");
    is_str(ROUND("9.99", 1, DEC_HALF_UP), "10.0", "a carry into a new digit");
    is_str(ROUND("99999999999999999999999999999999999999", 0, DEC_UP), NINES38,
           "an integer rounded to 0 places stays");
    is_str(ROUND("9999999999999999999999999999999999999.9", 0, DEC_UP),
           "10000000000000000000000000000000000000", "rounded up to 10^37: still 38 digits");
    is_str(ROUND("1", 19, DEC_DOWN), "!2", "a scale of 19 is refused");
    is_str(ROUND("1", -1, DEC_DOWN), "!2", "a negative scale too");
}

static void test_div(void)
{
    is_str(DIV("1", "0", 2, DEC_HALF_EVEN), "!3", "1 / 0: DEC_EDIV0");
    is_str(DIV("0", "0.00", 2, DEC_HALF_EVEN), "!3", "0 / 0.00: DEC_EDIV0");
    is_str(DIV("0", "7", 3, DEC_UP), "0.000", "0 / 7");
    is_str(DIV("10", "4", 0, DEC_HALF_EVEN), "2", "2.5 to even");
    is_str(DIV("-10", "-4", 1, DEC_DOWN), "2.5", "two negatives");
    is_str(DIV("95.12", "1.0345", 8, DEC_HALF_UP), "91.94780087", "a rate divided");
    is_str(DIV(NINES38, "0.1", 0, DEC_DOWN), "!1", "a quotient past 38 digits");
    is_str(DIV(NINES38, "0.000000000000000001", 18, DEC_DOWN), "!1",
           "the largest dividend over the smallest divisor at 18 places");
    is_str(DIV("0.000000000000000001", NINES38, 18, DEC_UP), "0.000000000000000001",
           "the smallest over the largest, up");
    is_str(DIV("0.000000000000000001", NINES38, 18, DEC_HALF_EVEN), "0.000000000000000000",
           "and to nearest");
}

static void test_format(void)
{
    is_str(FMT("1234567.891", 2, " ", ","), "1 234 567,89", "groups, comma, 2 places");
    is_str(FMT("-1234567.891", 2, ",", "."), "-1,234,567.89", "negative");
    is_str(FMT("-0.004", 2, " ", "."), "0.00", "rounded to zero: no sign");
    is_str(FMT("123", -1, " ", "."), "123", "three digits: no group");
    is_str(FMT("1234", -1, " ", "."), "1 234", "four");
    is_str(FMT("123456.5", -1, " ", "."), "123 456.5", "six and its own scale");
    is_str(FMT("999.995", 2, " ", "."), "1 000.00", "rounding makes a group");
    is_str(FMT("0.05", -1, " ", ","), "0,05", "below one");
    is_str(FMT("12345", 0, "\xE2\x80\x89", "."), "12\xE2\x80\x89" "345", "a thin space");
    is_str(FMT("12345", 3, "", "."), "12345.000", "no group, more places");
    is_str(FMT("-" NINES38, -1, "\xE2\x80\x89", "."),
           "-99\xE2\x80\x89" "999\xE2\x80\x89" "999\xE2\x80\x89" "999\xE2\x80\x89" "999"
           "\xE2\x80\x89" "999\xE2\x80\x89" "999\xE2\x80\x89" "999\xE2\x80\x89" "999"
           "\xE2\x80\x89" "999\xE2\x80\x89" "999\xE2\x80\x89" "999\xE2\x80\x89" "999",
           "the longest text fits");
    is_str(FMT(NINES38, 1, " ", "."), "!1", "a place more than fits: the error");
    char small[8];
    struct dec_fmt f = {-1, DEC_HALF_EVEN, " ", "."};
    dec_format(D("123456789"), &f, small, sizeof small);
    is_str(small, "123 456", "a short buffer: cut, terminated");
}

/* the text of dec_from_double(x, digits), or "!<error number>" */
static const char *N(double x, int digits)
{
    struct dec d;
    int rc = dec_from_double(x, digits, &d);
    if (rc != DEC_OK) {
        snprintf(text, sizeof text, "!%d", rc);
        return text;
    }
    return S(d);
}

static void test_from_double(void)
{
    is_str(N(0.1, 0), "0.1", "0.1 is 0.1, not its binary value");
    is_str(N(0.1 + 0.2, 0), "0.30000000000000004", "17 digits when 16 do not read back");
    is_str(N(3.0, 0), "3.0", "a whole number keeps repr's .0");
    is_str(N(0.0, 0), "0.0", "zero");
    is_str(N(-0.0, 0), "0.0", "no negative zero");
    is_str(N(1e16, 0), "10000000000000000", "1e16: repr has no .0");
    is_str(N(1e-5, 0), "0.00001", "a small one");
    is_str(N(123456789012345.6, 0), "123456789012345.6", "16 digits");
    is_str(N(-95.31, 0), "-95.31", "negative");
    is_str(N(1e-19, 0), "!2", "more than 18 places");
    is_str(N(1e40, 0), "!1", "more than 38 digits");
    is_str(N(0.0 / 0.0, 0), "!4", "NaN");
    is_str(N(1.0 / 0.0, 0), "!4", "infinity");
    is_str(N(2.675, 3), "2.68", "a decimal tie rounds half-even on the decimal digits");
    is_str(N(2.665, 3), "2.66", "and to the even digit");
    is_str(N(1.0526315789473684e-05, 4), "0.00001053", "rounding brings it within 18 places");
    is_str(N(19960.0, 3), "20000", "rounding left of the point");
    is_str(N(0.1996, 3), "0.200", "a carry keeps the digits asked for");
    is_str(N(1.5, 5), "1.5", "fewer digits than asked: as it is");
    is_str(N(-2.5, 1), "-2", "negative tie to even");
    is_str(N(1e-30, 3), "!2", "still too small");
    struct dec d;
    is_int(dec_from_int_digits(INT64_MIN, 0, &d), DEC_OK, "INT64_MIN");
    is_str(S(d), "-9223372036854775808", "exactly");
    dec_from_int_digits(123456789, 2, &d);
    is_str(S(d), "120000000", "an integer to 2 digits");
}

/* Any double that fits reads back from its decimal: 200,000 bit patterns
 * (a fixed xorshift), those out of range refused with the range errors. */
static void test_from_double_reads_back(void)
{
    uint64_t r = 88172645463325252ull;
    long bad = 0, fitted = 0;
    for (int i = 0; i < 200000; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        double x;
        uint64_t bits = (r & 0x800FFFFFFFFFFFFFull) | ((1023ull - 70 + r % 200) << 52);
        memcpy(&x, &bits, sizeof x);   /* about 1e-21 .. 1e39, either sign */
        struct dec d;
        int rc = dec_from_double(x, 0, &d);
        if (rc == DEC_OK) {
            fitted++;
            dec_str(d, text, sizeof text);
            bad += strtod(text, NULL) != x;
        } else {
            bad += rc != DEC_ESCALE && rc != DEC_ERANGE;
        }
    }
    is_int(bad, 0, "every decimal reads back as its double (%ld of 200000 fit)", fitted);
    ok(fitted > 100000, "most fit");
}

int main(void)
{
    test_from_double_reads_back();
    test_from_double();
    test_parse();
    test_input();
    test_arith();
    test_amounts();
    test_rounding();
    test_div();
    test_format();
    return done();
}
