/* libFuzzer: the fMP4 readers — the CLI's scanner (any file under a
 * recordings directory, MediaMTX's included) and the serve-time helpers
 * (init tracks, sample-description comparison, moof tfdt read/rebase). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pb_fmp4.h"
#include "vms_mp4.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0) {
        abort();
    }
    if (size && write(fd, data, size) != (ssize_t) size) {
        abort();
    }
    vms_mp4_info_t info;
    char err[256];
    if (vms_mp4_scan_fd(fd, &info, err, sizeof(err)) == 0) {
        /* fragments lie inside the file, after the init section, in order */
        for (uint32_t i = 0; i < info.nfrags; i++) {
            const vms_index_fragment_t *f = &info.frags[i];
            if (f->offset < info.init_size || f->offset + f->size > size
                || (i && f->offset < info.frags[i - 1].offset + info.frags[i - 1].size)) {
                __builtin_trap();
            }
        }
        vms_mp4_info_free(&info);
    }
    close(fd);

    unsigned char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    pb_fmp4_tracks_t t;
    if (pb_fmp4_tracks(copy, size, &t) == 0) {
        pb_fmp4_init_compatible(copy, size, copy, size);
        pb_fmp4_init_compatible(copy, size, copy, size / 2);
        int64_t first[PB_FMP4_MAX_TRACKS], shift[PB_FMP4_MAX_TRACKS];
        for (int i = 0; i < PB_FMP4_MAX_TRACKS; i++) {
            shift[i] = (int64_t) i * 1000;
        }
        /* the same bytes as a moof, read then rebased */
        if (pb_fmp4_moof_tfdt(copy, size, &t, first, NULL) == 0) {
            pb_fmp4_moof_tfdt(copy, size, &t, NULL, shift);
        }
    } else {
        t.n = 1;
        t.id[0] = 1;
        t.timescale[0] = 90000;
        int64_t first[PB_FMP4_MAX_TRACKS], shift[PB_FMP4_MAX_TRACKS] = { 5 };
        if (pb_fmp4_moof_tfdt(copy, size, &t, first, NULL) == 0) {
            pb_fmp4_moof_tfdt(copy, size, &t, NULL, shift);
        }
    }
    free(copy);
    return 0;
}
