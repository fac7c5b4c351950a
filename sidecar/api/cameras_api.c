/*
 * Cameras as data (docs/scale-out.md, "Cameras API"): /cameras/item?camera=ID
 *
 *   GET     the camera's record (url password redacted), node, state, since
 *   POST    create (409 when it exists)      PUT    create or replace
 *   PATCH   merge (a null removes a key)     DELETE remove (a tombstone)
 *
 * A write is checked whole by vmsd.conf's rules (vms_cluster_parse) before
 * anything is written; then it is one record of the cameras topic, answered
 * once the broker acknowledged it: nothing is half-applied.  The camera's
 * owner applies it (cluster.c).  nginx maps /api/cameras/{id} here behind
 * manage_config (conf/nginx/server.d/cameras.conf.in).
 */

#include "api.h"
#include "camera.h"
#include "cluster.h"
#include "http.h"
#include "log.h"
#include "record.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
error_field(vms_http_resp_t *w, int status, const char *msg, const char *field)
{
    vms_http_error(w, status, msg);
    if (field != NULL && field[0] != '\0' && w->body.len > 2) {
        /* {"error":…,"status":N}\n → …,"field":"key"}\n */
        while (w->body.len > 0 && (w->body.p[w->body.len - 1] == '\n'
                                   || w->body.p[w->body.len - 1] == '}'))
        {
            w->body.len--;
        }
        vms_buf_append(&w->body, ",\"field\":", 9);
        vms_buf_json_str(&w->body, field);
        vms_buf_append(&w->body, "}\n", 2);
    }
}

/* json with url's password redacted; a new reference */
static json_t *
redacted(json_t *cfg)
{
    json_t     *out = json_deep_copy(cfg), *url = json_object_get(out, "url");
    char        buf[2048];

    if (url != NULL && json_is_string(url)) {
        vms_url_redact(json_string_value(url), buf, sizeof(buf));
        json_object_set_new(out, "url", json_string(buf));
    }
    return out;
}

static void
owner_json(vms_buf_t *b, const char *id)
{
    vms_lease_owner_t  o;
    const char        *ids[1] = { id };
    char               since[40];

    if (vms_cluster_owners(ids, 1, &o) != 0 || o.node[0] == '\0') {
        vms_buf_printf(b, ",\"node\":null,\"state\":%s,\"since\":null",
                       o.state[0] ? "\"unknown\"" : "\"unassigned\"");
        return;
    }
    vms_buf_append(b, ",\"node\":", 8);
    vms_buf_json_str(b, o.node);
    vms_buf_append(b, ",\"state\":", 9);
    vms_buf_json_str(b, strcmp(o.state, "running") == 0 && o.status[0]
                        ? o.status : o.state);
    vms_rfc3339(o.since_ms * 1000, since, sizeof(since));
    vms_buf_append(b, ",\"since\":", 9);
    vms_buf_json_str(b, since);
}

static void
answer(vms_http_resp_t *w, int status, const char *id, json_t *cfg)
{
    json_t *r = redacted(cfg);
    char   *s = json_dumps(r, VMS_RECORD_JSON | JSON_SORT_KEYS);

    w->status = status;
    vms_buf_append(&w->body, "{\"id\":", 6);
    vms_buf_json_str(&w->body, id);
    vms_buf_printf(&w->body, ",\"config\":%s", s ? s : "{}");
    owner_json(&w->body, id);
    vms_buf_append(&w->body, "}\n", 2);
    free(s);
    json_decref(r);
}

/* A url sent back as GET showed it (password redacted) keeps the stored one. */
static void
keep_redacted_url(json_t *next, json_t *cur)
{
    json_t *nu = json_object_get(next, "url");
    json_t *cu = cur ? json_object_get(cur, "url") : NULL;
    char    buf[2048];

    if (nu == NULL || cu == NULL || !json_is_string(nu) || !json_is_string(cu)) {
        return;
    }
    vms_url_redact(json_string_value(cu), buf, sizeof(buf));
    if (strcmp(buf, json_string_value(nu)) == 0
        && strcmp(buf, json_string_value(cu)) != 0)
    {
        json_object_set(next, "url", cu);
    }
}

