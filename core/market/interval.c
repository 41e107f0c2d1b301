#include "market/interval.h"

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
    for (int i = 0; i < IV_COUNT; i++)
        if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0)
            return i;
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
