/* Plain MP4 clips (pb_pmp4): samples from moof/trun (defaults, data bases,
 * bounds), the cut at start/end, and the moov the writer makes, read back
 * box by box; on synthetic fragments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_pmp4.h"
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

static void
trak(buf_t *b, uint32_t id, uint32_t timescale, const char *handler)
{
    size_t t = open_box(b, "trak");
    size_t h = open_box(b, "tkhd");
    u32(b, 3); u32(b, 0); u32(b, 0); u32(b, id); zeros(b, 68);
    close_box(b, h);
    size_t m = open_box(b, "mdia");
    size_t d = open_box(b, "mdhd");
    u32(b, 0); u32(b, 0); u32(b, 0); u32(b, timescale); u32(b, 0); u32(b, 0x15c70000);
    close_box(b, d);
    size_t hd = open_box(b, "hdlr");
    u32(b, 0); u32(b, 0); memcpy(b->b + b->n, handler, 4); b->n += 4; zeros(b, 13);
    close_box(b, hd);
    size_t mi = open_box(b, "minf");
    size_t x = open_box(b, handler[0] == 'v' ? "vmhd" : "smhd"); zeros(b, 12); close_box(b, x);
    x = open_box(b, "dinf"); zeros(b, 8); close_box(b, x);
    size_t st = open_box(b, "stbl");
    size_t sd = open_box(b, "stsd");
    u32(b, 0); u32(b, 1); zeros(b, 7); b->b[b->n++] = 0x42;
    close_box(b, sd);
    x = open_box(b, "stts"); zeros(b, 8); close_box(b, x);
    close_box(b, st);
    close_box(b, mi);
    close_box(b, m);
    close_box(b, t);
}

/* video track 1 (90 kHz, trex: 3600 per sample, non-sync by default), audio track 2 (48 kHz) */
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
    t = open_box(b, "trex");
    u32(b, 0); u32(b, 2); u32(b, 1); u32(b, 1024); u32(b, 0); u32(b, 0);
    close_box(b, t);
    close_box(b, x);
    close_box(b, m);
}

/*
 * One fragment at b->n: video traf (n samples of 100 bytes, durations from
 * trex, the first a keyframe), then an audio traf with an explicit data
 * offset (2 samples of 5 bytes, 1024 each); mdat: video then audio bytes.
 * Returns the fragment's size; *moof_len the moof's.
 */
static size_t
fragment(buf_t *b, uint64_t vt, uint32_t at, int n, size_t *moof_len)
{
    size_t start = b->n;
    size_t mf = open_box(b, "moof");
    size_t h = open_box(b, "mfhd"); u32(b, 0); u32(b, 1); close_box(b, h);
    size_t tf = open_box(b, "traf");
    h = open_box(b, "tfhd"); u32(b, 0x020000); u32(b, 1); close_box(b, h);
    h = open_box(b, "tfdt"); u32(b, 0x01000000); u32(b, (uint32_t) (vt >> 32)); u32(b, (uint32_t) vt);
    close_box(b, h);
    h = open_box(b, "trun");
    u32(b, 0x000205); u32(b, (uint32_t) n);
    size_t video_off_at = b->n;
    u32(b, 0); u32(b, 0x02000000);              /* data offset (patched), first flags: sync */
    for (int i = 0; i < n; i++) {
        u32(b, 100);
    }
    close_box(b, h);
    close_box(b, tf);
    tf = open_box(b, "traf");
    h = open_box(b, "tfhd"); u32(b, 0x020000); u32(b, 2); close_box(b, h);
    h = open_box(b, "tfdt"); u32(b, 0); u32(b, at); close_box(b, h);
    h = open_box(b, "trun"); u32(b, 0x000201); u32(b, 2);
    size_t audio_off_at = b->n;
    u32(b, 0); u32(b, 5); u32(b, 5);
    close_box(b, h);
    close_box(b, tf);
    close_box(b, mf);
    *moof_len = b->n - start;
    size_t md = open_box(b, "mdat");
    uint32_t vdata = (uint32_t) (b->n - start);
    for (int i = 0; i < n * 100; i++) {
        b->b[b->n++] = (unsigned char) i;
    }
    uint32_t adata = (uint32_t) (b->n - start);
    zeros(b, 10);
    close_box(b, md);
    size_t save = b->n;
    b->n = video_off_at; u32(b, vdata);
    b->n = audio_off_at; u32(b, adata);
    b->n = save;
    return b->n - start;
}

