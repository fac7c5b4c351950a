/* camsim: an RTSP camera simulator for the vms tests.
 *
 * Each distinct profile (scene, size, fps, gop, loop length, source file) is encoded to H.264 once at
 * start-up into memory (a "loop"); every RTSP client is then fed from that loop by one feeder thread with
 * rewritten timestamps.  Cameras share one wall-clock frame grid: slot k is due at epoch + k / fps and
 * carries loop frame (k + phase) mod n, so scene content is a function of wall-clock time; the per-camera
 * phase spreads keyframes of cameras with equal profiles over the GOP.
 * Faults (drop, freeze, still) are injected per camera through the HTTP control interface.
 * See docs/camsim.md for the user-facing contract. */
#ifndef CAMSIM_H
#define CAMSIM_H

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtsp-server/rtsp-server.h>

#define CAMSIM_ID_MAX 64

typedef enum { SCENE_BARS, SCENE_MOTION, SCENE_FILE } camsim_scene_t;

typedef enum { CAM_OK, CAM_DROP, CAM_FREEZE, CAM_STILL } camsim_state_t;

typedef enum { CODEC_H264, CODEC_H265 } camsim_codec_t;

typedef enum { AUDIO_NONE, AUDIO_AAC, AUDIO_PCMU } camsim_audio_t;

/* Motion scene timing, in seconds within each loop (documented in docs/camsim.md). */
#define CAMSIM_MOTION_LOOP_S   20.0
#define CAMSIM_MOTION_START_S  8.0
#define CAMSIM_MOTION_END_S    12.0
#define CAMSIM_BARS_LOOP_S     10.0
#define CAMSIM_FILE_MAX_S      120.0

typedef struct {
    camsim_scene_t scene;
    int            width, height;   /* 0 for a file camera that keeps the clip's own size */
    int            fps, gop;
    int            bitrate;         /* kbit/s, constant (x264 CBR); 0 = constant quality (qp 26) */
    camsim_codec_t codec;           /* H.264 (x264, baseline) or H.265 (x265, main) */
    int            bframes;         /* consecutive B-frames (H.264 then High profile); 0 = none */
    camsim_audio_t audio;           /* a second stream: AAC-LC 16 kHz mono or G.711 mu-law 8 kHz */
    double         loop_s;          /* requested loop length; 0 = scene default */
    char          *file;            /* SCENE_FILE only */
} camsim_profile_t;

typedef struct {
    GstBuffer *buf;
    gboolean   key;
    gint64     pts_delay;   /* PTS - DTS as encoded (ns): > 0 for reordered frames with B-frames */
} camsim_frame_t;

/* An encoded loop, shared read-only by every camera with the same profile. */
typedef struct {
    camsim_profile_t prof;
    GstCaps         *caps;          /* video/x-h264 stream-format=avc or video/x-h265 stream-format=hvc1,
                                       with codec_data */
    camsim_frame_t  *frames;
    guint            n;
    int              width, height; /* actual encoded size */
    /* audio (prof.audio != AUDIO_NONE): a 440 Hz tone, as many frames as the video loop lasts */
    GstCaps         *acaps;
    GstBuffer      **abufs;
    guint            an;
    GstClockTime     adur;          /* one audio frame */
} camsim_loop_t;

typedef struct camsim_camera {
    char                   id[CAMSIM_ID_MAX + 1];
    camsim_profile_t       prof;
    camsim_loop_t         *loop;
    guint                  phase;       /* loop frames ahead of the grid */
    GstRTSPMediaFactory   *factory;
    char                   path[CAMSIM_ID_MAX + 16];
    /* guarded by the feeder lock */
    camsim_state_t         state;
    guint                  state_gen;   /* bumped on each control action; timed resumes check it */
    gboolean               mounted;
} camsim_camera_t;

typedef struct {
    int               port, control_port;
    camsim_camera_t **cams;
    guint             ncams;
    gint64            epoch_mono_us;   /* g_get_monotonic_time() at frame slot 0 */
    gint64            epoch_real_us;   /* the same instant in wall-clock time */
    GstRTSPServer    *server;
    GstRTSPMountPoints *mounts;
    GMainLoop        *mainloop;
} camsim_t;

/* config.c */
int  camsim_parse_args(camsim_t *cs, int argc, char **argv);
void camsim_profile_clear(camsim_profile_t *p);
camsim_camera_t *camsim_find(camsim_t *cs, const char *id);
const char *camsim_state_name(camsim_state_t s);
const char *camsim_scene_name(camsim_scene_t s);

/* scene.c: renders frame i of a generated scene into an I420 buffer of w x h. */
void camsim_scene_render(camsim_scene_t scene, guint8 *i420, int w, int h, int fps, guint i);

/* encode.c */
camsim_loop_t *camsim_loop_encode(const camsim_profile_t *prof, GError **err);
void camsim_loop_free(camsim_loop_t *loop);

/* feeder.c: the feeder thread and the per-client feeds. */
void camsim_feeder_start(camsim_t *cs);
void camsim_feeder_stop(void);
void camsim_feeder_lock(void);
void camsim_feeder_unlock(void);
void camsim_feed_add(camsim_camera_t *cam, GstRTSPMedia *media, GstAppSrc *src, GstAppSrc *asrc);
void camsim_feed_remove(GstRTSPMedia *media);
guint camsim_feed_clients(camsim_camera_t *cam);    /* call with the feeder lock held */
guint camsim_feed_total(void);
void camsim_feeder_wake(void);                      /* call with the feeder lock held */

/* rtsp.c */
int  camsim_rtsp_start(camsim_t *cs, GError **err);
void camsim_rtsp_close_camera(camsim_t *cs, camsim_camera_t *cam);
void camsim_rtsp_close_all(camsim_t *cs);
/* Applies a control action; seconds < 0 means "until resume" for drop. */
void camsim_set_state(camsim_t *cs, camsim_camera_t *cam, camsim_state_t st, double seconds);

/* control.c */
int  camsim_control_start(camsim_t *cs, GError **err);

#endif
