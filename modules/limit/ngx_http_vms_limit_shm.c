/*
 * vms_limit shared memory zone (in the style of ngx_http_limit_req_module):
 * the module's counters, the local GCRA state and the local lease sets.
 *
 * One rbtree keyed by a hash of (kind, key) with an LRU queue.  The zone is
 * reused across reloads when its size is unchanged.  Work under the mutex is
 * one lookup, one arithmetic step and at most a few evictions.
 *
 * When the zone is full: the least recently used entries are evicted (a rate
 * key loses its history, a user's local leases are forgotten); if an entry
 * still cannot be allocated the request is allowed (fail-open, counted as
 * vms_limit_shm_full_total and logged).  A full zone never refuses traffic.
 */

#include "ngx_http_vms_limit.h"


#define VMS_LIMIT_KIND_RATE    'r'
#define VMS_LIMIT_KIND_LEASES  's'


typedef struct {
    u_char                   color;
    u_char                   kind;
    u_short                  len;
    ngx_queue_t              queue;
    int64_t                  tat_us;      /* rate: stored TAT */
    vms_lease_set_t         *leases;      /* leases: inside this allocation */
    u_char                   data[1];     /* key */
} ngx_http_vms_limit_node_t;


static void
ngx_http_vms_limit_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t          **p;
    ngx_http_vms_limit_node_t   *ln, *lnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            ln = (ngx_http_vms_limit_node_t *) &node->color;
            lnt = (ngx_http_vms_limit_node_t *) &temp->color;

            if (ln->kind != lnt->kind) {
                p = ln->kind < lnt->kind ? &temp->left : &temp->right;
            } else {
                p = (ngx_memn2cmp(ln->data, lnt->data, ln->len, lnt->len) < 0)
                    ? &temp->left : &temp->right;
            }
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static void
ngx_http_vms_limit_init_sh(void *data)
{
    ngx_http_vms_limit_shctx_t  *sh = data;

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_vms_limit_rbtree_insert);
    ngx_queue_init(&sh->lru);
}


ngx_int_t
ngx_http_vms_limit_shm_add(ngx_conf_t *cf, ngx_http_vms_limit_main_conf_t *lmcf)
{
    ngx_str_t  name = ngx_string("vms_limit");

    lmcf->shm_zone = ngx_vms_shm_add(cf, &name, lmcf->zone_size,
                                     &ngx_http_vms_limit_module, "vms_limit",
                                     sizeof(ngx_http_vms_limit_shctx_t),
                                     ngx_http_vms_limit_init_sh);

    return lmcf->shm_zone ? NGX_OK : NGX_ERROR;
}


ngx_http_vms_limit_counters_t *
ngx_http_vms_limit_counters(ngx_http_vms_limit_main_conf_t *lmcf)
{
    ngx_vms_shm_t               *ctx = lmcf->shm_zone->data;
    ngx_http_vms_limit_shctx_t  *sh = ctx->sh;

    return &sh->counters;
}


