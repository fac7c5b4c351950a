/* fMP4: the CLI's scanner (init size, fragments, keyframes, times, a file cut
 * short) and the serve-time tfdt reader/rebaser, on synthetic files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_fmp4.h"
#include "vms_mp4.h"
#include "vms_bytes.h"

typedef struct {
    unsigned char b[65536];
    size_t n;
} buf_t;

static void
u32(buf_t *b, uint32_t v)
{
    b->b[b->n++] = (unsigned char) (v >> 24);
    b->b[b->n++] = (unsigned char) (v >> 16);
    b->b[b->n++] = (unsigned char) (v >> 8);
    b->b[b->n++] = (unsigned char) v;
}

static size_t
open_box(buf_t *b, const char *type)
{
    size_t at = b->n;
    u32(b, 0);
    memcpy(b->b + b->n, type, 4);
    b->n += 4;
    return at;
}

static void
close_box(buf_t *b, size_t at)
{
    uint32_t sz = (uint32_t) (b->n - at);
    b->b[at] = (unsigned char) (sz >> 24);
    b->b[at + 1] = (unsigned char) (sz >> 16);
    b->b[at + 2] = (unsigned char) (sz >> 8);
    b->b[at + 3] = (unsigned char) sz;
}

static void
zeros(buf_t *b, size_t n)
{
    memset(b->b + b->n, 0, n);
    b->n += n;
}

static unsigned char stsd_byte = 0x42;

static void
trak(buf_t *b, uint32_t id, uint32_t timescale, const char *handler)
{
    size_t t = open_box(b, "trak");
    size_t h = open_box(b, "tkhd");
    u32(b, 0); u32(b, 0); u32(b, 0); u32(b, id); zeros(b, 68);
    close_box(b, h);
    size_t m = open_box(b, "mdia");
    size_t d = open_box(b, "mdhd");
    u32(b, 0); u32(b, 0); u32(b, 0); u32(b, timescale); u32(b, 0); u32(b, 0);
    close_box(b, d);
    size_t hd = open_box(b, "hdlr");
    u32(b, 0); u32(b, 0); memcpy(b->b + b->n, handler, 4); b->n += 4; zeros(b, 13);
    close_box(b, hd);
    size_t mi = open_box(b, "minf");
    size_t st = open_box(b, "stbl");
    size_t sd = open_box(b, "stsd");
    u32(b, 0); u32(b, 1); zeros(b, 7); b->b[b->n++] = stsd_byte;
    close_box(b, sd);
    close_box(b, st);
    close_box(b, mi);
    close_box(b, m);
    close_box(b, t);
}

static void
init(buf_t *b)
{
    size_t f = open_box(b, "ftyp");
    memcpy(b->b + b->n, "iso5", 4); b->n += 4; u32(b, 512);
    close_box(b, f);
    size_t m = open_box(b, "moov");
    trak(b, 1, 90000, "vide");
    trak(b, 2, 48000, "soun");
    size_t x = open_box(b, "mvex");
    size_t t = open_box(b, "trex");
    u32(b, 0); u32(b, 1); u32(b, 1); u32(b, 3600); u32(b, 0); u32(b, 0x10000);
    close_box(b, t);
    close_box(b, x);
    close_box(b, m);
}

/* one fragment: video traf (n samples of 3600, first a keyframe when key) +
 * audio traf, v1 tfdt for video */
static size_t
fragment(buf_t *b, uint64_t vt, uint32_t at, int key, int n)
{
    size_t start = b->n;
    size_t mf = open_box(b, "moof");
    size_t h = open_box(b, "mfhd"); u32(b, 0); u32(b, 1); close_box(b, h);
    size_t tf = open_box(b, "traf");
    h = open_box(b, "tfhd"); u32(b, 0x020000); u32(b, 1); close_box(b, h);
    h = open_box(b, "tfdt"); u32(b, 0x01000000); u32(b, (uint32_t) (vt >> 32)); u32(b, (uint32_t) vt);
    close_box(b, h);
    h = open_box(b, "trun");
    u32(b, 0x000204 | 0x1); u32(b, (uint32_t) n); u32(b, 0); u32(b, key ? 0x02000000 : 0x01010000);
    for (int i = 0; i < n; i++) {
        u32(b, 10);
    }
    close_box(b, h);
    close_box(b, tf);
    tf = open_box(b, "traf");
    h = open_box(b, "tfhd"); u32(b, 0x020008); u32(b, 2); u32(b, 1024); close_box(b, h);
    h = open_box(b, "tfdt"); u32(b, 0); u32(b, at); close_box(b, h);
    h = open_box(b, "trun"); u32(b, 0x000200); u32(b, 2); u32(b, 5); u32(b, 5); close_box(b, h);
    close_box(b, tf);
    close_box(b, mf);
    size_t md = open_box(b, "mdat");
    zeros(b, (size_t) n * 10 + 10);
    close_box(b, md);
    return b->n - start;
}

