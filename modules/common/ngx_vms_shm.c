/*
 * ngx_vms_shm: see ngx_vms_shm.h.
 */

#include "ngx_vms_shm.h"


ngx_shm_zone_t *
ngx_vms_shm_add(ngx_conf_t *cf, ngx_str_t *name, size_t size, void *tag,
    const char *owner, size_t sh_size, ngx_vms_shm_init_pt init)
{
    ngx_vms_shm_t   *shm;
    ngx_shm_zone_t  *zone;

    shm = ngx_palloc(cf->pool, sizeof(ngx_vms_shm_t));
    zone = ngx_shared_memory_add(cf, name, size, tag);

    if (shm == NULL || zone == NULL) {
        return NULL;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used", name);
        return NULL;
    }

    *shm = (ngx_vms_shm_t) { .size = sh_size, .init = init, .owner = owner };

    zone->init = ngx_vms_shm_init_zone;
    zone->data = shm;

    return zone;
}


ngx_int_t
ngx_vms_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_vms_shm_t  *oshm = data;
    ngx_vms_shm_t  *shm = shm_zone->data;
    size_t          len;

    if (oshm) {
        /* reload: the state lives on */
        shm->sh = oshm->sh;
        shm->shpool = oshm->shpool;
        return NGX_OK;
    }

    shm->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm->sh = shm->shpool->data;
        return NGX_OK;
    }

    shm->sh = ngx_slab_alloc(shm->shpool, shm->size);
    if (shm->sh == NULL) {
        return NGX_ERROR;
    }
    ngx_memzero(shm->sh, shm->size);

    shm->shpool->data = shm->sh;

    shm->init(shm->sh);

    len = sizeof(" in  zone \"\"") + ngx_strlen(shm->owner)
          + shm_zone->shm.name.len;

    shm->shpool->log_ctx = ngx_slab_alloc(shm->shpool, len);
    if (shm->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shm->shpool->log_ctx, " in %s zone \"%V\"%Z", shm->owner,
                &shm_zone->shm.name);

    shm->shpool->log_nomem = 0;

    return NGX_OK;
}
