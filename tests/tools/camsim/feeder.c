/* The feeder: one thread pushes the frames of every RTSP client's pipeline (a "feed", one per media)
 * at the frame rate, from the camera's in-memory loop, with timestamps rewritten to the pipeline's
 * running time.  Frame slot k of a camera is due at epoch + k / fps and carries loop frame
 * (k + phase) mod n, so all feeds of all cameras with one frame rate wake together and content is tied
 * to wall-clock time.
 *
 * A feed starts (and restarts after freeze/still) at once, from the latest keyframe at or before the
 * grid's frame, and plays on from there: its content then lags the grid by less than one GOP ("lag").
 * Starting at once matters: rtsp-media's prepare (DESCRIBE) waits for the first buffer.
 * freeze pushes nothing (but one keyframe to a client that joins while frozen); still re-sends the last
 * keyframe (an IDR), which decodes to the same pixels every time.  One lock guards the feed list and every camera's state. */
#include "camsim.h"

typedef struct {
    camsim_camera_t *cam;
    GstRTSPMedia    *media;        /* identity only, not referenced */
    GstAppSrc       *src;          /* referenced */
    GstAppSrc       *asrc;         /* audio, referenced; NULL without */
    guint64          anext;        /* next audio frame: due at epoch + anext * adur */
    gboolean         started;
    GstClockTime     base_time;
    gint64           rt_offset;    /* pipeline running time minus monotonic time, ns */
    guint64          next_slot;
    gboolean         synced;       /* lag is set: frames since the last (re)start decode */
    guint            lag;          /* loop frames behind the grid */
    camsim_state_t   last_state;
    guint            still_idx;
    gint64           last_idx;     /* loop index last pushed, -1 = none */
} feed_t;

static GMutex    lock;
static GCond     cond;
static GList    *feeds;
static gboolean  stopping;
static GThread  *thread;
static camsim_t *cs_;
static gboolean  debug;         /* CAMSIM_DEBUG=1: one stderr line per feed start and per frame */

void camsim_feeder_lock(void)   { g_mutex_lock(&lock); }
void camsim_feeder_unlock(void) { g_mutex_unlock(&lock); }
void camsim_feeder_wake(void)   { g_cond_signal(&cond); }

static gint64 epoch_ns(void) { return cs_->epoch_mono_us * 1000; }

static gint64 slot_ns(const feed_t *f, guint64 k)
{
    return epoch_ns() + (gint64)gst_util_uint64_scale(k, GST_SECOND, f->cam->loop->prof.fps);
}

static void try_start(feed_t *f)
{
    GST_OBJECT_LOCK(f->src);
    GstState st = GST_STATE(f->src);
    GST_OBJECT_UNLOCK(f->src);
    if (st != GST_STATE_PLAYING)
        return;
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(f->src));
    if (!clock)
        return;
    f->base_time = gst_element_get_base_time(GST_ELEMENT(f->src));
    GstClockTime now_clock = gst_clock_get_time(clock);
    gint64 mono = g_get_monotonic_time() * 1000;
    gst_object_unref(clock);
    f->rt_offset = (gint64)(now_clock - f->base_time) - mono;
    int fps = f->cam->loop->prof.fps;
    f->next_slot = gst_util_uint64_scale_ceil((guint64)(mono - epoch_ns()), fps, GST_SECOND);
    f->started = TRUE;
    f->synced = FALSE;
    f->last_idx = -1;
    if (debug)
        g_printerr("camsim: debug: %s feed %p start slot %" G_GUINT64_FORMAT " base %" G_GUINT64_FORMAT "\n",
                   f->cam->id, (void *)f, f->next_slot, f->base_time);
}

/* The audio frames due before video slot k + 1 ends; after a pause (freeze, drop) audio resumes at slot
 * k's time, so it has the video's gap. */
static void push_audio(feed_t *f, guint64 k)
{
    camsim_loop_t *loop = f->cam->loop;
    gint64 from = slot_ns(f, k) - epoch_ns(), to = slot_ns(f, k + 1) - epoch_ns();
    if (!f->asrc)
        return;
    if ((gint64)(f->anext * loop->adur) < from)
        f->anext = ((guint64)from + loop->adur - 1) / loop->adur;
    while ((gint64)(f->anext * loop->adur) < to) {
        GstBuffer *b = gst_buffer_copy(loop->abufs[f->anext % loop->an]);
        GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = (GstClockTime)(f->rt_offset + epoch_ns()) + f->anext * loop->adur;
        GST_BUFFER_DURATION(b) = loop->adur;
        GST_BUFFER_OFFSET(b) = GST_BUFFER_OFFSET_END(b) = GST_BUFFER_OFFSET_NONE;
        gst_app_src_push_buffer(f->asrc, b);
        f->anext++;
    }
}

static void push(feed_t *f, guint idx, guint64 k)
{
    camsim_loop_t *loop = f->cam->loop;
    push_audio(f, k);
    GstBuffer *b = gst_buffer_copy(loop->frames[idx].buf);   /* shares the encoded memory */
    /* slot k is the frame's decode time; a reordered frame (B-frames) shows later by what the encoder said */
    GST_BUFFER_DTS(b) = (GstClockTime)(f->rt_offset + slot_ns(f, k));
    GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) + (GstClockTime)loop->frames[idx].pts_delay;
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale(1, GST_SECOND, loop->prof.fps);
    GST_BUFFER_OFFSET(b) = GST_BUFFER_OFFSET_END(b) = GST_BUFFER_OFFSET_NONE;
    GstFlowReturn r = gst_app_src_push_buffer(f->src, b);
    if (debug)
        g_printerr("camsim: debug: %s feed %p push slot %" G_GUINT64_FORMAT " idx %u key %d -> %d\n",
                   f->cam->id, (void *)f, k, idx, loop->frames[idx].key, r);
}

