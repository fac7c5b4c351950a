/*
 * vms-ai: the analysis pipeline of vmsd on files, for tests, benchmarks and
 * trying a configuration before deploying it.
 *
 *   vms-ai detect  [-s key=value]… IMAGE…
 *       every picture straight to the provider (no motion, no interval);
 *   vms-ai analyze [-s key=value]… [--fps F | --keyframes] [--camera ID]
 *                  [--frames] VIDEO
 *       the full pipeline on sampled frames (motion, interval, budget);
 *   vms-ai eval [-s key=value]… [--motion-threshold X] [--motion-min-area Y]
 *               [--fps F] [--json] CLIP GROUND_TRUTH.json
 *       the same pipeline with the provider call counted, not made, scored
 *       against labelled intervals {"intervals":[{"start":s,"end":s,
 *       "boxes":[…]}]}: recall per interval, false triggers per minute,
 *       skip rate, provider calls per hour (docs/ai.md).  Exit 2 on a bad
 *       ground-truth file.
 *
 * Output: JSON lines on stdout: {"result":DetectionResult},
 * {"event":{…}}, {"frame":{…}} (with --frames), {"error":{…}} for provider
 * failures, and a last {"summary":{…,"cost":{…}}}.  Keys as in vmsd.conf
 * (docs/ai.md).  Exit status 0, 1 on usage/configuration errors, 2 when
 * the provider failed on every picture.
 */

#include "../conf.h"
#include "../pipeline.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
on_result(void *ud, const char *cam, const char *json, size_t len)
{
    printf("{\"result\":%.*s}\n", (int) len, json);
}

static void
on_event(void *ud, const char *cam, const char *type, const char *fields)
{
    printf("{\"event\":{\"type\":\"%s\",\"camera_id\":\"%s\",%s}}\n", type,
           cam, fields);
}

static int64_t
cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
usage(void)
{
    fprintf(stderr, "usage: vms-ai detect  [-s key=value]... IMAGE...\n"
                    "       vms-ai analyze [-s key=value]... [--fps F | "
                    "--keyframes] [--camera ID] [--frames] VIDEO\n"
                    "       vms-ai eval [-s key=value]... [--motion-threshold X]"
                    " [--motion-min-area Y] [--fps F] [--json] CLIP GT.json\n");
    exit(1);
}

typedef struct {
    AVFormatContext *fmt;
    AVCodecContext  *dec;
    int              stream;
    AVPacket        *pkt;
    AVFrame         *frame;
} input_t;

static int
input_open(input_t *in, const char *path, int keyframes)
{
    const AVCodec *codec = NULL;

    memset(in, 0, sizeof(*in));
    if (avformat_open_input(&in->fmt, path, NULL, NULL) < 0
        || avformat_find_stream_info(in->fmt, NULL) < 0)
    {
        fprintf(stderr, "vms-ai: %s: cannot open\n", path);
        return -1;
    }
    in->stream = av_find_best_stream(in->fmt, AVMEDIA_TYPE_VIDEO, -1, -1,
                                     &codec, 0);
    if (in->stream < 0 || (in->dec = avcodec_alloc_context3(codec)) == NULL
        || avcodec_parameters_to_context(in->dec,
               in->fmt->streams[in->stream]->codecpar) < 0)
    {
        fprintf(stderr, "vms-ai: %s: no decodable video\n", path);
        return -1;
    }
    in->dec->thread_count = 1;
    if (keyframes) {
        in->dec->skip_frame = AVDISCARD_NONKEY;
    }
    if (avcodec_open2(in->dec, codec, NULL) < 0) {
        fprintf(stderr, "vms-ai: %s: decoder does not open\n", path);
        return -1;
    }
    in->pkt = av_packet_alloc();
    in->frame = av_frame_alloc();
    return 0;
}

