#include "api.h"
#include "apiauth.h"
#include "camera.h"
#include "cluster.h"
#include "events.h"
#include "http.h"
#include "httpq.h"
#include "metrics.h"
#include "pg.h"
#include "rstore.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void
status_json(vms_buf_t *b, const vms_camera_status_t *st)
{
    vms_buf_append(b, "{\"id\":", 6);
    vms_buf_json_str(b, st->id);
    vms_buf_printf(b, ",\"state\":\"%s\",\"frames\":%llu,\"packets\":%llu,"
                   "\"bytes\":%llu,\"keyframes_decoded\":%llu,"
                   "\"last_frame_age_ms\":%lld,\"failures\":%d,"
                   "\"record\":%s,\"recording\":%s,\"still\":%s,"
                   "\"snapshot_age_ms\":%lld,\"last_error\":",
                   st->state_name, (unsigned long long) st->frames,
                   (unsigned long long) st->packets,
                   (unsigned long long) st->bytes,
                   (unsigned long long) st->keyframes,
                   (long long) st->last_frame_age_ms, st->failures,
                   st->record_wanted ? "true" : "false",
                   st->recording ? "true" : "false",
                   st->still ? "true" : "false",
                   (long long) st->snapshot_age_ms);
    vms_buf_json_str(b, st->last_error);
    vms_buf_append(b, "}", 1);
}

typedef struct {
    vms_buf_t   *b;
    int          n;
    int          online;
    const char  *scope;      /* valid scope; NULL: every camera */
} health_ctx_t;

static void
health_cam(vms_camera_t *cam, void *data)
{
    health_ctx_t         *h = data;
    vms_camera_status_t   st;

    vms_camera_status(cam, &st);
    if (h->scope != NULL && !vms_httpq_scope_has(h->scope, st.id)) {
        return;
    }
    if (h->n++ > 0) {
        vms_buf_append(h->b, ",", 1);
    }
    h->online += st.state == VMS_CAM_STREAMING;
    status_json(h->b, &st);
    if (vms_cluster_on()) {
        char since[40];

        vms_rfc3339(vms_cluster_since(st.id) * 1000, since, sizeof(since));
        h->b->len--;                  /* the object's '}' */
        vms_buf_append(h->b, ",\"node\":", 8);
        vms_buf_json_str(h->b, vms_cluster_node());
        vms_buf_append(h->b, ",\"since\":", 9);
        vms_buf_json_str(h->b, since);
        vms_buf_append(h->b, "}", 1);
    }
}

/* Cluster: the fleet's cameras this node does not run, from the catalog
 * and their owners' Redis records (docs/scale-out.md, "Cluster view"). */
typedef struct {
    const char  *scope;
    char       **ids;
    int          n, cap;
} remote_ctx_t;

static void
remote_cam(const vms_cluster_cam_t *c, void *data)
{
    remote_ctx_t *r = data;

    if (c->local || (r->scope != NULL && !vms_httpq_scope_has(r->scope, c->id))) {
        return;
    }
    if (r->n == r->cap) {
        int    cap = r->cap ? r->cap * 2 : 32;
        char **v = realloc(r->ids, sizeof(*v) * (size_t) cap);
        if (v == NULL) {
            return;
        }
        r->ids = v;
        r->cap = cap;
    }
    r->ids[r->n] = strdup(c->id);
    if (r->ids[r->n] != NULL) {
        r->n++;
    }
}

static void
health_remote(health_ctx_t *h)
{
    remote_ctx_t       r = { h->scope, NULL, 0, 0 };
    vms_lease_owner_t *o;
    char               since[40];
    int                i;

    vms_cluster_foreach(remote_cam, &r);
    o = calloc((size_t) r.n + 1, sizeof(*o));
    if (o != NULL) {
        vms_cluster_owners((const char *const *) r.ids, r.n, o);
    }
    for (i = 0; i < r.n; i++) {
        const char *state = o == NULL ? "unknown"
                            : o[i].status[0] && strcmp(o[i].state, "running") == 0
                            ? o[i].status : o[i].state[0] ? o[i].state
                            : "unassigned";

        if (h->n++ > 0) {
            vms_buf_append(h->b, ",", 1);
        }
        h->online += strcmp(state, "online") == 0;
        vms_buf_append(h->b, "{\"id\":", 6);
        vms_buf_json_str(h->b, r.ids[i]);
        vms_buf_append(h->b, ",\"state\":", 9);
        vms_buf_json_str(h->b, state);
        vms_buf_append(h->b, ",\"node\":", 8);
        if (o != NULL && o[i].node[0]) {
            vms_buf_json_str(h->b, o[i].node);
            vms_rfc3339(o[i].since_ms * 1000, since, sizeof(since));
            vms_buf_append(h->b, ",\"since\":", 9);
            vms_buf_json_str(h->b, since);
        } else {
            vms_buf_append(h->b, "null,\"since\":null", 17);
        }
        vms_buf_append(h->b, ",\"remote\":true}", 15);
        free(r.ids[i]);
    }
    free(r.ids);
    free(o);
}

