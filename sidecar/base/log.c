#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libavutil/log.h>

static atomic_int  log_level = VMS_LOG_INFO;
static atomic_int  log_format = VMS_LOG_JSON;
/* The trace id of the work this thread does now (an API request, or what
 * one caused): "" none.  Thread-local, so no lock and no stale id leaks to
 * another thread's lines. */
static _Thread_local char  log_trace[VMS_TRACE_ID_MAX + 1];
static const char *(*_Atomic ffmpeg_camera_of)(void *avcl);

static const char *level_names[] = { "debug", "info", "warn", "error" };

void
vms_log_set_level(int level)
{
    atomic_store(&log_level, level);
}

void
vms_log_set_format(int format)
{
    atomic_store(&log_format, format);
}

int
vms_log_format_parse(const char *name, int *format)
{
    if (strcasecmp(name, "json") == 0) {
        *format = VMS_LOG_JSON;
        return 0;
    }
    if (strcasecmp(name, "text") == 0) {
        *format = VMS_LOG_TEXT;
        return 0;
    }
    return -1;
}

int
vms_trace_id_valid(const char *s)
{
    size_t n;

    if (s == NULL) {
        return 0;
    }
    for (n = 0; s[n] != '\0'; n++) {
        unsigned char c = (unsigned char) s[n];
        if (n >= VMS_TRACE_ID_MAX
            || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                 || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return 0;
        }
    }
    return n > 0;
}

void
vms_log_trace_set(const char *trace_id)
{
    if (trace_id != NULL && vms_trace_id_valid(trace_id)) {
        snprintf(log_trace, sizeof(log_trace), "%s", trace_id);
    } else {
        log_trace[0] = '\0';
    }
}

const char *
vms_log_trace(void)
{
    return log_trace[0] != '\0' ? log_trace : NULL;
}

int
vms_log_level_parse(const char *name, int *level)
{
    int i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *level = i;
            return 0;
        }
    }
    return -1;
}

static void
log_emit(int level, const char *camera_id, const char *fields, const char *msg)
{
    vms_buf_t  b = {0};
    char       ts[40];
    size_t     off = 0;

    vms_rfc3339(vms_now_us(), ts, sizeof(ts));
    if (atomic_load(&log_format) == VMS_LOG_TEXT) {
        /* for a terminal: ts level [camera] [trace] message {fields} */
        vms_buf_printf(&b, "%s %-5s ", ts, level_names[level]);
        if (camera_id != NULL) {
            vms_buf_printf(&b, "[%s] ", camera_id);
        }
        if (log_trace[0] != '\0') {
            vms_buf_printf(&b, "trace=%s ", log_trace);
        }
        vms_buf_append(&b, msg, strlen(msg));
        if (fields != NULL && fields[0] != '\0') {
            vms_buf_printf(&b, " {%s}", fields);
        }
    } else {
        vms_buf_printf(&b, "{\"ts\":\"%s\",\"service\":\"vmsd\","
                       "\"level\":\"%s\"", ts, level_names[level]);
        if (camera_id != NULL) {
            vms_buf_append(&b, ",\"camera_id\":", 13);
            vms_buf_json_str(&b, camera_id);
        }
        if (log_trace[0] != '\0') {
            /* [A-Za-z0-9_-] only (vms_log_trace_set): no escaping */
            vms_buf_printf(&b, ",\"trace_id\":\"%s\"", log_trace);
        }
        vms_buf_append(&b, ",\"message\":", 11);
        vms_buf_json_str(&b, msg);
        if (fields != NULL && fields[0] != '\0') {
            vms_buf_append(&b, ",", 1);
            vms_buf_append(&b, fields, strlen(fields));
        }
        vms_buf_append(&b, "}", 1);
    }
    if (vms_buf_append(&b, "\n", 1) != 0) {
        static const char oom[] = "{\"service\":\"vmsd\",\"level\":\"error\","
                                  "\"message\":\"log: out of memory\"}\n";
        if (write(STDERR_FILENO, oom, sizeof(oom) - 1) < 0) {
            /* nowhere left to report */
        }
        vms_buf_free(&b);
        return;
    }
    while (off < b.len) {
        ssize_t n = write(STDERR_FILENO, b.p + off, b.len - off);
        if (n <= 0) {
            break;
        }
        off += (size_t) n;
    }
    vms_buf_free(&b);
}

void
vms_log(int level, const char *camera_id, const char *fields,
    const char *fmt, ...)
{
    char     msg[1024];
    va_list  ap;

    if (level < atomic_load(&log_level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_emit(level, camera_id, fields, msg);
}

static void
ffmpeg_log_cb(void *avcl, int level, const char *fmt, va_list vl)
{
    char    raw[1024], msg[1024];
    size_t  n;
    int     ours;

    if (level > AV_LOG_WARNING) {
        return;
    }
    ours = level <= AV_LOG_ERROR ? VMS_LOG_ERROR : VMS_LOG_WARN;
    if (ours < atomic_load(&log_level)) {
        return;
    }
    vsnprintf(raw, sizeof(raw), fmt, vl);
    /* FFmpeg may print the input URL: never let credentials through */
    vms_url_redact(raw, msg, sizeof(msg));
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        msg[--n] = '\0';
    }
    if (n == 0 || strstr(msg, "deprecated pixel format used") != NULL) {
        /* swscale's note about yuvj420p, which the mjpeg encoder wants */
        return;
    }
    {
        const char *(*of)(void *) = atomic_load(&ffmpeg_camera_of);
        log_emit(ours, of && avcl ? of(avcl) : NULL, "\"source\":\"ffmpeg\"",
                 msg);
    }
}

void
vms_log_ffmpeg_camera(const char *(*camera_of)(void *avcl))
{
    atomic_store(&ffmpeg_camera_of, camera_of);
}

void
vms_log_capture_ffmpeg(void)
{
    av_log_set_level(AV_LOG_WARNING);
    av_log_set_callback(ffmpeg_log_cb);
}
