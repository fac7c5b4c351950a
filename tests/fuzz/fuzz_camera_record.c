/* A camera record of vms.cameras (the cameras API's body, or any producer's
 * record) on arbitrary bytes: never crashes, leaks or reads out of bounds;
 * either a camera comes back, or an error that says what is wrong. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "record.h"

/* Stand-in for the analysis configuration (another component). */
struct vms_analysis_conf_s { int n; };
vms_analysis_conf_t *vms_analysis_conf_new(void) { return calloc(1, sizeof(vms_analysis_conf_t)); }
void vms_analysis_conf_free(vms_analysis_conf_t *c) { free(c); }
int vms_analysis_conf_set(vms_analysis_conf_t *c, const char *k, const char *v, char *err, size_t n)
{
    if (strlen(v) > 100) {
        snprintf(err, n, "too long");
        return -1;
    }
    c->n++;
    return 0;
}

static char path[64];

static void
cleanup(void)
{
    unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                err[1024], field[64];
    char               *json;
    FILE               *f;
    vms_camera_conf_t  *cc;

    if (path[0] == '\0') {
        snprintf(path, sizeof(path), "/dev/shm/fuzz-camera-record-%d", (int) getpid());
        f = fopen(path, "w");
        if (f == NULL) {
            return 0;
        }
        fputs("[vmsd]\nrecordings = /tmp\napi_auth = off\ncluster = on\n"
              "kafka_brokers = 127.0.0.1:9\nredis = 127.0.0.1:9\n", f);
        fclose(f);
        atexit(cleanup);
    }
    json = malloc(size + 1);
    if (json == NULL) {
        return 0;
    }
    memcpy(json, data, size);
    json[size] = '\0';
    cc = vms_camera_record_parse(path, "cam1", json, field, sizeof(field), err, sizeof(err));
    if (cc == NULL && err[0] == '\0') {
        abort();            /* an error always says what is wrong */
    }
    if (cc != NULL && (cc->url == NULL || strcmp(cc->id, "cam1") != 0)) {
        abort();            /* a camera always has its id and url */
    }
    vms_camera_conf_free(cc);
    vms_camera_record_disabled(json);
    free(json);
    return 0;
}
