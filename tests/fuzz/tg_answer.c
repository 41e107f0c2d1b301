/* libFuzzer target for reading the Bot API's answers (make fuzz): any HTTP
 * status and any body must give a known outcome and bounded numbers, never
 * a crash, an out-of-bounds read or undefined behaviour.  The first two
 * bytes are the status (0..999). */
#include <cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "tg/answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    long status = (data[0] << 8 | data[1]) % 1000;
    struct tg_result r;
    cJSON *j = tg_answer_parse(status, (const char *)data + 2, size - 2, &r);
    if (r.outcome >= TG_OUTCOME_COUNT || r.retry_after < 0 || r.retry_after > 86400L * 365 ||
        (r.outcome == TG_RETRY_AFTER && r.retry_after < 1))
        abort();
    if (r.outcome == TG_OK && !j)
        abort();
    cJSON_Delete(j);
    return 0;
}
