/*
 * vms_playback: HLS VOD playlists, timeline JSON, MP4 clips and the
 * MediaMTX-compatible /list and /get over recorded fMP4 segments, answered
 * from the per-camera segment index (modules/common/vms_index.h).
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

typedef struct {
    ngx_str_t   root;          /* recordings root: {root}/{camera_id}/... */
} ngx_http_vms_playback_loc_conf_t;

static void *ngx_http_vms_playback_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_vms_playback_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);

static ngx_command_t ngx_http_vms_playback_commands[] = {
    { ngx_string("vms_playback_root"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, root),
      NULL },
    ngx_null_command
};

static ngx_http_module_t ngx_http_vms_playback_module_ctx = {
    NULL, NULL,
    NULL, NULL, NULL, NULL,
    ngx_http_vms_playback_create_loc_conf, ngx_http_vms_playback_merge_loc_conf
};

ngx_module_t ngx_http_vms_playback_module = {
    NGX_MODULE_V1, &ngx_http_vms_playback_module_ctx, ngx_http_vms_playback_commands, NGX_HTTP_MODULE,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NGX_MODULE_V1_PADDING
};

static void *
ngx_http_vms_playback_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_vms_playback_loc_conf_t *conf = ngx_pcalloc(cf->pool, sizeof(*conf));
    if (conf == NULL) {
        return NULL;
    }
    return conf;
}

static char *
ngx_http_vms_playback_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_vms_playback_loc_conf_t *prev = parent, *conf = child;
    ngx_conf_merge_str_value(conf->root, prev->root, "/var/lib/vms/recordings");
    return NGX_CONF_OK;
}
