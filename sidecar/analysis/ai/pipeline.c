/*
 * One camera's analysis (see pipeline.h).
 */

#include "pipeline.h"
#include "color.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct vms_ai_pipeline_s {
    char                 camera_id[VMS_CAMERA_ID_MAX + 1];
    vms_ai_conf_t        conf;
    vms_ai_sink_t        sink;
    vms_ai_provider_t   *provider;
    const volatile int  *cancel;
    vms_ai_imager_t      im;
    vms_ai_plane_t       grey, rgb;
    vms_motion_t         motion;
    int                  frame_w, frame_h, frame_fmt;
    int                  roi_invalid;
    vms_roi_rect_t       crop;
    int                  mw, mh;          /* motion image size */
    int64_t              last_sent_us;    /* frame time; 0 never */
    int64_t              budget_day;      /* day ai.budget_exceeded was sent */
    vms_ai_err_e         last_err;        /* of the last provider call */
    vms_ai_dets_t        dets;
    char                 error[512];
};

static const char *skip_names[VMS_AI_SKIP_N] = {
    "none", "first", "no_motion", "interval", "budget", "roi_invalid",
    "error",
};

const char *
vms_ai_skip_name(vms_ai_skip_e s)
{
    return (unsigned) s < VMS_AI_SKIP_N ? skip_names[s] : "unknown";
}

vms_ai_pipeline_t *
vms_ai_pipeline_new(const char *camera_id, const vms_ai_conf_t *conf,
    const vms_ai_sink_t *sink, const volatile int *cancel, char *err,
    size_t errlen)
{
    vms_ai_pipeline_t *p = calloc(1, sizeof(*p));

    if (p == NULL) {
        snprintf(err, errlen, "camera %s: analysis: out of memory", camera_id);
        return NULL;
    }
    snprintf(p->camera_id, sizeof(p->camera_id), "%s", camera_id);
    p->conf = *conf;
    if (sink != NULL) {
        p->sink = *sink;
    }
    p->cancel = cancel;
    p->budget_day = -1;
    vms_ai_imager_init(&p->im);
    p->im.quality = conf->jpeg_quality;
    p->provider = vms_ai_provider_new(&conf->provider, err, errlen);
    if (p->provider == NULL) {
        vms_ai_pipeline_free(p);
        return NULL;
    }
    p->provider->cancel = cancel;
    vms_ai_cost_track(p->camera_id);
    return p;
}

void
vms_ai_pipeline_free(vms_ai_pipeline_t *p)
{
    if (p == NULL) {
        return;
    }
    vms_ai_provider_free(p->provider);
    vms_ai_imager_free(&p->im);
    vms_ai_plane_free(&p->grey);
    vms_ai_plane_free(&p->rgb);
    vms_motion_free(&p->motion);
    vms_ai_dets_free(&p->dets);
    free(p);
}

const char *
vms_ai_pipeline_error(const vms_ai_pipeline_t *p)
{
    return p->error;
}

/* (Re)configure for a frame size: ROI check, crop, motion image. */
static int
setup(vms_ai_pipeline_t *p, const AVFrame *f)
{
    vms_roi_rect_t areas[VMS_ROI_MAX];
    char           err[256];
    int            n;

    p->frame_w = f->width;
    p->frame_h = f->height;
    p->frame_fmt = f->format;
    p->roi_invalid = 0;
    vms_motion_free(&p->motion);
    if (vms_roi_validate(&p->conf.roi, f->width, f->height, err,
                         sizeof(err)) < 0)
    {
        snprintf(p->error, sizeof(p->error), "camera %s: %s; analysis "
                 "paused until the configuration is fixed", p->camera_id, err);
        p->roi_invalid = 1;
        return -1;
    }
    vms_roi_crop(&p->conf.roi, f->width, f->height, &p->crop);
    p->mw = p->conf.motion_width < p->crop.w ? p->conf.motion_width
                                             : p->crop.w;
    p->mh = (int) ((int64_t) p->crop.h * p->mw / p->crop.w);
    if (p->mh < 2) {
        p->mh = 2;
    }
    n = vms_roi_areas_in(&p->conf.roi, &p->crop, p->mw, p->mh, areas,
                         VMS_ROI_MAX);
    if (vms_motion_init(&p->motion, p->mw, p->mh,
                        (const vms_motion_rect_t *) areas, n) < 0)
    {
        snprintf(p->error, sizeof(p->error), "camera %s: analysis: motion "
                 "image %dx%d cannot be set up", p->camera_id, p->mw, p->mh);
        p->roi_invalid = 1;
        return -1;
    }
    return 0;
}

