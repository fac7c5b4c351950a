/*
 * Scale-out (docs/scale-out.md): cameras as data and their ownership.
 *
 * With `cluster = on`, a camera is a record of the compacted Kafka topic
 * cameras_topic (key = camera id, value = its config JSON, a tombstone
 * removes it).  Every vmsd joins consumer group cluster_group
 * (cooperative-sticky) on that topic: a node runs the cameras of the
 * partitions it is assigned, after it took each camera's Redis lease
 * (lease.h); the lease's deadline is the camera's write fence (fence.h).
 *
 * Threads: "cluster-kafka" polls the group consumer (owned partitions, read
 * from their start at each assignment) and a group-less catalog consumer
 * (every partition, for the API's view of the whole fleet); "cluster-lease"
 * takes, renews and releases leases and starts and stops cameras through
 * the ops main.c gives.  The API's writes go through a third handle, a
 * producer whose every record waits for the broker's acknowledgement.
 */

#ifndef VMS_CLUSTER_H
#define VMS_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lease.h"

typedef struct {
    /* Runs cc (takes it); 0 started. */
    int   (*start)(vms_camera_conf_t *cc, void *data);
    /* Stops the camera: returns once its segment is closed. */
    void  (*stop)(const char *id, void *data);
    void   *data;
} vms_cluster_ops_t;

int vms_cluster_start(const vms_config_t *cfg, const vms_cluster_ops_t *ops,
    char *err, size_t errlen);

/* Stops every owned camera (segments closed), releases the leases, leaves
 * the group. */
void vms_cluster_stop(void);

int vms_cluster_on(void);
/* cluster = on in the configuration: called before the API starts listening, while the cluster
 * itself starts later (vms_cluster_start); vms_cluster_expected() is then 1 */
void vms_cluster_expect(void);
int vms_cluster_expected(void);
const char *vms_cluster_node(void);

typedef enum {
    VMS_CLUSTER_PUT_OK = 0,
    VMS_CLUSTER_PUT_REFUSED,       /* the broker refused it: nothing changed */
    VMS_CLUSTER_PUT_UNKNOWN        /* no answer in time: may or may not apply */
} vms_cluster_put_e;

/* Writes id's record (json NULL: a tombstone) and waits for the broker's
 * acknowledgement (at most kafka's message timeout + 1 s); err says why
 * when it is not OK. */
vms_cluster_put_e vms_cluster_put(const char *id, const char *json,
    char *err, size_t errlen);

/* 1 while this node runs id under an open write fence (retention's filter
 * in a shared recordings tree). */
int vms_cluster_owns(const char *id);

/* retention_days of the camera's current record in the fleet (its node's [vmsd] defaults
 * applied); -1 when there is none or it does not parse (per-node storage's retention) */
int64_t vms_cluster_retention_days(const char *id);

/* UTC ms since when this node runs id (0: it does not). */
int64_t vms_cluster_since(const char *id);

/* The latest record of id known here (malloc'ed JSON), or NULL. */
char *vms_cluster_get(const char *id);

typedef struct {
    const char  *id;
    int          local;         /* this node runs it */
} vms_cluster_cam_t;

/* Calls fn for every camera with a record, in id order. */
void vms_cluster_foreach(void (*fn)(const vms_cluster_cam_t *c, void *data),
    void *data);

/* Reads the owners of n cameras from Redis (lease.h) for the API; -1 when
 * Redis did not answer. */
int vms_cluster_owners(const char *const *ids, int n, vms_lease_owner_t *out);

/* A record's camera, checked by vmsd.conf's rules (config.h): NULL with
 * err and field (the first key at fault, or "") when it is not valid. */
vms_camera_conf_t *vms_cluster_parse(const char *id, const char *json,
    char *field, size_t fieldlen, char *err, size_t errlen);

#endif /* VMS_CLUSTER_H */