static int
health(const vms_http_req_t *req, vms_http_resp_t *w, void *data)
{
    vms_buf_t           cams = {0};
    health_ctx_t        h = { &cams, 0, 0, NULL };
    vms_events_stats_t  es;
    vms_pg_stats_t      ps;
    vms_redis_stats_t   rs;
    const char         *scope;
    int                 kafka_down, pg_down, redis_down;

    /* Through nginx (/api/cameras), the token's cameras only; a direct
     * loopback caller sends no scope and sees every camera. */
    scope = vms_http_header(req, VMS_HTTP_CAMERAS_HEADER);
    if (scope != NULL && !vms_httpq_scope_valid(scope)) {
        vms_http_error(w, 400, "malformed " VMS_HTTP_CAMERAS_HEADER
                       " (expected *, - or comma-separated camera ids)");
        return 0;
    }
    h.scope = scope;
    vms_cameras_foreach(health_cam, &h);
    if (vms_cluster_on()) {
        health_remote(&h);
    }
    vms_events_stats(&es);
    vms_pg_stats(&ps);
    vms_redis_stats(&rs);
    kafka_down = es.enabled && !es.connected;
    pg_down = ps.enabled && !ps.connected;
    redis_down = rs.enabled && !rs.connected;
    /* still 200: the process serves; "degraded" names what an alert or an
     * operator should look at */
    vms_buf_printf(&w->body, "{\"status\":\"%s\",",
                   kafka_down || pg_down || redis_down ? "degraded" : "ok");
    if (vms_cluster_on()) {
        vms_buf_append(&w->body, "\"cluster\":true,\"node\":", 22);
        vms_buf_json_str(&w->body, vms_cluster_node());
        vms_buf_append(&w->body, ",", 1);
    }
    if (kafka_down || pg_down || redis_down) {
        vms_buf_printf(&w->body, "\"degraded\":[%s%s%s%s%s],",
                       kafka_down ? "\"kafka\"" : "",
                       kafka_down && (pg_down || redis_down) ? "," : "",
                       pg_down ? "\"postgres\"" : "",
                       pg_down && redis_down ? "," : "",
                       redis_down ? "\"redis\"" : "");
    }
    vms_buf_printf(&w->body, "\"cameras_total\":%d,"
                   "\"cameras_online\":%d,\"cameras\":[%s],"
                   "\"kafka\":{\"enabled\":%s,\"connected\":%s,",
                   h.n, h.online, cams.p ? cams.p : "",
                   es.enabled ? "true" : "false",
                   es.enabled && es.connected ? "true" : "false");
    if (kafka_down) {
        vms_buf_append(&w->body, "\"reason\":", 9);
        vms_buf_json_str(&w->body, es.reason);
        vms_buf_printf(&w->body, ",\"disconnected_seconds\":%lld,",
                       (long long) es.disconnected_s);
    }
    vms_buf_printf(&w->body, "\"queued\":%d,"
                   "\"spool_bytes\":%llu},"
                   "\"postgres\":{\"enabled\":%s,\"connected\":%s,"
                   "\"queued\":%lld},"
                   "\"redis\":{\"enabled\":%s,\"connected\":%s,"
                   "\"queued\":%lld}}\n",
                   es.queued,
                   (unsigned long long) es.spool_bytes,
                   ps.enabled ? "true" : "false",
                   ps.connected ? "true" : "false", (long long) ps.queued,
                   rs.enabled ? "true" : "false",
                   rs.connected ? "true" : "false", (long long) rs.queued);
    vms_buf_free(&cams);
    return 0;
}

static int
metrics(const vms_http_req_t *req, vms_http_resp_t *w, void *data)
{
    w->content_type = "text/plain; version=0.0.4";
    vms_metrics_render(&w->body);
    return 0;
}