static int
camera_item(const vms_http_req_t *req, vms_http_resp_t *w, void *data)
{
    const char   *id = vms_http_arg(req, "camera");
    const char   *method = vms_http_method(req), *body;
    char         *cur_s, *next_s = NULL, field[64] = "", err[512];
    json_t       *cur = NULL, *in = NULL, *next = NULL;
    json_error_t  je;
    size_t        len;
    int           status = 200, present = 0;
    vms_camera_conf_t *cc;
    vms_cluster_put_e  rc;

    if (id == NULL || !vms_camera_id_valid(id, strlen(id))) {
        vms_http_error(w, 400, "invalid camera id (expected"
                       " [A-Za-z0-9_-]{1,64})");
        return 0;
    }
    if (!vms_cluster_on() && vms_cluster_expected()) {
        /* the API listens a moment before the cluster has started */
        vms_http_error(w, 503, "the cluster is starting: try again in a second");
        return 0;
    }
    if (!vms_cluster_on()) {
        vms_http_error(w, 409, "cameras come from vmsd.conf (cluster = off):"
                       " edit its [camera] sections and send vmsd SIGHUP");
        return 0;
    }
    cur_s = vms_cluster_get(id);
    if (cur_s != NULL) {
        present = 1;
        cur = json_loads(cur_s, 0, &je);
        free(cur_s);
        if (cur != NULL && !json_is_object(cur)) {
            json_decref(cur);
            cur = NULL;
        }
    }
    /* a record another producer wrote that is no JSON object: it can be
     * replaced (PUT) or removed (DELETE), not read or merged */
    if (present && cur == NULL
        && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0
            || strcmp(method, "PATCH") == 0))
    {
        vms_http_error(w, 409, "the camera's record is not a JSON object"
                       " (written past this API): PUT replaces it, DELETE"
                       " removes it");
        goto done;
    }

    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        if (cur == NULL) {
            vms_http_error(w, 404, "unknown camera");
        } else {
            answer(w, 200, id, cur);
        }
        goto done;
    }
    if (strcmp(method, "DELETE") == 0) {
        if (!present) {
            vms_http_error(w, 404, "unknown camera");
            goto done;
        }
        rc = vms_cluster_put(id, NULL, err, sizeof(err));
        if (rc != VMS_CLUSTER_PUT_OK) {
            vms_http_error(w, 503, err);
            goto done;
        }
        vms_log_info(id, "api: camera removed");
        w->status = 204;
        goto done;
    }

    body = vms_http_body(req, &len);
    in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (in == NULL || !json_is_object(in)) {
        snprintf(err, sizeof(err), "expected a JSON object of camera keys%s%s",
                 in == NULL ? ": " : "", in == NULL ? je.text : "");
        vms_http_error(w, 400, err);
        goto done;
    }
    if (strcmp(method, "POST") == 0) {
        if (present) {
            vms_http_error(w, 409, "camera exists (PUT replaces it, PATCH"
                           " changes some keys)");
            goto done;
        }
        next = json_incref(in);
        status = 201;
    } else if (strcmp(method, "PUT") == 0) {
        next = json_incref(in);
        status = present ? 200 : 201;
    } else {                                   /* PATCH */
        const char *k;
        json_t     *v;

        if (cur == NULL) {
            vms_http_error(w, 404, "unknown camera");
            goto done;
        }
        next = json_deep_copy(cur);
        json_object_foreach(in, k, v) {
            if (json_is_null(v)) {
                json_object_del(next, k);
            } else {
                json_object_set(next, k, v);
            }
        }
    }
    json_object_del(next, "id");
    keep_redacted_url(next, cur);
    next_s = json_dumps(next, VMS_RECORD_JSON | JSON_SORT_KEYS);
    if (next_s == NULL) {
        vms_http_error(w, 500, "out of memory");
        goto done;
    }
    cc = vms_cluster_parse(id, next_s, field, sizeof(field), err, sizeof(err));
    if (cc == NULL) {
        error_field(w, 400, err, field);
        goto done;
    }
    vms_camera_conf_free(cc);
    rc = vms_cluster_put(id, next_s, err, sizeof(err));
    if (rc != VMS_CLUSTER_PUT_OK) {
        vms_http_error(w, 503, err);
        goto done;
    }
    vms_log_info(id, "api: camera %s", status == 201 ? "created" : "changed");
    answer(w, status, id, next);
done:
    free(next_s);
    json_decref(cur);
    json_decref(in);
    json_decref(next);
    return 0;
}

void
vms_cameras_api_register(void)
{
    static const char *const methods[] = { "GET", "POST", "PUT", "PATCH",
                                           "DELETE" };
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        vms_http_route_args(methods[i], "/cameras/item", "camera",
                            camera_item, NULL);
        /* no vms_http_route_access(): manage_config, the default */
    }
}
