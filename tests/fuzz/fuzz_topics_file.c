/* Fuzz: conf/kafka/topics.json (sidecar/topics/topics_file.c), the file vms-topics applies to a
 * cluster: every input either loads (and frees) or is refused with a message. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "topics_file.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vms_topics_t ts;
    char err[512];
    if (vms_topics_load((const char *) data, size, &ts, err, sizeof(err)) == 0) {
        vms_topics_free(&ts);
    } else if (err[0] == '\0') {
        __builtin_trap();             /* a refusal always says why */
    }
    return 0;
}
