/* Camera ids: [A-Za-z0-9_-]{1,64}, the one rule of vms_auth (claims, MediaMTX paths), the
 * review API, vms-push and vmsd (configuration, API, retention).  An id names directories,
 * Redis keys, Kafka keys and URL path segments: nothing in it ever needs escaping, and a
 * byte outside ASCII is refused whatever the locale.  nginx-free, header-only. */
#ifndef VMS_CAMERA_ID_H
#define VMS_CAMERA_ID_H

#include <stddef.h>

#define VMS_CAMERA_ID_MAX 64

/* 1 when [id, id + len) is a camera id, else 0. */
static inline int
vms_camera_id_valid(const char *id, size_t len)
{
    if (len == 0 || len > VMS_CAMERA_ID_MAX) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

#endif /* VMS_CAMERA_ID_H */