static buf_t file;
static pb_pmp4_init_t in;
static size_t init_len, frag_off[3], frag_len[3], moof_len[3];

/* the init section, then 3 fragments of 1 s: video keyframes at 10 s and 12 s (the second
 * fragment starts without one), audio throughout */
static void
make_file(void)
{
    file.n = 0;
    init(&file);
    init_len = file.n;
    for (int i = 0; i < 3; i++) {
        frag_off[i] = file.n;
        frag_len[i] = fragment(&file, 900000 + 90000 * (uint64_t) i, 480000 + 48000 * (uint32_t) i, 25,
                               &moof_len[i]);
    }
    /* the second fragment starts without a keyframe: first-sample flags = non-sync */
    unsigned char *p = memmem(file.b + frag_off[1], moof_len[1], "trun", 4);
    assert_non_null(p);
    p[4 + 12] = 0x01;
    p[4 + 13] = 0x01;
    assert_int_equal(pb_pmp4_init_parse(file.b, init_len, &in), 0);
}

/* all samples, the clip's t=0 at 10 s + lead_ms */
static void
samples(pb_pmp4_samples_t *s, int64_t lead_ms)
{
    char err[128];
    int64_t shift[2] = { 900000 + lead_ms * 90, 480000 + lead_ms * 48 };
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < 3; i++) {
        size_t before = s->n;
        assert_int_equal(pb_pmp4_moof_samples(&in, file.b + frag_off[i], moof_len[i], frag_off[i],
                                              frag_len[i], 0, shift, s, err, sizeof(err)), 0);
        for (size_t k = before; k < s->n; k++) {
            s->v[k].frag = (uint32_t) i;
        }
    }
}

static void
test_init_and_samples(void **state)
{
    make_file();
    assert_int_equal(in.n, 2);
    assert_int_equal(in.t[0].id, 1);
    assert_int_equal(in.t[0].timescale, 90000);
    assert_int_equal(in.t[0].def_dur, 3600);
    assert_int_equal(in.t[1].def_dur, 1024);
    pb_pmp4_samples_t s;
    samples(&s, 0);
    assert_int_equal(s.n, 3 * 27);
    /* video: trex duration, the trun's sizes, sync from first-sample flags, else non-sync */
    assert_int_equal(s.v[0].track, 0);
    assert_int_equal(s.v[0].dts, 0);
    assert_int_equal(s.v[0].size, 100);
    assert_int_equal(s.v[0].duration, 3600);
    assert_true(s.v[0].sync);
    assert_false(s.v[1].sync);
    assert_int_equal(s.v[1].dts, 3600);
    assert_int_equal(s.v[1].offset, s.v[0].offset + 100);
    /* data offsets from the moof (default-base-is-moof) */
    assert_int_equal(s.v[0].offset, frag_off[0] + moof_len[0] + 8);
    assert_int_equal(s.v[25].track, 1);
    assert_int_equal(s.v[25].offset, frag_off[0] + moof_len[0] + 8 + 2500);
    assert_int_equal(s.v[25].duration, 1024);
    assert_true(s.v[25].sync);
    /* second fragment: not a keyframe at its start; decode times run on */
    assert_false(s.v[27].sync);
    assert_int_equal(s.v[27].dts, 90000);
    assert_int_equal(s.v[54].dts, 180000);
    assert_true(s.v[54].sync);
    pb_pmp4_samples_free(&s);
}

