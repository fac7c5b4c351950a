/* RTSP side: one media factory per camera at /camera/{id}.  Each client gets its own small pipeline
 * (appsrc -> rtph264pay or rtph265pay, and appsrc -> rtpmp4gpay or rtppcmupay for audio; no encoder), fed by feeder.c.  drop unmounts the factory (DESCRIBE then answers
 * 404) and closes every client connection that has asked for the camera (DESCRIBE or SETUP): a session
 * alone would miss a client between its DESCRIBE and SETUP, whose cached media would then play on. */
#include "camsim.h"

#include <string.h>

#define CAMSIM_APPSRC(name) \
    "appsrc name=" name " is-live=true format=time do-timestamp=false min-latency=0 ! "

/* the camera's media: its video, and its audio when it has some */
static char *launch_line(const camsim_profile_t *p)
{
    const char *video = p->codec == CODEC_H265
        ? CAMSIM_APPSRC("src") "rtph265pay name=pay0 pt=96 config-interval=-1 aggregate-mode=none"
        : CAMSIM_APPSRC("src") "rtph264pay name=pay0 pt=96 config-interval=-1 aggregate-mode=none";
    const char *audio = p->audio == AUDIO_AAC ? " " CAMSIM_APPSRC("asrc") "rtpmp4gpay name=pay1 pt=97"
                      : p->audio == AUDIO_PCMU ? " " CAMSIM_APPSRC("asrc") "rtppcmupay name=pay1 pt=0"
                      : "";
    return g_strdup_printf("( %s%s )", video, audio);
}

static void on_unprepared(GstRTSPMedia *media, gpointer user)
{
    (void)user;
    camsim_feed_remove(media);
}

static void on_media_gone(gpointer user, GObject *where_the_media_was)
{
    (void)user;
    camsim_feed_remove((GstRTSPMedia *)where_the_media_was);
}

static void on_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer user)
{
    camsim_camera_t *cam = user;
    GstElement *bin = gst_rtsp_media_get_element(media);
    GstElement *src = gst_bin_get_by_name_recurse_up(GST_BIN(bin), "src");
    (void)factory;

    /* Bounded queue: a client that stops reading loses new frames instead of growing memory. */
    g_object_set(src, "caps", cam->loop->caps, "max-buffers", (guint64)cam->loop->prof.fps * 2, NULL);
    gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "upstream");
    g_object_set_data(G_OBJECT(media), "camsim-camera", cam);
    g_signal_connect(media, "unprepared", G_CALLBACK(on_unprepared), NULL);
    g_object_weak_ref(G_OBJECT(media), on_media_gone, NULL);
    GstElement *asrc = gst_bin_get_by_name_recurse_up(GST_BIN(bin), "asrc");
    if (asrc) {
        g_object_set(asrc, "caps", cam->loop->acaps, "max-buffers", (guint64)(GST_SECOND * 2 / cam->loop->adur), NULL);
        gst_util_set_object_arg(G_OBJECT(asrc), "leaky-type", "upstream");
    }
    camsim_feed_add(cam, media, GST_APP_SRC(src), asrc ? GST_APP_SRC(asrc) : NULL);
    if (asrc)
        gst_object_unref(asrc);
    gst_object_unref(src);
    gst_object_unref(bin);
}

static GMutex asked_lock;   /* guards every client's "camsim-asked" list */

/* Remembers which cameras a client asked for, from the request path /camera/{id}[/stream=N]. */
static void on_request(GstRTSPClient *client, GstRTSPContext *ctx, gpointer user)
{
    camsim_t *cs = user;
    const char *path = ctx->uri ? ctx->uri->abspath : NULL;
    if (!path || !g_str_has_prefix(path, "/camera/"))
        return;
    const char *id = path + 8, *end = strchr(id, '/');
    char *cid = end ? g_strndup(id, end - id) : g_strdup(id);
    camsim_camera_t *cam = camsim_find(cs, cid);
    g_free(cid);
    if (!cam)
        return;
    g_mutex_lock(&asked_lock);
    GPtrArray *asked = g_object_get_data(G_OBJECT(client), "camsim-asked");
    if (!asked) {
        asked = g_ptr_array_new();
        g_object_set_data_full(G_OBJECT(client), "camsim-asked", asked, (GDestroyNotify)g_ptr_array_unref);
    }
    if (!g_ptr_array_find(asked, cam, NULL))
        g_ptr_array_add(asked, cam);
    g_mutex_unlock(&asked_lock);
}

