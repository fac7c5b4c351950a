#include "queue.h"

#include <errno.h>
#include <time.h>

void
vms_queue_init(vms_queue_t *q, int64_t max)
{
    pthread_condattr_t attr;

    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &attr);
    pthread_condattr_destroy(&attr);
    q->head = NULL;
    q->tail = &q->head;
    q->len = 0;
    q->max = max;
    q->closed = 0;
}

int
vms_queue_push(vms_queue_t *q, vms_qitem_t *it)
{
    pthread_mutex_lock(&q->lock);
    if (q->closed || q->len >= q->max) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    it->next = NULL;
    *q->tail = it;
    q->tail = &it->next;
    q->len++;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

vms_qitem_t *
vms_queue_peek(vms_queue_t *q, int64_t timeout_ms)
{
    struct timespec  ts;
    vms_qitem_t     *it;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&q->lock);
    while (q->head == NULL && !q->closed) {
        if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    it = q->head;
    pthread_mutex_unlock(&q->lock);
    return it;
}

void
vms_queue_pop(vms_queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    if (q->head != NULL) {
        q->head = q->head->next;
        if (q->head == NULL) {
            q->tail = &q->head;
        }
        q->len--;
    }
    pthread_mutex_unlock(&q->lock);
}

int64_t
vms_queue_len(vms_queue_t *q)
{
    int64_t n;

    pthread_mutex_lock(&q->lock);
    n = q->len;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void
vms_queue_close(vms_queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void
vms_queue_kick(vms_queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}