static const char *
write_tmp(const buf_t *b, size_t len)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/pb_fmp4_test.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b->b, len), (ssize_t) len);
    close(fd);
    return path;
}

static void
test_scan(void **state)
{
    static buf_t b;
    b.n = 0;
    init(&b);
    size_t init_size = b.n;
    size_t f0 = fragment(&b, 900000, 480000, 1, 25);    /* 10 s in, 1 s of video */
    size_t f1 = fragment(&b, 990000, 528000, 0, 25);    /* no keyframe at its start */
    size_t f2 = fragment(&b, 1080000, 576000, 1, 50);
    size_t full = b.n;
    /* a trailing box that is not a fragment (mfra) */
    size_t m = open_box(&b, "mfra"); zeros(&b, 8); close_box(&b, m);

    vms_mp4_info_t info;
    char err[256];
    const char *p = write_tmp(&b, b.n);
    assert_int_equal(vms_mp4_scan(p, &info, err, sizeof(err)), 0);
    unlink(p);
    assert_int_equal(info.init_size, init_size);
    assert_int_equal(info.bytes, b.n);
    assert_int_equal(info.nfrags, 3);
    assert_int_equal(info.media_time_us, 10000000);
    assert_int_equal(info.frags[0].offset, init_size);
    assert_int_equal(info.frags[0].size, f0);
    assert_int_equal(info.frags[1].offset, init_size + f0);
    assert_int_equal(info.frags[1].size, f1);
    assert_int_equal(info.frags[2].size, f2);
    assert_int_equal(info.frags[2].offset + info.frags[2].size, full);
    assert_true(info.frags[0].flags & VMS_FRAG_KEY);
    assert_false(info.frags[1].flags & VMS_FRAG_KEY);
    assert_true(info.frags[2].flags & VMS_FRAG_KEY);
    assert_int_equal(info.frags[1].start_us, 1000000);
    assert_int_equal(info.frags[2].duration_us, 2000000);
    assert_int_equal(info.duration_us, 4000000);
    vms_mp4_info_free(&info);

    /* cut short inside the last fragment: the complete ones remain */
    p = write_tmp(&b, init_size + f0 + f1 + 20);
    assert_int_equal(vms_mp4_scan(p, &info, err, sizeof(err)), 0);
    unlink(p);
    assert_int_equal(info.nfrags, 2);
    /* the torn part begins after the second fragment: crash recovery cuts there */
    assert_int_equal(info.complete, init_size + f0 + f1);
    assert_int_equal(info.bytes, init_size + f0 + f1 + 20);
    vms_index_segment_t seg;
    assert_int_equal(vms_mp4_segment(&info, 1700000000000000, &seg), 0);
    assert_int_equal(seg.bytes, init_size + f0 + f1);
    assert_int_equal(seg.start_us, 1700000000000000);    /* no recorder tag: the name's time */
    assert_int_equal(seg.flags, VMS_SEG_MEDIA_TIME);
    vms_mp4_info_free(&info);

    /* an init section alone: scanned, but nothing to index */
    p = write_tmp(&b, init_size);
    assert_int_equal(vms_mp4_scan(p, &info, err, sizeof(err)), 0);
    unlink(p);
    assert_int_equal(info.nfrags, 0);
    assert_int_equal(info.complete, init_size);
    assert_int_equal(vms_mp4_segment(&info, 1700000000000000, &seg), -1);
    vms_mp4_info_free(&info);
    memcpy(b.b + 4, "junk", 4);
    b.b[0] = 0xff;
    p = write_tmp(&b, 100);
    assert_int_equal(vms_mp4_scan(p, &info, err, sizeof(err)), -1);
    unlink(p);
}

/* Files no recorder writes must not yield fragments outside the part that
 * crash recovery keeps (found by fuzz_reconcile_scan). */