/* Next decoded frame, or NULL at the end. */
static AVFrame *
input_next(input_t *in)
{
    for (;;) {
        int rc = avcodec_receive_frame(in->dec, in->frame);
        if (rc == 0) {
            return in->frame;
        }
        if (rc == AVERROR_EOF) {
            return NULL;
        }
        rc = av_read_frame(in->fmt, in->pkt);
        if (rc < 0) {
            avcodec_send_packet(in->dec, NULL);
            continue;
        }
        if (in->pkt->stream_index == in->stream) {
            avcodec_send_packet(in->dec, in->pkt);
        }
        av_packet_unref(in->pkt);
    }
}

static void
input_close(input_t *in)
{
    av_frame_free(&in->frame);
    av_packet_free(&in->pkt);
    avcodec_free_context(&in->dec);
    avformat_close_input(&in->fmt);
}

#define EVAL_MAX_INTERVALS 256

typedef struct {
    double    start, end;
    uint64_t  samples, motion;
} eval_iv_t;

/* Ground truth: {"intervals":[{"start":s,"end":s,"boxes":[...]}]}. */
static int
eval_load(const char *path, eval_iv_t *iv, int *niv)
{
    json_error_t  je;
    json_t       *root, *arr, *it;
    size_t        k;

    root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        fprintf(stderr, "vms-ai: %s:%d: not JSON: %s\n", path, je.line,
                je.text);
        return -1;
    }
    arr = json_object_get(root, "intervals");
    if (!json_is_object(root) || !json_is_array(arr)) {
        fprintf(stderr, "vms-ai: %s: expected {\"intervals\":[...]}\n", path);
        json_decref(root);
        return -1;
    }
    if (json_array_size(arr) > EVAL_MAX_INTERVALS) {
        fprintf(stderr, "vms-ai: %s: more than %d intervals\n", path,
                EVAL_MAX_INTERVALS);
        json_decref(root);
        return -1;
    }
    *niv = 0;
    json_array_foreach(arr, k, it) {
        json_t *st = json_object_get(it, "start");
        json_t *en = json_object_get(it, "end");
        json_t *bx = json_object_get(it, "boxes");

        if (!json_is_object(it) || !json_is_number(st) || !json_is_number(en)
            || json_number_value(st) < 0
            || json_number_value(en) < json_number_value(st)
            || (bx != NULL && !json_is_array(bx)))
        {
            fprintf(stderr, "vms-ai: %s: interval %zu: expected "
                    "{\"start\":s,\"end\":s (>= start),\"boxes\":[optional]}\n",
                    path, k);
            json_decref(root);
            return -1;
        }
        iv[*niv].start = json_number_value(st);
        iv[*niv].end = json_number_value(en);
        iv[*niv].samples = iv[*niv].motion = 0;
        (*niv)++;
    }
    json_decref(root);
    return 0;
}

/* -s KEY=VALUE: one analysis key as in vmsd.conf; -1 after saying why. */
static int
set_key(vms_ai_conf_t *conf, const char *arg)
{
    char kv[1024], err[512] = "", *eq;

    snprintf(kv, sizeof(kv), "%s", arg);
    eq = strchr(kv, '=');
    if (eq == NULL) {
        usage();
    }
    *eq = '\0';
    if (vms_ai_conf_set(conf, kv, eq + 1, err, sizeof(err)) != 0) {
        fprintf(stderr, "vms-ai: key \"%s\": %s\n", kv,
                err[0] ? err : "not an analysis key");
        return -1;
    }
    return 0;
}

