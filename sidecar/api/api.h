/*
 * vmsd's own routes on the loopback API (http.h):
 *   GET  /health                 JSON: process and per-camera state
 *   GET  /metrics                Prometheus text
 *   POST /record/start?camera=ID
 *   POST /record/stop?camera=ID
 *   GET|POST|PUT|PATCH|DELETE /cameras/item?camera=ID   (cluster on;
 *                                cameras_api.c, docs/scale-out.md)
 */

#ifndef VMS_API_H
#define VMS_API_H

void vms_api_register(void);
void vms_cameras_api_register(void);

#endif /* VMS_API_H */
