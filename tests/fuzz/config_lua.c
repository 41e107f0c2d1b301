/* libFuzzer target for config.lua (make fuzz): any text is evaluated as the
 * config, in its sandbox, within its limits (instructions, seconds, memory
 * held and allocated in all).  It must end loaded, with every setting
 * valid, or refused with a message; never a crash, a hang past the limits,
 * or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>

#include "config_check.h"
#include "lua/host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {   /* the defaults must not depend on the fuzzing machine */
        once = 1;
        unsetenv("BOT_TOKEN");
        unsetenv("WEBHOOK_SECRET");
    }
    /* an exact-size copy: ASan then catches any read past the text */
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    struct config cfg;
    char err[512] = "";
    config_defaults(&cfg);
    int rc = lh_config_load_buffer(text, size, "fuzz.lua", &cfg, err, sizeof err);
    if (rc == 0)
        fz_config_check(&cfg);
    else if (rc == -1)
        fz_err_check(err, sizeof err);
    else
        abort();
    config_free(&cfg);
    free(text);
    return 0;
}