static guint key_at_or_before(const camsim_loop_t *loop, guint idx)
{
    while (idx > 0 && !loop->frames[idx].key)
        idx--;
    return idx;
}

static void run_slot(feed_t *f, guint64 k, gboolean late)
{
    camsim_loop_t *loop = f->cam->loop;
    guint idx = (guint)((k + f->cam->phase) % loop->n);
    camsim_state_t st = f->cam->state;

    if (st != f->last_state) {
        if (st == CAM_STILL)
            f->still_idx = key_at_or_before(loop, f->last_idx >= 0 ? (guint)f->last_idx : idx);
        f->synced = FALSE;
        f->last_state = st;
    }
    if (late) {
        /* The thread fell far behind: skip rather than burst; resume at a keyframe. */
        f->synced = FALSE;
        return;
    }
    switch (st) {
    case CAM_OK:
        if (!f->synced) {
            f->lag = idx - key_at_or_before(loop, idx);
            f->synced = TRUE;
        }
        idx = (guint)((k + f->cam->phase - f->lag) % loop->n);
        push(f, idx, k);
        f->last_idx = idx;
        break;
    case CAM_STILL:
        push(f, f->still_idx, k);
        break;
    case CAM_FREEZE:
    case CAM_DROP:
        /* A pipeline that has sent nothing yet gets one keyframe: rtsp-media's prepare (the DESCRIBE)
         * waits for a first buffer and would hold an RTSP server thread, and every client on it. */
        if (f->last_idx < 0) {
            f->last_idx = key_at_or_before(loop, idx);
            push(f, (guint)f->last_idx, k);
        }
        break;
    }
}

static gpointer feeder_main(gpointer data)
{
    (void)data;
    g_mutex_lock(&lock);
    while (!stopping) {
        gint64 now = g_get_monotonic_time() * 1000;
        gint64 wake = now + GST_SECOND;
        for (GList *l = feeds; l; l = l->next) {
            feed_t *f = l->data;
            if (f->started && gst_element_get_base_time(GST_ELEMENT(f->src)) != f->base_time)
                f->started = FALSE;    /* paused and replayed: new running time */
            if (!f->started)
                try_start(f);
            if (!f->started) {
                wake = MIN(wake, now + 10 * GST_MSECOND);
                continue;
            }
            gint64 t;
            while ((t = slot_ns(f, f->next_slot)) <= now) {
                run_slot(f, f->next_slot, now - t > 500 * GST_MSECOND);
                f->next_slot++;
            }
            wake = MIN(wake, t);
        }
        g_cond_wait_until(&cond, &lock, wake / 1000 + (wake % 1000 ? 1 : 0));
    }
    g_mutex_unlock(&lock);
    return NULL;
}

void camsim_feeder_start(camsim_t *cs)
{
    cs_ = cs;
    debug = g_getenv("CAMSIM_DEBUG") != NULL;
    thread = g_thread_new("camsim-feeder", feeder_main, NULL);
}

void camsim_feeder_stop(void)
{
    if (!thread)
        return;
    g_mutex_lock(&lock);
    stopping = TRUE;
    g_cond_signal(&cond);
    g_mutex_unlock(&lock);
    g_thread_join(thread);
    thread = NULL;
}

void camsim_feed_add(camsim_camera_t *cam, GstRTSPMedia *media, GstAppSrc *src, GstAppSrc *asrc)
{
    feed_t *f = g_new0(feed_t, 1);
    f->cam = cam;
    f->media = media;
    f->src = gst_object_ref(src);
    f->asrc = asrc ? gst_object_ref(asrc) : NULL;
    f->last_idx = -1;
    f->last_state = CAM_OK;
    g_mutex_lock(&lock);
    feeds = g_list_prepend(feeds, f);
    g_cond_signal(&cond);
    g_mutex_unlock(&lock);
}

void camsim_feed_remove(GstRTSPMedia *media)
{
    feed_t *gone = NULL;
    g_mutex_lock(&lock);
    for (GList *l = feeds; l; l = l->next) {
        feed_t *f = l->data;
        if (f->media == media) {
            gone = f;
            feeds = g_list_delete_link(feeds, l);
            break;
        }
    }
    g_mutex_unlock(&lock);
    if (gone) {
        gst_object_unref(gone->src);
        if (gone->asrc)
            gst_object_unref(gone->asrc);
        g_free(gone);
    }
}

guint camsim_feed_total(void)
{
    g_mutex_lock(&lock);
    guint n = g_list_length(feeds);
    g_mutex_unlock(&lock);
    return n;
}

guint camsim_feed_clients(camsim_camera_t *cam)
{
    guint n = 0;
    for (GList *l = feeds; l; l = l->next) {
        feed_t *f = l->data;
        if (f->cam == cam && f->started)
            n++;
    }
    return n;
}
