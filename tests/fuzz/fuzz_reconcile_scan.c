/* libFuzzer target: the MP4 fragment-table reader of start-up reconciliation
 * (sidecar/record/reconcile.c, vms_reconcile_scan) on arbitrary file contents,
 * including the truncation of a torn last fragment. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "reconcile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vms_index_segment_t   seg;
    vms_index_fragment_t *frags = NULL;
    char                  path[64], err[512];
    int                   fd, rc;

    fd = memfd_create("fuzz", 0);
    if (fd < 0) {
        return 0;
    }
    if (write(fd, data, size) != (ssize_t) size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    rc = vms_reconcile_scan(path, 1, &seg, &frags, err, sizeof(err));
    if (rc >= 0) {
        /* what it reports stays inside the (possibly truncated) file */
        off_t end = lseek(fd, 0, SEEK_END);

        if (seg.bytes > (uint64_t) end || seg.init_size > seg.bytes) {
            abort();
        }
        for (uint32_t i = 0; i < seg.nfrags; i++) {
            if (frags[i].offset < seg.init_size
                || frags[i].offset + frags[i].size > seg.bytes
                || (i > 0 && frags[i].offset < frags[i - 1].offset + frags[i - 1].size))
            {
                abort();
            }
        }
    }
    free(frags);
    close(fd);
    return 0;
}