static void
test_bad_fragments(void **state)
{
    make_file();
    pb_pmp4_samples_t s = { 0 };
    char err[128];
    int64_t shift[2] = { 0, 0 };
    unsigned char *moof = file.b + frag_off[0];
    /* the fragment said to be shorter than its samples: they would lie outside it */
    assert_int_equal(pb_pmp4_moof_samples(&in, moof, moof_len[0], frag_off[0], moof_len[0] + 100, 0,
                                          shift, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "outside"));
    s.n = 0;
    /* not a moof */
    assert_int_equal(pb_pmp4_moof_samples(&in, file.b, init_len, 0, init_len, 0, shift, &s, err,
                                          sizeof(err)), -1);
    /* a track the init section does not have */
    static unsigned char copy[65536];
    memcpy(copy, moof, moof_len[0]);
    unsigned char *t = memmem(copy, moof_len[0], "tfhd", 4);
    t[11] = 9;
    assert_int_equal(pb_pmp4_moof_samples(&in, copy, moof_len[0], frag_off[0], frag_len[0], 0, shift,
                                          &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "track 9"));
    /* a sample count larger than the trun */
    memcpy(copy, moof, moof_len[0]);
    t = memmem(copy, moof_len[0], "trun", 4);
    t[8] = 0x10;
    assert_int_equal(pb_pmp4_moof_samples(&in, copy, moof_len[0], frag_off[0], frag_len[0], 0, shift,
                                          &s, err, sizeof(err)), -1);
    /* more samples than a clip may hold (memory bound): a trun of defaults only */
    {
        buf_t m = { .n = 0 };
        size_t mf = open_box(&m, "moof");
        size_t tf = open_box(&m, "traf");
        size_t h = open_box(&m, "tfhd"); u32(&m, 0x020000 | 0x10); u32(&m, 1); u32(&m, 0); close_box(&m, h);
        h = open_box(&m, "tfdt"); u32(&m, 0); u32(&m, 0); close_box(&m, h);
        h = open_box(&m, "trun"); u32(&m, 0); u32(&m, PB_PMP4_MAX_SAMPLES + 1); close_box(&m, h);
        close_box(&m, tf);
        close_box(&m, mf);
        pb_pmp4_samples_t big = { 0 };
        assert_int_equal(pb_pmp4_moof_samples(&in, m.b, m.n, 0, m.n, 0, shift, &big, err,
                                              sizeof(err)), -1);
        assert_string_equal(err, "too many samples");
        pb_pmp4_samples_free(&big);
    }
    /* no tfdt */
    memcpy(copy, moof, moof_len[0]);
    t = memmem(copy, moof_len[0], "tfdt", 4);
    memcpy(t, "free", 4);
    assert_int_equal(pb_pmp4_moof_samples(&in, copy, moof_len[0], frag_off[0], frag_len[0], 0, shift,
                                          &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "tfdt"));
    pb_pmp4_samples_free(&s);
}

static void
test_cut(void **state)
{
    make_file();
    pb_pmp4_samples_t s;
    /* start at 11.5 s: in the second fragment, which has no keyframe: the video goes back to
     * the keyframe at 10 s, the audio (all sync) starts at its first sample at or after 11.5 s */
    samples(&s, 1500);
    int64_t end[2] = { 90000, 48000 };     /* 1 s */
    pb_pmp4_cut(&s, &in, end);
    size_t video = 0, audio = 0;
    int64_t first_v = INT64_MAX, last_v = INT64_MIN, first_a = INT64_MAX;
    for (size_t i = 0; i < s.n; i++) {
        if (s.v[i].track == 0) {
            video++;
            first_v = s.v[i].dts < first_v ? s.v[i].dts : first_v;
            last_v = s.v[i].dts > last_v ? s.v[i].dts : last_v;
        } else {
            audio++;
            first_a = s.v[i].dts < first_a ? s.v[i].dts : first_a;
        }
        assert_true(s.v[i].dts < end[s.v[i].track]);
    }
    assert_int_equal(first_v, -135000);             /* 10 s - 11.5 s */
    assert_true(s.v[0].sync && s.v[0].track == 0);
    assert_int_equal(last_v, 88200);                /* 12.48 s: the last before 12.5 s */
    assert_int_equal(video, 38 + 25);
    assert_true(first_a >= 0);
    assert_int_equal(audio, 0 + 2);                 /* audio of fragment 2 only (1 s, 0.5 s..) */
    pb_pmp4_samples_free(&s);

    /* start exactly on the keyframe at 12 s: nothing before it is kept */
    samples(&s, 2000);
    pb_pmp4_cut(&s, &in, end);
    assert_int_equal(s.v[0].dts, 0);
    assert_true(s.v[0].sync);
    pb_pmp4_samples_free(&s);
}

/* the first box at path (e.g. "moov/mvhd") in [b, b+end); its payload and length */
static const unsigned char *
find(const unsigned char *b, size_t end, const char *path, size_t *len)
{
    size_t off = 0;
    char type[5];
    while (off < end) {
        size_t ps, pe;
        if (vms_mp4_box(b, end, &off, type, &ps, &pe) < 0) {
            return NULL;
        }
        if (strncmp(type, path, 4) != 0) {
            continue;
        }
        if (path[4] == '/') {
            return find(b + ps, pe - ps, path + 5, len);
        }
        *len = pe - ps;
        return b + ps;
    }
    return NULL;
}