static int
eval_main(int argc, char **argv)
{
    static eval_iv_t    iv[EVAL_MAX_INTERVALS];
    vms_ai_conf_t       conf;
    vms_ai_sink_t       sink = { NULL, NULL, NULL, NULL };
    vms_ai_pipeline_t  *pl;
    vms_ai_outcome_t    o;
    char                err[512];
    double              fps = 2.0, next = 0, first = -1, last = 0;
    int                 json = 0, niv = 0, i;
    uint64_t            n = 0, calls = 0, trig = 0, outside = 0, recal = 0;
    uint64_t            skips[VMS_AI_SKIP_N] = { 0 };
    input_t             in;
    AVFrame            *f;

    vms_ai_conf_default(&conf);
    conf.enabled = 1;
    for (i = 2; i < argc && argv[i][0] == '-'; i++) {
        const char *key = NULL;

        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            if (set_key(&conf, argv[++i]) < 0) {
                return 1;
            }
            continue;
        } else if (strcmp(argv[i], "--motion-threshold") == 0) {
            key = "motion_threshold";
        } else if (strcmp(argv[i], "--motion-min-area") == 0) {
            key = "motion_min_area";
        } else if (strcmp(argv[i], "--fps") == 0 && i + 1 < argc) {
            fps = atof(argv[++i]);
            if (!(fps > 0 && fps <= 100)) {
                fprintf(stderr, "vms-ai: --fps: expected 0 < F <= 100\n");
                return 1;
            }
            continue;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
            continue;
        } else {
            usage();
        }
        if (i + 1 >= argc) {
            usage();
        }
        err[0] = '\0';
        if (vms_ai_conf_set(&conf, key, argv[++i], err, sizeof(err)) != 0) {
            fprintf(stderr, "vms-ai: %s: %s\n", argv[i - 1], err);
            return 1;
        }
    }
    if (argc - i != 2) {
        usage();
    }
    if (eval_load(argv[i + 1], iv, &niv) < 0) {
        return 2;
    }
    conf.motion_enabled = 1;
    conf.dry_run = 1;
    if (vms_ai_conf_check(&conf, err, sizeof(err)) < 0) {
        fprintf(stderr, "vms-ai: %s\n", err);
        return 1;
    }
    av_log_set_level(AV_LOG_ERROR);
    pl = vms_ai_pipeline_new("eval", &conf, &sink, NULL, err, sizeof(err));
    if (pl == NULL) {
        fprintf(stderr, "vms-ai: %s\n", err);
        return 1;
    }
    if (input_open(&in, argv[i], 0) < 0) {
        vms_ai_pipeline_free(pl);
        return 1;
    }
    while ((f = input_next(&in)) != NULL) {
        AVStream *st = in.fmt->streams[in.stream];
        int64_t   pts = f->best_effort_timestamp;
        double    sec = pts == AV_NOPTS_VALUE ? (double) n / fps
                        : (double) pts * av_q2d(st->time_base);
        int       inside = 0;

        if (sec < next) {
            continue;
        }
        next = sec + 1.0 / fps;
        if (first < 0) {
            first = sec;
        }
        last = sec;
        vms_ai_pipeline_process(pl, f, 1000000 + (int64_t) (sec * 1e6), &o);
        n++;
        skips[o.skip]++;
        calls += o.skip == VMS_AI_SKIP_NONE;
        trig += o.motion.motion != 0;
        recal += o.motion.recalibrated != 0;
        for (int k = 0; k < niv; k++) {
            if (sec >= iv[k].start && sec <= iv[k].end) {
                inside = 1;
                iv[k].samples++;
                iv[k].motion += o.motion.motion != 0;
            }
        }
        if (!inside && o.motion.motion) {
            outside++;
        }
    }
    input_close(&in);
    vms_ai_pipeline_free(pl);
    if (n == 0) {
        fprintf(stderr, "vms-ai: %s: no frames decoded\n", argv[i]);
        return 1;
    }

    double dur = last - first + 1.0 / fps, rsum = 0;
    int    found = 0;
    double skip_rate = (double) (n - calls) / (double) n;
    double fpm = (double) outside * 60.0 / dur;
    double cph = (double) calls * 3600.0 / dur;

    if (json) {
        printf("{\"clip\":\"%s\",\"samples\":%llu,\"duration_s\":%.2f,"
               "\"fps\":%.2f,\"motion_threshold\":%g,\"motion_min_area\":%g,"
               "\"intervals\":[", argv[i], (unsigned long long) n, dur, fps,
               conf.motion.threshold, conf.motion.min_area);
    } else {
        printf("clip %s: %llu samples at %.2f/s over %.1f s "
               "(motion_threshold %g, motion_min_area %g)\n", argv[i],
               (unsigned long long) n, fps, dur, conf.motion.threshold,
               conf.motion.min_area);
    }
    for (int k = 0; k < niv; k++) {
        double r = iv[k].samples ? (double) iv[k].motion
                                   / (double) iv[k].samples : 0;
        int    fd = iv[k].motion > 0;

        rsum += r;
        found += fd;
        if (json) {
            printf("%s{\"start\":%g,\"end\":%g,\"samples\":%llu,\"motion\":%llu,"
                   "\"recall\":%.3f,\"found\":%s}", k ? "," : "", iv[k].start,
                   iv[k].end, (unsigned long long) iv[k].samples,
                   (unsigned long long) iv[k].motion, r, fd ? "true" : "false");
        } else {
            printf("  interval %d [%g, %g] s: motion on %llu of %llu samples, "
                   "recall %.3f, %s\n", k + 1, iv[k].start, iv[k].end,
                   (unsigned long long) iv[k].motion,
                   (unsigned long long) iv[k].samples, r,
                   fd ? "found" : "NOT found");
        }
    }
    if (json) {
        printf("],\"recall\":%.3f,\"found\":%d,\"triggers\":%llu,"
               "\"false_triggers\":%llu,\"false_triggers_per_min\":%.2f,"
               "\"recalibrations\":%llu,\"skip_rate\":%.3f,\"calls\":%llu,"
               "\"calls_per_hour\":%.1f}\n", niv ? rsum / niv : 0, found,
               (unsigned long long) trig, (unsigned long long) outside, fpm,
               (unsigned long long) recal, skip_rate,
               (unsigned long long) calls, cph);
    } else {
        printf("recall %.3f (mean of intervals), %d of %d intervals found\n"
               "triggers %llu, outside every interval %llu: %.2f false "
               "triggers/min\n"
               "recalibrations %llu\n"
               "skip rate %.3f (no motion %llu, interval %llu, first %llu)\n"
               "provider calls %llu: %.1f/hour (ai_interval %lld ms)\n",
               niv ? rsum / niv : 0, found, niv, (unsigned long long) trig,
               (unsigned long long) outside, fpm, (unsigned long long) recal,
               skip_rate,
               (unsigned long long) skips[VMS_AI_SKIP_NO_MOTION],
               (unsigned long long) skips[VMS_AI_SKIP_INTERVAL],
               (unsigned long long) skips[VMS_AI_SKIP_FIRST],
               (unsigned long long) calls, cph,
               (long long) conf.interval_ms);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    vms_ai_conf_t       conf;
    vms_ai_sink_t       sink = { NULL, on_result, on_event, NULL };
    vms_ai_pipeline_t  *pl;
    vms_ai_outcome_t    o;
    char                err[512];
    const char         *camera = "file", *mode;
    double              fps = 1.0;
    int                 keyframes = 0, frames_out = 0, i;
    uint64_t            n = 0, sent = 0, failed = 0, dets = 0;
    uint64_t            skips[VMS_AI_SKIP_N] = { 0 };
    int64_t             t_us = 0, t0 = vms_now_us();

    if (argc < 3) {
        usage();
    }
    mode = argv[1];
    if (strcmp(mode, "eval") == 0) {
        return eval_main(argc, argv);
    }
    if (strcmp(mode, "detect") && strcmp(mode, "analyze")) {
        usage();
    }
    vms_ai_conf_default(&conf);
    conf.enabled = 1;
    if (strcmp(mode, "detect") == 0) {
        conf.motion_enabled = 0;
        conf.interval_ms = 0;
    }
    for (i = 2; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            if (set_key(&conf, argv[++i]) < 0) {
                return 1;
            }
        } else if (strcmp(argv[i], "--fps") == 0 && i + 1 < argc) {
            fps = atof(argv[++i]);
        } else if (strcmp(argv[i], "--keyframes") == 0) {
            keyframes = 1;
        } else if (strcmp(argv[i], "--frames") == 0) {
            frames_out = 1;
        } else if (strcmp(argv[i], "--camera") == 0 && i + 1 < argc) {
            camera = argv[++i];
        } else {
            usage();
        }
    }
    if (i >= argc || vms_ai_conf_check(&conf, err, sizeof(err)) < 0) {
        if (i < argc) {
            fprintf(stderr, "vms-ai: %s\n", err);
            return 1;
        }
        usage();
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    av_log_set_level(AV_LOG_ERROR);
    pl = vms_ai_pipeline_new(camera, &conf, &sink, NULL, err, sizeof(err));
    if (pl == NULL) {
        fprintf(stderr, "vms-ai: %s\n", err);
        return 1;
    }

    for (; i < argc; i++) {
        input_t  in;
        AVFrame *f;
        double   next = 0;

        if (input_open(&in, argv[i], keyframes) < 0) {
            vms_ai_pipeline_free(pl);
            return 1;
        }
        int64_t  td = cpu_us(), decode_us;

        while ((f = input_next(&in)) != NULL) {
            decode_us = cpu_us() - td;
            AVStream *st = in.fmt->streams[in.stream];
            int64_t pts = f->best_effort_timestamp;
            double  sec = pts == AV_NOPTS_VALUE ? 0
                          : (double) pts * av_q2d(st->time_base);

            if (strcmp(mode, "analyze") == 0 && !keyframes && sec < next) {
                td = cpu_us();
                continue;
            }
            next = sec + 1.0 / fps;
            if (strcmp(mode, "detect") == 0) {
                t_us += 1000000;
            } else {
                t_us = (int64_t) (sec * 1e6);
            }
            vms_ai_pipeline_process(pl, f, t0 + t_us, &o);
            n++;
            skips[o.skip]++;
            if (o.sent) {
                sent++;
                dets += (uint64_t) o.detections;
                if (o.error != VMS_AI_OK) {
                    failed++;
                    char esc[700];
                    vms_json_escape(esc, sizeof(esc), vms_ai_pipeline_error(pl));
                    printf("{\"error\":{\"class\":\"%s\",\"message\":\"%s\"}}\n",
                           vms_ai_err_name(o.error), esc);
                }
            }
            if (o.skip == VMS_AI_SKIP_ROI_INVALID && n == 1) {
                fprintf(stderr, "vms-ai: %s\n", vms_ai_pipeline_error(pl));
            }
            if (frames_out) {
                printf("{\"frame\":{\"n\":%llu,\"t\":%.3f,\"fraction\":%.5f,"
                       "\"motion\":%d,\"recalibrated\":%d,\"skip\":\"%s\","
                       "\"sent\":%d,\"detections\":%d,\"analysis_us\":%lld,"
                       "\"analysis_cpu_us\":%lld,\"decode_cpu_us\":%lld,"
                       "\"motion_box\":[%d,%d,%d,%d]}}\n",
                       (unsigned long long) n, sec, o.motion.fraction,
                       o.motion.motion, o.motion.recalibrated,
                       vms_ai_skip_name(o.skip), o.sent, o.detections,
                       (long long) o.analysis_us, (long long) o.analysis_cpu_us,
                       (long long) decode_us,
                       o.motion_box.x,
                       o.motion_box.y, o.motion_box.w, o.motion_box.h);
            }
            if (strcmp(mode, "detect") == 0) {
                break;
            }
            td = cpu_us();
        }
        input_close(&in);
    }

    char *cost = vms_ai_cost_json(NULL, NULL, NULL);
    printf("{\"summary\":{\"frames\":%llu,\"sent\":%llu,\"failed\":%llu,"
           "\"detections\":%llu,\"skipped\":{", (unsigned long long) n,
           (unsigned long long) sent, (unsigned long long) failed,
           (unsigned long long) dets);
    for (int s = 1; s < VMS_AI_SKIP_N; s++) {
        printf("%s\"%s\":%llu", s > 1 ? "," : "", vms_ai_skip_name(s),
               (unsigned long long) skips[s]);
    }
    printf("},\"cost\":%s}}\n", cost ? cost : "null");
    free(cost);
    vms_ai_pipeline_free(pl);
    curl_global_cleanup();
    return sent > 0 && failed == sent ? 2 : 0;
}