static json_t *
bbox_json(const vms_ai_det_t *d)
{
    if (d->w == 0) {
        return json_null();
    }
    return json_pack("{s:i,s:i,s:i,s:i}", "x", d->x, "y", d->y, "width", d->w,
                     "height", d->h);
}

/* Detections in picture pixels -> full-frame, ROI filter, vehicle colour. */
static void
map_detections(vms_ai_pipeline_t *p, int pw, int ph)
{
    size_t keep = 0;

    for (size_t i = 0; i < p->dets.n; i++) {
        vms_ai_det_t *d = &p->dets.v[i];

        if (d->w > 0) {
            vms_roi_rect_t b = { d->x, d->y, d->w, d->h }, o;

            if (d->kind == VMS_AI_KIND_LABEL && vms_ai_is_vehicle(d->label)
                && json_object_get(d->attrs, "color") == NULL
                && json_object_get(d->attrs, "vehicle_color") == NULL)
            {
                double share;
                /* the middle of the box: less road and background */
                const char *c = vms_ai_color_of(p->rgb.data, p->rgb.stride,
                                                pw, ph, d->x + d->w / 5,
                                                d->y + d->h / 5, d->w * 3 / 5,
                                                d->h * 3 / 5, &share);
                if (c != NULL) {
                    if (d->attrs == NULL) {
                        d->attrs = json_object();
                    }
                    json_object_set_new(d->attrs, "color", json_string(c));
                }
            }
            vms_roi_map(&p->crop, pw, ph, &b, &o);
            if (!vms_roi_contains_centre(&p->conf.roi, &o)) {
                json_decref(d->attrs);
                continue;
            }
            d->x = o.x;
            d->y = o.y;
            d->w = o.w;
            d->h = o.h;
        }
        p->dets.v[keep++] = *d;
    }
    p->dets.n = keep;
}

static json_t *
result_json(vms_ai_pipeline_t *p, const vms_ai_det_t *d, size_t idx,
    int64_t ts_us, const char *ts, const char *ref, const char *trace)
{
    json_t *attrs = d->attrs ? json_incref(d->attrs) : json_object();
    char    id[64];

    snprintf(id, sizeof(id), "%s-%zu", trace, idx);
    return json_pack("{s:i,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:f,s:o,s:o,s:s?,"
                     "s:{s:i,s:i},s:s}",
                     "schema", 1, "type", "detection", "id", id, "camera_id",
                     p->camera_id, "ts", ts, "ts_us", (json_int_t) ts_us,
                     "provider", p->provider->name, "kind",
                     vms_ai_kind_name(d->kind), "label", d->label,
                     "confidence", d->confidence, "bbox", bbox_json(d),
                     "attributes", attrs, "snapshot", ref && *ref ? ref : NULL,
                     "frame", "width", p->frame_w, "height", p->frame_h,
                     "trace_id", trace);
}

static void
record_usage(vms_ai_pipeline_t *p, const vms_ai_usage_t *u, int64_t ts_us,
    vms_ai_outcome_t *out)
{
    for (int i = 0; i < u->n; i++) {
        double usd = vms_ai_cost_record(p->camera_id, p->provider->name,
                                        u->v[i].api, u->v[i].calls,
                                        &p->conf.prices, ts_us);
        out->usd += usd;
        if (p->sink.cost != NULL) {
            p->sink.cost(p->sink.ud, p->camera_id, ts_us, p->provider->name,
                         u->v[i].api, u->v[i].calls, usd);
        }
    }
}

static void
budget_event(vms_ai_pipeline_t *p, int64_t ts_us, double spent)
{
    int64_t day = ts_us / 1000000 / 86400;
    char    fields[160];

    if (p->budget_day == day || p->sink.event == NULL) {
        return;
    }
    p->budget_day = day;
    snprintf(fields, sizeof(fields), "\"budget_usd\":%.6f,\"spent_usd\":%.6f",
             p->conf.budget_usd, spent);
    p->sink.event(p->sink.ud, p->camera_id, "ai.budget_exceeded", fields);
}

static void
save_snapshot(vms_ai_pipeline_t *p, const char *ts_compact,
    const uint8_t *jpeg, size_t len, char *ref, size_t reflen)
{
    char dir[400], path[512];

    snprintf(dir, sizeof(dir), "%s/%s", p->conf.snapshot_dir, p->camera_id);
    snprintf(path, sizeof(path), "%s/%s.jpg", dir, ts_compact);
    if (vms_mkdir_p(dir, 0755) < 0
        || vms_write_file_atomic(path, jpeg, len) < 0)
    {
        snprintf(p->error, sizeof(p->error), "camera %s: snapshot %.300s cannot "
                 "be written", p->camera_id, path);
        return;
    }
    snprintf(ref, reflen, "file://%.500s", path);
}

