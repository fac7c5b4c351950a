/*
 * The still watchdog's look at a camera's keyframe (sidecar/ingest/keysize.c; the bytes come from
 * the camera): never reads outside the packet or the extradata, and what it counts is bounded by
 * them.  The first input byte picks the codec and the framing (Annex B, or avcC/hvcC extradata
 * with NAL length fields of 1 to 4 bytes); the rest is the packet.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keysize.h"

#define CHECK(c)  do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t              avcc[7] = { 1, 0x64, 0, 0x28, 0xfc, 0xe1, 0 }, hvcc[23] = { 1 };
    const uint8_t       *extra = NULL;
    size_t               extralen = 0, len;
    uint8_t             *pkt;
    vms_keysize_t        ks, again;
    vms_keysize_codec_t  codec;
    int                  rc;

    if (size < 1) {
        return 0;
    }
    codec = (vms_keysize_codec_t) (data[0] % 3);
    switch ((data[0] >> 2) % 3) {
    case 1:
        avcc[4] = (uint8_t) (0xfc | ((data[0] >> 4) & 3));
        extra = avcc, extralen = sizeof(avcc);
        break;
    case 2:
        hvcc[21] = (uint8_t) ((data[0] >> 4) & 3);
        extra = hvcc, extralen = sizeof(hvcc);
        break;
    }
    /* a copy of exactly the packet's length: ASan sees any read past it */
    len = size - 1;
    pkt = malloc(len ? len : 1);
    CHECK(pkt != NULL);
    memcpy(pkt, data + 1, len);

    rc = vms_keysize(codec, extra, extralen, pkt, len, &ks);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        CHECK(ks.slices >= 1 && ks.bytes <= len);
        /* the same bytes, the same answer; and one picture may match itself */
        CHECK(vms_keysize(codec, extra, extralen, pkt, len, &again) == 0);
        CHECK(again.slices == ks.slices && again.bytes == ks.bytes);
        CHECK(vms_keysize_may_match(&ks, &again));
    } else {
        CHECK(ks.slices == 0 && ks.bytes == 0);
    }
    free(pkt);
    return 0;
}
