/*
 * ngx_vms_shm: a module's shared memory zone, set up as
 * ngx_http_limit_req_module does it.
 *
 *  - ngx_vms_shm_add() at configuration time: ngx_shared_memory_add(), a
 *    zone name taken by another directive is refused, the zone's data is an
 *    ngx_vms_shm_t and its init is ngx_vms_shm_init_zone().
 *  - On a reload that keeps the zone (same name and size) the new cycle takes
 *    the old cycle's state as it is: counters, trees and queues survive.
 *    A zone that exists already (a binary upgrade) is found at
 *    shpool->data.  Only a new zone gets a new state: `size` bytes, zeroed,
 *    then the owner's `init` (trees, queues) and the slab allocator's log
 *    context (" in vms_auth zone \"NAME\"").
 *
 * Callers take the state as `shm->sh` (their own type) and lock
 * `shm->shpool->mutex` around every use of it.
 */

#ifndef NGX_VMS_SHM_H
#define NGX_VMS_SHM_H

#include <ngx_config.h>
#include <ngx_core.h>


typedef void (*ngx_vms_shm_init_pt)(void *sh);

typedef struct {
    void                  *sh;       /* the owner's state, at shpool->data */
    ngx_slab_pool_t       *shpool;
    size_t                 size;     /* of *sh */
    ngx_vms_shm_init_pt    init;     /* sets up a new, zeroed *sh */
    const char            *owner;    /* "vms_auth": the slab's log lines */
} ngx_vms_shm_t;


/* The zone `name` of `size` bytes for module `tag`; NULL on error (logged
 * against the directive being parsed). */
ngx_shm_zone_t *ngx_vms_shm_add(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    void *tag, const char *owner, size_t sh_size, ngx_vms_shm_init_pt init);

/* the zone's init (set by ngx_vms_shm_add) */
ngx_int_t ngx_vms_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data);

#endif /* NGX_VMS_SHM_H */
