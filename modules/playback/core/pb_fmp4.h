/*
 * The little of fragmented MP4 a clip needs at serve time: the track ids
 * and timescales of an init section, and each moof's decode times (tfdt),
 * read and shifted so that a clip cut from one or more segment files starts
 * at 0 and runs on without jumps.  Works on in-memory boxes the caller read
 * (an init section, one moof: small, bounded reads at offsets the index
 * gives); never scans a file.  nginx-free.
 */
#ifndef PB_FMP4_H
#define PB_FMP4_H

#include <stddef.h>
#include <stdint.h>

#include "vms_mp4.h"     /* vms_mp4_box */

#define PB_FMP4_MAX_TRACKS 8

typedef struct {
    uint32_t  id[PB_FMP4_MAX_TRACKS];
    uint32_t  timescale[PB_FMP4_MAX_TRACKS];
    int       n;
} pb_fmp4_tracks_t;

/* Tracks of an init section (ftyp + moov image).  0 or -1. */
int pb_fmp4_tracks(const unsigned char *init, size_t len, pb_fmp4_tracks_t *t);

/* Whether fragments made for init section b can follow init section a in
 * one file: the same tracks (ids, timescales) with byte-identical sample
 * descriptions (stsd: codec and its parameters).  Other boxes (metadata,
 * durations) may differ.  1 or 0. */
int pb_fmp4_init_compatible(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen);

/*
 * moof: one whole moof box.  For each traf whose track is in t: stores its
 * tfdt in first[i] (when first != NULL; -1 for tracks absent) and, when
 * shift != NULL, rewrites it as tfdt - shift[i] (a version-0 tfdt that would
 * not fit is an error).  0 or -1.
 */
int pb_fmp4_moof_tfdt(unsigned char *moof, size_t len, const pb_fmp4_tracks_t *t,
    int64_t *first, const int64_t *shift);

#endif /* PB_FMP4_H */
