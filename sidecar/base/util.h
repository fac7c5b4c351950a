/*
 * Small helpers shared by every vmsd file: growable buffers, time, JSON
 * string escaping, duration parsing, URL checks; camera ids through
 * modules/common/vms_camera_id.h.
 * No I/O, no threads: safe to use anywhere (and in unit tests).
 */

#ifndef VMS_UTIL_H
#define VMS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "vms_camera_id.h"    /* vms_camera_id_valid, VMS_CAMERA_ID_MAX */

typedef struct {
    char    *p;
    size_t   len;
    size_t   cap;
} vms_buf_t;

/* Appends; on allocation failure the buffer keeps its content and the call
 * returns -1 (callers that build replies check vms_buf_ok()). */
int vms_buf_append(vms_buf_t *b, const void *data, size_t n);
int vms_buf_printf(vms_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int vms_buf_json_str(vms_buf_t *b, const char *s);
void vms_buf_free(vms_buf_t *b);
/* Appends the whole file at path (at most max bytes).  0, or -1 with errno
 * (EFBIG: larger than max; ENOMEM). */
int vms_buf_read_file(vms_buf_t *b, const char *path, size_t max);

/* Escapes s as JSON string content (no quotes) into out; truncates safely. */
void vms_json_escape(char *out, size_t outlen, const char *s);

int64_t vms_now_us(void);        /* UTC wall clock, microseconds */
int64_t vms_mono_us(void);       /* monotonic, microseconds */
/* the same clock read at the kernel tick (a few ms behind, a few times
 * cheaper): for deadlines of seconds checked very often */
int64_t vms_mono_coarse_us(void);
/* "2026-11-24T01:02:03.456Z"; buf at least 32 bytes. */
char *vms_rfc3339(int64_t us, char *buf, size_t len);

/* "500ms", "15s", "2m", "1h", "1d" -> milliseconds.  0 or -1 (no unit is an
 * error: a bare number is ambiguous). */
int vms_parse_duration_ms(const char *s, int64_t *ms);
/* Decimal integer in [min, max]; 0 or -1. */
int vms_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* "yes/no/true/false/on/off/1/0"; 0 or -1. */
int vms_parse_bool(const char *s, int *out);
/* "10GB", "512MB", "4096" (bytes); 0 or -1. */
int vms_parse_size(const char *s, int64_t *out);

/* Copies url with any "user:password@" replaced by "***@" (for logs). */
void vms_url_redact(const char *url, char *out, size_t outlen);

/* 32 lowercase hex digits of randomness (W3C trace-id shape); buf >= 33. */
void vms_trace_id(char *buf);

/* mkdir -p; 0 or -errno. */
int vms_mkdir_p(const char *path, unsigned mode);
/* Write data to path atomically (tmp file + fsync + rename); 0 or -errno. */
int vms_write_file_atomic(const char *path, const void *data, size_t len);

#endif /* VMS_UTIL_H */