static ngx_http_vms_limit_node_t *
ngx_http_vms_limit_lookup(ngx_vms_shm_t *ctx, u_char kind,
    ngx_str_t *key, uint32_t hash)
{
    ngx_int_t                    rc;
    ngx_rbtree_node_t           *node, *sentinel;
    ngx_http_vms_limit_node_t   *ln;
    ngx_http_vms_limit_shctx_t  *sh = ctx->sh;

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        ln = (ngx_http_vms_limit_node_t *) &node->color;

        if (kind != ln->kind) {
            node = kind < ln->kind ? node->left : node->right;
            continue;
        }

        rc = ngx_memn2cmp(key->data, ln->data, key->len, (size_t) ln->len);

        if (rc == 0) {
            ngx_queue_remove(&ln->queue);
            ngx_queue_insert_head(&sh->lru, &ln->queue);
            return ln;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_vms_limit_free_node(ngx_vms_shm_t *ctx,
    ngx_http_vms_limit_node_t *ln)
{
    ngx_rbtree_node_t           *node;
    ngx_http_vms_limit_shctx_t  *sh = ctx->sh;

    node = (ngx_rbtree_node_t *)
               ((u_char *) ln - offsetof(ngx_rbtree_node_t, color));

    ngx_queue_remove(&ln->queue);
    ngx_rbtree_delete(&sh->rbtree, node);
    ngx_slab_free_locked(ctx->shpool, node);
}


/*
 * Drops up to two idle entries from the LRU tail (state equal to a fresh
 * key), or with `force` up to `force` entries whatever their state.
 */
static void
ngx_http_vms_limit_expire(ngx_vms_shm_t *ctx, int64_t now_us,
    ngx_uint_t force)
{
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_http_vms_limit_node_t   *ln;
    ngx_http_vms_limit_shctx_t  *sh = ctx->sh;

    for (n = 0; n < (force ? force : 2); n++) {

        if (ngx_queue_empty(&sh->lru)) {
            return;
        }

        q = ngx_queue_last(&sh->lru);
        ln = ngx_queue_data(q, ngx_http_vms_limit_node_t, queue);

        if (!force) {
            if (ln->kind == VMS_LIMIT_KIND_RATE && ln->tat_us > now_us) {
                return;
            }
            if (ln->kind == VMS_LIMIT_KIND_LEASES
                && vms_lease_expire(ln->leases, now_us) > 0)
            {
                return;
            }
        }

        ngx_http_vms_limit_free_node(ctx, ln);
    }
}


static ngx_http_vms_limit_node_t *
ngx_http_vms_limit_get(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_vms_shm_t *ctx, u_char kind, ngx_str_t *key, int64_t now_us)
{
    size_t                       size, extra;
    uint32_t                     hash;
    ngx_uint_t                   tries;
    ngx_rbtree_node_t           *node;
    ngx_http_vms_limit_node_t   *ln;
    ngx_http_vms_limit_shctx_t  *sh = ctx->sh;

    hash = ngx_crc32_short(key->data, key->len) ^ kind;

    ngx_http_vms_limit_expire(ctx, now_us, 0);

    ln = ngx_http_vms_limit_lookup(ctx, kind, key, hash);
    if (ln != NULL) {
        return ln;
    }

    extra = (kind == VMS_LIMIT_KIND_LEASES) ? sizeof(vms_lease_set_t) + 8 : 0;
    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_vms_limit_node_t, data)
           + key->len + extra;

    node = NULL;
    for (tries = 0; tries < 3 && node == NULL; tries++) {
        node = ngx_slab_alloc_locked(ctx->shpool, size);
        if (node == NULL) {
            ngx_http_vms_limit_expire(ctx, now_us, 16);
        }
    }

    if (node == NULL) {
        (void) ngx_atomic_fetch_add(&sh->counters.shm_full, 1);
        return NULL;
    }

    node->key = hash;
    ln = (ngx_http_vms_limit_node_t *) &node->color;
    ln->kind = kind;
    ln->len = (u_short) key->len;
    ln->tat_us = 0;
    ln->leases = NULL;
    ngx_memcpy(ln->data, key->data, key->len);

    if (extra) {
        ln->leases = (vms_lease_set_t *) ngx_align_ptr(ln->data + key->len, 8);
        ln->leases->n = 0;
    }

    ngx_rbtree_insert(&sh->rbtree, node);
    ngx_queue_insert_head(&sh->lru, &ln->queue);

    (void) lmcf;
    return ln;
}


ngx_int_t
ngx_http_vms_limit_shm_rate(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_str_t *key, const vms_gcra_t *g, int64_t now_us, ngx_uint_t peek,
    vms_gcra_result_t *res)
{
    ngx_vms_shm_t              *ctx = lmcf->shm_zone->data;
    ngx_http_vms_limit_node_t  *ln;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ln = ngx_http_vms_limit_get(lmcf, ctx, VMS_LIMIT_KIND_RATE, key, now_us);
    if (ln == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_DECLINED;
    }

    vms_gcra_check(g, ln->tat_us, now_us, res);
    if (!peek) {
        ln->tat_us = res->tat_us;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_vms_limit_shm_lease(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_uint_t op, ngx_str_t *user, uint64_t session, int64_t now_us,
    int64_t ttl_us, int64_t limit, vms_lease_result_t *res)
{
    ngx_int_t                   rc;
    ngx_vms_shm_t              *ctx = lmcf->shm_zone->data;
    ngx_http_vms_limit_node_t  *ln;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (op == NGX_HTTP_VMS_LIMIT_LEASE_RELEASE
        || op == NGX_HTTP_VMS_LIMIT_LEASE_FORGET
        || op == NGX_HTTP_VMS_LIMIT_LEASE_RENEW
        || op == NGX_HTTP_VMS_LIMIT_LEASE_TOUCH)
    {
        /* never create an entry just to find nothing in it */
        ln = ngx_http_vms_limit_lookup(ctx, VMS_LIMIT_KIND_LEASES, user,
                 ngx_crc32_short(user->data, user->len) ^ VMS_LIMIT_KIND_LEASES);
        if (ln == NULL) {
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            return NGX_DECLINED;
        }

        if (op == NGX_HTTP_VMS_LIMIT_LEASE_TOUCH) {
            /* `limit` carries the renewal interval here */
            rc = vms_lease_touch(ln->leases, session, now_us, ttl_us, limit);
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            return rc == 0 ? NGX_DECLINED : rc == 1 ? NGX_DONE : NGX_OK;
        }

        if (op == NGX_HTTP_VMS_LIMIT_LEASE_RENEW) {
            rc = vms_lease_renew(ln->leases, session, now_us, ttl_us);
        } else {
            rc = vms_lease_release(ln->leases, session);
        }

        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return rc ? NGX_OK : NGX_DECLINED;
    }

    ln = ngx_http_vms_limit_get(lmcf, ctx, VMS_LIMIT_KIND_LEASES, user, now_us);
    if (ln == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_DECLINED;
    }

    vms_lease_acquire(ln->leases, session, now_us, ttl_us,
                      op == NGX_HTTP_VMS_LIMIT_LEASE_RECORD ? VMS_LEASE_MAX
                                                            : limit,
                      res);

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_vms_limit_shm_acquire_handover(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_str_t *user, uint64_t session, uint64_t handover, int64_t now_us,
    int64_t ttl_us, int64_t limit, vms_lease_result_t *res, uint64_t *from)
{
    ngx_vms_shm_t              *ctx = lmcf->shm_zone->data;
    ngx_http_vms_limit_node_t  *ln;

    *from = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ln = ngx_http_vms_limit_get(lmcf, ctx, VMS_LIMIT_KIND_LEASES, user, now_us);
    if (ln == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_DECLINED;
    }

    vms_lease_acquire_handover(ln->leases, session, handover,
                               NGX_HTTP_VMS_LIMIT_HANDOVER_WINDOW * 1000,
                               now_us, ttl_us, limit, res, from);

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}
