/* libFuzzer target for the config schema (make fuzz): config_set() with
 * any sequence of keys and values, as lconfig.c hands them over.  Each
 * call either takes the value or refuses it with a message; the config
 * stays valid throughout (config_check.h), and config_free leaves no leak.
 *
 * Input: records of [key byte][type byte][payload]; a key byte below the
 * number of keys names one (read from config_describe, so new keys are
 * fuzzed too), others take a NUL-terminated name from the payload; the
 * type byte picks string, integer, number, boolean, list or other. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_check.h"

static char keys[128][64];
static int nkeys;

static void setup(void)
{
    if (nkeys)
        return;
    unsetenv("BOT_TOKEN");
    unsetenv("WEBHOOK_SECRET");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_describe(f);
    fclose(f);
    for (char *line = text; line && *line && nkeys < 128;) {
        if (sscanf(line, " %63s", keys[nkeys]) == 1)
            nkeys++;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    free(text);
    if (nkeys < 10)   /* the key table could not be read */
        abort();
    /* the sections too: a table there is refused by config_set */
    snprintf(keys[nkeys++], sizeof keys[0], "telegram");
    keys[nkeys++][0] = '\0';
}

struct reader {
    const uint8_t *p, *end;
};

static int byte(struct reader *r)
{
    return r->p < r->end ? *r->p++ : 0;
}

/* A NUL-terminated string from the input (at most cap - 1 bytes). */
static char *text(struct reader *r, char *buf, size_t cap)
{
    size_t n = 0;
    while (r->p < r->end && *r->p && n + 1 < cap)
        buf[n++] = (char)*r->p++;
    if (r->p < r->end)
        r->p++;
    buf[n] = '\0';
    return buf;
}

static long long i64(struct reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint64_t)byte(r);
    return (long long)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    struct reader r = {data, data + size};
    struct config c;
    config_defaults(&c);
    char name[80], strbuf[16][40], sval[300], err[512];
    long long ints[16];
    const char *strs[16];
    while (r.p < r.end) {
        int k = byte(&r);
        const char *key = k < nkeys ? keys[k] : text(&r, name, sizeof name);
        struct config_value v = {0};
        switch (byte(&r) % 6) {
        case 0:
            v.type = CV_STRING;
            v.s = text(&r, sval, sizeof sval);
            v.lua_type = "string";
            break;
        case 1:
            v.type = CV_INT;
            v.i = i64(&r);
            v.lua_type = "integer";
            break;
        case 2: {
            long long bits = i64(&r);
            v.type = CV_NUMBER;
            memcpy(&v.n, &bits, sizeof v.n);   /* NaN, infinities, subnormals too */
            v.lua_type = "number with a fraction";
            break;
        }
        case 3:
            v.type = CV_BOOL;
            v.b = byte(&r) & 1;   /* lua_toboolean's 0 or 1 */
            v.lua_type = "boolean";
            break;
        case 4: {
            /* a list as to_value() describes one: all integers, all
             * strings, neither, or (empty) both */
            int n = byte(&r) % 17, kind = byte(&r) % 3;
            v.type = CV_TABLE;
            v.ints = ints;
            v.strs = strs;
            v.ints_ok = kind == 0 || n == 0;
            v.strs_ok = kind == 1 || n == 0;
            for (int i = 0; i < n && kind != 2; i++) {
                if (kind == 0)
                    ints[v.nints++] = i64(&r);
                else
                    strs[v.nstrs++] = text(&r, strbuf[i], sizeof strbuf[i]);
            }
            v.lua_type = "table";
            break;
        }
        default:
            v.type = CV_OTHER;
            v.lua_type = "function";
        }
        err[0] = '\0';
        int rc = config_set(&c, key, &v, err, sizeof err);
        if (rc == -1)
            fz_err_check(err, sizeof err);
        else if (rc != 0)
            abort();
        fz_config_check(&c);
    }
    config_free(&c);
    return 0;
}
