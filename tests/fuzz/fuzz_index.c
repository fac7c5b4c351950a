/* libFuzzer: index file images (.seg, .frag, open) through the validator,
 * and the same bytes as a day file under a camera directory through the
 * reader (query + fragment tables), which must refuse rather than crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vms_index.h"

static char dir[64];
static vms_index_reader_t *rd;

static void
put(const char *name, const uint8_t *data, size_t size)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/.index/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f == NULL) {
        abort();
    }
    fwrite(data, 1, size, f);
    fclose(f);
}

static void
cleanup(void)
{
    static const char *names[] = { "2026-11-24.seg", "2026-11-24.frag", "open", "lock" };
    char p[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/.index/%s", dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/.index", dir);
    rmdir(p);
    rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (rd == NULL) {
        snprintf(dir, sizeof(dir), "/tmp/fuzz_index.%d", (int) getpid());
        mkdir(dir, 0755);
        char p[128];
        snprintf(p, sizeof(p), "%s/.index", dir);
        mkdir(p, 0755);
        rd = vms_index_reader_new(4);
        atexit(cleanup);
    }
    vms_index_validate_buf(data, size, err, sizeof(err));

    /* first half as the day's .seg, second half as its .frag and the open record */
    size_t half = size / 2;
    put("2026-11-24.seg", data, half);
    put("2026-11-24.frag", data + half, size - half);
    put("open", data + half, size - half);
    vms_index_result_t res;
    const int64_t day = 1795478400LL * 1000000;
    if (vms_index_query(rd, dir, day - 3600LL * 1000000, day + 86400LL * 1000000, &res, err,
                        sizeof(err)) == 0) {
        for (size_t i = 0; i < res.n; i++) {
            if (vms_index_frags(rd, &res.v[i], err, sizeof(err)) == 0 && res.v[i].frags != NULL) {
                volatile uint64_t sum = 0;
                for (uint32_t k = 0; k < res.v[i].nfrags; k++) {
                    sum += res.v[i].frags[k].offset + res.v[i].frags[k].size;
                }
                (void) sum;
            }
        }
    }
    char path[160];
    vms_index_open_path(dir, path, sizeof(path));
    return 0;
}
