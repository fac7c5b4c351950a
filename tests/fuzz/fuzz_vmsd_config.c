/* vmsd's configuration parser on arbitrary files: never crashes, leaks or
 * reads out of bounds; either a config or an error message comes back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "config.h"

/* Stand-in for the analysis configuration (another component). */
struct vms_analysis_conf_s { int n; };
vms_analysis_conf_t *vms_analysis_conf_new(void) { return calloc(1, sizeof(vms_analysis_conf_t)); }
void vms_analysis_conf_free(vms_analysis_conf_t *c) { free(c); }
int vms_analysis_conf_set(vms_analysis_conf_t *c, const char *k, const char *v, char *err, size_t n)
{
    if (strlen(v) > 100) {
        snprintf(err, n, "too long");
        return -1;
    }
    c->n++;
    return 0;
}

static char path[64];

static void
cleanup(void)
{
    unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char         err[8192];
    FILE        *f;
    vms_config_t *cfg;

    if (path[0] == '\0') {
        snprintf(path, sizeof(path), "/dev/shm/fuzz-vmsd-conf-%d", (int) getpid());
        atexit(cleanup);
    }
    f = fopen(path, "w");
    if (f == NULL) {
        return 0;
    }
    fwrite(data, 1, size, f);
    fclose(f);
    cfg = vms_config_load(path, err, sizeof(err));
    if (cfg == NULL && err[0] == '\0') {
        abort();            /* an error always says what is wrong */
    }
    vms_config_free(cfg);
    return 0;
}
