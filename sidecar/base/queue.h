/*
 * Bounded FIFO of heap items shared by the PostgreSQL and Redis writer
 * threads: producers never block (a full queue refuses, the caller counts),
 * the consumer waits with a timeout.
 */

#ifndef VMS_QUEUE_H
#define VMS_QUEUE_H

#include <pthread.h>
#include <stdint.h>

typedef struct vms_qitem_s  vms_qitem_t;
struct vms_qitem_s {
    vms_qitem_t  *next;
};

typedef struct {
    pthread_mutex_t  lock;
    pthread_cond_t   cond;
    vms_qitem_t     *head, **tail;
    int64_t          len, max;
    int              closed;
} vms_queue_t;

void vms_queue_init(vms_queue_t *q, int64_t max);
/* 0 queued, -1 full or closed */
int vms_queue_push(vms_queue_t *q, vms_qitem_t *it);
/* Oldest item without removing it, waiting up to timeout_ms; NULL if none. */
vms_qitem_t *vms_queue_peek(vms_queue_t *q, int64_t timeout_ms);
void vms_queue_pop(vms_queue_t *q);
int64_t vms_queue_len(vms_queue_t *q);
void vms_queue_close(vms_queue_t *q);
/* Wake a consumer waiting in peek. */
void vms_queue_kick(vms_queue_t *q);

#endif /* VMS_QUEUE_H */