static int
record(const vms_http_req_t *req, vms_http_resp_t *w, void *data)
{
    const char           *id = vms_http_arg(req, "camera");
    int                   on = data != NULL;
    vms_camera_status_t   st;

    if (id == NULL || id[0] == '\0') {
        vms_http_error(w, 400, "missing query argument camera=ID");
        return 0;
    }
    /* id is the whole decoded value (http.h): "cam1%00/../x" never reads
     * as "cam1" */
    if (!vms_camera_id_valid(id, strlen(id))) {
        vms_http_error(w, 400, "invalid camera id (expected"
                       " [A-Za-z0-9_-]{1,64})");
        return 0;
    }
    if (vms_camera_set_record(id, on, &st) != 0) {
        vms_http_error(w, 404, "unknown camera");
        return 0;
    }
    vms_buf_append(&w->body, "{\"camera_id\":", 13);
    vms_buf_json_str(&w->body, id);
    vms_buf_printf(&w->body, ",\"record\":%s,\"recording\":%s,"
                   "\"state\":\"%s\"}\n", on ? "true" : "false",
                   st.recording ? "true" : "false", st.state_name);
    return 0;
}

/*
 * The player's WebRTC latency, relayed by nginx's /api/metrics/client after
 * checking the viewer's token (docs/live.md).  Only configured cameras get a
 * series, so a client cannot grow the label set; the value is bounded so one
 * absurd report cannot move every bucket's sum by hours.
 */
#define VMS_WEBRTC_LATENCY_MAX_MS  60000

static vms_metric_t  *m_webrtc_latency;

static int
webrtc_latency(const vms_http_req_t *req, vms_http_resp_t *w, void *data)
{
    const char           *id = vms_http_arg(req, "camera");
    const char           *ms = vms_http_arg(req, "latency_ms");
    char                  labels[128], *end;
    long                  v;

    if (id == NULL || !vms_camera_id_valid(id, strlen(id))) {
        vms_http_error(w, 400, "missing or invalid camera=ID (expected"
                       " [A-Za-z0-9_-]{1,64})");
        return 0;
    }
    if (ms == NULL || ms[0] < '0' || ms[0] > '9') {
        vms_http_error(w, 400, "missing or invalid latency_ms (expected an"
                       " integer 0-60000)");
        return 0;
    }
    v = strtol(ms, &end, 10);
    if (*end != '\0' || v < 0 || v > VMS_WEBRTC_LATENCY_MAX_MS) {
        vms_http_error(w, 400, "missing or invalid latency_ms (expected an"
                       " integer 0-60000)");
        return 0;
    }
    if (!vms_camera_known(id)) {
        vms_http_error(w, 404, "unknown camera");
        return 0;
    }
    vms_metric_labels(labels, sizeof(labels), "camera_id", id, NULL);
    vms_series_observe(vms_metric_series(m_webrtc_latency, labels), (double) v);
    w->status = 204;
    return 0;
}

void
vms_api_register(void)
{
    static int           on = 1;
    static const double  buckets[] = { 50, 100, 200, 300, 500, 750, 1000,
                                       1500, 2000, 3000, 5000, 10000 };

    m_webrtc_latency = vms_metric_new("vms_webrtc_latency_ms",
        "WebRTC playback latency reported by players (ms)", VMS_HISTOGRAM,
        buckets, (int) (sizeof(buckets) / sizeof(buckets[0])));

    vms_http_route_args("GET", "/health", "", health, NULL);
    vms_cameras_api_register();
    vms_http_route_args("GET", "/metrics", "", metrics, NULL);
    vms_http_route_args("POST", "/record/start", "camera", record, &on);
    vms_http_route_args("POST", "/record/stop", "camera", record, NULL);
    vms_http_route_args("POST", "/metrics/webrtc", "camera latency_ms",
                        webrtc_latency, NULL);
    /* who may call what (apiauth.h); a route not named here needs manage_config */
    vms_http_route_access("GET", "/health", VMS_APIAUTH_OPEN, NULL);
    vms_http_route_access("GET", "/metrics", VMS_APIAUTH_METRICS, NULL);
    vms_http_route_access("POST", "/record/start", VMS_APIAUTH_CONTROL_CAMERA, "camera");
    vms_http_route_access("POST", "/record/stop", VMS_APIAUTH_CONTROL_CAMERA, "camera");
    vms_http_route_access("POST", "/metrics/webrtc", VMS_APIAUTH_VIEW_STREAM, "camera");
}
