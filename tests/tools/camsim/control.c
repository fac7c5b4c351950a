/* HTTP/1.0 JSON control interface on 127.0.0.1 (GIO, on the main loop; one request per connection).
 *   GET  /status
 *   POST /camera/{id}/drop[?seconds=T] | /camera/{id}/freeze | /camera/{id}/still | /camera/{id}/resume
 * Request bodies are read and ignored.  Error bodies never echo the request. */
#include "camsim.h"

#include <gio/gio.h>
#include <string.h>

#define REQ_MAX 8192

typedef struct {
    camsim_t          *cs;
    GSocketConnection *conn;
    char               buf[REQ_MAX + 1];
    gsize              len;
} conn_t;

static void conn_free(conn_t *c)
{
    g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    g_object_unref(c->conn);
    g_free(c);
}

static void reply(conn_t *c, int status, const char *body)
{
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                       : status == 405 ? "Method Not Allowed" : status == 413 ? "Payload Too Large" : "Error";
    char *msg = g_strdup_printf("HTTP/1.0 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                                "Connection: close\r\n\r\n%s", status, reason, strlen(body), body);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(c->conn));
    g_output_stream_write_all(out, msg, strlen(msg), NULL, NULL, NULL);
    g_free(msg);
}

static void append_camera(camsim_t *cs, GString *s, camsim_camera_t *cam)
{
    camsim_loop_t *loop = cam->loop;
    camsim_feeder_lock();
    camsim_state_t st = cam->state;
    guint clients = camsim_feed_clients(cam);
    camsim_feeder_unlock();
    g_string_append_printf(s, "{\"id\":\"%s\",\"state\":\"%s\",\"clients\":%u,"
                           "\"url\":\"rtsp://127.0.0.1:%d%s\",\"scene\":\"%s\",\"codec\":\"%s\",\"width\":%d,\"height\":%d,"
                           "\"fps\":%d,\"gop\":%d,\"loop_frames\":%u,\"loop_epoch_us\":%" G_GINT64_FORMAT,
                           cam->id, camsim_state_name(st), clients, cs->port, cam->path,
                           camsim_scene_name(loop->prof.scene),
                           loop->prof.codec == CODEC_H265 ? "h265" : "h264", loop->width, loop->height,
                           loop->prof.fps, loop->prof.gop, loop->n,
                           cs->epoch_real_us - (gint64)cam->phase * G_USEC_PER_SEC / loop->prof.fps);
    if (loop->prof.scene == SCENE_MOTION)
        g_string_append_printf(s, ",\"motion_s\":[%.1f,%.1f]", CAMSIM_MOTION_START_S, CAMSIM_MOTION_END_S);
    g_string_append_c(s, '}');
}

static void handle_status(conn_t *c)
{
    GString *s = g_string_new("{\"cameras\":[");
    for (guint i = 0; i < c->cs->ncams; i++) {
        if (i)
            g_string_append_c(s, ',');
        append_camera(c->cs, s, c->cs->cams[i]);
    }
    g_string_append(s, "]}");
    reply(c, 200, s->str);
    g_string_free(s, TRUE);
}

/* seconds=T in the query; returns FALSE on a malformed value, *secs = -1 when absent. */
static gboolean query_seconds(const char *query, double *secs)
{
    *secs = -1;
    if (!query)
        return TRUE;
    gboolean ok = TRUE;
    gchar **params = g_strsplit(query, "&", -1);
    for (gchar **p = params; *p; p++) {
        if (strncmp(*p, "seconds=", 8) != 0)
            continue;
        char *end;
        double v = g_ascii_strtod(*p + 8, &end);
        if (end == *p + 8 || *end || !(v >= 0 && v <= 86400))
            ok = FALSE;
        else
            *secs = v;
    }
    g_strfreev(params);
    return ok;
}

static void handle_camera(conn_t *c, const char *method, const char *rest, const char *query)
{
    const char *slash = strchr(rest, '/');
    if (!slash || strchr(slash + 1, '/')) {
        reply(c, 404, "{\"error\":\"not found\"}");
        return;
    }
    char id[CAMSIM_ID_MAX + 1];
    gsize idlen = slash - rest;
    if (idlen == 0 || idlen > CAMSIM_ID_MAX) {
        reply(c, 400, "{\"error\":\"bad camera id\"}");
        return;
    }
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    for (gsize i = 0; i < idlen; i++) {
        if (!g_ascii_isalnum(id[i]) && id[i] != '_' && id[i] != '-') {
            reply(c, 400, "{\"error\":\"bad camera id\"}");
            return;
        }
    }
    const char *action = slash + 1;
    camsim_state_t st;
    if (strcmp(action, "drop") == 0)
        st = CAM_DROP;
    else if (strcmp(action, "freeze") == 0)
        st = CAM_FREEZE;
    else if (strcmp(action, "still") == 0)
        st = CAM_STILL;
    else if (strcmp(action, "resume") == 0)
        st = CAM_OK;
    else {
        reply(c, 404, "{\"error\":\"unknown action\"}");
        return;
    }
    if (strcmp(method, "POST") != 0) {
        reply(c, 405, "{\"error\":\"use POST\"}");
        return;
    }
    camsim_camera_t *cam = camsim_find(c->cs, id);
    if (!cam) {
        reply(c, 404, "{\"error\":\"unknown camera\"}");
        return;
    }
    double secs;
    if (!query_seconds(query, &secs)) {
        reply(c, 400, "{\"error\":\"seconds must be a number between 0 and 86400\"}");
        return;
    }
    camsim_set_state(c->cs, cam, st, st == CAM_DROP ? secs : -1);
    GString *s = g_string_new(NULL);
    append_camera(c->cs, s, cam);
    reply(c, 200, s->str);
    g_string_free(s, TRUE);
}

static void handle(conn_t *c, char *head)
{
    char *eol = strstr(head, "\r\n");
    *eol = '\0';
    gchar **parts = g_strsplit(head, " ", 4);
    if (g_strv_length(parts) != 3 || strncmp(parts[2], "HTTP/1.", 7) != 0 || parts[1][0] != '/') {
        reply(c, 400, "{\"error\":\"bad request line\"}");
        g_strfreev(parts);
        return;
    }
    const char *method = parts[0];
    char *target = parts[1];
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    if (strcmp(target, "/status") == 0) {
        if (strcmp(method, "GET") == 0)
            handle_status(c);
        else
            reply(c, 405, "{\"error\":\"use GET\"}");
    } else if (strncmp(target, "/camera/", 8) == 0) {
        handle_camera(c, method, target + 8, query);
    } else {
        reply(c, 404, "{\"error\":\"not found\"}");
    }
    g_strfreev(parts);
}

/* Bytes of body announced by Content-Length (0 if none), -1 if malformed. */
static gssize content_length(const char *head)
{
    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
        if (g_ascii_strncasecmp(l + 2, "Content-Length:", 15) == 0) {
            char *end;
            gint64 v = g_ascii_strtoll(l + 17, &end, 10);
            return (v < 0 || v > REQ_MAX) ? -1 : (gssize)v;
        }
    }
    return 0;
}

