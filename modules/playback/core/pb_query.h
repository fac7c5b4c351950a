/*
 * Untrusted request input for playback: query-string arguments and the
 * names that become paths (camera ids, segment paths).  nginx-free; fuzzed
 * by tests/fuzz/fuzz_playback_query.c.
 */
#ifndef PB_QUERY_H
#define PB_QUERY_H

#include <stddef.h>
#include <stdint.h>

/* Finds name=value in a query string (without '?'), percent- and
 * '+'-decodes the value into out (NUL-terminated).  1 found, 0 absent,
 * -1 malformed (bad %XX, NUL byte, longer than outlen - 1). */
int pb_arg(const char *q, size_t qlen, const char *name, char *out, size_t outlen);

/* Camera id: [A-Za-z0-9_-]{1,64}.  With nested != 0, up to 4 such
 * components joined by '/' (MediaMTX path names like "camera/cam1"). */
int pb_camera_ok(const char *s, size_t len, int nested);

/* Segment path relative to a camera directory: components of
 * [A-Za-z0-9_.-], none starting with '.', at most 159 bytes. */
int pb_media_path_ok(const char *s, size_t len);

/* Decimal integer, optional '-', within +-9.2e18 (NUL-terminated s).  0 or -1. */
int pb_int_parse(const char *s, int64_t *out);

/* Go's url.QueryEscape: unreserved kept, ' ' -> '+', others %XX.
 * Returns bytes written (out >= 3 * len + 1). */
size_t pb_query_escape(char *out, const char *s, size_t len);

#endif /* PB_QUERY_H */
