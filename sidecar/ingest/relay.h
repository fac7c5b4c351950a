/*
 * Live relay: stream copy of one camera connection to an RTMP (FLV) server,
 * nginx-rtmp in the default stack (docs/vmsd.md, docs/live.md).
 *
 * The camera thread hands packets over with vms_relay_packet(), which never
 * blocks: it takes a reference into a bounded queue, and when the relay
 * falls behind the queue is emptied and the relay resumes at the next
 * keyframe (counted in vms_relay_dropped_total).  The relay's own thread
 * does the network writes, under an interrupt callback with a deadline, and
 * reconnects with a capped backoff.  Only H.264 video and AAC audio are
 * relayed (what FLV carries).
 */

#ifndef VMS_RELAY_H
#define VMS_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <libavformat/avformat.h>

typedef struct vms_relay_s  vms_relay_t;

/* url: where to publish.  key: NULL, or the HS256 secret with which each
 * connection mints a publish token (vms_relay_token, valid 1 h) appended as
 * ?token=… (never logged).  in: the camera's input, whose stream parameters
 * are copied.  NULL (logged) when nothing can be relayed. */
vms_relay_t *vms_relay_start(const char *camera_id, const char *url,
    const unsigned char *key, size_t keylen, const AVFormatContext *in,
    int64_t io_timeout_ms);

/* pkt in its input stream's time base; not consumed. */
void vms_relay_packet(vms_relay_t *r, const AVPacket *pkt);

void vms_relay_stop(vms_relay_t *r);

/* Compact HS256 JWT allowing camera_id to publish for ttl_s:
 * {"camera_id":ID,"permissions":"publish","exp":now+ttl} (at most 228
 * characters for a 64-character id: nginx-rtmp cuts query strings at ~244).
 * 0, or -1 when out is too small. */
int vms_relay_token(const unsigned char *key, size_t keylen,
    const char *camera_id, int64_t now_s, int64_t ttl_s, char *out,
    size_t outlen);

#endif /* VMS_RELAY_H */