static void read_more(conn_t *c);

static void on_read(GObject *stream, GAsyncResult *res, gpointer user)
{
    conn_t *c = user;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(stream), res, NULL);
    if (n <= 0) {
        conn_free(c);
        return;
    }
    c->len += n;
    c->buf[c->len] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end) {
        if (c->len < REQ_MAX) {
            read_more(c);
            return;
        }
        reply(c, 413, "{\"error\":\"request too large\"}");
        conn_free(c);
        return;
    }
    end[2] = '\0';   /* keep the last header's CRLF for content_length() */
    gssize body = content_length(c->buf);
    gsize need = (gsize)(end + 4 - c->buf) + (body > 0 ? (gsize)body : 0);
    if (body < 0 || need > REQ_MAX) {
        reply(c, body < 0 ? 400 : 413, "{\"error\":\"bad or too large body\"}");
        conn_free(c);
        return;
    }
    if (c->len < need) {
        end[2] = '\r';
        read_more(c);
        return;
    }
    handle(c, c->buf);
    conn_free(c);
}

static void read_more(conn_t *c)
{
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c->conn));
    g_input_stream_read_async(in, c->buf + c->len, REQ_MAX - c->len, G_PRIORITY_DEFAULT, NULL, on_read, c);
}

static gboolean on_incoming(GSocketService *svc, GSocketConnection *conn, GObject *src, gpointer user)
{
    (void)svc;
    (void)src;
    conn_t *c = g_new0(conn_t, 1);
    c->cs = user;
    c->conn = g_object_ref(conn);
    /* A client that never completes its request is dropped after 10 s. */
    g_socket_set_timeout(g_socket_connection_get_socket(conn), 10);
    read_more(c);
    return TRUE;
}

int camsim_control_start(camsim_t *cs, GError **err)
{
    GSocketService *svc = g_socket_service_new();
    GInetAddress *lo = g_inet_address_new_from_string("127.0.0.1");
    GSocketAddress *addr = g_inet_socket_address_new(lo, cs->control_port);
    gboolean ok = g_socket_listener_add_address(G_SOCKET_LISTENER(svc), addr, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, NULL, err);
    g_object_unref(addr);
    g_object_unref(lo);
    if (!ok) {
        g_object_unref(svc);
        return -1;
    }
    g_signal_connect(svc, "incoming", G_CALLBACK(on_incoming), cs);
    g_socket_service_start(svc);
    return 0;
}
