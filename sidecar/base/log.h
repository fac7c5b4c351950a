/*
 * Log lines on stderr, one write(2) per line so threads never interleave.
 * JSON (default; docs/operations.md, "Logs"):
 *   {"ts":"…","service":"vmsd","level":"info","camera_id":"cam1",
 *    "trace_id":"…","message":"…",…}
 * camera_id and trace_id only when known; or text (log_format = text) for a
 * terminal: "ts level [cam1] trace=… message {fields}".
 * Never pass secrets (passwords, conninfo, URLs with credentials: use
 * vms_url_redact()).
 */

#ifndef VMS_LOG_H
#define VMS_LOG_H

enum {
    VMS_LOG_DEBUG = 0,
    VMS_LOG_INFO,
    VMS_LOG_WARN,
    VMS_LOG_ERROR,
};

enum {
    VMS_LOG_JSON = 0,
    VMS_LOG_TEXT,
};

/* A trace id: 1-64 bytes of [A-Za-z0-9_-] (nginx's $request_id is 32 hex). */
#define VMS_TRACE_ID_MAX  64

void vms_log_set_level(int level);
void vms_log_set_format(int format);
int  vms_log_format_parse(const char *name, int *format);
int  vms_trace_id_valid(const char *s);
/* The trace id this thread's following lines (and events: events.h) carry;
 * NULL or an invalid id clears it.  vms_log_trace(): NULL when none. */
void vms_log_trace_set(const char *trace_id);
const char *vms_log_trace(void);
int  vms_log_level_parse(const char *name, int *level);
/* Route FFmpeg's own messages (warnings and errors only) through vms_log.
 * camera_of maps FFmpeg's logging context to a camera id (or NULL). */
void vms_log_capture_ffmpeg(void);
void vms_log_ffmpeg_camera(const char *(*camera_of)(void *avcl));

/*
 * camera_id may be NULL.  fields: NULL or extra JSON members, already
 * encoded, without braces or leading comma ("\"attempt\":3").
 */
void vms_log(int level, const char *camera_id, const char *fields,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define vms_log_debug(cam, ...) vms_log(VMS_LOG_DEBUG, cam, NULL, __VA_ARGS__)
#define vms_log_info(cam, ...)  vms_log(VMS_LOG_INFO, cam, NULL, __VA_ARGS__)
#define vms_log_warn(cam, ...)  vms_log(VMS_LOG_WARN, cam, NULL, __VA_ARGS__)
#define vms_log_error(cam, ...) vms_log(VMS_LOG_ERROR, cam, NULL, __VA_ARGS__)

#endif /* VMS_LOG_H */
