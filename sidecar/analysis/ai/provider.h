/*
 * Detection providers behind one interface.
 *
 * A provider gets one picture (the ROI crop of a sampled frame, as RGB24 and
 * as JPEG) and returns detections in that picture's pixel coordinates; the
 * pipeline maps them back to full-frame coordinates.  Every provider:
 *   - is used from one analysis thread at a time (no internal locking);
 *   - bounds each network attempt by timeout_ms and retries the retryable
 *     error classes (timeout, connect, throttled, server) `retries` times
 *     with exponential backoff (backoff_ms, 2x, 4x, … ± 20 % jitter);
 *   - reports the billable API calls it made (usage) even when it fails,
 *     so cost accounting matches what the vendor bills;
 *   - writes errors with context but never a credential.
 *
 * Providers: "rekognition" (AWS, SigV4 via libcurl, results to S3),
 * "deepstack" (DeepStack / CodeProject.AI HTTP), "local" (offline: OpenCV
 * Haar cascades for faces and plates, Tesseract for plate text, OpenCV's
 * built-in HOG people detector on the motion box, colour from the box
 * pixels).
 */

#ifndef VMS_AI_PROVIDER_H
#define VMS_AI_PROVIDER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef enum {
    VMS_AI_OK = 0,
    VMS_AI_ETIMEOUT,       /* no answer within timeout_ms (retried) */
    VMS_AI_ECONNECT,       /* connect/TLS/network failure (retried) */
    VMS_AI_ETHROTTLED,     /* 429, ThrottlingException (retried) */
    VMS_AI_ESERVER,        /* 5xx (retried) */
    VMS_AI_EAUTH,          /* 401/403, bad signature or credentials */
    VMS_AI_EREQUEST,       /* other 4xx: image too large, bad parameter */
    VMS_AI_ERESPONSE,      /* the answer could not be understood */
    VMS_AI_ECONFIG,        /* missing credentials, model files */
    VMS_AI_EINTERNAL,      /* out of memory, encoder failure */
    VMS_AI_ECANCELLED,     /* vms_analysis_stop() during a wait */
    VMS_AI_NERR
} vms_ai_err_e;

const char *vms_ai_err_name(vms_ai_err_e e);      /* "timeout", "auth", … */
int vms_ai_err_retryable(vms_ai_err_e e);

typedef enum {
    VMS_AI_KIND_LABEL = 0,
    VMS_AI_KIND_FACE,
    VMS_AI_KIND_TEXT,
} vms_ai_kind_e;

const char *vms_ai_kind_name(vms_ai_kind_e k);    /* "label", "face", "text" */

#define VMS_AI_LABEL_MAX  128

typedef struct {
    vms_ai_kind_e  kind;
    char           label[VMS_AI_LABEL_MAX];
    double         confidence;       /* 0..1 */
    int            x, y, w, h;       /* pixels of the picture; w == 0: the
                                        whole picture (an image label) */
    json_t        *attrs;            /* object or NULL; owned */
} vms_ai_det_t;

typedef struct {
    vms_ai_det_t  *v;
    size_t         n, cap;
} vms_ai_dets_t;

/* Appends a detection (attrs ownership taken, even on failure).  0 / -1. */
int vms_ai_dets_add(vms_ai_dets_t *d, vms_ai_kind_e kind, const char *label,
    double confidence, int x, int y, int w, int h, json_t *attrs);
void vms_ai_dets_clear(vms_ai_dets_t *d);
void vms_ai_dets_free(vms_ai_dets_t *d);

/* Billable calls made by one detect()/store(). */
#define VMS_AI_USAGE_MAX  8
typedef struct {
    struct { const char *api; int calls; } v[VMS_AI_USAGE_MAX];
    int n;
    int attempts;                    /* network attempts, retries included */
} vms_ai_usage_t;

void vms_ai_usage_add(vms_ai_usage_t *u, const char *api, int calls);

typedef struct {
    const uint8_t  *rgb;             /* RGB24, stride bytes per row */
    int             width, height, stride;
    const uint8_t  *jpeg;            /* the same picture as JPEG */
    size_t          jpeg_len;
    int             mx, my, mw, mh;  /* the motion box in the picture's
                                        pixels; mw 0: none (whole picture) */
} vms_ai_image_t;

#define VMS_AI_REK_LABELS  0x1
#define VMS_AI_REK_FACES   0x2
#define VMS_AI_REK_TEXT    0x4

/* Everything any provider reads (ai_* keys, see docs/ai.md). */
typedef struct {
    char      provider[16];          /* "rekognition", "deepstack", "local" */
    int64_t   timeout_ms;            /* per attempt: 5000 */
    int       retries;               /* after the first attempt: 3 */
    int64_t   backoff_ms;            /* first retry delay: 500 */
    double    min_confidence;        /* 0..1: 0.5 */
    /* rekognition */
    char      region[32];            /* AWS_REGION */
    char      endpoint[256];         /* default https://rekognition.R.amazonaws.com */
    int       rek_apis;              /* VMS_AI_REK_*: labels */
    int       max_labels;            /* 20 */
    char      s3_endpoint[256];      /* default https://s3.R.amazonaws.com */
    char      s3_bucket[64];         /* vms-detections; "" = no upload */
    /* deepstack */
    char      deepstack_url[256];    /* http://127.0.0.1:5000 */
    char      deepstack_api_key[128];
    /* local */
    char      cascade_dir[256];      /* /usr/share/opencv4/haarcascades */
    char      tessdata[256];         /* "" = Tesseract's default */
    int       local_faces, local_plates, local_persons;
    int       min_face_px;           /* 24 */
    int       min_person_px;         /* 64: smallest person searched */
    double    person_confidence;     /* 0..1: 0.9 */
} vms_ai_provider_conf_t;

typedef struct vms_ai_provider_s vms_ai_provider_t;

struct vms_ai_provider_s {
    const char  *name;
    int          needs_jpeg;
    const volatile int *cancel;      /* set by the owner: stops waits */
    vms_ai_err_e (*detect)(vms_ai_provider_t *p, const vms_ai_image_t *img,
                           vms_ai_dets_t *out, vms_ai_usage_t *usage,
                           char *err, size_t errlen);
    /* Optional: keep the results document (S3); ref receives where. */
    vms_ai_err_e (*store)(vms_ai_provider_t *p, const char *camera_id,
                          int64_t ts_us, const char *json, size_t len,
                          char *ref, size_t reflen, vms_ai_usage_t *usage,
                          char *err, size_t errlen);
    void        (*destroy)(vms_ai_provider_t *p);
};

/* NULL with a message when the configuration or environment is unusable. */
vms_ai_provider_t *vms_ai_provider_new(const vms_ai_provider_conf_t *c,
    char *err, size_t errlen);
void vms_ai_provider_free(vms_ai_provider_t *p);

/* Constructors (one file each). */
vms_ai_provider_t *vms_ai_rekognition_new(const vms_ai_provider_conf_t *c,
    char *err, size_t errlen);
vms_ai_provider_t *vms_ai_deepstack_new(const vms_ai_provider_conf_t *c,
    char *err, size_t errlen);
vms_ai_provider_t *vms_ai_local_new(const vms_ai_provider_conf_t *c,
    char *err, size_t errlen);

#endif /* VMS_AI_PROVIDER_H */