/* box at path inside the k-th trak of the moov */
static const unsigned char *
in_trak(const unsigned char *b, size_t end, int k, const char *path, size_t *len)
{
    size_t ml, off = 0;
    const unsigned char *moov = find(b, end, "moov", &ml);
    char type[5];
    while (moov != NULL && off < ml) {
        size_t ps, pe;
        if (vms_mp4_box(moov, ml, &off, type, &ps, &pe) < 0) {
            return NULL;
        }
        if (strcmp(type, "trak") == 0 && k-- == 0) {
            return find(moov + ps, pe - ps, path, len);
        }
    }
    return NULL;
}

static void
test_write(void **state)
{
    make_file();
    pb_pmp4_samples_t s;
    samples(&s, 1500);
    int64_t end[2] = { 90000, 48000 };
    pb_pmp4_cut(&s, &in, end);
    pb_pmp4_out_t o;
    char err[128];
    assert_int_equal(pb_pmp4_write(&in, &s, &o, err, sizeof(err)), 0);
    /* ftyp, moov, then the mdat header at the end of the head */
    size_t len;
    assert_non_null(find(o.head, o.head_len, "ftyp", &len));
    assert_null(find(o.head, o.head_len, "moov/mvex", &len));
    assert_memory_equal(o.head + o.head_len - 4, "mdat", 4);
    /* the head first, then the media by reference */
    assert_int_equal(o.ranges[0].file, PB_PMP4_HEAD);
    assert_int_equal(o.ranges[0].length, o.head_len);
    uint64_t payload = 0;
    for (size_t i = 1; i < o.nranges; i++) {
        payload += o.ranges[i].length;
    }
    assert_int_equal(vms_be32(o.head + o.head_len - 8), payload + 8);
    assert_int_equal(o.total, o.head_len + payload);
    /* byte ranges: the video of fragments 1, 2 and 3 (the first 13 samples), the audio of 3 */
    assert_int_equal(o.nranges, 1 + 4);
    assert_int_equal(o.ranges[4].length, 10);
    assert_int_equal(o.ranges[1].offset, s.v[0].offset);
    assert_int_equal(o.ranges[1].length, 25 * 100);

    /* video: 63 samples, one stts run, the keyframes, 2 chunks, offsets into the file */
    const unsigned char *p = in_trak(o.head, o.head_len, 0, "mdia/minf/stbl/stts", &len);
    assert_non_null(p);
    assert_int_equal(vms_be32(p + 4), 1);
    assert_int_equal(vms_be32(p + 8), 63);
    assert_int_equal(vms_be32(p + 12), 3600);
    p = in_trak(o.head, o.head_len, 0, "mdia/minf/stbl/stss", &len);
    assert_non_null(p);
    assert_int_equal(vms_be32(p + 4), 2);
    assert_int_equal(vms_be32(p + 8), 1);
    assert_int_equal(vms_be32(p + 12), 51);
    p = in_trak(o.head, o.head_len, 0, "mdia/minf/stbl/stsz", &len);
    assert_int_equal(vms_be32(p + 4), 100);              /* all the same size */
    assert_int_equal(vms_be32(p + 8), 63);
    p = in_trak(o.head, o.head_len, 0, "mdia/minf/stbl/stco", &len);
    assert_non_null(p);
    /* a chunk is a run contiguous in the output: all 63 video samples (the audio of fragments 1
     * and 2 was before start), then the 2 audio samples */
    assert_int_equal(vms_be32(p + 4), 1);
    assert_int_equal(vms_be32(p + 8), o.head_len);
    p = in_trak(o.head, o.head_len, 0, "mdia/minf/stbl/stsc", &len);
    assert_int_equal(vms_be32(p + 4), 1);
    assert_int_equal(vms_be32(p + 8), 1);
    assert_int_equal(vms_be32(p + 12), 63);
    p = in_trak(o.head, o.head_len, 1, "mdia/minf/stbl/stco", &len);
    assert_non_null(p);
    assert_int_equal(vms_be32(p + 4), 1);
    assert_int_equal(vms_be32(p + 8), o.head_len + 6300);
    /* the edit list hides the 1.5 s before start (media_time, track units) and shows the rest */
    p = in_trak(o.head, o.head_len, 0, "edts/elst", &len);
    assert_non_null(p);
    assert_int_equal(p[0], 1);
    assert_int_equal(vms_be32(p + 4), 1);
    assert_int_equal(vms_be64(p + 8), 1020);              /* ms: 63 * 40 ms - 1500 */
    assert_int_equal(vms_be64(p + 16), 135000);
    /* tkhd and mdhd carry the durations; the codec's description is copied */
    p = in_trak(o.head, o.head_len, 0, "tkhd", &len);
    assert_int_equal(vms_be32(p + 20), 1020);
    p = in_trak(o.head, o.head_len, 0, "mdia/mdhd", &len);
    assert_int_equal(vms_be32(p + 12), 90000);
    assert_int_equal(vms_be32(p + 16), 63 * 3600);
    p = in_trak(o.head, o.head_len, 0, "mdia/minf/stbl/stsd", &len);
    assert_int_equal(len, 16);
    assert_int_equal(p[15], 0x42);
    /* the audio track, second: its first sample kept is 0.5 s after start -> an empty edit */
    p = in_trak(o.head, o.head_len, 1, "edts/elst", &len);
    assert_non_null(p);
    assert_int_equal(vms_be32(p + 4), 2);
    assert_int_equal(vms_be64(p + 8), 500);              /* ms of nothing: its first sample is at 12 s */
    assert_int_equal(vms_be64(p + 16), UINT64_MAX);      /* media_time -1: an empty edit */
    assert_int_equal(vms_be64(p + 28), 43);              /* then its 2048 samples (42.7 ms) */
    assert_int_equal(vms_be64(p + 36), 0);
    assert_int_equal(o.ntracks, 2);
    /* the presentation: 1.02 s of video */
    assert_int_equal(o.duration_us, 1020000);
    p = find(o.head, o.head_len, "moov/mvhd", &len);
    assert_int_equal(vms_be32(p + 12), 1000);
    assert_int_equal(vms_be32(p + 16), 1020);
    pb_pmp4_out_free(&o);
    pb_pmp4_samples_free(&s);
}

