/* Fuzz: review rules files and DetectionResults (sidecar/detections_consumer), and a match of
 * every rule that loads against the detection that parses. Both are untrusted input: the rules
 * file an operator edits, the Kafka messages anyone on the broker can produce. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rules.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* input: RULES \0 DETECTION (either may be empty) */
    const char *text = (const char *) data;
    const char *nul = memchr(data, 0, size);
    size_t rlen = nul ? (size_t) (nul - text) : size;
    vms_rules_t rs;
    char err[512];
    int ok = vms_rules_load(text, rlen, &rs, err, sizeof(err)) == 0;
    if (nul) {
        vms_detection_t d;
        const char *why;
        if (vms_detection_parse(&d, nul + 1, size - rlen - 1, &why) == VMS_DET_OK && ok) {
            for (size_t i = 0; i < rs.n; i++) {
                (void) vms_rule_match(&rs.v[i], &d);
            }
        }
        vms_detection_free(&d);
    }
    if (ok) {
        vms_rules_free(&rs);
    }
    return 0;
}
