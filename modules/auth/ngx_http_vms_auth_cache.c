/*
 * Verified-token cache in shared memory, keyed by SHA-256 of the token, plus per-jti revocation
 * state.  Entries live until the token's exp (+ leeway); the least recently used entries are evicted
 * when the zone is full.  A full zone that cannot make room just skips caching (the slow path is
 * still correct), so the policy is "fail open to full verification".
 */
#include <openssl/evp.h>

#include "ngx_http_vms_auth_module.h"
#include "ngx_vms_shm.h"

enum { NODE_TOKEN = 0, NODE_JTI = 1 };

typedef struct {
    u_char             color;
    u_char             kind;
    u_char             revoked;
    u_char             pad;
    u_short            len;
    ngx_queue_t        queue;
    time_t             until;
    u_char             hash[NGX_HTTP_VMS_AUTH_HASH_LEN];
    u_char             data[1];
} ngx_http_vms_auth_node_t;

typedef struct {
    ngx_rbtree_t       rbtree;
    ngx_rbtree_node_t  sentinel;
    ngx_queue_t        queue;
} ngx_http_vms_auth_shctx_t;

#define VMS_AUTH_CACHE_PAYLOAD_MAX 4096

static void
ngx_http_vms_auth_rbtree_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t **p;
    for (;;) {
        if (node->key != temp->key) {
            p = node->key < temp->key ? &temp->left : &temp->right;
        } else {
            ngx_http_vms_auth_node_t *a = (ngx_http_vms_auth_node_t *) &node->color;
            ngx_http_vms_auth_node_t *b = (ngx_http_vms_auth_node_t *) &temp->color;
            int c = a->kind != b->kind ? a->kind - b->kind : ngx_memcmp(a->hash, b->hash, sizeof(a->hash));
            p = c < 0 ? &temp->left : &temp->right;
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
ngx_http_vms_auth_init_sh(void *data)
{
    ngx_http_vms_auth_shctx_t *sh = data;

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel, ngx_http_vms_auth_rbtree_insert);
    ngx_queue_init(&sh->queue);
}

char *
ngx_http_vms_auth_conf_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_main_conf_t *amcf = conf;
    ngx_str_t *value = cf->args->elts, name, s;

    if (amcf->cache_zone) {
        return "is duplicate";
    }
    if (ngx_strcmp(value[1].data, "off") == 0) {
        return NGX_CONF_OK;
    }
    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        return "expects zone=NAME:SIZE or off";
    }
    name.data = value[1].data + 5;
    u_char *p = (u_char *) ngx_strchr(name.data, ':');
    if (p == NULL) {
        return "expects zone=NAME:SIZE";
    }
    name.len = p - name.data;
    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;
    ssize_t size = ngx_parse_size(&s);
    if (size == NGX_ERROR || name.len == 0) {
        return "has an invalid zone name or size";
    }
    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "vms_auth_cache zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }
    amcf->cache_zone = ngx_vms_shm_add(cf, &name, size, &ngx_http_vms_auth_module, "vms_auth",
                                       sizeof(ngx_http_vms_auth_shctx_t), ngx_http_vms_auth_init_sh);
    if (amcf->cache_zone == NULL) {
        return NGX_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

static ngx_http_vms_auth_node_t *
ngx_http_vms_auth_lookup(ngx_vms_shm_t *z, ngx_uint_t kind, const u_char *hash)
{
    ngx_http_vms_auth_shctx_t *sh = z->sh;
    ngx_rbtree_key_t key = *(uint32_t *) hash;
    ngx_rbtree_node_t *node = sh->rbtree.root, *sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {
        if (key != node->key) {
            node = key < node->key ? node->left : node->right;
            continue;
        }
        ngx_http_vms_auth_node_t *n = (ngx_http_vms_auth_node_t *) &node->color;
        int c = (int) kind != n->kind ? (int) kind - n->kind : ngx_memcmp(hash, n->hash, sizeof(n->hash));
        if (c == 0) {
            return n;
        }
        node = c < 0 ? node->left : node->right;
    }
    return NULL;
}

static void
ngx_http_vms_auth_free_node(ngx_vms_shm_t *z, ngx_http_vms_auth_node_t *n)
{
    ngx_http_vms_auth_shctx_t *sh = z->sh;
    ngx_rbtree_node_t *node = (ngx_rbtree_node_t *) ((u_char *) n - offsetof(ngx_rbtree_node_t, color));
    ngx_queue_remove(&n->queue);
    ngx_rbtree_delete(&sh->rbtree, node);
    ngx_slab_free_locked(z->shpool, node);
}

/* Drops expired entries from the LRU end; with force, drops up to n entries regardless. */
static void
ngx_http_vms_auth_expire(ngx_vms_shm_t *z, time_t now, ngx_uint_t force)
{
    ngx_http_vms_auth_shctx_t *sh = z->sh;

    for (ngx_uint_t i = 0; i < 3 && !ngx_queue_empty(&sh->queue); i++) {
        ngx_queue_t *q = ngx_queue_last(&sh->queue);
        ngx_http_vms_auth_node_t *n = ngx_queue_data(q, ngx_http_vms_auth_node_t, queue);
        if (!force && n->until >= now) {
            return;
        }
        ngx_http_vms_auth_free_node(z, n);
    }
}

static void
ngx_http_vms_auth_store(ngx_shm_zone_t *zone, ngx_uint_t kind, const u_char *hash, time_t until,
    ngx_uint_t revoked, const u_char *data, size_t len)
{
    ngx_vms_shm_t *z = zone->data;
    ngx_http_vms_auth_shctx_t *sh = z->sh;
    size_t size = offsetof(ngx_rbtree_node_t, color) + offsetof(ngx_http_vms_auth_node_t, data) + len;

    ngx_shmtx_lock(&z->shpool->mutex);
    ngx_http_vms_auth_node_t *n = ngx_http_vms_auth_lookup(z, kind, hash);
    if (n) {
        ngx_http_vms_auth_free_node(z, n);
    }
    ngx_http_vms_auth_expire(z, ngx_time(), 0);
    ngx_rbtree_node_t *node = ngx_slab_alloc_locked(z->shpool, size);
    if (node == NULL) {
        ngx_http_vms_auth_expire(z, ngx_time(), 1);
        node = ngx_slab_alloc_locked(z->shpool, size);
        if (node == NULL) {
            ngx_shmtx_unlock(&z->shpool->mutex);
            return;
        }
    }
    node->key = *(uint32_t *) hash;
    n = (ngx_http_vms_auth_node_t *) &node->color;
    n->kind = (u_char) kind;
    n->revoked = (u_char) revoked;
    n->len = (u_short) len;
    n->until = until;
    ngx_memcpy(n->hash, hash, sizeof(n->hash));
    if (len) {
        ngx_memcpy(n->data, data, len);
    }
    ngx_rbtree_insert(&sh->rbtree, node);
    ngx_queue_insert_head(&sh->queue, &n->queue);
    ngx_shmtx_unlock(&z->shpool->mutex);
}

ngx_int_t
ngx_http_vms_auth_cache_get(ngx_shm_zone_t *zone, const u_char *hash, time_t now, ngx_pool_t *pool,
    ngx_str_t *payload)
{
    ngx_vms_shm_t *z = zone->data;
    ngx_http_vms_auth_shctx_t *sh = z->sh;
    ngx_int_t rc = NGX_DECLINED;

    ngx_shmtx_lock(&z->shpool->mutex);
    ngx_http_vms_auth_node_t *n = ngx_http_vms_auth_lookup(z, NODE_TOKEN, hash);
    if (n && n->until >= now) {
        payload->data = ngx_pnalloc(pool, n->len);
        if (payload->data) {
            ngx_memcpy(payload->data, n->data, n->len);
            payload->len = n->len;
            ngx_queue_remove(&n->queue);
            ngx_queue_insert_head(&sh->queue, &n->queue);
            rc = NGX_OK;
        }
    } else if (n) {
        ngx_http_vms_auth_free_node(z, n);
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
    return rc;
}

void
ngx_http_vms_auth_cache_put(ngx_shm_zone_t *zone, const u_char *hash, time_t exp, const char *payload,
    size_t len)
{
    if (len > VMS_AUTH_CACHE_PAYLOAD_MAX || exp < ngx_time()) {
        return;
    }
    ngx_http_vms_auth_store(zone, NODE_TOKEN, hash, exp, 0, (const u_char *) payload, len);
}

/*
 * SHA-256 of the concatenated parts with a digest fetched once per worker: OpenSSL 3's SHA256()
 * and EVP_Digest fetch the algorithm from the provider on every call, which costs more than the
 * hashing of a few hundred bytes (it showed in perf on every cached request).
 */
ngx_int_t
ngx_http_vms_auth_sha256(const ngx_str_t *parts, ngx_uint_t n, u_char *out)
{
    static EVP_MD_CTX *mdctx;
    static EVP_MD     *sha256;

    if (mdctx == NULL) {
        mdctx = EVP_MD_CTX_new();
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    }
    if (mdctx == NULL || sha256 == NULL || EVP_DigestInit_ex(mdctx, sha256, NULL) != 1) {
        return NGX_ERROR;
    }
    for (ngx_uint_t i = 0; i < n; i++) {
        if (EVP_DigestUpdate(mdctx, parts[i].data, parts[i].len) != 1) {
            return NGX_ERROR;
        }
    }
    return EVP_DigestFinal_ex(mdctx, out, NULL) == 1 ? NGX_OK : NGX_ERROR;
}

ngx_int_t
ngx_http_vms_auth_cache_jti_hash(const char *jti, u_char *hash)
{
    ngx_str_t part = { ngx_strlen(jti), (u_char *) jti };

    return ngx_http_vms_auth_sha256(&part, 1, hash);
}

ngx_int_t
ngx_http_vms_auth_cache_jti_get_hash(ngx_shm_zone_t *zone, const u_char *hash, time_t now)
{
    ngx_vms_shm_t *z = zone->data;
    ngx_int_t rc = -1;

    ngx_shmtx_lock(&z->shpool->mutex);
    ngx_http_vms_auth_node_t *n = ngx_http_vms_auth_lookup(z, NODE_JTI, hash);
    if (n && n->until >= now) {
        rc = n->revoked ? 1 : 0;
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
    return rc;
}

ngx_int_t
ngx_http_vms_auth_cache_jti_get(ngx_shm_zone_t *zone, const char *jti, time_t now)
{
    u_char hash[NGX_HTTP_VMS_AUTH_HASH_LEN];

    if (ngx_http_vms_auth_cache_jti_hash(jti, hash) != NGX_OK) {
        return -1;      /* not known here: asked of Redis */
    }
    return ngx_http_vms_auth_cache_jti_get_hash(zone, hash, now);
}

void
ngx_http_vms_auth_cache_jti_put(ngx_shm_zone_t *zone, const char *jti, ngx_uint_t revoked, time_t until)
{
    u_char hash[NGX_HTTP_VMS_AUTH_HASH_LEN];
    if (ngx_http_vms_auth_cache_jti_hash(jti, hash) != NGX_OK) {
        return;
    }
    ngx_http_vms_auth_store(zone, NODE_JTI, hash, until, revoked, NULL, 0);
}
