/*
 * vmsd's own routes on the loopback API (http.h):
 *   GET  /health                 JSON: process and per-camera state
 *   GET  /metrics                Prometheus text
 *   POST /record/start?camera=ID
 *   POST /record/stop?camera=ID
 */

#ifndef VMS_API_H
#define VMS_API_H

void vms_api_register(void);

#endif /* VMS_API_H */
