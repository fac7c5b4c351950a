/* Fuzz: receivers.json (sidecar/alert_notifier/receivers.c), the file vms-alert-notifier reads:
 * every input loads (and frees) or is refused with a message. */
#include <stddef.h>
#include <stdint.h>

#include "receivers.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vms_receivers_t rs;
    char err[512];
    if (vms_receivers_load((const char *) data, size, &rs, err, sizeof(err)) == 0) {
        vms_receivers_free(&rs);
    } else if (err[0] == '\0') {
        __builtin_trap();             /* a refusal always says why */
    }
    return 0;
}
