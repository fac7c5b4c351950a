/*
 * Fuzzes the request bodies vms_auth's endpoints parse: MediaMTX's external-auth JSON (and the
 * token lookup through token/password/query), nginx-rtmp's form-encoded callbacks, and the
 * camera-from-path rule applied to the path.
 */
#include <stdint.h>
#include <string.h>

#include "vms_authreq.h"
#include "vms_claims.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why, *tok;
    size_t toklen;
    char buf[8194], cam[VMS_CAMERA_ID_MAX + 1];
    vms_mtx_req_t m;

    if (vms_mtx_req_parse(&m, (const char *) data, size, &why) == 0) {
        (void) vms_mtx_req_token(&m, buf, sizeof(buf), &tok, &toklen);
        (void) vms_camera_from_path(m.path, cam, sizeof(cam));
        (void) vms_mtx_path_valid(m.path, strlen(m.path));
        vms_mtx_req_free(&m);
    }
    vms_rtmp_req_t q;
    (void) vms_rtmp_req_parse(&q, (const char *) data, size, buf, sizeof(buf), &toklen, &why);
    (void) vms_form_get((const char *) data, size, "name", buf, 64);
    (void) vms_mtx_path_valid((const char *) data, size);
    return 0;
}
