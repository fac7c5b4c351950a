/*
 * Analysis keys of vmsd.conf (sidecar/analysis/ai/conf.c): "key=value" with the value
 * parsed as JSON ROI areas, price lists, durations, numbers, URLs.
 * Input: key, '=', value (NUL bytes cut the value short, as inih would).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ai/conf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vms_ai_conf_t conf;
    char   *s, *eq, err[512];

    s = malloc(size + 1);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    eq = strchr(s, '=');
    if (eq != NULL) {
        *eq = '\0';
        memset(&conf, 0, sizeof(conf));
        vms_ai_prices_default(&conf.prices);
        err[0] = '\0';
        if (vms_ai_conf_set(&conf, s, eq + 1, err, sizeof(err)) < 0) {
            /* every refusal explains itself */
            if (err[0] == '\0') {
                abort();
            }
        }
        for (int i = 0; i < conf.roi.n; i++) {
            if (conf.roi.area[i].w < 1 || conf.roi.area[i].h < 1
                || conf.roi.area[i].x < 0 || conf.roi.area[i].y < 0)
            {
                abort();
            }
        }
    }
    free(s);
    return 0;
}