static void on_client_connected(GstRTSPServer *server, GstRTSPClient *client, gpointer user)
{
    (void)server;
    g_signal_connect(client, "describe-request", G_CALLBACK(on_request), user);
    g_signal_connect(client, "setup-request", G_CALLBACK(on_request), user);
}

static gboolean client_has_camera(GstRTSPClient *client, camsim_camera_t *cam)
{
    g_mutex_lock(&asked_lock);
    GPtrArray *asked = g_object_get_data(G_OBJECT(client), "camsim-asked");
    gboolean found = asked && g_ptr_array_find(asked, cam, NULL);
    g_mutex_unlock(&asked_lock);
    return found;
}

static void close_clients(camsim_t *cs, camsim_camera_t *cam)
{
    GList *clients = gst_rtsp_server_client_filter(cs->server, NULL, NULL);
    for (GList *l = clients; l; l = l->next)
        if (cam == NULL || client_has_camera(l->data, cam))
            gst_rtsp_client_close(l->data);
    g_list_free_full(clients, g_object_unref);
}

void camsim_rtsp_close_camera(camsim_t *cs, camsim_camera_t *cam) { close_clients(cs, cam); }
void camsim_rtsp_close_all(camsim_t *cs) { close_clients(cs, NULL); }

static void mount(camsim_t *cs, camsim_camera_t *cam, gboolean on)
{
    if (on == cam->mounted)
        return;
    if (on)
        gst_rtsp_mount_points_add_factory(cs->mounts, cam->path, g_object_ref(cam->factory));
    else
        gst_rtsp_mount_points_remove_factory(cs->mounts, cam->path);
    cam->mounted = on;
}

typedef struct {
    camsim_t        *cs;
    camsim_camera_t *cam;
    guint            gen;
} expiry_t;

static gboolean drop_expired(gpointer user)
{
    expiry_t *e = user;
    camsim_feeder_lock();
    gboolean current = e->cam->state == CAM_DROP && e->cam->state_gen == e->gen;
    camsim_feeder_unlock();
    if (current)
        camsim_set_state(e->cs, e->cam, CAM_OK, -1);
    return G_SOURCE_REMOVE;
}

/* Main thread only (control handlers and timers), so mount state needs no lock. */
void camsim_set_state(camsim_t *cs, camsim_camera_t *cam, camsim_state_t st, double seconds)
{
    camsim_feeder_lock();
    cam->state = st;
    guint gen = ++cam->state_gen;
    camsim_feeder_wake();
    camsim_feeder_unlock();

    if (st != CAM_DROP) {
        mount(cs, cam, TRUE);
        return;
    }
    mount(cs, cam, FALSE);
    close_clients(cs, cam);
    if (seconds >= 0) {
        expiry_t *e = g_new(expiry_t, 1);
        *e = (expiry_t){ cs, cam, gen };
        g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)(seconds * 1000 + 0.5), drop_expired, e, g_free);
    }
}

int camsim_rtsp_start(camsim_t *cs, GError **err)
{
    char service[16];
    g_snprintf(service, sizeof service, "%d", cs->port);
    cs->server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(cs->server, "127.0.0.1");
    gst_rtsp_server_set_service(cs->server, service);
    cs->mounts = gst_rtsp_server_get_mount_points(cs->server);
    /* Client requests (a DESCRIBE prepares a pipeline) are served by a few threads, not one. */
    GstRTSPThreadPool *pool = gst_rtsp_server_get_thread_pool(cs->server);
    gst_rtsp_thread_pool_set_max_threads(pool, 8);
    g_object_unref(pool);

    for (guint i = 0; i < cs->ncams; i++) {
        camsim_camera_t *cam = cs->cams[i];
        cam->factory = gst_rtsp_media_factory_new();
        char *launch = launch_line(&cam->prof);
        gst_rtsp_media_factory_set_launch(cam->factory, launch);
        g_free(launch);
        gst_rtsp_media_factory_set_shared(cam->factory, FALSE);
        /* Interleaved TCP only: UDP would bind RTP ports on every interface. */
        gst_rtsp_media_factory_set_protocols(cam->factory, GST_RTSP_LOWER_TRANS_TCP);
        g_signal_connect(cam->factory, "media-configure", G_CALLBACK(on_media_configure), cam);
        mount(cs, cam, TRUE);
    }
    g_signal_connect(cs->server, "client-connected", G_CALLBACK(on_client_connected), cs);
    GSource *src = gst_rtsp_server_create_source(cs->server, NULL, err);
    if (!src)
        return -1;
    g_source_attach(src, NULL);
    g_source_unref(src);
    return 0;
}
