/*
 * Result delivery with retries and a dead-letter sink (see retry.h).
 */

#include "retry.h"

#include <stdlib.h>
#include <string.h>

typedef struct item_s {
    char           *camera_id;
    char           *json;
    size_t          len;
    int             sink;
    int             attempts;
    int64_t         next_at;
    struct item_s  *next;
} item_t;

struct vms_ai_retry_s {
    vms_ai_retry_ops_t    ops;
    int                   retries;
    int64_t               base_us;
    size_t                max_pending;
    item_t               *head;
    vms_ai_retry_stats_t  st;
};

vms_ai_retry_t *
vms_ai_retry_new(const vms_ai_retry_ops_t *ops, int retries, int64_t base_ms,
    size_t max_pending)
{
    vms_ai_retry_t *r = calloc(1, sizeof(*r));

    if (r != NULL) {
        r->ops = *ops;
        r->retries = retries;
        r->base_us = base_ms * 1000;
        r->max_pending = max_pending;
    }
    return r;
}

static void
item_free(item_t *it)
{
    free(it->camera_id);
    free(it->json);
    free(it);
}

void
vms_ai_retry_free(vms_ai_retry_t *r)
{
    if (r == NULL) {
        return;
    }
    while (r->head != NULL) {
        item_t *n = r->head->next;
        item_free(r->head);
        r->head = n;
    }
    free(r);
}

static void
dead_letter(vms_ai_retry_t *r, int sink, const char *cam, const char *json,
    size_t len, int attempts)
{
    if (r->ops.dead_letter(r->ops.ud, sink, cam, json, len, attempts) == 0) {
        r->st.dead_lettered++;
    } else {
        r->st.lost++;
    }
}

static void
schedule(vms_ai_retry_t *r, int sink, const char *cam, const char *json,
    size_t len, int64_t now_us)
{
    item_t *it;

    if (r->st.pending >= r->max_pending
        || (it = calloc(1, sizeof(*it))) == NULL)
    {
        /* no room to wait: straight to the dead letters */
        dead_letter(r, sink, cam, json, len, 1);
        return;
    }
    it->camera_id = strdup(cam);
    it->json = malloc(len + 1);
    if (it->camera_id == NULL || it->json == NULL) {
        item_free(it);
        dead_letter(r, sink, cam, json, len, 1);
        return;
    }
    memcpy(it->json, json, len);
    it->json[len] = '\0';
    it->len = len;
    it->sink = sink;
    it->attempts = 1;
    it->next_at = now_us + r->base_us;
    it->next = r->head;
    r->head = it;
    r->st.pending++;
}

void
vms_ai_retry_submit(vms_ai_retry_t *r, const char *camera_id,
    const char *json, size_t len, int64_t now_us)
{
    for (int s = 0; s < VMS_AI_SINKS; s++) {
        if (r->ops.names[s] == NULL) {
            continue;                   /* a sink this caller does not use */
        }
        if (r->ops.write(r->ops.ud, s, camera_id, json, len) == 0) {
            r->st.written++;
        } else if (r->retries > 0) {
            schedule(r, s, camera_id, json, len, now_us);
        } else {
            dead_letter(r, s, camera_id, json, len, 1);
        }
    }
}

int64_t
vms_ai_retry_run(vms_ai_retry_t *r, int64_t now_us)
{
    int64_t  next = INT64_MAX;
    item_t **pp = &r->head;

    while (*pp != NULL) {
        item_t *it = *pp;

        if (it->next_at <= now_us) {
            r->st.retried++;
            if (r->ops.write(r->ops.ud, it->sink, it->camera_id, it->json,
                             it->len) == 0)
            {
                r->st.written++;
            } else if (++it->attempts > r->retries) {
                dead_letter(r, it->sink, it->camera_id, it->json, it->len,
                            it->attempts);
            } else {
                /* 2^n s: 1 s, 2 s, 4 s after the 1st, 2nd, 3rd failure */
                it->next_at = now_us + (r->base_us << (it->attempts - 1));
                if (it->next_at < next) {
                    next = it->next_at;
                }
                pp = &it->next;
                continue;
            }
            *pp = it->next;
            item_free(it);
            r->st.pending--;
            continue;
        }
        if (it->next_at < next) {
            next = it->next_at;
        }
        pp = &it->next;
    }
    return next;
}

void
vms_ai_retry_stats(const vms_ai_retry_t *r, vms_ai_retry_stats_t *st)
{
    *st = r->st;
}