static void
test_large_file_uses_co64(void **state)
{
    make_file();
    /* two 3 GiB samples: past 4 GiB, 64-bit chunk offsets and a 64-bit mdat size */
    pb_pmp4_sample_t v[2] = {
        { .dts = 0, .offset = 1000, .size = 3u << 30, .duration = 3600, .sync = 1 },
        { .dts = 3600, .offset = 5000 + (3ull << 30), .size = 3u << 30, .duration = 3600, .sync = 1 },
    };
    pb_pmp4_samples_t s = { .v = v, .n = 2, .cap = 2 };
    pb_pmp4_out_t o;
    char err[128];
    assert_int_equal(pb_pmp4_write(&in, &s, &o, err, sizeof(err)), 0);
    size_t len;
    assert_null(in_trak(o.head, o.head_len, 0, "mdia/minf/stbl/stco", &len));
    const unsigned char *p = in_trak(o.head, o.head_len, 0, "mdia/minf/stbl/co64", &len);
    assert_non_null(p);
    assert_int_equal(vms_be32(p + 4), 1);              /* one chunk: contiguous in the output */
    assert_int_equal(vms_be64(p + 8), o.head_len);
    assert_true(o.head_len + (6ull << 30) > UINT32_MAX);
    assert_int_equal(vms_be32(o.head + o.head_len - 16), 1);
    assert_memory_equal(o.head + o.head_len - 12, "mdat", 4);
    assert_int_equal(vms_be64(o.head + o.head_len - 8), (6ull << 30) + 16);
    assert_int_equal(o.nranges, 1 + 2);
    /* no audio samples: one track written */
    assert_int_equal(o.ntracks, 1);
    pb_pmp4_out_free(&o);

    /* nothing to write */
    s.n = 0;
    assert_int_equal(pb_pmp4_write(&in, &s, &o, err, sizeof(err)), -1);
}