static void
send_frame(vms_ai_pipeline_t *p, AVFrame *crop, int64_t ts_us, vms_ai_outcome_t *out)
{
    vms_ai_usage_t  usage = { 0 };
    vms_ai_image_t  img = { 0 };
    uint8_t        *jpeg = NULL;
    size_t          jlen = 0;
    int             pw = p->crop.w, ph = p->crop.h;
    char            err[512] = "", ref[600] = "", ts[40], tsc[80], trace[40];
    json_t         *doc, *arr;
    vms_ai_err_e    e;

    if (pw > p->conf.max_width) {
        ph = (int) ((int64_t) ph * p->conf.max_width / pw);
        pw = p->conf.max_width;
    }
    if (vms_ai_to_rgb(&p->im, crop, pw, ph, &p->rgb) < 0
        || ((p->provider->needs_jpeg || p->conf.snapshot_dir[0])
            && vms_ai_jpeg(&p->im, &p->rgb, &jpeg, &jlen) < 0))
    {
        snprintf(p->error, sizeof(p->error), "camera %s: analysis: picture "
                 "conversion failed", p->camera_id);
        out->error = VMS_AI_EINTERNAL;
        out->skip = VMS_AI_SKIP_ERROR;
        free(jpeg);
        return;
    }
    img.rgb = p->rgb.data;
    img.width = pw;
    img.height = ph;
    img.stride = p->rgb.stride;
    img.jpeg = jpeg;
    img.jpeg_len = jlen;
    if (out->motion.motion && p->mw > 0 && p->mh > 0) {
        /* motion image -> picture: both show the crop, at other sizes */
        img.mx = (int) ((int64_t) out->motion.box.x * pw / p->mw);
        img.my = (int) ((int64_t) out->motion.box.y * ph / p->mh);
        img.mw = (int) (((int64_t) out->motion.box.w * pw + p->mw - 1) / p->mw);
        img.mh = (int) (((int64_t) out->motion.box.h * ph + p->mh - 1) / p->mh);
    }

    out->sent = 1;
    p->last_sent_us = ts_us;
    vms_ai_dets_clear(&p->dets);
    e = p->provider->detect(p->provider, &img, &p->dets, &usage, err,
                            sizeof(err));
    out->error = e;
    if (e != VMS_AI_OK) {
        snprintf(p->error, sizeof(p->error), "camera %s: %s", p->camera_id,
                 err);
        record_usage(p, &usage, ts_us, out);
        /* one event when calls start failing or fail differently, not one
         * per call while the provider stays down (metrics count each) */
        if (p->sink.event != NULL && e != p->last_err) {
            char fields[700], esc[600];
            vms_json_escape(esc, sizeof(esc), err);
            snprintf(fields, sizeof(fields), "\"provider\":\"%s\",\"error_class\":"
                     "\"%s\",\"error\":\"%s\"", p->provider->name,
                     vms_ai_err_name(e), esc);
            p->sink.event(p->sink.ud, p->camera_id, "ai.error", fields);
        }
        p->last_err = e;
        free(jpeg);
        return;
    }
    p->last_err = VMS_AI_OK;
    p->error[0] = '\0';
    map_detections(p, pw, ph);

    vms_rfc3339(ts_us, ts, sizeof(ts));
    {
        time_t    s = (time_t) (ts_us / 1000000);
        struct tm tm;
        gmtime_r(&s, &tm);
        snprintf(tsc, sizeof(tsc), "%04d%02d%02dT%02d%02d%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int) ((ts_us % 1000000) / 1000));
    }
    vms_trace_id(trace);

    if (p->dets.n > 0 && p->conf.store_results && p->provider->store != NULL) {
        arr = json_array();
        for (size_t i = 0; i < p->dets.n; i++) {
            json_array_append_new(arr, result_json(p, &p->dets.v[i], i, ts_us,
                                                   ts, NULL, trace));
        }
        doc = json_pack("{s:i,s:s,s:s,s:s,s:{s:i,s:i},s:o}", "schema", 1,
                        "camera_id", p->camera_id, "ts", ts, "provider",
                        p->provider->name, "frame", "width", p->frame_w,
                        "height", p->frame_h, "detections", arr);
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (text != NULL) {
            e = p->provider->store(p->provider, p->camera_id, ts_us, text,
                                   strlen(text), ref, sizeof(ref), &usage,
                                   err, sizeof(err));
            if (e != VMS_AI_OK) {
                /* the detections still go out, without the document */
                snprintf(p->error, sizeof(p->error), "camera %s: %s",
                         p->camera_id, err);
                ref[0] = '\0';
            }
            free(text);
        }
    } else if (p->dets.n > 0 && p->conf.snapshot_dir[0] && jpeg != NULL) {
        save_snapshot(p, tsc, jpeg, jlen, ref, sizeof(ref));
    }
    record_usage(p, &usage, ts_us, out);
    free(jpeg);

    for (size_t i = 0; i < p->dets.n; i++) {
        json_t *r = result_json(p, &p->dets.v[i], i, ts_us, ts, ref, trace);
        char   *text = json_dumps(r, JSON_COMPACT);

        json_decref(r);
        if (text != NULL && p->sink.result != NULL) {
            p->sink.result(p->sink.ud, p->camera_id, text, strlen(text));
        }
        free(text);
        out->detections++;
    }
}

static int64_t
cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
vms_ai_pipeline_process(vms_ai_pipeline_t *p, const AVFrame *frame,
    int64_t ts_us, vms_ai_outcome_t *out)
{
    AVFrame *crop;
    int64_t  t0 = vms_mono_us(), c0 = cpu_us();

    memset(out, 0, sizeof(*out));
    if (frame->width != p->frame_w || frame->height != p->frame_h
        || frame->format != p->frame_fmt)
    {
        setup(p, frame);
    }
    if (p->roi_invalid) {
        out->skip = VMS_AI_SKIP_ROI_INVALID;
        return;
    }
    crop = vms_ai_crop(frame, p->crop.x, p->crop.y, p->crop.w, p->crop.h);
    if (crop == NULL) {
        out->skip = VMS_AI_SKIP_ERROR;
        snprintf(p->error, sizeof(p->error), "camera %s: analysis: cannot "
                 "crop the frame", p->camera_id);
        return;
    }
    if (p->conf.motion_enabled) {
        if (vms_ai_to_grey(&p->im, crop, p->mw, p->mh, &p->grey) < 0) {
            av_frame_free(&crop);
            out->skip = VMS_AI_SKIP_ERROR;
            snprintf(p->error, sizeof(p->error), "camera %s: analysis: "
                     "scaling failed", p->camera_id);
            return;
        }
        int primed = p->motion.primed;
        vms_motion_feed(&p->motion, &p->conf.motion, p->grey.data,
                        p->grey.stride, &out->motion);
        out->analysis_us = vms_mono_us() - t0;
        out->analysis_cpu_us = cpu_us() - c0;
        if (out->motion.motion) {
            vms_roi_rect_t b = { out->motion.box.x, out->motion.box.y,
                                 out->motion.box.w, out->motion.box.h };
            vms_roi_map(&p->crop, p->mw, p->mh, &b, &out->motion_box);
        }
        if (!primed) {
            out->skip = VMS_AI_SKIP_FIRST;
            av_frame_free(&crop);
            return;
        }
        if (!out->motion.motion) {
            out->skip = VMS_AI_SKIP_NO_MOTION;
            av_frame_free(&crop);
            return;
        }
    } else {
        out->analysis_us = vms_mono_us() - t0;
        out->analysis_cpu_us = cpu_us() - c0;
    }
    if (p->last_sent_us != 0
        && ts_us - p->last_sent_us < p->conf.interval_ms * 1000)
    {
        out->skip = VMS_AI_SKIP_INTERVAL;
        av_frame_free(&crop);
        return;
    }
    if (p->conf.budget_usd > 0) {
        double spent = vms_ai_cost_day(p->camera_id, ts_us);
        if (spent >= p->conf.budget_usd) {
            budget_event(p, ts_us, spent);
            out->skip = VMS_AI_SKIP_BUDGET;
            av_frame_free(&crop);
            return;
        }
    }
    if (p->conf.dry_run) {
        /* vms-ai eval: a provider call that is counted, not made */
        p->last_sent_us = ts_us;
        av_frame_free(&crop);
        return;
    }
    send_frame(p, crop, ts_us, out);
    av_frame_free(&crop);
    if (p->conf.budget_usd > 0) {
        double spent = vms_ai_cost_day(p->camera_id, ts_us);
        if (spent >= p->conf.budget_usd) {
            budget_event(p, ts_us, spent);
        }
    }
}
