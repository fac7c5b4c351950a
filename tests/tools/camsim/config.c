/* camsim command line: global defaults, cam1..camN, per-camera --camera ID:key=val,... overrides. */
#include "camsim.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: camsim --port PORT --control-port CPORT [--cameras N] [--fps F] [--gop G] [--size WxH]\n"
    "              [--camera ID:key=val,key=val ...]\n"
    "  keys: gop=G size=WxH fps=F scene=bars|motion file=PATH loop=SECONDS bitrate=KBPS\n        codec=h264|h265 bframes=0..4 audio=none|aac|pcmu\n";

const char *camsim_state_name(camsim_state_t s)
{
    switch (s) {
    case CAM_OK:     return "ok";
    case CAM_DROP:   return "drop";
    case CAM_FREEZE: return "freeze";
    case CAM_STILL:  return "still";
    }
    return "?";
}

const char *camsim_scene_name(camsim_scene_t s)
{
    switch (s) {
    case SCENE_BARS:   return "bars";
    case SCENE_MOTION: return "motion";
    case SCENE_FILE:   return "file";
    }
    return "?";
}

void camsim_profile_clear(camsim_profile_t *p)
{
    g_free(p->file);
    p->file = NULL;
}

static gboolean parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return FALSE;
    *out = (int)v;
    return TRUE;
}

static gboolean parse_size(const char *s, int *w, int *h)
{
    char buf[32];
    if (strlen(s) >= sizeof buf)
        return FALSE;
    strcpy(buf, s);
    char *x = strchr(buf, 'x');
    if (!x)
        return FALSE;
    *x = '\0';
    /* I420 and x264 want even dimensions. */
    if (!parse_int(buf, 16, 3840, w) || !parse_int(x + 1, 16, 2160, h))
        return FALSE;
    return (*w % 2 == 0) && (*h % 2 == 0);
}

static gboolean valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > CAMSIM_ID_MAX)
        return FALSE;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!g_ascii_isalnum(c) && c != '_' && c != '-')
            return FALSE;
    }
    return TRUE;
}

camsim_camera_t *camsim_find(camsim_t *cs, const char *id)
{
    for (guint i = 0; i < cs->ncams; i++)
        if (strcmp(cs->cams[i]->id, id) == 0)
            return cs->cams[i];
    return NULL;
}

static camsim_camera_t *camera_new(camsim_t *cs, const char *id, const camsim_profile_t *defaults)
{
    camsim_camera_t *cam = g_new0(camsim_camera_t, 1);
    g_strlcpy(cam->id, id, sizeof cam->id);
    g_snprintf(cam->path, sizeof cam->path, "/camera/%s", id);
    cam->prof = *defaults;
    cam->prof.file = NULL;
    cam->state = CAM_OK;
    cs->cams = g_renew(camsim_camera_t *, cs->cams, cs->ncams + 1);
    cs->cams[cs->ncams++] = cam;
    return cam;
}

/* "ID:key=val,key=val"; a size= or fps= given here is "explicit" (file cameras keep their own otherwise). */
static int apply_camera_spec(camsim_t *cs, const char *spec, const camsim_profile_t *defaults,
                             GPtrArray *explicit_size)
{
    const char *colon = strchr(spec, ':');
    char *id = colon ? g_strndup(spec, colon - spec) : g_strdup(spec);
    int rc = -1;

    if (!valid_id(id)) {
        fprintf(stderr, "camsim: --camera %s: camera id must match [A-Za-z0-9_-]{1,64}\n", spec);
        goto out;
    }
    camsim_camera_t *cam = camsim_find(cs, id);
    if (!cam)
        cam = camera_new(cs, id, defaults);
    if (!colon || !colon[1]) {
        rc = 0;
        goto out;
    }
    gchar **kvs = g_strsplit(colon + 1, ",", -1);
    for (gchar **kv = kvs; *kv; kv++) {
        char *eq = strchr(*kv, '=');
        if (!eq) {
            fprintf(stderr, "camsim: --camera %s: '%s' is not key=value\n", spec, *kv);
            g_strfreev(kvs);
            goto out;
        }
        *eq = '\0';
        const char *k = *kv, *v = eq + 1;
        gboolean ok = TRUE;
        if (strcmp(k, "gop") == 0) {
            ok = parse_int(v, 1, 600, &cam->prof.gop);
        } else if (strcmp(k, "fps") == 0) {
            ok = parse_int(v, 1, 120, &cam->prof.fps);
        } else if (strcmp(k, "bitrate") == 0) {
            ok = parse_int(v, 50, 50000, &cam->prof.bitrate);
        } else if (strcmp(k, "size") == 0) {
            ok = parse_size(v, &cam->prof.width, &cam->prof.height);
            if (ok)
                g_ptr_array_add(explicit_size, cam);
        } else if (strcmp(k, "scene") == 0) {
            if (strcmp(v, "motion") == 0)
                cam->prof.scene = SCENE_MOTION;
            else if (strcmp(v, "bars") == 0 || strcmp(v, "default") == 0)
                cam->prof.scene = SCENE_BARS;
            else
                ok = FALSE;
        } else if (strcmp(k, "audio") == 0) {
            if (strcmp(v, "none") == 0)
                cam->prof.audio = AUDIO_NONE;
            else if (strcmp(v, "aac") == 0)
                cam->prof.audio = AUDIO_AAC;
            else if (strcmp(v, "pcmu") == 0)
                cam->prof.audio = AUDIO_PCMU;
            else
                ok = FALSE;
        } else if (strcmp(k, "bframes") == 0) {
            ok = parse_int(v, 0, 4, &cam->prof.bframes);
        } else if (strcmp(k, "codec") == 0) {
            if (strcmp(v, "h264") == 0)
                cam->prof.codec = CODEC_H264;
            else if (strcmp(v, "h265") == 0)
                cam->prof.codec = CODEC_H265;
            else
                ok = FALSE;
        } else if (strcmp(k, "file") == 0) {
            ok = v[0] != '\0';
            if (ok) {
                g_free(cam->prof.file);
                cam->prof.file = g_strdup(v);
            }
        } else if (strcmp(k, "loop") == 0) {
            char *end;
            cam->prof.loop_s = g_ascii_strtod(v, &end);
            ok = end != v && !*end && cam->prof.loop_s >= 1.0 && cam->prof.loop_s <= 600.0;
        } else {
            fprintf(stderr, "camsim: --camera %s: unknown key '%s'\n", spec, k);
            g_strfreev(kvs);
            goto out;
        }
        if (!ok) {
            fprintf(stderr, "camsim: --camera %s: bad value '%s' for key '%s'\n", spec, v, k);
            g_strfreev(kvs);
            goto out;
        }
    }
    g_strfreev(kvs);
    rc = 0;
out:
    g_free(id);
    return rc;
}

