/*
 * Camera records: JSON to a camera configuration; see record.h.
 */

#include "record.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
key_ok(const char *k)
{
    size_t i, n = strlen(k);

    if (n == 0 || n > 48) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9')
              || k[i] == '_'))
        {
            return 0;
        }
    }
    return 1;
}

vms_camera_conf_t *
vms_camera_record_parse(const char *conf_path, const char *id,
    const char *json, char *field, size_t fieldlen, char *err, size_t errlen)
{
    json_t             *root, *v;
    json_error_t        je;
    const char         *k;
    vms_buf_t           lines = {0};
    vms_camera_conf_t  *cc = NULL;
    char               *dumped = NULL;

    field[0] = '\0';
    root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL || !json_is_object(root)) {
        snprintf(err, errlen, "expected a JSON object of camera keys%s%s",
                 root == NULL ? ": " : "", root == NULL ? je.text : "");
        json_decref(root);
        return NULL;
    }
    json_object_foreach(root, k, v) {
        const char *s = NULL;
        char        num[64];

        if (!key_ok(k)) {
            snprintf(field, fieldlen, "%.48s", k);
            snprintf(err, errlen, "\"%.48s\": unknown camera key", k);
            goto done;
        }
        if (strcmp(k, "id") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), id) != 0) {
                snprintf(field, fieldlen, "id");
                snprintf(err, errlen, "\"id\": differs from the path's");
                goto done;
            }
            continue;
        }
        if (json_is_string(v)) {
            s = json_string_value(v);
            /* one line of the INI syntax the record is parsed with: no
             * line break, and no " ;" (an inline comment would cut it) */
            if (strpbrk(s, "\r\n") != NULL || strlen(s) > 2048
                || strstr(s, " ;") != NULL || strstr(s, "\t;") != NULL)
            {
                snprintf(field, fieldlen, "%s", k);
                snprintf(err, errlen, "\"%s\": one line of at most 2048"
                         " characters expected (no line break, no \" ;\")", k);
                goto done;
            }
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));
            s = num;
        } else if (json_is_real(v)) {
            snprintf(num, sizeof(num), "%.15g", json_real_value(v));   /* 0.05, not 0.050000000000000003 */
            s = num;
        } else if (json_is_boolean(v)) {
            s = json_is_true(v) ? "yes" : "no";
        } else if (json_is_array(v) || json_is_object(v)) {
            /* roi_areas: the list itself, as the file holds its JSON text */
            free(dumped);
            dumped = json_dumps(v, VMS_RECORD_JSON);
            s = dumped;
            if (s == NULL || strlen(s) > 2048) {
                snprintf(field, fieldlen, "%s", k);
                snprintf(err, errlen, "\"%s\": at most 2048 characters of"
                         " JSON expected", k);
                goto done;
            }
        } else {
            snprintf(field, fieldlen, "%s", k);
            snprintf(err, errlen, "\"%s\": expected a string, a number, a"
                     " boolean or (roi_areas) a list", k);
            goto done;
        }
        vms_buf_printf(&lines, "%s = %s\n", k, s);
    }
    if (json_object_get(root, "url") == NULL) {
        snprintf(field, fieldlen, "url");
        snprintf(err, errlen, "\"url\": missing (the camera's rtsp:// URL)");
        goto done;
    }
    cc = vms_config_camera_text(conf_path, id, lines.p ? lines.p : "", field,
                                fieldlen, err, errlen);
done:
    free(dumped);
    vms_buf_free(&lines);
    json_decref(root);
    return cc;
}

/* 1 when a record says "enabled": false (or "no", "off", 0): a camera
 * nobody should record, not counted as one waiting for a node. */
int
vms_camera_record_disabled(const char *json)
{
    json_t *root = json_loads(json, 0, NULL), *v;
    int     off = 0, b;

    v = root != NULL ? json_object_get(root, "enabled") : NULL;
    if (v != NULL) {
        off = json_is_false(v) || (json_is_integer(v) && json_integer_value(v) == 0)
              || (json_is_string(v) && vms_parse_bool(json_string_value(v), &b) == 0
                  && !b);
    }
    json_decref(root);
    return off;
}
