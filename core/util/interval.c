#include "util/interval.h"

#include <string.h>

static const struct {
    const char *name;
    int64_t ms;
} table[IV_COUNT] = {
    {"1m", 60000},       {"3m", 180000},      {"5m", 300000},     {"15m", 900000},
    {"30m", 1800000},    {"1h", 3600000},     {"2h", 7200000},    {"4h", 14400000},
    {"6h", 21600000},    {"8h", 28800000},    {"12h", 43200000},  {"1d", 86400000},
};

int interval_parse(const char *name, size_t len)
{
    /* on the hot path: no string calls */
    if (len == 2) {
        switch (name[1]) {
        case 'm': return name[0] == '1' ? IV_1M : name[0] == '3' ? IV_3M : name[0] == '5' ? IV_5M : -1;
        case 'h': return name[0] == '1' ? IV_1H : name[0] == '2' ? IV_2H : name[0] == '4' ? IV_4H
                       : name[0] == '6' ? IV_6H : name[0] == '8' ? IV_8H : -1;
        case 'd': return name[0] == '1' ? IV_1D : -1;
        default: return -1;
        }
    }
    if (len == 3 && name[0] == '1') {
        if (name[1] == '5' && name[2] == 'm') return IV_15M;
        if (name[1] == '2' && name[2] == 'h') return IV_12H;
    }
    if (len == 3 && name[0] == '3' && name[1] == '0' && name[2] == 'm')
        return IV_30M;
    return -1;
}

const char *interval_name(int iv)
{
    return iv >= 0 && iv < IV_COUNT ? table[iv].name : "?";
}

int64_t interval_ms(int iv)
{
    return iv >= 0 && iv < IV_COUNT ? table[iv].ms : 0;
}