int camsim_parse_args(camsim_t *cs, int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"control-port", required_argument, NULL, 'c'},
        {"cameras", required_argument, NULL, 'n'},
        {"fps", required_argument, NULL, 'f'},
        {"gop", required_argument, NULL, 'g'},
        {"size", required_argument, NULL, 's'},
        {"camera", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    camsim_profile_t defaults = { .scene = SCENE_BARS, .width = 640, .height = 360, .fps = 25, .gop = 25 };
    int ncams = 0;
    GPtrArray *specs = g_ptr_array_new();
    int rc = -1, o;

    cs->port = -1;
    cs->control_port = -1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        gboolean ok = TRUE;
        switch (o) {
        case 'p': ok = parse_int(optarg, 1, 65535, &cs->port); break;
        case 'c': ok = parse_int(optarg, 1, 65535, &cs->control_port); break;
        case 'n': ok = parse_int(optarg, 0, 1000, &ncams); break;
        case 'f': ok = parse_int(optarg, 1, 120, &defaults.fps); break;
        case 'g': ok = parse_int(optarg, 1, 600, &defaults.gop); break;
        case 's': ok = parse_size(optarg, &defaults.width, &defaults.height); break;
        case 'C': g_ptr_array_add(specs, optarg); break;
        case 'h': fputs(usage, stdout); exit(0);
        default:  fputs(usage, stderr); goto out;
        }
        if (!ok) {
            const char *name = "?";
            for (const struct option *op = opts; op->name; op++)
                if (op->val == o)
                    name = op->name;
            fprintf(stderr, "camsim: bad value '%s' for --%s\n", optarg, name);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "camsim: unexpected argument '%s'\n%s", argv[optind], usage);
        goto out;
    }
    if (cs->port < 0 || cs->control_port < 0) {
        fprintf(stderr, "camsim: --port and --control-port are required\n%s", usage);
        goto out;
    }
    if (cs->port == cs->control_port) {
        fprintf(stderr, "camsim: --port and --control-port must differ\n");
        goto out;
    }
    for (int i = 1; i <= ncams; i++) {
        char id[32];
        g_snprintf(id, sizeof id, "cam%d", i);
        camera_new(cs, id, &defaults);
    }
    GPtrArray *explicit_size = g_ptr_array_new();
    for (guint i = 0; i < specs->len; i++) {
        if (apply_camera_spec(cs, specs->pdata[i], &defaults, explicit_size) < 0) {
            g_ptr_array_free(explicit_size, TRUE);
            goto out;
        }
    }
    /* A file camera keeps the clip's own size unless size= was given for it. */
    for (guint i = 0; i < cs->ncams; i++) {
        camsim_camera_t *cam = cs->cams[i];
        if (cam->prof.file) {
            cam->prof.scene = SCENE_FILE;
            if (!g_ptr_array_find(explicit_size, cam, NULL))
                cam->prof.width = cam->prof.height = 0;
        }
        if (cam->prof.scene == SCENE_MOTION && cam->prof.loop_s > 0 && cam->prof.loop_s < CAMSIM_MOTION_LOOP_S) {
            fprintf(stderr, "camsim: camera %s: scene=motion needs loop >= %.0f s (the box moves at %.0f-%.0f s)\n",
                    cam->id, CAMSIM_MOTION_LOOP_S, CAMSIM_MOTION_START_S, CAMSIM_MOTION_END_S);
            g_ptr_array_free(explicit_size, TRUE);
            goto out;
        }
    }
    g_ptr_array_free(explicit_size, TRUE);
    if (cs->ncams == 0) {
        fprintf(stderr, "camsim: no cameras (use --cameras N or --camera ID:...)\n");
        goto out;
    }
    rc = 0;
out:
    g_ptr_array_free(specs, TRUE);
    return rc;
}
