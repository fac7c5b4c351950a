/*
 * Cheap liveness probe of an offline camera: one RTSP DESCRIBE over TCP with
 * a deadline (no media session, no decoding).  A camera "answers" with 200,
 * or 401 (alive, wants credentials: the real connection authenticates).
 * Any other status, a refused or silent connection is "down".
 */

#ifndef VMS_PROBE_H
#define VMS_PROBE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* 1 answers, 0 down (why says how), -1 cannot probe this URL this way
 * (rtsps://): the caller connects fully instead. *stop aborts early. */
int vms_rtsp_probe(const char *url, int64_t timeout_ms, atomic_int *stop,
    char *why, size_t whylen);

#endif /* VMS_PROBE_H */