/* the trun of the k-th traf of the moof at head + at: sample count and entries */
static const unsigned char *
trun_of(const unsigned char *moof, size_t len, int k, uint64_t *tfdt)
{
    size_t off = 0, ps, pe;
    char type[5];
    assert_int_equal(vms_mp4_box(moof, len, &off, type, &ps, &pe), 0);
    assert_string_equal(type, "moof");
    size_t o1 = ps, s1, e1;
    while (o1 < pe) {
        assert_int_equal(vms_mp4_box(moof, pe, &o1, type, &s1, &e1), 0);
        if (strcmp(type, "traf") != 0 || k-- > 0) {
            continue;
        }
        size_t l;
        const unsigned char *t = find(moof + s1, e1 - s1, "tfdt", &l);
        assert_non_null(t);
        *tfdt = vms_be64(t + 4);
        return find(moof + s1, e1 - s1, "trun", &l);
    }
    return NULL;
}

static void
test_write_fragmented(void **state)
{
    make_file();
    pb_pmp4_samples_t s;
    samples(&s, 1500);
    int64_t end[2] = { 90000, 48000 };
    pb_pmp4_cut(&s, &in, end);
    pb_pmp4_out_t o;
    char err[128];
    assert_int_equal(pb_pmp4_write_fragmented(&in, &s, &o, err, sizeof(err)), 0);
    /* the init section as it is, then moof + mdat header per source fragment, media by reference */
    assert_int_equal(o.ranges[0].file, PB_PMP4_HEAD);
    assert_int_equal(o.ranges[0].length, init_len);
    assert_memory_equal(o.head, file.b, init_len);
    size_t moofs = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < o.nranges; i++) {
        total += o.ranges[i].length;
        moofs += o.ranges[i].file == PB_PMP4_HEAD && i > 0;
    }
    assert_int_equal(moofs, 3);
    assert_int_equal(total, o.total);
    /* fragment 1 (10-11 s): all before start: stacked at the first shown picture (11.52 s, 1800
     * ticks after start), no duration */
    const unsigned char *moof = o.head + o.ranges[1].offset;
    uint64_t tfdt;
    const unsigned char *t = trun_of(moof, o.ranges[1].length, 0, &tfdt);
    assert_non_null(t);
    assert_int_equal(tfdt, 1800);
    assert_int_equal(vms_be32(t + 4), 25);
    uint32_t data_off = vms_be32(t + 8);
    assert_memory_equal(moof + data_off - 4, "mdat", 4);       /* the data follows the mdat header */
    for (int i = 0; i < 25; i++) {
        assert_int_equal(vms_be32(t + 12 + 16 * i), 0);
        assert_int_equal(vms_be32(t + 16 + 16 * i), 100);
    }
    assert_int_equal(vms_be32(t + 20), 0x02000000);                /* the keyframe */
    assert_int_equal(vms_be32(t + 36), 0x01010000);
    /* fragment 2 (11-12 s): 13 hidden pictures, then 12 shown for 40 ms each */
    moof = o.head + o.ranges[3].offset;
    assert_int_equal(o.ranges[3].file, PB_PMP4_HEAD);
    t = trun_of(moof, o.ranges[3].length, 0, &tfdt);
    assert_int_equal(tfdt, 1800);
    assert_int_equal(vms_be32(t + 12 + 16 * 12), 0);
    assert_int_equal(vms_be32(t + 12 + 16 * 13), 3600);
    /* fragment 3: the audio traf starts at 0.5 s */
    moof = o.head + o.ranges[5].offset;
    t = trun_of(moof, o.ranges[5].length, 1, &tfdt);
    assert_non_null(t);
    assert_int_equal(tfdt, 24000);
    assert_int_equal(vms_be32(t + 4), 2);
    /* 12 shown pictures of fragment 2 + 13 of fragment 3 after 1800 ticks: 0.02 + 1 s */
    assert_int_equal(o.duration_us, 1020000);
    pb_pmp4_out_free(&o);
    pb_pmp4_samples_free(&s);
}

static void
test_rescale(void **state)
{
    assert_int_equal(pb_pmp4_rescale(1500000, 90000, 1000000), 135000);
    assert_int_equal(pb_pmp4_rescale(-1500000, 90000, 1000000), -135000);
    assert_int_equal(pb_pmp4_rescale(INT64_MAX, 90000, 1), INT64_MAX);
    assert_int_equal(pb_pmp4_rescale(5, 1, 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_samples),
        cmocka_unit_test(test_bad_fragments),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_large_file_uses_co64),
        cmocka_unit_test(test_write_fragmented),
        cmocka_unit_test(test_rescale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
