/* camsim entry point: parse, encode each distinct profile once, serve, exit 0 on SIGTERM/SIGINT. */
#include "camsim.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static gboolean same_profile(const camsim_profile_t *a, const camsim_profile_t *b)
{
    return a->scene == b->scene && a->width == b->width && a->height == b->height && a->fps == b->fps
        && a->gop == b->gop && a->bitrate == b->bitrate && a->codec == b->codec && a->bframes == b->bframes && a->audio == b->audio && a->loop_s == b->loop_s && g_strcmp0(a->file, b->file) == 0;
}

/* Encodes each distinct profile once; cameras with equal profiles share the loop. */
static int encode_all(camsim_t *cs, GPtrArray *loops)
{
    for (guint i = 0; i < cs->ncams; i++) {
        camsim_camera_t *cam = cs->cams[i];
        for (guint j = 0; j < loops->len && !cam->loop; j++) {
            camsim_loop_t *l = loops->pdata[j];
            if (same_profile(&l->prof, &cam->prof))
                cam->loop = l;
        }
        if (cam->loop)
            continue;
        GError *err = NULL;
        gint64 t0 = g_get_monotonic_time();
        cam->loop = camsim_loop_encode(&cam->prof, &err);
        if (!cam->loop) {
            fprintf(stderr, "camsim: camera %s: cannot encode %s%s%s: %s\n", cam->id,
                    camsim_scene_name(cam->prof.scene), cam->prof.file ? " " : "",
                    cam->prof.file ? cam->prof.file : "", err ? err->message : "unknown error");
            g_clear_error(&err);
            return -1;
        }
        g_ptr_array_add(loops, cam->loop);
        fprintf(stderr, "camsim: encoded %s %dx%d %d fps gop %d: %u frames in %.1f s\n",
                camsim_scene_name(cam->prof.scene), cam->loop->width, cam->loop->height, cam->prof.fps,
                cam->prof.gop, cam->loop->n, (g_get_monotonic_time() - t0) / 1e6);
    }
    return 0;
}

static gboolean on_signal(gpointer user)
{
    g_main_loop_quit(user);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    camsim_t cs = { 0 };
    GError *err = NULL;

    gst_init(&argc, &argv);
    signal(SIGPIPE, SIG_IGN);
    if (camsim_parse_args(&cs, argc, argv) < 0)
        return 2;

    GPtrArray *loops = g_ptr_array_new_with_free_func((GDestroyNotify)camsim_loop_free);
    if (encode_all(&cs, loops) < 0)
        return 1;

    /* Cameras sharing a loop start a few frames apart, so their keyframes do not all coincide. */
    for (guint i = 0; i < cs.ncams; i++)
        cs.cams[i]->phase = (i * 7) % (guint)cs.cams[i]->prof.gop % cs.cams[i]->loop->n;
    cs.epoch_mono_us = g_get_monotonic_time();
    cs.epoch_real_us = g_get_real_time();
    cs.mainloop = g_main_loop_new(NULL, FALSE);
    camsim_feeder_start(&cs);
    if (camsim_rtsp_start(&cs, &err) < 0) {
        fprintf(stderr, "camsim: cannot listen for RTSP on 127.0.0.1:%d: %s\n", cs.port, err->message);
        return 1;
    }
    if (camsim_control_start(&cs, &err) < 0) {
        fprintf(stderr, "camsim: cannot listen for control on 127.0.0.1:%d: %s\n", cs.control_port,
                err->message);
        return 1;
    }
    g_unix_signal_add(SIGTERM, on_signal, cs.mainloop);
    g_unix_signal_add(SIGINT, on_signal, cs.mainloop);

    printf("camsim: ready rtsp://127.0.0.1:%d control http://127.0.0.1:%d\n", cs.port, cs.control_port);
    fflush(stdout);
    g_main_loop_run(cs.mainloop);

    fprintf(stderr, "camsim: stopping\n");
    camsim_rtsp_close_all(&cs);
    /* Let the closed clients' pipelines wind down (bounded) before the process exits under them. */
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (camsim_feed_total() > 0 && g_get_monotonic_time() < deadline) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        g_usleep(10000);
    }
    if (g_getenv("CAMSIM_DEBUG"))
        fprintf(stderr, "camsim: debug: %u feeds left after %.2f s\n", camsim_feed_total(),
                (g_get_monotonic_time() - deadline) / 1e6 + 2);
    camsim_feeder_stop();
    for (guint i = 0; i < cs.ncams; i++) {
        g_clear_object(&cs.cams[i]->factory);
        camsim_profile_clear(&cs.cams[i]->prof);
        g_free(cs.cams[i]);
    }
    g_free(cs.cams);
    g_ptr_array_unref(loops);
    g_main_loop_unref(cs.mainloop);
    return 0;
}
