/* vmsd's event spool reopened over arbitrary (corrupt, torn) contents:
 * open keeps only the valid prefix, every record read back is within it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

static char dir[64];

static void
cleanup(void)
{
    char p[128];

    snprintf(p, sizeof(p), "%s/events.offset", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/events.spool", dir);
    unlink(p);
    rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             path[128], err[256];
    FILE            *f;
    vms_spool_t     *sp;
    vms_spool_rec_t  rec;
    uint64_t         off;
    size_t           split = size > 0 ? data[0] % 24 : 0;

    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/dev/shm/fuzz-vmsd-spool-%d", (int) getpid());
        mkdir(dir, 0700);
        atexit(cleanup);
    }
    /* the first bytes (up to 23) become the offset file, the rest the spool */
    if (split > size) {
        split = size;
    }
    snprintf(path, sizeof(path), "%s/events.offset", dir);
    f = fopen(path, "w");
    if (f == NULL) {
        return 0;
    }
    fwrite(data, 1, split, f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/events.spool", dir);
    f = fopen(path, "w");
    if (f == NULL) {
        return 0;
    }
    fwrite(data + split, 1, size - split, f);
    fclose(f);

    sp = vms_spool_open(dir, 1 << 20, err, sizeof(err));
    if (sp == NULL) {
        return 0;
    }
    if (vms_spool_end(sp) > size - split) {
        abort();
    }
    for (off = vms_spool_committed(sp); vms_spool_read(sp, off, &rec) == 1; off = rec.end) {
        if (rec.end <= rec.off || rec.end > vms_spool_end(sp)) {
            abort();
        }
        vms_spool_rec_free(&rec);
    }
    /* appending after whatever was there still works */
    if (vms_spool_append(sp, "t", "k", 1, "v", 1) == 0
        && vms_spool_read(sp, off, &rec) == 1)
    {
        if (strcmp(rec.topic, "t") != 0 || rec.len != 1) {
            abort();
        }
        vms_spool_rec_free(&rec);
    }
    vms_spool_close(sp);
    return 0;
}