static void
test_scan_hostile(void **state)
{
    static buf_t b;
    vms_mp4_info_t info;
    char err[256];
    b.n = 0;
    init(&b);
    size_t init_size = b.n;
    size_t f0 = fragment(&b, 900000, 480000, 1, 25);

    /* a second moov after a fragment: refused, not a new init section */
    size_t moov = 0;
    while (memcmp(b.b + moov + 4, "moov", 4) != 0) {
        moov += vms_be32(b.b + moov);
    }
    size_t moov_len = vms_be32(b.b + moov);
    size_t n = b.n;
    memcpy(b.b + n, b.b + moov, moov_len);
    b.n = n + moov_len;
    fragment(&b, 990000, 528000, 1, 25);
    const char *p = write_tmp(&b, b.n);
    assert_int_equal(vms_mp4_scan(p, &info, err, sizeof(err)), -1);
    unlink(p);
    assert_non_null(strstr(err, "second moov"));

    /* a video moof, then another track's moof, then the end: the video
     * fragment never got its mdat, so only the first fragment is whole */
    b.n = init_size + f0;
    size_t mf = open_box(&b, "moof");
    size_t h = open_box(&b, "traf");
    size_t t = open_box(&b, "tfhd"); u32(&b, 0x020000); u32(&b, 1); close_box(&b, t);
    t = open_box(&b, "tfdt"); u32(&b, 0); u32(&b, 990000); close_box(&b, t);
    close_box(&b, h);
    close_box(&b, mf);
    mf = open_box(&b, "moof");
    h = open_box(&b, "traf");
    t = open_box(&b, "tfhd"); u32(&b, 0x020000); u32(&b, 2); close_box(&b, t);
    t = open_box(&b, "tfdt"); u32(&b, 0); u32(&b, 528000); close_box(&b, t);
    close_box(&b, h);
    close_box(&b, mf);
    p = write_tmp(&b, b.n);
    assert_int_equal(vms_mp4_scan(p, &info, err, sizeof(err)), 0);
    unlink(p);
    assert_int_equal(info.complete, init_size + f0);
    assert_int_equal(info.nfrags, 1);
    assert_int_equal(info.frags[0].offset + info.frags[0].size, init_size + f0);
    vms_mp4_info_free(&info);
}

static void
test_tracks_and_rebase(void **state)
{
    static buf_t b;
    b.n = 0;
    init(&b);
    size_t init_size = b.n;
    pb_fmp4_tracks_t t;
    assert_int_equal(pb_fmp4_tracks(b.b, init_size, &t), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.id[0], 1);
    assert_int_equal(t.timescale[0], 90000);
    assert_int_equal(t.timescale[1], 48000);

    size_t fl = fragment(&b, 900000, 480000, 1, 25);
    unsigned char *moof = b.b + init_size;
    size_t msz = vms_be32(moof);
    assert_true(msz < fl);
    int64_t first[PB_FMP4_MAX_TRACKS];
    assert_int_equal(pb_fmp4_moof_tfdt(moof, msz, &t, first, NULL), 0);
    assert_int_equal(first[0], 900000);
    assert_int_equal(first[1], 480000);
    int64_t shift[PB_FMP4_MAX_TRACKS] = { 900000 - 90000, 480000 - 48000 };
    assert_int_equal(pb_fmp4_moof_tfdt(moof, msz, &t, NULL, shift), 0);
    assert_int_equal(pb_fmp4_moof_tfdt(moof, msz, &t, first, NULL), 0);
    assert_int_equal(first[0], 90000);      /* both tracks now start at 1 s */
    assert_int_equal(first[1], 48000);

    /* malformed: truncated moof, wrong box */
    assert_int_equal(pb_fmp4_moof_tfdt(moof, msz - 3, &t, first, NULL), -1);
    assert_int_equal(pb_fmp4_moof_tfdt(b.b, init_size, &t, first, NULL), -1);
    assert_int_equal(pb_fmp4_tracks(moof, msz, &t), -1);
}

static void
test_init_compatible(void **state)
{
    static buf_t a, b, c;
    a.n = b.n = c.n = 0;
    init(&a);
    init(&b);
    /* metadata after the tracks (a recorder's start tag) does not matter */
    size_t u = open_box(&b, "udta"); zeros(&b, 12); close_box(&b, u);
    assert_true(pb_fmp4_init_compatible(a.b, a.n, b.b, b.n));
    stsd_byte = 0x43;          /* other codec parameters */
    init(&c);
    stsd_byte = 0x42;
    assert_false(pb_fmp4_init_compatible(a.b, a.n, c.b, c.n));
    assert_false(pb_fmp4_init_compatible(a.b, a.n, a.b, 20));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_scan_hostile),
        cmocka_unit_test(test_tracks_and_rebase),
        cmocka_unit_test(test_init_compatible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
