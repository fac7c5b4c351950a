/* Playlist and JSON text for playback answers (see pb_plan.h). */
#include "pb_plan.h"
#include "pb_query.h"
#include "pb_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
grow(pb_buf_t *b, size_t need)
{
    if (b->oom) {
        return -1;
    }
    if (b->len + need + 1 <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + need + 1) {
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void
pb_buf_add(pb_buf_t *b, const char *s, size_t len)
{
    if (grow(b, len) == 0) {
        memcpy(b->p + b->len, s, len);
        b->len += len;
        b->p[b->len] = '\0';
    }
}

void
pb_buf_printf(pb_buf_t *b, const char *fmt, ...)
{
    /* format in place when it fits (the common case), else grow and format again */
    if (b->oom || grow(b, 256) < 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t) n >= b->cap - b->len) {
        if (grow(b, (size_t) n) < 0) {
            return;
        }
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t) n;
}

void
pb_buf_free(pb_buf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

void
pb_render_playlist(pb_buf_t *b, const pb_plan_t *plan, const char *media_prefix,
    const char *extra_arg)
{
    const char *amp = extra_arg[0] ? "&" : "", *q = extra_arg[0] ? "?" : "";
    int64_t maxd = 1;
    for (size_t i = 0; i < plan->n; i++) {
        if (plan->v[i].duration_us > maxd) {
            maxd = plan->v[i].duration_us;
        }
    }
    /* EXTINF rounded to the nearest integer must not exceed the target */
    pb_buf_printf(b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%lld\n"
                  "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n",
                  (long long) ((maxd + 999999) / 1000000));
    const char *prev_path = NULL;
    for (size_t i = 0; i < plan->n; i++) {
        const pb_piece_t *p = &plan->v[i];
        char t[40], d[40];
        if (p->disc && i > 0) {
            pb_buf_add(b, "#EXT-X-DISCONTINUITY\n", 21);
        }
        if (prev_path == NULL || strcmp(prev_path, p->seg->path) != 0 || p->disc) {
            pb_buf_printf(b, "#EXT-X-MAP:URI=\"%s%s%s%s\",BYTERANGE=\"%u@0\"\n", media_prefix,
                          p->seg->path, q, extra_arg, p->seg->init_size);
        }
        prev_path = p->seg->path;
        pb_time_format(t, p->start_us);
        pb_seconds_format(d, p->duration_us);
        /* output time of the file's first fragment: the piece may start later in the file */
        long long t0 = (long long) (p->out_us - (p->start_us - p->seg->start_us));
        pb_buf_printf(b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%s,\n#EXT-X-BYTERANGE:%llu@%llu\n"
                      "%s%s?s=%lld&t=%lld%s%s\n", t, d, (unsigned long long) p->length,
                      (unsigned long long) p->offset, media_prefix, p->seg->path,
                      (long long) p->seg->start_us, t0, amp, extra_arg);
    }
    pb_buf_add(b, "#EXT-X-ENDLIST\n", 15);
}

static void
span_json(pb_buf_t *b, int64_t s, int64_t e)
{
    char ts[40], te[40], d[40];
    pb_time_format(ts, s);
    pb_time_format(te, e);
    pb_seconds_format(d, e - s);
    pb_buf_printf(b, "{\"start\":\"%s\",\"end\":\"%s\",\"duration\":%s}", ts, te, d);
}

void
pb_render_timeline(pb_buf_t *b, const char *camera, int64_t from_us, int64_t to_us,
    const pb_span_t *s, size_t n)
{
    char tf[40], tt[40];
    pb_time_format(tf, from_us);
    pb_time_format(tt, to_us);
    /* camera ids are validated to [A-Za-z0-9_/-]: nothing to escape */
    pb_buf_printf(b, "{\"camera_id\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"spans\":[",
                  camera, tf, tt);
    for (size_t i = 0; i < n; i++) {
        if (i) {
            pb_buf_add(b, ",", 1);
        }
        span_json(b, s[i].start_us, s[i].end_us);
    }
    pb_buf_add(b, "],\"gaps\":[", 10);
    int64_t at = from_us;
    int first = 1;
    for (size_t i = 0; i <= n; i++) {
        int64_t next = i < n ? s[i].start_us : to_us;
        if (next > at) {
            if (!first) {
                pb_buf_add(b, ",", 1);
            }
            span_json(b, at, next);
            first = 0;
        }
        if (i < n) {
            at = s[i].end_us;
        }
    }
    pb_buf_add(b, "]}\n", 3);
}

void
pb_render_list(pb_buf_t *b, const pb_span_t *s, size_t n, const char *get_url, const char *path)
{
    char ep[3 * 256 + 1];
    size_t plen = strlen(path), ulen = strlen(get_url);
    pb_query_escape(ep, path, plen < 256 ? plen : 256);
    /* the URL's base may come from a request header: never let it end the JSON string */
    char *eu = malloc(6 * ulen + 1);
    if (eu == NULL) {
        b->oom = 1;
        return;
    }
    pb_json_escape(eu, get_url, ulen);
    get_url = eu;
    pb_buf_add(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        char t[40], et[3 * 40 + 1], d[40];
        size_t tl = pb_time_format(t, s[i].start_us);
        pb_query_escape(et, t, tl);
        pb_seconds_format(d, s[i].end_us - s[i].start_us);
        pb_buf_printf(b, "%s{\"start\":\"%s\",\"duration\":%s,\"url\":\"%s?duration=%s&path=%s&start=%s\"}",
                      i ? "," : "", t, d, get_url, d, ep, et);
    }
    pb_buf_add(b, "]\n", 2);
    free(eu);
}
